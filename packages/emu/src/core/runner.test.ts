import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { type Executor, Runner, type RunnerMode, toFraction } from './runner.js';

/**
 * A fake CPU: runs instruction by instruction, calling `step` before completing each one
 * (the place where a real CPU would do MMIO or execute WFI). Honours requestExit.
 */
class FakeCpu implements Executor {
  sleeping = false;
  halted = false;
  sliceInstructions = 0;
  total = 0;
  readonly slices: number[] = [];
  private exitRequested = false;

  constructor(
    readonly name: string,
    private readonly step: ((cpu: FakeCpu) => void) | null = null,
  ) {}

  execute(max: number): number {
    this.exitRequested = false;
    this.sliceInstructions = 0;
    while (this.sliceInstructions < max && !this.exitRequested && !this.sleeping && !this.halted) {
      this.step?.(this);
      this.sliceInstructions++;
      this.total++;
    }
    this.slices.push(this.sliceInstructions);
    return this.sliceInstructions;
  }

  requestExit(): void {
    this.exitRequested = true;
  }
}

function makeRunner(mode: RunnerMode, nsPerInstruction: number, executors: Executor[] = []) {
  const clock = new VirtualClock();
  const runner = new Runner(clock, { mode, nsPerInstruction, executors });
  return { clock, runner };
}

/** Waits (without asserting on time) until `cond` holds; gives up after a bounded number of polls. */
async function waitUntil(cond: () => boolean, polls = 400): Promise<void> {
  for (let i = 0; i < polls && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}

/** A firmware-like scenario: run 100 instructions, arm a wake-up timer 10 µs ahead, sleep. */
function sleeperScenario(totalNs: number) {
  const trace: string[] = [];
  const clock = new VirtualClock();
  let wake: ReturnType<VirtualClock['createTimer']>;
  const cpu = new FakeCpu('cpu0', (c) => {
    if (c.total % 100 === 99) {
      wake.modRel(10_000);
      trace.push(`sleep@${clock.now}`);
      c.sleeping = true;
    }
  });
  wake = clock.createTimer('wake', () => {
    trace.push(`wake@${clock.now}`);
    cpu.sleeping = false;
  });
  const runner = new Runner(clock, { mode: 'fast', nsPerInstruction: 10, executors: [cpu] });
  runner.runFor(totalNs);
  return { trace, cpu, clock };
}

describe('toFraction', () => {
  it('represents clock periods exactly', () => {
    expect(toFraction(64)).toEqual([64, 1]);
    expect(toFraction(62.5)).toEqual([125, 2]);
    expect(toFraction(1e9 / 48e6)).toEqual([125, 6]);
    expect(toFraction(1e9 / 32768)).toEqual([1953125, 64]);
    expect(() => toFraction(0)).toThrow(RangeError);
  });
});

describe('Runner, fast mode', () => {
  it('jumps to the next deadline while the CPU sleeps; time = instructions × ns + jumps', () => {
    const { trace, cpu, clock } = sleeperScenario(50_000);
    expect(trace).toEqual([
      'sleep@990',
      'wake@10990',
      'sleep@11980',
      'wake@21980',
      'sleep@22970',
      'wake@32970',
      'sleep@33960',
      'wake@43960',
      'sleep@44950',
    ]);
    expect(cpu.total).toBe(500);
    expect(clock.now).toBe(50_000);
    const idle = 4 * (10_990 - 1000) + (50_000 - 44_960);
    expect(cpu.total * 10 + idle).toBe(clock.now);
  });

  it('gives identical traces on two runs', () => {
    expect(sleeperScenario(123_456).trace).toEqual(sleeperScenario(123_456).trace);
  });

  it('runFor advances by executed cycles, carrying fractional periods exactly', () => {
    const cpu = new FakeCpu('cpu0');
    const { clock, runner } = makeRunner('fast', 62.5, [cpu]);
    runner.runFor(1_000_000);
    expect(clock.now).toBe(1_000_000);
    expect(cpu.total).toBe(16_000);
    for (let i = 0; i < 1000; i++) runner.runFor(1000);
    expect(clock.now).toBe(2_000_000);
    expect(cpu.total).toBe(32_000);
  });

  it('ends runFor at the first instruction boundary at or after the requested time', () => {
    const cpu = new FakeCpu('cpu0');
    const { clock, runner } = makeRunner('fast', 1e9 / 48e6, [cpu]);
    runner.runFor(100); // 4.8 instructions → 5
    expect(cpu.total).toBe(5);
    expect(clock.now).toBe(104); // floor(5 × 125/6)
    runner.runFor(1_000_000 - 104);
    expect(cpu.total).toBe(48_000);
    expect(clock.now).toBe(1_000_000);
  });

  it('shows the exact instruction time to MMIO in the middle of a slice', () => {
    const seen: number[] = [];
    let clockRef: VirtualClock | null = null;
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 3 || c.total === 8) seen.push(clockRef!.now);
    });
    const { clock, runner } = makeRunner('fast', 62.5, [cpu]);
    clockRef = clock;
    runner.runFor(10_000);
    expect(seen).toEqual([187, 500]);
  });

  it('cuts the slice when a device arms an earlier timer; it fires at its exact instruction time', () => {
    const fired: Array<[number, number]> = [];
    const clock = new VirtualClock();
    const timer = clock.createTimer('dev', () => fired.push([clock.now, cpu.total]));
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 3) timer.modRel(25); // during the 4th instruction, at t = 30
    });
    const runner = new Runner(clock, { mode: 'fast', nsPerInstruction: 10, executors: [cpu] });
    runner.runFor(1000);
    expect(fired).toEqual([[55, 6]]);
    // The first slice (asked for the whole quantum) stopped right after the arming instruction.
    expect(cpu.slices.slice(0, 2)).toEqual([4, 2]);
  });

  it('kick() ends the current slice', () => {
    let runnerRef: Runner | null = null;
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 10) runnerRef!.kick();
    });
    const { runner } = makeRunner('fast', 10, [cpu]);
    runnerRef = runner;
    runner.runFor(1000);
    expect(cpu.slices[0]).toBe(11);
    expect(cpu.total).toBe(100);
  });

  it('runs executors round-robin, one quantum each, time advancing by each one', () => {
    const a = new FakeCpu('a');
    const b = new FakeCpu('b');
    const clock = new VirtualClock();
    const runner = new Runner(clock, { mode: 'fast', nsPerInstruction: 10, executors: [a], sliceNs: 1000 });
    runner.addExecutor(b);
    runner.runFor(10_000);
    expect(a.slices).toEqual([100, 100, 100, 100, 100]);
    expect(b.slices).toEqual([100, 100, 100, 100, 100]);
    expect(clock.now).toBe(10_000);
  });

  it('skips halted executors and jumps when nothing can run', () => {
    const cpu = new FakeCpu('cpu0');
    cpu.halted = true;
    const { clock, runner } = makeRunner('fast', 10, [cpu]);
    const fired: number[] = [];
    clock.createTimer('t', () => fired.push(clock.now)).modAbs(700);
    runner.runFor(5000);
    expect(cpu.total).toBe(0);
    expect(fired).toEqual([700]);
    expect(clock.now).toBe(5000);
  });

  it('runs timers with no executors at all', () => {
    const { clock, runner } = makeRunner('fast', 10);
    let fired = 0;
    const t = clock.createTimer('t', () => {
      fired++;
      t.modRel(100);
    });
    t.modRel(100);
    runner.runFor(1000);
    expect(fired).toBe(10);
  });

  it('stop() from a timer callback ends runFor early', () => {
    const cpu = new FakeCpu('cpu0');
    const { clock, runner } = makeRunner('fast', 10, [cpu]);
    clock.createTimer('stop', () => runner.stop()).modAbs(2000);
    runner.runFor(1_000_000);
    expect(clock.now).toBe(2000);
    expect(cpu.total).toBe(200);
  });

  it('start() runs asynchronously until stop(), reporting state changes', async () => {
    const cpu = new FakeCpu('cpu0');
    const { clock, runner } = makeRunner('fast', 10, [cpu]);
    const states: boolean[] = [];
    runner.onStateChange((r) => states.push(r));
    runner.start();
    expect(runner.running).toBe(true);
    expect(cpu.total).toBe(0); // nothing runs before the event loop turns
    await waitUntil(() => clock.now >= 5_000_000);
    runner.stop();
    expect(runner.running).toBe(false);
    expect(states).toEqual([true, false]);
    expect(clock.now).toBeGreaterThanOrEqual(5_000_000);
    expect(clock.now).toBe(cpu.total * 10);
    const frozen = clock.now;
    await new Promise((r) => setTimeout(r, 10));
    expect(clock.now).toBe(frozen);
    expect(() => runner.runFor(10)).not.toThrow();
  });

  it('idles with no deadline and wakes on kick()', async () => {
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 49) c.sleeping = true;
    });
    const { clock, runner } = makeRunner('fast', 10, [cpu]);
    runner.start();
    await waitUntil(() => cpu.sleeping);
    expect(cpu.total).toBe(50);
    expect(clock.now).toBe(500);
    await new Promise((r) => setTimeout(r, 10));
    expect(clock.now).toBe(500); // idle: no deadline, nothing to do
    cpu.sleeping = false; // an interrupt from outside
    runner.kick();
    await waitUntil(() => cpu.total > 1000);
    runner.stop();
    expect(cpu.total).toBeGreaterThan(1000);
  });

  it('idles with no deadline and wakes when a timer is armed', async () => {
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 9) c.sleeping = true;
    });
    const { clock, runner } = makeRunner('fast', 10, [cpu]);
    const fired: number[] = [];
    const t = clock.createTimer('t', () => {
      fired.push(clock.now);
      cpu.sleeping = false;
    });
    runner.start();
    await waitUntil(() => cpu.sleeping);
    t.modRel(1000);
    await waitUntil(() => fired.length > 0);
    runner.stop();
    expect(fired).toEqual([1100]);
  });
});

describe('Runner, realtime mode', () => {
  it('does not let virtual time run ahead of the host clock', async () => {
    const cpu = new FakeCpu('cpu0');
    const clock = new VirtualClock();
    const runner = new Runner(clock, { mode: 'realtime', nsPerInstruction: 1, executors: [cpu] });
    const hostStart = performance.now();
    runner.start();
    await waitUntil(() => cpu.total > 0);
    await new Promise((r) => setTimeout(r, 20));
    runner.stop();
    const hostElapsedNs = (performance.now() - hostStart) * 1e6;
    expect(cpu.total).toBeGreaterThan(0);
    expect(clock.now).toBeLessThanOrEqual(hostElapsedNs + runner.sliceNs + 1);
  });

  it('paces execution and idle time to an injected host clock', async () => {
    let hostMs = 0;
    const cpu = new FakeCpu('cpu0', (c) => {
      if (c.total === 99) c.sleeping = true;
    });
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock
      .createTimer('wake', () => {
        fired.push(clock.now);
        cpu.sleeping = false;
      })
      .modAbs(3_000_000);
    const runner = new Runner(clock, {
      mode: 'realtime',
      nsPerInstruction: 10,
      executors: [cpu],
      hostNow: () => hostMs,
    });
    runner.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(cpu.total).toBe(0); // host time has not moved: nothing may run
    expect(clock.now).toBe(0);
    hostMs = 2;
    await waitUntil(() => cpu.sleeping && clock.now === 2_000_000);
    expect(cpu.total).toBe(100);
    expect(clock.now).toBe(2_000_000); // idle time follows the host, not the deadline
    expect(fired).toEqual([]);
    hostMs = 10;
    await waitUntil(() => fired.length > 0 && cpu.total > 100);
    runner.stop();
    expect(fired).toEqual([3_000_000]);
    expect(clock.now).toBeLessThanOrEqual(10_000_000 + 10);
  });

  it('refuses the synchronous runFor', () => {
    const { runner } = makeRunner('realtime', 10);
    expect(() => runner.runFor(100)).toThrow('realtime');
  });
});

describe('Runner, qtest mode', () => {
  it('executes nothing and moves the clock only through stepClock/setClock', async () => {
    const cpu = new FakeCpu('cpu0');
    const { clock, runner } = makeRunner('qtest', 10, [cpu]);
    const states: boolean[] = [];
    runner.onStateChange((r) => states.push(r));
    runner.start();
    await new Promise((r) => setTimeout(r, 10));
    expect(cpu.total).toBe(0);
    expect(clock.now).toBe(0);
    expect(runner.stepClock()).toBeNull();
    const fired: number[] = [];
    clock.createTimer('a', () => fired.push(clock.now)).modAbs(250);
    clock.createTimer('b', () => fired.push(clock.now)).modAbs(400);
    expect(runner.stepClock()).toBe(250);
    expect(runner.stepClock(100)).toBe(350);
    expect(runner.stepClock()).toBe(400);
    expect(fired).toEqual([250, 400]);
    expect(runner.setClock(1000)).toBe(1000);
    expect(runner.setClock(10)).toBe(1000);
    runner.runFor(500);
    expect(clock.now).toBe(1500);
    expect(cpu.total).toBe(0);
    runner.stop();
    expect(states).toEqual([true, false]);
  });
});

describe('Runner.setMode', () => {
  it('switches a running loop between realtime and fast and refuses to leave qtest mode', () => {
    const clock = new VirtualClock();
    const r = new Runner(clock, { mode: 'realtime', nsPerInstruction: 1 });
    r.start();
    r.setMode('fast');
    expect(r.mode).toBe('fast');
    expect(r.running).toBe(true);
    r.stop();
    const q = new Runner(new VirtualClock(), { mode: 'qtest', nsPerInstruction: 1 });
    expect(() => q.setMode('fast')).toThrow(/qtest/);
  });
});

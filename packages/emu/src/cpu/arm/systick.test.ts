import { describe, expect, it } from 'vitest';
import { Exc } from './cortex-m0.js';
import { createM0System, type M0System, SYSTEM_ENTRY } from './m0-system.js';

const CSR = 0xe000_e010;
const RVR = 0xe000_e014;
const CVR = 0xe000_e018;
const CALIB = 0xe000_e01c;
const HANDLER = 0x400;
/** One tick of the 16 MHz CPU clock (used where times stay multiples of whole ns). */
const TICK = 62.5;
/** One tick of a 1 MHz CPU clock: one instruction period, so runFor(n * US) is n ticks exactly. */
const US = 1000;

/** Records the virtual times at which SysTick becomes pending. */
function recordPends(s: M0System): number[] {
  const times: number[] = [];
  const nvic = s.scs.nvic;
  const setPending = nvic.setPending.bind(nvic);
  nvic.setPending = (num: number) => {
    if (num === Exc.SysTick) times.push(s.clock.now);
    setPending(num);
  };
  return times;
}

describe('SysTick', () => {
  it('counts down from RELOAD at the CPU clock and reads back lazily', () => {
    const s = createM0System({ cpuClockHz: 1_000_000 });
    s.bus.write32(RVR, 999);
    s.bus.write32(CVR, 12345); // any write clears
    expect(s.bus.read32(CVR)).toBe(0);
    s.bus.write32(CSR, 0x5); // ENABLE, CLKSOURCE = CPU clock, no interrupt
    expect(s.clock.pendingCount).toBe(0); // nothing armed without TICKINT
    s.runner.runFor(US); // tick 1 reloads
    expect(s.bus.read32(CVR)).toBe(999);
    s.runner.runFor(500 * US);
    expect(s.bus.read32(CVR)).toBe(499);
    expect(s.bus.read32(CSR)).toBe(0x5);
    s.runner.runFor(499 * US); // tick 1000: 1 → 0
    expect(s.bus.read32(CVR)).toBe(0);
    expect(s.bus.read32(CSR)).toBe(0x1_0005); // COUNTFLAG
    expect(s.bus.read32(CSR)).toBe(0x5); // cleared by the read
    s.runner.runFor(US);
    expect(s.bus.read32(CVR)).toBe(999);
  });

  it('with TICKINT pends the SysTick exception at exact virtual times in fast mode', () => {
    const s = createM0System();
    s.load(SYSTEM_ENTRY, 'loop: wfi\nb loop');
    s.load(HANDLER, 'adds r5, #1\nbx lr');
    s.setVector(Exc.SysTick, HANDLER);
    const times = recordPends(s);
    s.bus.write32(RVR, 999);
    s.bus.write32(CVR, 0);
    s.bus.write32(CSR, 0x7);
    s.runner.runFor(3 * 1000 * TICK + 1000);
    expect(times).toEqual([62_500, 125_000, 187_500]);
    expect(s.cpu.r[5]).toBe(3);
    expect(s.cpu.sleeping).toBe(true);
  });

  it('a new RELOAD applies at the next reload; writing CVR restarts the period', () => {
    const s = createM0System();
    const times = recordPends(s);
    s.bus.write32(RVR, 99);
    s.bus.write32(CSR, 0x7);
    s.runner.runFor(50 * TICK);
    s.bus.write32(RVR, 9); // current period still ends at tick 100
    s.runner.runFor(100 * TICK);
    expect(times).toEqual([100 * TICK, 110 * TICK, 120 * TICK, 130 * TICK, 140 * TICK, 150 * TICK]);
    s.runner.runFor(4 * TICK);
    s.bus.write32(CVR, 0); // at tick 154: reload at 155, next event at 164
    s.runner.runFor(10 * TICK);
    expect(times.at(-1)).toBe(164 * TICK);
    s.bus.write32(CSR, 0x5); // TICKINT off
    s.runner.runFor(100 * TICK);
    expect(times).toHaveLength(7);
  });

  it('disabling holds the value; re-enabling continues from it', () => {
    const s = createM0System({ cpuClockHz: 1_000_000 });
    s.bus.write32(RVR, 99);
    s.bus.write32(CSR, 0x5);
    s.runner.runFor(11 * US); // reload at tick 1, then 10 decrements
    expect(s.bus.read32(CVR)).toBe(89);
    s.bus.write32(CSR, 0x4);
    s.runner.runFor(100 * US);
    expect(s.bus.read32(CVR)).toBe(89);
    s.bus.write32(CSR, 0x5);
    s.runner.runFor(9 * US);
    expect(s.bus.read32(CVR)).toBe(80);
  });

  it('CLKSOURCE=0 counts at the reference clock; CALIB describes it', () => {
    const s = createM0System({ systickRefHz: 1_000_000 });
    expect(s.bus.read32(CALIB)).toBe(9999); // 10 ms of 1 MHz, exact
    expect(s.bus.read32(CSR)).toBe(0);
    s.bus.write32(RVR, 999);
    s.bus.write32(CSR, 0x1);
    s.runner.runFor(11_000); // 11 ticks of 1 µs
    expect(s.bus.read32(CVR)).toBe(989);
  });

  it('without a reference clock CALIB.NOREF is set and CLKSOURCE reads 1', () => {
    const s = createM0System();
    expect(s.bus.read32(CALIB)).toBe(0xc000_0000);
    s.bus.write32(CSR, 0x1);
    expect(s.bus.read32(CSR)).toBe(0x5);
  });

  it('survives a snapshot round trip with its timer re-armed', () => {
    const a = createM0System();
    a.bus.write32(RVR, 99);
    a.bus.write32(CSR, 0x7);
    a.runner.runFor(30 * TICK);
    const saved = JSON.parse(JSON.stringify(a.scs.saveState()));
    const b = createM0System();
    b.clock.loadState(a.clock.saveState());
    b.scs.loadState(saved);
    const times = recordPends(b);
    expect(b.bus.read32(CVR)).toBe(a.bus.read32(CVR));
    b.runner.runFor(100 * TICK);
    expect(times).toEqual([100 * TICK]);
  });
});

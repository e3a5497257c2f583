import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { Nrf51Timer } from './nrf51-timer.js';

const R = {
  START: 0x000,
  STOP: 0x004,
  COUNT: 0x008,
  CLEAR: 0x00c,
  SHUTDOWN: 0x010,
  CAPTURE: (n: number) => 0x040 + 4 * n,
  COMPARE: (n: number) => 0x140 + 4 * n,
  SHORTS: 0x200,
  INTENSET: 0x304,
  INTENCLR: 0x308,
  MODE: 0x504,
  BITMODE: 0x508,
  PRESCALER: 0x510,
  CC: (n: number) => 0x540 + 4 * n,
  PAN73: 0xc0c,
  POWER: 0xffc,
};

/** Nanoseconds per counter tick at PRESCALER p: 62.5 ns · 2^p. */
const tickNs = (p: number) => 62.5 * 2 ** p;

function make(props: Record<string, number> = {}, clock = new VirtualClock()) {
  const dev = new Nrf51Timer();
  for (const [k, v] of Object.entries(props)) dev.setProperty(k, v);
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  dev.realize({ clock, log });
  const r = dev.registers;
  const w = (off: number, v: number) => r.write(off, v, 4);
  const rd = (off: number) => r.read(off, 4);
  /** Virtual times at which COMPARE[n] was generated (PPI line pulses). */
  const compares: number[][] = [[], [], [], []];
  for (let n = 0; n < 4; n++) {
    dev.eventLine(n).watch((level) => {
      if (level === 1) compares[n]!.push(clock.now);
    });
  }
  return { dev, clock, log, lines, w, rd, compares };
}

describe('nRF51 TIMER registers', () => {
  it('has the manual reset values: PRESCALER 4, 16-bit timer mode, CC 0, POWER 1', () => {
    const { rd } = make();
    expect(rd(R.PRESCALER)).toBe(4);
    expect(rd(R.MODE)).toBe(0);
    expect(rd(R.BITMODE)).toBe(0);
    for (let n = 0; n < 4; n++) {
      expect(rd(R.CC(n))).toBe(0);
      expect(rd(R.COMPARE(n))).toBe(0);
    }
    expect(rd(R.SHORTS)).toBe(0);
    expect(rd(R.INTENSET)).toBe(0);
    expect(rd(R.POWER)).toBe(1);
  });

  it('accepts COMPARE interrupt enables only in bits 16-19 and shortcuts in bits 0-3 and 8-11', () => {
    const { w, rd } = make();
    w(R.INTENSET, 0xffff_ffff);
    expect(rd(R.INTENSET)).toBe(0x000f_0000);
    w(R.SHORTS, 0xffff_ffff);
    expect(rd(R.SHORTS)).toBe(0x0f0f);
  });

  it('stores the PAN-73 errata register without logging it as unimplemented', () => {
    const { w, rd, log, lines } = make();
    log.mask = LogCat.Unimp | LogCat.GuestErrors;
    w(R.PAN73, 1);
    expect(rd(R.PAN73)).toBe(1);
    expect(lines).toEqual([]);
  });
});

describe('nRF51 TIMER compare timing', () => {
  for (const p of [0, 4, 9]) {
    it(`generates COMPARE at exactly CC ticks of 16 MHz / 2^${p}`, () => {
      const { w, rd, clock, compares } = make();
      w(R.PRESCALER, p);
      w(R.BITMODE, 3);
      w(R.CC(0), 1000);
      w(R.START, 1);
      const at = Math.ceil(1000 * tickNs(p));
      clock.advanceTo(at - 1);
      expect(rd(R.COMPARE(0))).toBe(0);
      w(R.CAPTURE(1), 1);
      expect(rd(R.CC(1))).toBe(999);
      clock.advanceTo(at);
      expect(rd(R.COMPARE(0))).toBe(1);
      expect(compares[0]).toEqual([at]);
    });
  }

  for (const [bitmode, width] of [
    [1, 8],
    [0, 16],
    [2, 24],
    [3, 32],
  ] as const) {
    it(`fires a CC set behind the counter after the ${width}-bit counter wraps`, () => {
      const { w, clock, compares } = make();
      // The slowest clock keeps the 32-bit wrap inside the clock's exact range.
      const p = width === 32 ? 9 : 0;
      w(R.PRESCALER, p);
      w(R.BITMODE, bitmode);
      w(R.START, 1);
      w(R.CC(0), 2 ** width - 1); // keep the counter from firing early
      clock.advanceTo(100 * tickNs(p)); // counter = 100
      w(R.CC(0), 50); // behind the counter: fires only after the wrap
      const at = Math.ceil((2 ** width + 50) * tickNs(p));
      clock.advanceTo(at - 1);
      expect(compares[0]).toEqual([]);
      clock.advanceTo(at);
      expect(compares[0]).toEqual([at]);
    });
  }

  it('compares against the low bits of CC for narrow bit widths', () => {
    const { w, clock, compares } = make();
    w(R.PRESCALER, 0);
    w(R.BITMODE, 1); // 8 bits
    w(R.CC(2), 0x1_23); // low byte 0x23
    w(R.START, 1);
    clock.advanceTo(1000 * tickNs(0));
    expect(compares[2]![0]).toBe(Math.ceil(0x23 * tickNs(0)));
    expect(compares[2]).toHaveLength(4); // 0x23, +256, +512, +768 ticks
  });

  it('a compare whose CC is moved before it fires follows the new CC', () => {
    const { w, clock, compares } = make();
    w(R.CC(0), 100);
    w(R.START, 1);
    clock.advanceTo(50_000); // 50 µs at 1 MHz: counter 50
    w(R.CC(0), 70);
    clock.advanceTo(200_000);
    expect(compares[0]).toEqual([70_000]);
  });

  it('stops counting on STOP and continues from the same value on START', () => {
    const { w, rd, clock, compares } = make();
    w(R.CC(0), 300);
    w(R.START, 1);
    clock.advanceTo(100_000); // counter 100
    w(R.STOP, 1);
    clock.advanceTo(1_000_000);
    w(R.CAPTURE(1), 1);
    expect(rd(R.CC(1))).toBe(100);
    expect(compares[0]).toEqual([]);
    w(R.START, 1);
    clock.advanceTo(2_000_000);
    expect(compares[0]).toEqual([1_200_000]);
  });

  it('raises the interrupt for an enabled COMPARE and lowers it when the event is cleared', () => {
    const { dev, w, clock } = make();
    const irq = dev.gpioOut('', 0);
    w(R.INTENSET, 1 << 17);
    w(R.CC(1), 10);
    w(R.START, 1);
    clock.advanceTo(10_000);
    expect(irq.level).toBe(1);
    w(R.COMPARE(1), 0);
    expect(irq.level).toBe(0);
  });
});

describe('nRF51 TIMER shortcuts and tasks', () => {
  it('COMPARE0_CLEAR restarts the count every CC ticks without drift', () => {
    const { w, clock, compares } = make();
    w(R.PRESCALER, 0);
    w(R.CC(0), 3); // 187.5 ns: not a whole number of ns
    w(R.SHORTS, 1 << 0);
    w(R.START, 1);
    clock.advanceTo(187_500);
    expect(compares[0]).toHaveLength(1000);
    expect(compares[0]![999]).toBe(187_500);
    expect(compares[0]![0]).toBe(188);
  });

  it('COMPARE1_STOP stops the timer at the compare value', () => {
    const { w, rd, clock, compares } = make();
    w(R.CC(1), 25);
    w(R.SHORTS, 1 << 9);
    w(R.START, 1);
    clock.advanceTo(1_000_000);
    expect(compares[1]).toEqual([25_000]);
    w(R.CAPTURE(3), 1);
    expect(rd(R.CC(3))).toBe(25);
  });

  it('CAPTURE latches the counter value at the current virtual time', () => {
    const { w, rd, clock } = make();
    w(R.PRESCALER, 0);
    w(R.BITMODE, 3);
    w(R.START, 1);
    clock.advanceTo(12_345);
    w(R.CAPTURE(2), 1);
    expect(rd(R.CC(2))).toBe(Math.floor(12_345 / 62.5));
    w(R.CLEAR, 1);
    w(R.CAPTURE(2), 1);
    expect(rd(R.CC(2))).toBe(0);
  });

  it('the task lines (PPI) trigger CAPTURE', () => {
    const { dev, w, rd, clock } = make();
    w(R.START, 1);
    clock.advanceTo(42_000);
    dev.taskLine(dev.taskIndexAt(R.CAPTURE(0))).set(1);
    expect(rd(R.CC(0))).toBe(42);
  });

  it('counts COUNT tasks in counter mode, only while started, and compares on the count', () => {
    const { w, rd, compares } = make();
    w(R.MODE, 1);
    w(R.CC(0), 3);
    w(R.COUNT, 1); // not started: no effect
    w(R.START, 1);
    for (let i = 0; i < 3; i++) w(R.COUNT, 1);
    expect(compares[0]).toHaveLength(1);
    w(R.CAPTURE(1), 1);
    expect(rd(R.CC(1))).toBe(3);
  });

  it('ignores COUNT in timer mode and does not tick with time in counter mode', () => {
    const { w, rd, clock } = make();
    w(R.START, 1);
    w(R.COUNT, 1);
    w(R.CAPTURE(0), 1);
    expect(rd(R.CC(0))).toBe(0);
    w(R.MODE, 1);
    clock.advanceTo(1_000_000);
    w(R.CAPTURE(0), 1);
    expect(rd(R.CC(0))).toBe(0);
  });

  it('wraps in counter mode at the bit width', () => {
    const { w, rd, compares } = make();
    w(R.MODE, 1);
    w(R.BITMODE, 1); // 8 bits
    w(R.START, 1);
    for (let i = 0; i < 256; i++) w(R.COUNT, 1);
    expect(compares[0]).toHaveLength(1); // CC0 = 0 reached on the wrap
    w(R.CAPTURE(1), 1);
    expect(rd(R.CC(1))).toBe(0);
  });

  it('counts at most 16 bits on a 16-bit instance even with BITMODE 32', () => {
    const { w, clock, compares } = make({ 'max-bit-width': 16 });
    w(R.PRESCALER, 0);
    w(R.BITMODE, 3);
    w(R.CC(0), 0xffff_ffff); // only 16 bits stored
    w(R.START, 1);
    clock.advanceTo(Math.ceil(0x1_0000 * 62.5));
    expect(compares[0]).toEqual([Math.ceil(0xffff * 62.5)]);
  });

  it('rejects a max-bit-width other than 16 or 32', () => {
    const dev = new Nrf51Timer();
    dev.setProperty('max-bit-width', 24);
    expect(() => dev.realize({ clock: new VirtualClock(), log: new Log() })).toThrow(/max-bit-width/);
  });
});

describe('nRF51 TIMER snapshot', () => {
  it('round-trips its state and re-arms the pending compare', () => {
    const a = make();
    a.w(R.PRESCALER, 0);
    a.w(R.BITMODE, 2);
    a.w(R.CC(0), 5000);
    a.w(R.CC(3), 70_000);
    a.w(R.SHORTS, 1 << 0);
    a.w(R.INTENSET, 1 << 16);
    a.w(R.START, 1);
    a.clock.advanceTo(400_001);
    const snap = JSON.parse(JSON.stringify(a.dev.saveState()));
    const clockState = a.clock.saveState();

    const clock = new VirtualClock();
    clock.loadState(clockState);
    const b = make({}, clock);
    b.dev.loadState(snap);
    expect(b.dev.saveState()).toEqual(a.dev.saveState());
    a.clock.advanceTo(3_000_000);
    b.clock.advanceTo(3_000_000);
    // Events after the snapshot instant happen at the same times on both.
    expect(b.compares[0]).toEqual(a.compares[0]!.filter((t) => t > 400_001));
    expect(b.compares[0]![0]).toBe(625_000); // the 2nd period (5000 × 62.5 ns each)
    expect(b.dev.gpioOut('', 0).level).toBe(1);
  });
});

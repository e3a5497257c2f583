import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { NRF51_RTC_TRIGOVRFLW_VALUE, Nrf51Rtc } from './nrf51-rtc.js';

const R = {
  START: 0x000,
  STOP: 0x004,
  CLEAR: 0x008,
  TRIGOVRFLW: 0x00c,
  TICK: 0x100,
  OVRFLW: 0x104,
  COMPARE: (n: number) => 0x140 + 4 * n,
  INTENSET: 0x304,
  INTENCLR: 0x308,
  EVTEN: 0x340,
  EVTENSET: 0x344,
  EVTENCLR: 0x348,
  COUNTER: 0x504,
  PRESCALER: 0x508,
  CC: (n: number) => 0x540 + 4 * n,
  POWER: 0xffc,
};
const BIT_TICK = 1;
const BIT_OVRFLW = 2;
const BIT_COMPARE = (n: number) => 1 << (16 + n);

/** The instant of the k-th 32768 Hz edge: ceil(k · 1e9 / 32768) ns. */
const lfEdge = (k: number) => Math.ceil((k * 1e9) / 32768);

function make(props: Record<string, number> = {}, clock = new VirtualClock()) {
  const dev = new Nrf51Rtc();
  for (const [k, v] of Object.entries(props)) dev.setProperty(k, v);
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  dev.realize({ clock, log });
  const w = (off: number, v: number) => dev.registers.write(off, v, 4);
  const rd = (off: number) => dev.registers.read(off, 4);
  /** PPI pulses per event index (TICK 0, OVRFLW 1, COMPARE n at 2+n), with their times. */
  const ppi: number[][] = [];
  for (let i = 0; i < 2 + dev.getInt('cc-count'); i++) {
    const times: number[] = [];
    ppi.push(times);
    dev.eventLine(i).watch((l) => l === 1 && times.push(clock.now));
  }
  return { dev, clock, log, lines, w, rd, ppi };
}

describe('nRF51 RTC registers', () => {
  it('has the manual reset values', () => {
    const { rd } = make();
    expect(rd(R.COUNTER)).toBe(0);
    expect(rd(R.PRESCALER)).toBe(0);
    expect(rd(R.EVTEN)).toBe(0);
    expect(rd(R.INTENSET)).toBe(0);
    for (let n = 0; n < 4; n++) expect(rd(R.CC(n))).toBe(0);
    expect(rd(R.POWER)).toBe(1);
  });

  it('has 24-bit CC registers and a 12-bit PRESCALER', () => {
    const { w, rd } = make();
    w(R.CC(1), 0xffff_ffff);
    expect(rd(R.CC(1))).toBe(0xff_ffff);
    w(R.PRESCALER, 0xffff_ffff);
    expect(rd(R.PRESCALER)).toBe(0xfff);
  });

  it('enables TICK, OVRFLW and COMPARE[n] in bits 0, 1 and 16+n of INTEN and EVTEN', () => {
    const { w, rd } = make();
    w(R.INTENSET, 0xffff_ffff);
    expect(rd(R.INTENSET)).toBe(0x000f_0003);
    w(R.EVTENSET, 0xffff_ffff);
    expect(rd(R.EVTEN)).toBe(0x000f_0003);
    w(R.EVTENCLR, BIT_TICK);
    expect(rd(R.EVTENSET)).toBe(0x000f_0002);
  });

  it('has three compare registers when cc-count is 3 (RTC0)', () => {
    const { w, rd, dev, log, lines } = make({ 'cc-count': 3 });
    w(R.INTENSET, 0xffff_ffff);
    expect(rd(R.INTENSET)).toBe(0x0007_0003);
    log.mask = LogCat.GuestErrors;
    w(R.CC(3), 5);
    expect(lines.join('\n')).toMatch(/unknown register at offset 0x54c/);
    expect(dev.eventIndexAt(R.COMPARE(3))).toBe(-1);
  });
});

describe('nRF51 RTC counting', () => {
  it('counts at 32768 Hz once started', () => {
    const { w, rd, clock } = make();
    clock.advanceTo(lfEdge(10));
    expect(rd(R.COUNTER)).toBe(0); // not started
    w(R.START, 1); // at edge 10
    clock.advanceTo(lfEdge(10 + 32768) - 1);
    expect(rd(R.COUNTER)).toBe(32767);
    clock.advanceTo(lfEdge(10 + 32768));
    expect(rd(R.COUNTER)).toBe(32768);
    w(R.STOP, 1);
    clock.advanceTo(10_000_000_000);
    expect(rd(R.COUNTER)).toBe(32768);
  });

  it('divides the LFCLK by PRESCALER+1', () => {
    const { w, rd, clock } = make();
    w(R.PRESCALER, 327); // 32768 / 328 ≈ 99.9 Hz
    w(R.START, 1);
    clock.advanceTo(1_000_000_000);
    expect(rd(R.COUNTER)).toBe(Math.floor(32768 / 328));
    clock.advanceTo(lfEdge(328 * 1000));
    expect(rd(R.COUNTER)).toBe(1000);
  });

  it('ignores PRESCALER writes while running and logs them as guest errors', () => {
    const { w, rd, log, lines } = make();
    log.mask = LogCat.GuestErrors;
    w(R.START, 1);
    w(R.PRESCALER, 7);
    expect(rd(R.PRESCALER)).toBe(0);
    expect(lines.join('\n')).toMatch(/PRESCALER written while the RTC runs/);
    w(R.STOP, 1);
    w(R.PRESCALER, 7);
    expect(rd(R.PRESCALER)).toBe(7);
  });

  it('holds the counter while the LFCLK line is low and counts from it again when high', () => {
    const { dev, w, rd, clock } = make();
    const lfclk = dev.gpioIn('lfclk', 0);
    w(R.START, 1);
    clock.advanceTo(lfEdge(100));
    lfclk.set(0);
    clock.advanceTo(lfEdge(1000));
    expect(rd(R.COUNTER)).toBe(100);
    lfclk.set(1);
    clock.advanceTo(lfEdge(1050));
    expect(rd(R.COUNTER)).toBe(150);
  });

  it('CLEAR sets COUNTER to 0 and TRIGOVRFLW to 0xFFFFF0, both while counting on', () => {
    const { w, rd, clock } = make();
    w(R.START, 1);
    clock.advanceTo(lfEdge(500));
    w(R.CLEAR, 1);
    expect(rd(R.COUNTER)).toBe(0);
    clock.advanceTo(lfEdge(520));
    expect(rd(R.COUNTER)).toBe(20);
    w(R.TRIGOVRFLW, 1);
    expect(rd(R.COUNTER)).toBe(NRF51_RTC_TRIGOVRFLW_VALUE);
    clock.advanceTo(lfEdge(540));
    expect(rd(R.COUNTER)).toBe(4); // 0xFFFFF0 + 20 wraps to 4
  });
});

describe('nRF51 RTC events', () => {
  it('generates COMPARE when the counter reaches CC, with the interrupt when enabled', () => {
    const { dev, w, rd, clock } = make();
    w(R.CC(0), 100);
    w(R.INTENSET, BIT_COMPARE(0));
    w(R.START, 1);
    clock.advanceTo(lfEdge(100) - 1);
    expect(rd(R.COMPARE(0))).toBe(0);
    clock.advanceTo(lfEdge(100));
    expect(rd(R.COMPARE(0))).toBe(1);
    expect(dev.gpioOut('', 0).level).toBe(1);
  });

  it('fires a CC set behind the counter after the 24-bit counter wraps', () => {
    const { w, clock, ppi } = make();
    w(R.EVTENSET, BIT_COMPARE(1));
    w(R.START, 1);
    clock.advanceTo(lfEdge(200));
    w(R.CC(1), 150);
    clock.advanceTo(lfEdge(0x100_0000 + 150) - 1);
    expect(ppi[3]).toEqual([]);
    clock.advanceTo(lfEdge(0x100_0000 + 150));
    expect(ppi[3]).toEqual([lfEdge(0x100_0000 + 150)]);
  });

  it('generates OVRFLW when the counter wraps after TRIGOVRFLW', () => {
    const { w, rd, clock } = make();
    w(R.INTENSET, BIT_OVRFLW);
    w(R.START, 1);
    w(R.TRIGOVRFLW, 1);
    clock.advanceTo(lfEdge(16) - 1);
    expect(rd(R.OVRFLW)).toBe(0);
    clock.advanceTo(lfEdge(16));
    expect(rd(R.OVRFLW)).toBe(1);
    expect(rd(R.COUNTER)).toBe(0);
  });

  it('does not set an event enabled in neither INTEN nor EVTEN, and arms no timer for it', () => {
    const { w, rd, clock } = make();
    w(R.CC(0), 10);
    w(R.START, 1);
    expect(clock.pendingCount).toBe(0);
    clock.advanceTo(lfEdge(1000));
    expect(rd(R.COMPARE(0))).toBe(0);
    expect(rd(R.TICK)).toBe(0);
  });

  it('generates TICK on every increment only while TICK is enabled', () => {
    const { w, clock, ppi } = make();
    w(R.PRESCALER, 1);
    w(R.START, 1);
    clock.advanceTo(lfEdge(20));
    expect(ppi[0]).toEqual([]);
    w(R.EVTENSET, BIT_TICK);
    clock.advanceTo(lfEdge(30));
    expect(ppi[0]).toEqual([lfEdge(22), lfEdge(24), lfEdge(26), lfEdge(28), lfEdge(30)]);
    w(R.EVTENCLR, BIT_TICK);
    clock.advanceTo(lfEdge(40));
    expect(ppi[0]).toHaveLength(5);
    expect(clock.pendingCount).toBe(0);
  });

  it('enabling TICK through INTENSET alone sets EVENTS_TICK but does not drive the PPI line', () => {
    const { w, rd, clock, ppi, dev } = make();
    w(R.START, 1);
    w(R.INTENSET, BIT_TICK);
    clock.advanceTo(lfEdge(3));
    expect(rd(R.TICK)).toBe(1);
    expect(dev.gpioOut('', 0).level).toBe(1);
    expect(ppi[0]).toEqual([]);
  });

  it('routes COMPARE to the PPI line only when EVTEN enables it', () => {
    const { w, rd, clock, ppi } = make();
    w(R.CC(2), 5);
    w(R.INTENSET, BIT_COMPARE(2));
    w(R.START, 1);
    clock.advanceTo(lfEdge(5));
    expect(rd(R.COMPARE(2))).toBe(1);
    expect(ppi[4]).toEqual([]);
    w(R.EVTENSET, BIT_COMPARE(2));
    w(R.CC(2), 8);
    clock.advanceTo(lfEdge(8));
    expect(ppi[4]).toEqual([lfEdge(8)]);
  });
});

describe('nRF51 RTC snapshot', () => {
  it('round-trips its state and re-arms the pending compare', () => {
    const a = make();
    a.w(R.PRESCALER, 3);
    a.w(R.CC(0), 1000);
    a.w(R.EVTENSET, BIT_COMPARE(0));
    a.w(R.INTENSET, BIT_COMPARE(0));
    a.w(R.START, 1);
    a.clock.advanceTo(lfEdge(4 * 400) + 7);
    const snap = JSON.parse(JSON.stringify(a.dev.saveState()));

    const clock = new VirtualClock();
    clock.loadState(a.clock.saveState());
    const b = make({}, clock);
    b.dev.loadState(snap);
    expect(b.dev.saveState()).toEqual(a.dev.saveState());
    expect(b.rd(R.COUNTER)).toBe(400);
    b.clock.advanceTo(lfEdge(4 * 2000));
    expect(b.ppi[2]).toEqual([lfEdge(4 * 1000)]);
    expect(b.dev.gpioOut('', 0).level).toBe(1);
  });
});

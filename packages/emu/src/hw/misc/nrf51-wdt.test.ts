import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { NRF51_WDT_RELOAD_VALUE, Nrf51Wdt } from './nrf51-wdt.js';

const R = {
  START: 0x000,
  TIMEOUT: 0x100,
  INTENSET: 0x304,
  INTENCLR: 0x308,
  RUNSTATUS: 0x400,
  REQSTATUS: 0x404,
  CRV: 0x504,
  RREN: 0x508,
  CONFIG: 0x50c,
  RR: (n: number) => 0x600 + 4 * n,
  POWER: 0xffc,
};

/** The instant of the k-th 32768 Hz edge. */
const lfEdge = (k: number) => Math.ceil((k * 1e9) / 32768);

function make(clock = new VirtualClock()) {
  const dev = new Nrf51Wdt();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  dev.realize({ clock, log });
  const w = (off: number, v: number) => dev.registers.write(off, v, 4);
  const rd = (off: number) => dev.registers.read(off, 4);
  const timeouts: number[] = [];
  const resets: number[] = [];
  dev.eventLine(0).watch((l) => l === 1 && timeouts.push(clock.now));
  dev.gpioOut('reset', 0).watch((l) => l === 1 && resets.push(clock.now));
  return { dev, clock, log, lines, w, rd, timeouts, resets };
}

describe('nRF51 WDT registers', () => {
  it('has the manual reset values', () => {
    const { rd } = make();
    expect(rd(R.CRV)).toBe(0xffff_ffff);
    expect(rd(R.RREN)).toBe(1);
    expect(rd(R.CONFIG)).toBe(1);
    expect(rd(R.REQSTATUS)).toBe(1);
    expect(rd(R.RUNSTATUS)).toBe(0);
    expect(rd(R.TIMEOUT)).toBe(0);
    expect(rd(R.POWER)).toBe(1);
  });

  it('locks CRV, RREN and CONFIG once started', () => {
    const { w, rd, log, lines } = make();
    log.mask = LogCat.GuestErrors;
    w(R.CRV, 1000);
    w(R.START, 1);
    expect(rd(R.RUNSTATUS)).toBe(1);
    w(R.CRV, 5000);
    w(R.RREN, 0xff);
    w(R.CONFIG, 0);
    expect(rd(R.CRV)).toBe(1000);
    expect(rd(R.RREN)).toBe(1);
    expect(rd(R.CONFIG)).toBe(1);
    expect(lines).toHaveLength(3);
  });

  it('logs under -d unimp when started with CONFIG.SLEEP = Pause', () => {
    const { w, log, lines } = make();
    log.mask = LogCat.Unimp;
    w(R.CONFIG, 0);
    w(R.START, 1);
    expect(lines.join('\n')).toMatch(/SLEEP=Pause not modelled/);
  });
});

describe('nRF51 WDT timeout', () => {
  it('times out (CRV + 1) / 32768 s after START and resets the system at once without the interrupt', () => {
    const { w, rd, clock, timeouts, resets } = make();
    w(R.CRV, 32767); // one second
    w(R.START, 1);
    clock.advanceTo(999_999_999);
    expect(rd(R.TIMEOUT)).toBe(0);
    clock.advanceTo(1_000_000_000);
    expect(rd(R.TIMEOUT)).toBe(1);
    expect(timeouts).toEqual([1_000_000_000]);
    expect(resets).toEqual([1_000_000_000]);
  });

  it('delays the reset by two 32.768 kHz cycles when the TIMEOUT interrupt is enabled', () => {
    const { dev, w, clock, resets } = make();
    w(R.CRV, 99);
    w(R.INTENSET, 1);
    w(R.START, 1);
    clock.advanceTo(lfEdge(100));
    expect(dev.gpioOut('', 0).level).toBe(1);
    expect(resets).toEqual([]);
    clock.advanceTo(lfEdge(102));
    expect(resets).toEqual([lfEdge(102)]);
  });

  it('reloads only when every enabled RR register got the reload value', () => {
    const { w, rd, clock, timeouts } = make();
    w(R.CRV, 999);
    w(R.RREN, 0b101);
    w(R.START, 1);
    expect(rd(R.REQSTATUS)).toBe(0b101);
    clock.advanceTo(lfEdge(500));
    w(R.RR(0), NRF51_WDT_RELOAD_VALUE);
    w(R.RR(1), NRF51_WDT_RELOAD_VALUE); // not enabled: no effect
    w(R.RR(2), 0x1234); // wrong value: no effect
    expect(rd(R.REQSTATUS)).toBe(0b100);
    clock.advanceTo(lfEdge(800));
    w(R.RR(2), NRF51_WDT_RELOAD_VALUE);
    expect(rd(R.REQSTATUS)).toBe(0b101);
    clock.advanceTo(lfEdge(1000));
    expect(timeouts).toEqual([]); // the original deadline passed without a timeout
    clock.advanceTo(lfEdge(1800));
    expect(timeouts).toEqual([lfEdge(1800)]);
    expect(rd(R.RR(0))).toBe(0); // write-only
  });

  it('ignores reload requests before START and does not count until started', () => {
    const { w, rd, clock, timeouts } = make();
    w(R.CRV, 15);
    w(R.RR(0), NRF51_WDT_RELOAD_VALUE);
    clock.advanceTo(1_000_000_000);
    expect(timeouts).toEqual([]);
    expect(rd(R.REQSTATUS)).toBe(1);
  });

  it('starts from scratch after a reset', () => {
    const { dev, w, rd, clock, timeouts } = make();
    w(R.CRV, 15);
    w(R.START, 1);
    dev.reset();
    expect(rd(R.RUNSTATUS)).toBe(0);
    expect(rd(R.CRV)).toBe(0xffff_ffff);
    clock.advanceTo(1_000_000_000);
    expect(timeouts).toEqual([]);
  });
});

describe('nRF51 WDT snapshot', () => {
  it('round-trips a pending timeout and a pending reset', () => {
    const a = make();
    a.w(R.CRV, 199);
    a.w(R.INTENSET, 1);
    a.w(R.START, 1);
    a.clock.advanceTo(lfEdge(150));
    const snap = JSON.parse(JSON.stringify(a.dev.saveState()));
    const clock = new VirtualClock();
    clock.loadState(a.clock.saveState());
    const b = make(clock);
    b.dev.loadState(snap);
    expect(b.dev.saveState()).toEqual(a.dev.saveState());
    b.clock.advanceTo(lfEdge(201));
    expect(b.timeouts).toEqual([lfEdge(200)]);
    // Now the reset is pending: snapshot again.
    const snap2 = JSON.parse(JSON.stringify(b.dev.saveState()));
    const clock2 = new VirtualClock();
    clock2.loadState(b.clock.saveState());
    const c = make(clock2);
    c.dev.loadState(snap2);
    c.clock.advanceTo(lfEdge(300));
    expect(c.resets).toEqual([lfEdge(202)]);
    expect(c.rd(R.TIMEOUT)).toBe(1);
  });
});

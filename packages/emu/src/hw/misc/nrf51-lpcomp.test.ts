import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { LPCOMP_STARTUP_NS, Nrf51Lpcomp } from './nrf51-lpcomp.js';

const START = 0x000;
const STOP = 0x004;
const SAMPLE = 0x008;
const READY = 0x100;
const DOWN = 0x104;
const UP = 0x108;
const CROSS = 0x10c;
const SHORTS = 0x200;
const INTENSET = 0x304;
const RESULT = 0x400;
const ENABLE = 0x500;
const PSEL = 0x504;
const REFSEL = 0x508;
const EXTREFSEL = 0x50c;
const ANADETECT = 0x520;

function make(mask = 0) {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = mask;
  const lp = new Nrf51Lpcomp();
  lp.realize({ clock, log });
  const w = (o: number, v: number) => lp.registers.write(o, v, 4);
  const r = (o: number) => lp.registers.read(o, 4);
  return { lp, clock, lines, w, r };
}

/** Enabled, AIN2 against VDD·4/8 = 1.5 V, started and ready. */
function readyComparator(ain2: number) {
  const t = make();
  t.lp.setAnalogInput(2, ain2);
  t.w(ENABLE, 1);
  t.w(PSEL, 2);
  t.w(REFSEL, 3);
  t.w(START, 1);
  t.clock.advanceBy(LPCOMP_STARTUP_NS);
  return t;
}

describe('nRF51 LPCOMP', () => {
  it('resets every register to 0 except POWER', () => {
    const { r } = make();
    for (const o of [
      READY,
      DOWN,
      UP,
      CROSS,
      SHORTS,
      INTENSET,
      RESULT,
      ENABLE,
      PSEL,
      REFSEL,
      EXTREFSEL,
      ANADETECT,
    ])
      expect(r(o)).toBe(0);
    expect(r(0xffc)).toBe(1);
  });

  it('generates READY 140 µs after START', () => {
    const { clock, w, r } = make();
    w(ENABLE, 1);
    w(START, 1);
    clock.advanceTo(LPCOMP_STARTUP_NS - 1);
    expect(r(READY)).toBe(0);
    clock.advanceTo(LPCOMP_STARTUP_NS);
    expect(r(READY)).toBe(1);
  });

  it('ignores START while disabled (guest error)', () => {
    const { clock, w, r, lines } = make(LogCat.GuestErrors);
    w(START, 1);
    clock.advanceBy(1_000_000);
    expect(r(READY)).toBe(0);
    expect(lines.some((l) => l.includes('not enabled'))).toBe(true);
  });

  it('SAMPLE latches whether the input is above the reference', () => {
    const { lp, w, r } = readyComparator(2.0);
    w(SAMPLE, 1);
    expect(r(RESULT)).toBe(1);
    lp.setAnalogInput(2, 1.0);
    expect(r(RESULT)).toBe(1); // RESULT changes only on SAMPLE
    w(SAMPLE, 1);
    expect(r(RESULT)).toBe(0);
  });

  it('the READY_SAMPLE shortcut samples at READY', () => {
    const { lp, clock, w, r } = make();
    lp.setAnalogInput(0, 3.0);
    w(ENABLE, 1);
    w(SHORTS, 1);
    w(START, 1);
    clock.advanceBy(LPCOMP_STARTUP_NS);
    expect(r(RESULT)).toBe(1);
  });

  it('generates UP then CROSS, and DOWN then CROSS, when the board moves the input across', () => {
    const { lp, w, r } = readyComparator(1.0);
    const order: string[] = [];
    for (const [i, name] of ['READY', 'DOWN', 'UP', 'CROSS'].entries())
      lp.eventLine(i).watch((l) => {
        if (l) order.push(name);
      });
    lp.setAnalogInput(2, 1.2); // still below 1.5 V
    expect([r(DOWN), r(UP), r(CROSS)]).toEqual([0, 0, 0]);
    lp.setProperty('ain2', 1600);
    expect([r(DOWN), r(UP), r(CROSS)]).toEqual([0, 1, 1]);
    w(UP, 0);
    w(CROSS, 0);
    lp.setAnalogInput(2, 0.2);
    expect([r(DOWN), r(UP), r(CROSS)]).toEqual([1, 0, 1]);
    expect(order).toEqual(['UP', 'CROSS', 'DOWN', 'CROSS']);
  });

  it('follows supply changes through the VDD reference ladder', () => {
    const { lp, r } = readyComparator(1.4); // below 1.5 V
    lp.setProperty('vdd', 2600); // reference 1.3 V
    expect(r(UP)).toBe(1);
  });

  it('compares against AREF0 or AREF1 (= AIN7) with REFSEL 7', () => {
    const { lp, clock, w, r } = make();
    lp.setAnalogInput(1, 1.0);
    lp.setProperty('aref0', 500);
    lp.setAnalogInput(7, 2.0);
    w(ENABLE, 1);
    w(PSEL, 1);
    w(REFSEL, 7);
    w(START, 1);
    clock.advanceBy(LPCOMP_STARTUP_NS);
    w(SAMPLE, 1);
    expect(r(RESULT)).toBe(1);
    w(EXTREFSEL, 1); // 1.0 V against 2.0 V
    w(SAMPLE, 1);
    expect(r(RESULT)).toBe(0);
    expect(r(DOWN)).toBe(1);
    lp.setAnalogInput(7, 0.9);
    expect(r(UP)).toBe(1);
  });

  it('stops with the UP_STOP shortcut: no more events after the first crossing', () => {
    const { lp, w, r } = readyComparator(1.0);
    w(SHORTS, 1 << 3);
    lp.setAnalogInput(2, 2.0);
    expect(r(UP)).toBe(1);
    lp.setAnalogInput(2, 0.5);
    expect(r(DOWN)).toBe(0);
  });

  it('generates nothing after STOP', () => {
    const { lp, w, r } = readyComparator(1.0);
    w(STOP, 1);
    lp.setAnalogInput(2, 2.0);
    expect(r(UP)).toBe(0);
  });

  it('raises its IRQ for enabled events', () => {
    const { lp, w } = readyComparator(1.0);
    w(INTENSET, 1 << 3);
    expect(lp.gpioOut('', 0).level).not.toBe(1);
    lp.setAnalogInput(2, 2.0);
    expect(lp.gpioOut('', 0).level).toBe(1);
  });

  it('logs ANADETECT writes under -d unimp', () => {
    const { w, r, lines } = make(LogCat.Unimp);
    w(ANADETECT, 1);
    expect(r(ANADETECT)).toBe(1);
    expect(lines.some((l) => l.includes('ANADETECT'))).toBe(true);
  });

  it('round-trips its state while starting up', () => {
    const a = make();
    a.lp.setAnalogInput(0, 2.5);
    a.w(ENABLE, 1);
    a.w(SHORTS, 1);
    a.w(START, 1);
    a.clock.advanceBy(1000);
    const state = JSON.parse(JSON.stringify(a.lp.saveState()));
    const b = make();
    b.clock.loadState(a.clock.saveState());
    b.lp.loadState(state);
    b.clock.advanceTo(LPCOMP_STARTUP_NS);
    expect(b.r(READY)).toBe(1);
    expect(b.r(RESULT)).toBe(1);
    b.lp.setAnalogInput(0, 0);
    expect(b.r(DOWN)).toBe(1);
  });

  it('is registered as nrf51_soc.lpcomp', () => {
    expect(findDeviceType('nrf51_soc.lpcomp')?.create?.()).toBeInstanceOf(Nrf51Lpcomp);
  });
});

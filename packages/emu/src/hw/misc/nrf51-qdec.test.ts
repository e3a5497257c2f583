import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Qdec, QDEC_SAMPLE_NS } from './nrf51-qdec.js';

const START = 0x000;
const STOP = 0x004;
const READCLRACC = 0x008;
const SAMPLERDY = 0x100;
const REPORTRDY = 0x104;
const ACCOF = 0x108;
const SHORTS = 0x200;
const INTENSET = 0x304;
const ENABLE = 0x500;
const SAMPLEPER = 0x508;
const SAMPLE = 0x50c;
const REPORTPER = 0x510;
const ACC = 0x514;
const ACCREAD = 0x518;
const PSELLED = 0x51c;
const PSELA = 0x520;
const PSELB = 0x524;
const LEDPRE = 0x540;
const ACCDBL = 0x544;

const T128 = QDEC_SAMPLE_NS[0]!;

function make(mask = 0) {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = mask;
  const q = new Nrf51Qdec();
  q.realize({ clock, log });
  const w = (o: number, v: number) => q.registers.write(o, v, 4);
  const r = (o: number) => q.registers.read(o, 4);
  return { q, clock, lines, w, r };
}

describe('nRF51 QDEC', () => {
  it('resets to the manual values: pins disconnected, LEDPRE 16 µs, the rest 0', () => {
    const { r } = make();
    expect(r(PSELLED)).toBe(0xffff_ffff);
    expect(r(PSELA)).toBe(0xffff_ffff);
    expect(r(PSELB)).toBe(0xffff_ffff);
    expect(r(LEDPRE)).toBe(0x10);
    for (const o of [SAMPLERDY, REPORTRDY, ACCOF, SHORTS, ENABLE, SAMPLEPER, SAMPLE, REPORTPER, ACC, ACCDBL])
      expect(r(o)).toBe(0);
    expect(r(0xffc)).toBe(1);
  });

  it('samples every SAMPLEPER only while started', () => {
    const { q, clock, w } = make();
    const at: number[] = [];
    q.eventLine(0).watch((l) => {
      if (l) at.push(clock.now);
    });
    w(ENABLE, 1);
    w(SAMPLEPER, 2); // 512 µs
    clock.advanceBy(10 * T128);
    expect(at).toEqual([]);
    const t0 = clock.now;
    w(START, 1);
    clock.advanceTo(t0 + 3 * 512_000);
    expect(at).toEqual([t0 + 512_000, t0 + 1_024_000, t0 + 1_536_000]);
    w(STOP, 1);
    clock.advanceBy(10 * 512_000);
    expect(at.length).toBe(3);
  });

  it('ignores START while disabled', () => {
    const { clock, w, r, lines } = make(LogCat.GuestErrors);
    w(START, 1);
    clock.advanceBy(10 * T128);
    expect(r(SAMPLERDY)).toBe(0);
    expect(lines.length).toBe(1);
  });

  it('turns rotate() steps into samples of ±1 and accumulates them in ACC', () => {
    const { q, clock, w, r } = make();
    w(ENABLE, 1);
    w(START, 1);
    q.rotate(3);
    clock.advanceBy(T128);
    expect(r(SAMPLE)).toBe(1);
    clock.advanceBy(2 * T128);
    expect(r(ACC)).toBe(3);
    clock.advanceBy(T128);
    expect(r(SAMPLE)).toBe(0);
    q.rotate(-5);
    clock.advanceBy(5 * T128);
    expect(r(SAMPLE) | 0).toBe(-1);
    expect(r(ACC) | 0).toBe(-2);
    expect(q.pendingSteps).toBe(0);
  });

  it('generates REPORTRDY after REPORTPER samples when ACC is not 0', () => {
    const { q, clock, w, r } = make();
    w(ENABLE, 1);
    w(START, 1);
    clock.advanceBy(10 * T128); // 10 samples, ACC 0: no report
    expect(r(REPORTRDY)).toBe(0);
    q.rotate(2);
    clock.advanceBy(10 * T128 - 1);
    expect(r(REPORTRDY)).toBe(0);
    clock.advanceBy(1);
    expect(r(REPORTRDY)).toBe(1);
  });

  it('READCLRACC moves ACC to ACCREAD, also through the REPORTRDY shortcut', () => {
    const { q, clock, w, r } = make();
    w(ENABLE, 1);
    w(START, 1);
    q.rotate(4);
    clock.advanceBy(4 * T128);
    w(READCLRACC, 1);
    expect([r(ACCREAD), r(ACC)]).toEqual([4, 0]);
    w(SHORTS, 1);
    w(REPORTPER, 0);
    q.rotate(-2);
    clock.advanceBy(10 * T128);
    expect(r(REPORTRDY)).toBe(1);
    expect(r(ACCREAD) | 0).toBe(-2);
    expect(r(ACC)).toBe(0);
  });

  it('stops after one sample with the SAMPLERDY_STOP shortcut', () => {
    const { q, clock, w } = make();
    let n = 0;
    q.eventLine(0).watch((l) => {
      if (l) n++;
    });
    w(ENABLE, 1);
    w(SHORTS, 2);
    w(START, 1);
    clock.advanceBy(20 * T128);
    expect(n).toBe(1);
  });

  it('generates ACCOF and keeps ACC when it would pass 1023', () => {
    const { q, clock, w, r } = make();
    w(ENABLE, 1);
    w(REPORTPER, 7);
    w(START, 1);
    q.rotate(1025);
    clock.advanceBy(1023 * T128);
    expect(r(ACC)).toBe(1023);
    expect(r(ACCOF)).toBe(0);
    clock.advanceBy(T128);
    expect(r(ACCOF)).toBe(1);
    expect(r(ACC)).toBe(1023);
  });

  it('raises its IRQ on enabled events', () => {
    const { q, clock, w } = make();
    w(ENABLE, 1);
    w(INTENSET, 1);
    w(START, 1);
    clock.advanceBy(T128);
    expect(q.gpioOut('', 0).level).toBe(1);
  });

  it('logs under -d unimp that pins and the LED are not modelled', () => {
    const { w, lines } = make(LogCat.Unimp);
    w(ENABLE, 1);
    w(PSELA, 1);
    w(PSELB, 2);
    w(PSELLED, 3);
    w(START, 1);
    expect(lines.some((l) => l.includes('PSELA'))).toBe(true);
    expect(lines.some((l) => l.includes('PSELLED'))).toBe(true);
  });

  it('round-trips its state while sampling, with steps still queued', () => {
    const a = make();
    a.w(ENABLE, 1);
    a.w(START, 1);
    a.q.rotate(5);
    a.clock.advanceBy(2 * T128 + 10);
    const state = JSON.parse(JSON.stringify(a.q.saveState()));
    const b = make();
    b.clock.loadState(a.clock.saveState());
    b.q.loadState(state);
    expect(b.q.pendingSteps).toBe(3);
    b.clock.advanceTo(5 * T128);
    expect(b.r(ACC)).toBe(5);
  });

  it('is registered as nrf51_soc.qdec', () => {
    expect(findDeviceType('nrf51_soc.qdec')?.create?.()).toBeInstanceOf(Nrf51Qdec);
  });
});

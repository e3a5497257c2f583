import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { ClockCounter, mulDivCeil, mulDivFloor } from './counter.js';

const DAY_NS = 86_400 * 1e9;

describe('ClockCounter', () => {
  it('counts 32768 Hz exactly: one second is 32768 ticks, one tick is 30517.578125 ns', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 32768);
    c.start();
    clock.advanceTo(1e9);
    expect(c.value).toBe(32768);
    // Tick 1 happens at ceil(1e9/32768) = 30518 ns after start.
    const clock2 = new VirtualClock();
    const c2 = new ClockCounter(clock2, 32768);
    c2.start();
    clock2.advanceTo(30517);
    expect(c2.value).toBe(0);
    clock2.advanceTo(30518);
    expect(c2.value).toBe(1);
  });

  it('stays exact at 32768 Hz and 16 MHz over days of virtual time', () => {
    const clock = new VirtualClock();
    const rtc = new ClockCounter(clock, 32768);
    const fast = new ClockCounter(clock, 16_000_000);
    rtc.start();
    fast.start();
    const span = 90 * DAY_NS + 12_345;
    clock.advanceTo(span);
    // floor(span * f / 1e9) computed with BigInt as the reference.
    const ref = (hz: number) => Number((BigInt(span) * BigInt(hz)) / 1_000_000_000n);
    expect(rtc.value).toBe(ref(32768));
    expect(fast.value).toBe(ref(16_000_000));
    expect(fast.value).toBe(90 * 86_400 * 16_000_000 + 197);
  });

  it('holds its value while stopped and resumes from it', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 1_000_000);
    expect(c.running).toBe(false);
    c.start();
    clock.advanceTo(5000);
    c.stop();
    expect(c.value).toBe(5);
    clock.advanceTo(9000);
    expect(c.value).toBe(5);
    c.start();
    clock.advanceTo(12_000);
    expect(c.value).toBe(8);
  });

  it('set() rebases the counter at the current instant', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 1_000_000);
    c.start();
    clock.advanceTo(1500);
    c.set(100);
    expect(c.value).toBe(100);
    clock.advanceTo(2499);
    expect(c.value).toBe(100);
    clock.advanceTo(2500);
    expect(c.value).toBe(101);
  });

  it('setFrequency keeps the current value', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 1_000_000);
    c.start();
    clock.advanceTo(10_000);
    c.setFrequency(2_000_000);
    expect(c.value).toBe(10);
    clock.advanceTo(11_000);
    expect(c.value).toBe(12);
    expect(c.frequency).toBe(2_000_000);
  });

  it('nsUntil(n) lands exactly on +n (up to 1 GHz), and 1 ns earlier reads less', () => {
    for (const hz of [32768, 16_000_000, 1_000_000, 3, 999_999_937, 2_000_000_000]) {
      const clock = new VirtualClock();
      const c = new ClockCounter(clock, hz);
      c.start();
      clock.advanceTo(7 * DAY_NS + 777_777);
      for (const n of [1, 2, 7, 1000, 32768, 123_456_789]) {
        if (n / hz > 1e6) continue; // keep virtual time well inside 2^53 ns
        const start = c.value;
        const dt = c.nsUntil(n);
        const probe = new VirtualClock();
        probe.loadState(clock.saveState());
        const copy = new ClockCounter(probe, hz);
        copy.loadState(c.saveState());
        probe.advanceBy(dt - 1);
        expect(copy.value, `${hz} Hz, n=${n}`).toBeLessThan(start + n);
        probe.advanceBy(1);
        // Above 1 GHz one ns holds several ticks, so the first instant may overshoot.
        if (hz <= 1e9) expect(copy.value, `${hz} Hz, n=${n}`).toBe(start + n);
        else expect(copy.value, `${hz} Hz, n=${n}`).toBeGreaterThanOrEqual(start + n);
        clock.advanceBy(13);
      }
    }
  });

  it('nsUntil is 0 for no ticks and Infinity while stopped', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 32768);
    expect(c.nsUntil(0)).toBe(0);
    expect(c.nsUntil(5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('saves and restores its state, including the sub-tick phase', () => {
    const clock = new VirtualClock();
    const c = new ClockCounter(clock, 32768);
    c.start();
    clock.advanceTo(1_000_000);
    const saved = JSON.parse(JSON.stringify({ clock: clock.saveState(), c: c.saveState() }));
    clock.advanceTo(5_000_000);
    const expected = c.value;
    const clock2 = new VirtualClock();
    clock2.loadState(saved.clock);
    const c2 = new ClockCounter(clock2, 1);
    c2.loadState(saved.c);
    clock2.advanceTo(5_000_000);
    expect(c2.value).toBe(expected);
    expect(c2.frequency).toBe(32768);
    expect(() => c2.loadState({ hz: 0, base: 0, start: 0, running: true })).toThrow(
      'snapshot: counter frequency 0 is invalid',
    );
  });

  it('rejects a frequency that is not a positive integer', () => {
    const clock = new VirtualClock();
    expect(() => new ClockCounter(clock, 0)).toThrow(RangeError);
    expect(() => new ClockCounter(clock, 1.5)).toThrow(RangeError);
  });

  it('mulDiv helpers are exact beyond 2^53', () => {
    expect(mulDivFloor(999_999_999, 999_999_937, 1_000_000_000)).toBe(999_999_936);
    expect(mulDivCeil(999_999_999, 999_999_937, 1_000_000_000)).toBe(999_999_937);
    expect(mulDivFloor(7, 3, 2)).toBe(10);
    expect(mulDivCeil(7, 3, 2)).toBe(11);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';

/** Deterministic PRNG (xorshift32) so the stress test is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe('VirtualClock', () => {
  it('starts at 0 with no deadline', () => {
    const clock = new VirtualClock();
    expect(clock.now).toBe(0);
    expect(clock.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('fires earlier timers first and timers with equal expiry in arming order', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const a = clock.createTimer('a', () => fired.push('a'));
    const b = clock.createTimer('b', () => fired.push('b'));
    const c = clock.createTimer('c', () => fired.push('c'));
    const d = clock.createTimer('d', () => fired.push('d'));
    c.modAbs(200);
    b.modAbs(100);
    d.modAbs(100);
    a.modAbs(300);
    expect(clock.nextDeadline()).toBe(100);
    clock.advanceTo(1000);
    expect(fired).toEqual(['b', 'd', 'c', 'a']);
    expect(clock.now).toBe(1000);
  });

  it('runs each callback with now equal to its expiry', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    for (const t of [50, 10, 30]) clock.createTimer(`t${t}`, () => seen.push(clock.now)).modAbs(t);
    clock.advanceTo(100);
    expect(seen).toEqual([10, 30, 50]);
  });

  it('does not fire timers that expire after the target time', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const t = clock.createTimer('t', () => fired++);
    t.modAbs(101);
    clock.advanceTo(100);
    expect(fired).toBe(0);
    expect(t.pending).toBe(true);
    clock.advanceBy(1);
    expect(fired).toBe(1);
    expect(t.pending).toBe(false);
    expect(t.expires).toBe(-1);
  });

  it('keeps a periodic timer exact when it re-arms relative to now from its callback', () => {
    const clock = new VirtualClock();
    const ticks: number[] = [];
    const t = clock.createTimer('periodic', () => {
      ticks.push(clock.now);
      t.modRel(30);
    });
    t.modRel(30);
    clock.advanceTo(100);
    expect(ticks).toEqual([30, 60, 90]);
    expect(t.expires).toBe(120);
    clock.advanceTo(125);
    expect(ticks).toEqual([30, 60, 90, 120]);
  });

  it('cancels a pending timer, and cancelling an idle timer is harmless', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const t = clock.createTimer('t', () => fired++);
    t.cancel();
    t.modAbs(10);
    t.cancel();
    expect(t.pending).toBe(false);
    expect(clock.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    clock.advanceTo(20);
    expect(fired).toBe(0);
  });

  it('moves a pending timer when re-armed', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const t = clock.createTimer('t', () => fired.push(clock.now));
    t.modAbs(100);
    t.modAbs(40);
    expect(clock.nextDeadline()).toBe(40);
    t.modAbs(70);
    expect(clock.pendingCount).toBe(1);
    clock.advanceTo(200);
    expect(fired).toEqual([70]);
  });

  it('fires a timer armed in the past at the next advance, at the current time', () => {
    const clock = new VirtualClock();
    clock.advanceTo(500);
    const seen: number[] = [];
    const t = clock.createTimer('late', () => seen.push(clock.now));
    t.modAbs(100);
    expect(t.expires).toBe(500);
    expect(clock.nextDeadline()).toBe(500);
    clock.advanceTo(500);
    expect(seen).toEqual([500]);
  });

  it('never moves time backwards', () => {
    const clock = new VirtualClock();
    clock.advanceTo(1000);
    clock.advanceTo(10);
    expect(clock.now).toBe(1000);
  });

  it('fires timers armed by callbacks inside the advanced window', () => {
    const clock = new VirtualClock();
    const order: string[] = [];
    const second = clock.createTimer('second', () => order.push(`second@${clock.now}`));
    clock
      .createTimer('first', () => {
        order.push(`first@${clock.now}`);
        second.modRel(5);
      })
      .modAbs(10);
    clock.advanceTo(20);
    expect(order).toEqual(['first@10', 'second@15']);
  });

  it('increments deadlineGeneration and notifies only when the earliest deadline moves earlier', () => {
    const clock = new VirtualClock();
    let notified = 0;
    clock.setDeadlineListener(() => notified++);
    const a = clock.createTimer('a', () => {});
    const b = clock.createTimer('b', () => {});
    const g0 = clock.deadlineGeneration;
    a.modAbs(100);
    expect(clock.deadlineGeneration).toBe(g0 + 1);
    b.modAbs(200);
    expect(clock.deadlineGeneration).toBe(g0 + 1);
    b.modAbs(50);
    expect(clock.deadlineGeneration).toBe(g0 + 2);
    b.modAbs(300);
    expect(clock.deadlineGeneration).toBe(g0 + 2);
    expect(notified).toBe(2);
  });

  it('reads a live time source while one is installed', () => {
    const clock = new VirtualClock();
    clock.advanceTo(100);
    clock.beginLive({ liveNow: () => 130 });
    expect(clock.now).toBe(130);
    const t = clock.createTimer('t', () => {});
    t.modRel(10);
    expect(t.expires).toBe(140);
    expect(() => clock.advanceTo(200)).toThrow();
    clock.endLive();
    expect(clock.now).toBe(100);
  });

  it('saves and restores now', () => {
    const clock = new VirtualClock();
    clock.advanceTo(123456789);
    const state = JSON.parse(JSON.stringify(clock.saveState()));
    const other = new VirtualClock();
    other.loadState(state);
    expect(other.now).toBe(123456789);
    expect(() => other.loadState({})).toThrow("snapshot: missing field 'now'");
  });

  it('fires thousands of randomly armed, moved and cancelled timers in sorted order', () => {
    const clock = new VirtualClock();
    const next = rng(12345);
    const fired: Array<[number, number]> = [];
    const timers = Array.from({ length: 3000 }, (_, i) =>
      clock.createTimer(`t${i}`, () => fired.push([clock.now, i])),
    );
    // Expected: the last arming of each timer, ordered by (expiry, arming order).
    const lastArm = new Map<number, { expires: number; seq: number }>();
    let seq = 0;
    for (let step = 0; step < 10000; step++) {
      const i = next() % timers.length;
      if (next() % 5 === 0) {
        timers[i]!.cancel();
        lastArm.delete(i);
      } else {
        const t = next() % 5000; // many equal expiries
        timers[i]!.modAbs(t);
        lastArm.set(i, { expires: t, seq: seq++ });
      }
    }
    const expected = [...lastArm.entries()]
      .sort((x, y) => x[1].expires - y[1].expires || x[1].seq - y[1].seq)
      .map(([i, a]) => [a.expires, i]);
    clock.advanceTo(5000);
    expect(fired).toEqual(expected);
    expect(clock.pendingCount).toBe(0);
  });
});

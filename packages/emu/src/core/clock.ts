/**
 * The virtual clock: one machine-wide time in integer nanoseconds, and the timers scheduled on it.
 *
 * Time is a plain JS number of nanoseconds. It stays exact up to 2^53 ns (about 104 days of
 * virtual time), far beyond any test or interactive session.
 *
 * Timers sit on a binary min-heap ordered by (expiry, arming order). Each timer remembers its
 * own heap index, so arming, re-arming and cancelling are O(log n) and allocate nothing: the
 * heap holds references to `Timer` objects that devices create once at realize time.
 *
 * Only the runner (and qtest) move time forward, with `advanceTo`/`advanceBy`. While a timer's
 * callback runs, `now` equals that timer's expiry, so a periodic device that re-arms with
 * `modRel(period)` from its callback stays exact however late the runner noticed the expiry.
 *
 * Inside a CPU slice the runner may install a *live time source* (`beginLive`): `now` then
 * includes the instructions completed so far in the slice, so an MMIO access in the middle of a
 * slice reads the exact time, and a timer armed from it is armed relative to that time. No timer
 * fires while a live source is installed; the runner advances the clock properly at slice end.
 *
 * Snapshots hold only `now`: devices save their own timers' expiries and re-arm them in their
 * `loadState` (the clock cannot know which callback a saved timer belonged to).
 */
import { isNum, type StateData, stateField } from './device.js';

/** Supplies the exact current time while a CPU slice is executing (see `beginLive`). */
export interface LiveTimeSource {
  /** The current virtual time in ns; never less than the clock's committed time. */
  liveNow(): number;
}

export class Timer {
  readonly name: string;
  /** Expiry time in virtual ns, or -1 while idle. */
  expires = -1;
  /** Position in the clock's heap, or -1 while idle (maintained by the clock). */
  heapIndex = -1;
  /** Arming order, to fire timers with equal expiries in the order they were armed. */
  seq = 0;
  readonly callback: () => void;
  private readonly clock: VirtualClock;

  constructor(clock: VirtualClock, name: string, callback: () => void) {
    this.clock = clock;
    this.name = name;
    this.callback = callback;
  }

  /** True while armed and not yet fired. */
  get pending(): boolean {
    return this.heapIndex >= 0;
  }

  /** Arms (or moves) the timer to fire at absolute time `t`; a time in the past means "now". */
  modAbs(t: number): void {
    this.clock.arm(this, t);
  }

  /** Arms (or moves) the timer to fire `dt` ns from now. */
  modRel(dt: number): void {
    this.clock.arm(this, this.clock.now + dt);
  }

  /** Disarms the timer; harmless when idle. */
  cancel(): void {
    this.clock.disarm(this);
  }
}

export class VirtualClock {
  private current = 0;
  private readonly heap: Timer[] = [];
  private armCount = 0;
  private firing = false;
  private live: LiveTimeSource | null = null;
  private deadlineListener: (() => void) | null = null;
  /**
   * Increments whenever the earliest deadline may have moved earlier (a timer was armed at the
   * front of the queue). A CPU loop can compare it with a saved value to end its slice early.
   */
  deadlineGeneration = 0;

  /** Current virtual time in ns. */
  get now(): number {
    return this.live === null ? this.current : this.live.liveNow();
  }

  createTimer(name: string, callback: () => void): Timer {
    return new Timer(this, name, callback);
  }

  /** Expiry of the earliest pending timer, or Infinity when none is pending. */
  nextDeadline(): number {
    return this.heap.length === 0 ? Number.POSITIVE_INFINITY : this.heap[0]!.expires;
  }

  /** Number of pending timers (for monitors and tests). */
  get pendingCount(): number {
    return this.heap.length;
  }

  /**
   * Called (synchronously) whenever `deadlineGeneration` increments. The runner uses it to cut
   * the current CPU slice short or to wake its idle loop. One listener; `null` removes it.
   */
  setDeadlineListener(listener: (() => void) | null): void {
    this.deadlineListener = listener;
  }

  /**
   * Moves time forward to `t`, firing every timer whose expiry is ≤ t in (expiry, arming order)
   * with `now` set to that expiry while its callback runs; then `now` becomes t. Timers armed
   * by callbacks within the window fire in the same call. Moving to an earlier time only fires
   * timers that are already due.
   */
  advanceTo(t: number): void {
    if (this.firing) throw new Error('VirtualClock.advanceTo called from a timer callback');
    if (this.live !== null) throw new Error('VirtualClock.advanceTo called inside a CPU slice');
    const target = Math.max(t, this.current);
    const heap = this.heap;
    this.firing = true;
    try {
      while (heap.length > 0 && heap[0]!.expires <= target) {
        const timer = heap[0]!;
        this.removeAt(0);
        if (timer.expires > this.current) this.current = timer.expires;
        timer.expires = -1;
        timer.callback();
      }
    } finally {
      this.firing = false;
    }
    this.current = target;
  }

  advanceBy(dt: number): void {
    this.advanceTo(this.now + dt);
  }

  /**
   * For the runner: while installed, `now` reads `source.liveNow()`. The source must never report
   * a time past a pending deadline (the runner sizes slices so that it cannot).
   */
  beginLive(source: LiveTimeSource): void {
    this.live = source;
  }

  /** Removes the live time source; `now` is the committed time again. */
  endLive(): void {
    this.live = null;
  }

  saveState(): StateData {
    return { now: this.current };
  }

  /** Restores `now` (may move time backwards: this is a restore). Timers are re-armed by their devices. */
  loadState(state: StateData): void {
    const now = stateField(state, 'now', isNum);
    this.current = now;
  }

  // ---- heap (used by Timer) ----------------------------------------------------------------

  /** Arms `timer` at `t` (clamped to now), moving it when already pending. */
  arm(timer: Timer, t: number): void {
    const now = this.now;
    const expires = Math.max(t, now);
    const oldDeadline = this.nextDeadline();
    timer.seq = this.armCount++;
    timer.expires = expires;
    const heap = this.heap;
    if (timer.heapIndex < 0) {
      timer.heapIndex = heap.length;
      heap.push(timer);
      this.siftUp(timer.heapIndex);
    } else {
      // The new key may be earlier or later than the old one: restore the heap both ways.
      this.siftUp(timer.heapIndex);
      this.siftDown(timer.heapIndex);
    }
    if (heap[0] === timer && expires < oldDeadline) {
      this.deadlineGeneration++;
      if (this.deadlineListener !== null) this.deadlineListener();
    }
  }

  disarm(timer: Timer): void {
    if (timer.heapIndex < 0) return;
    this.removeAt(timer.heapIndex);
    timer.expires = -1;
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const removed = heap[index]!;
    const last = heap.pop()!;
    removed.heapIndex = -1;
    if (last !== removed) {
      heap[index] = last;
      last.heapIndex = index;
      this.siftUp(index);
      this.siftDown(last.heapIndex);
    }
  }

  private static before(a: Timer, b: Timer): boolean {
    return a.expires < b.expires || (a.expires === b.expires && a.seq < b.seq);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const timer = heap[index]!;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!VirtualClock.before(timer, parent)) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    heap[i] = timer;
    timer.heapIndex = i;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const timer = heap[index]!;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && VirtualClock.before(heap[right]!, heap[left]!)) child = right;
      const c = heap[child]!;
      if (!VirtualClock.before(c, timer)) break;
      heap[i] = c;
      c.heapIndex = i;
      i = child;
    }
    heap[i] = timer;
    timer.heapIndex = i;
  }
}

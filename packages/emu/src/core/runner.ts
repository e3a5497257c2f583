/**
 * The runner: drives the CPUs (executors) and the virtual clock.
 *
 * Scheduling round (both modes, allocation-free): each runnable executor in turn gets a slice
 * that ends at the earliest of the next timer deadline, one quantum (`sliceNs`, 1 ms) and the
 * caller's limit. The slice is sized in instructions so that it *reaches* its end:
 * ceil(window / nsPerInstruction), so a timer fires at the first instruction boundary at or
 * after its expiry (as QEMU's icount does) with `now` equal to its expiry. After the slice the
 * clock advances by executed × nsPerInstruction (fractions such as 62.5 ns are carried exactly
 * as a remainder) and due timers fire. When no executor is runnable (all sleep in WFI/WFE or
 * are halted), fast mode jumps the clock to the next deadline; realtime mode waits for the
 * host clock to reach it.
 *
 * Exact time inside a slice: while an executor runs, the clock reads its `sliceInstructions`
 * (when it has one) so that MMIO in the middle of a slice sees the exact instruction time. If a
 * device then arms a timer earlier than the slice end, the clock notifies the runner, which
 * calls the executor's `requestExit()`: the CPU stops at the next instruction boundary and the
 * timer fires on time. `kick()` does the same for any other reason to end a slice (an IRQ
 * raised from outside, a debugger) and wakes an idle loop.
 *
 * Modes:
 * - fast: time advances only by executed instructions and jumps over idle periods.
 *   Deterministic: the same executors and inputs give the same sequence of clock times.
 * - realtime: virtual time never runs ahead of the host time elapsed since `start()` (time
 *   spent stopped does not count: each start re-anchors). Idle time passes at host speed. When
 *   the guest executes more slowly than real time, virtual time simply lags behind the host and
 *   catches up during later idle periods; timers never fire before their virtual expiry. (QEMU
 *   without icount instead derives virtual time from the host clock, so a slow guest sees
 *   timers fire "early" in terms of its own executed instructions.)
 * - qtest: nothing executes; the clock moves only through `stepClock`/`setClock` (QEMU's
 *   `-accel qtest`).
 *
 * `start()` runs an asynchronous loop that yields to the Node event loop (setImmediate) every
 * few ms of host time so sockets, monitors and the UI stay responsive. `runFor()` is the
 * synchronous equivalent for tests and the library (fast and qtest modes).
 *
 * A round where no runnable executor executes anything (each returned 0 without sleeping or
 * halting) is treated as idle, so a misbehaving executor cannot hang the loop.
 */
import type { LiveTimeSource, VirtualClock } from './clock.js';

export interface Executor {
  readonly name: string;
  /** True while WFI/WFE-sleeping. */
  readonly sleeping: boolean;
  /** True while halted (debugger stop, lockup, powered off). */
  readonly halted: boolean;
  /**
   * Executes up to maxInstructions; returns the number executed (may stop early: sleep, halt,
   * breakpoint, or `requestExit`).
   */
  execute(maxInstructions: number): number;
  /**
   * Instructions completed so far in the current `execute` call. Optional: when present, the
   * clock reads exact time in the middle of a slice (MMIO); otherwise it reads the slice start.
   */
  readonly sliceInstructions?: number;
  /** Asks a running `execute` to return at the next instruction boundary. Optional. */
  requestExit?(): void;
}

export type RunnerMode = 'fast' | 'realtime' | 'qtest';

export interface RunnerOptions {
  mode: RunnerMode;
  /** Virtual ns per executed instruction (may be fractional, e.g. 62.5 for 16 MHz). */
  nsPerInstruction: number;
  executors?: Executor[];
  /** Longest slice of one executor, in virtual ns (default 1 ms). */
  sliceNs?: number;
  /** Host time between yields to the event loop, in host ms (default 4). */
  yieldMs?: number;
  /** Host clock in ms (default `performance.now`); replaceable for tests. */
  hostNow?: () => number;
}

/** Result of one scheduling round. */
const RAN = 0;
const IDLE = 1;
const LIMIT = 2;

/** Longest setTimeout delay Node accepts; used to stay alive while idle with no deadline. */
const MAX_TIMEOUT_MS = 0x7fffffff;

/** Best rational approximation num/den of x (den ≤ 1e6), exact for values such as 62.5 or 125/6. */
export function toFraction(x: number): [num: number, den: number] {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`nsPerInstruction must be positive, got ${x}`);
  if (Number.isInteger(x)) return [x, 1];
  // Continued fraction expansion; stop at the first convergent within rounding of x.
  let h0 = 0;
  let h1 = 1;
  let k0 = 1;
  let k1 = 0;
  let v = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (k2 > 1e6) break;
    h0 = h1;
    h1 = h2;
    k0 = k1;
    k1 = k2;
    if (Math.abs(h1 / k1 - x) <= x * 1e-12) break;
    const frac = v - a;
    if (frac === 0) break;
    v = 1 / frac;
  }
  return [h1, k1];
}

export class Runner implements LiveTimeSource {
  readonly clock: VirtualClock;
  private runMode: RunnerMode;

  get mode(): RunnerMode {
    return this.runMode;
  }
  readonly sliceNs: number;
  private readonly executors: Executor[];
  private readonly yieldMs: number;
  private readonly hostNow: () => number;
  private readonly listeners: Array<(running: boolean) => void> = [];
  /** ns per instruction as num/den, and the sub-ns remainder (0..den-1) carried between slices. */
  private num: number;
  private den: number;
  private carry = 0;
  private period: number;

  // The slice in progress (for liveNow and requestExit).
  private current: Executor | null = null;
  private sliceStart = 0;
  private sliceCarry = 0;
  private sliceEnd = 0;

  private isRunning = false;
  private breakRequested = false;
  private inLoop = false;
  private idleWaiting = false;
  private immediate: NodeJS.Immediate | null = null;
  private timeout: NodeJS.Timeout | null = null;
  // Realtime anchor: virtual time `virtOrigin` corresponds to host time `hostOrigin` (ms).
  private hostOrigin = 0;
  private virtOrigin = 0;

  constructor(clock: VirtualClock, options: RunnerOptions) {
    this.clock = clock;
    this.runMode = options.mode;
    [this.num, this.den] = toFraction(options.nsPerInstruction);
    this.period = options.nsPerInstruction;
    this.executors = options.executors ? [...options.executors] : [];
    this.sliceNs = options.sliceNs ?? 1_000_000;
    if (!(this.sliceNs >= 1) || !Number.isSafeInteger(this.sliceNs)) {
      throw new RangeError(`sliceNs must be a positive integer, got ${this.sliceNs}`);
    }
    this.yieldMs = options.yieldMs ?? 4;
    this.hostNow = options.hostNow ?? (() => performance.now());
    clock.setDeadlineListener(this.onDeadlineEarlier);
  }

  get nsPerInstruction(): number {
    return this.period;
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.isRunning;
  }

  /** The executors in scheduling order. */
  get executorList(): readonly Executor[] {
    return this.executors;
  }

  addExecutor(executor: Executor): void {
    this.executors.push(executor);
  }

  removeExecutor(executor: Executor): void {
    const i = this.executors.indexOf(executor);
    if (i >= 0) this.executors.splice(i, 1);
  }

  /** Registers a listener for running (true) / stopped (false) transitions; returns an unsubscribe function. */
  onStateChange(listener: (running: boolean) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** The clock's view of time inside a slice: slice start + instructions completed so far. */
  liveNow(): number {
    const ex = this.current;
    const done = ex === null ? 0 : (ex.sliceInstructions ?? 0);
    const t = this.sliceStart + Math.floor((done * this.num + this.sliceCarry) / this.den);
    // Never report a time past a pending deadline: the timer must fire before time passes it.
    const deadline = this.clock.nextDeadline();
    return Math.min(t, deadline);
  }

  /**
   * Ends the current CPU slice at the next instruction boundary (when the executor supports it)
   * and wakes an idle loop, e.g. after an interrupt was raised from outside the emulation.
   */
  kick(): void {
    if (this.current !== null) this.current.requestExit?.();
    if (this.idleWaiting) this.wake();
  }

  /** Starts (or resumes) the asynchronous loop. In qtest mode nothing executes. */
  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.breakRequested = false;
    this.hostOrigin = this.hostNow();
    this.virtOrigin = this.clock.now;
    if (this.mode !== 'qtest' && !this.inLoop) this.schedule();
    this.emit(true);
  }

  /** Stops the loop (and a synchronous `runFor` in progress) at the next instruction boundary. */
  /**
   * Switches between fast and realtime mode (the UI's speed toggle). A running loop is stopped
   * and restarted around the change, so realtime pacing re-anchors to the host clock. The qtest
   * mode is fixed for the life of the machine.
   */
  setMode(mode: 'fast' | 'realtime'): void {
    if (this.runMode === mode) return;
    if (this.runMode === 'qtest') throw new Error("the runner is in qtest mode: its clock is the test's");
    const wasRunning = this.running;
    if (wasRunning) this.stop();
    this.runMode = mode;
    if (wasRunning) this.start();
  }

  stop(): void {
    this.breakRequested = true;
    if (this.current !== null) this.current.requestExit?.();
    if (!this.isRunning) return;
    this.isRunning = false;
    this.clearPending();
    this.emit(false);
  }

  /**
   * Runs synchronously until virtual time has advanced by `ns` (fast and qtest modes). Ends at
   * the first instruction boundary at or after that time, or earlier when `stop()` is called.
   */
  runFor(ns: number): void {
    if (this.mode === 'realtime') throw new Error('Runner.runFor is not available in realtime mode');
    if (this.isRunning && this.mode === 'fast')
      throw new Error('Runner.runFor called while the loop is running');
    const clock = this.clock;
    const end = clock.now + ns;
    this.breakRequested = false;
    if (this.mode === 'qtest') {
      this.jumpTo(end);
      return;
    }
    while (clock.now < end && !this.breakRequested) {
      if (this.round(end) !== RAN) {
        if (clock.now >= end || this.breakRequested) break;
        const d = clock.nextDeadline();
        this.jumpTo(Math.min(d, end));
      }
    }
  }

  /**
   * qtest `clock_step`: without an argument, jumps to the next timer deadline and returns the new
   * time, or null when no timer is pending; with `ns`, advances by ns. Timers fire in order.
   */
  stepClock(ns?: number): number | null {
    if (ns === undefined) {
      const d = this.clock.nextDeadline();
      if (d === Number.POSITIVE_INFINITY) return null;
      this.jumpTo(d);
    } else {
      this.jumpTo(this.clock.now + ns);
    }
    return this.clock.now;
  }

  /** qtest `clock_set`: advances to absolute time t (forward only); returns the new time. */
  setClock(t: number): number {
    this.jumpTo(t);
    return this.clock.now;
  }

  // ---- core loop -----------------------------------------------------------------------------

  /** Gives each runnable executor one slice; returns RAN, IDLE (none executed) or LIMIT. */
  private round(limit: number): number {
    const clock = this.clock;
    const list = this.executors;
    let ran = false;
    for (let i = 0; i < list.length; i++) {
      if (this.breakRequested) break;
      let now = clock.now;
      let deadline = clock.nextDeadline();
      if (deadline <= now) {
        // Fire timers due now first: they may wake or halt this executor.
        clock.advanceTo(now);
        if (this.breakRequested) break;
        now = clock.now;
        deadline = clock.nextDeadline();
      }
      const ex = list[i]!;
      if (ex.sleeping || ex.halted) continue;
      if (now >= limit) return ran ? RAN : LIMIT;
      let end = now + this.sliceNs;
      if (deadline < end) end = deadline;
      if (limit < end) end = limit;
      const executed = this.runSlice(ex, this.instructionsFor(end - now), end);
      if (executed > 0) {
        ran = true;
        this.advanceInstructions(executed);
      }
    }
    if (!ran && clock.nextDeadline() <= clock.now) clock.advanceTo(clock.now);
    return ran ? RAN : IDLE;
  }

  /** Instructions needed to cover `window` ns from the current carry (at least 1). */
  private instructionsFor(window: number): number {
    const n = Math.ceil((window * this.den - this.carry) / this.num);
    return Math.max(n, 1);
  }

  private runSlice(ex: Executor, maxInstructions: number, end: number): number {
    const clock = this.clock;
    this.current = ex;
    this.sliceStart = clock.now;
    this.sliceCarry = this.carry;
    this.sliceEnd = end;
    clock.beginLive(this);
    try {
      return ex.execute(maxInstructions);
    } finally {
      clock.endLive();
      this.current = null;
    }
  }

  /** Advances the clock by `executed` instructions, carrying the sub-ns remainder. */
  private advanceInstructions(executed: number): void {
    const total = executed * this.num + this.carry;
    const dt = Math.floor(total / this.den);
    this.carry = total - dt * this.den;
    this.clock.advanceTo(this.clock.now + dt);
  }

  /** Moves the clock to t (idle jump): the instruction remainder no longer applies. */
  private jumpTo(t: number): void {
    this.carry = 0;
    this.clock.advanceTo(t);
  }

  /** Realtime: the virtual time that corresponds to the host time now. */
  private hostTargetNs(): number {
    return this.virtOrigin + Math.floor((this.hostNow() - this.hostOrigin) * 1e6);
  }

  private readonly tick = (): void => {
    this.immediate = null;
    this.timeout = null;
    this.idleWaiting = false;
    if (!this.isRunning) return;
    this.inLoop = true;
    try {
      this.loop();
    } finally {
      this.inLoop = false;
    }
  };

  private loop(): void {
    const clock = this.clock;
    const yieldAt = this.hostNow() + this.yieldMs;
    while (this.isRunning) {
      this.breakRequested = false;
      if (this.mode === 'fast') {
        if (this.round(Number.POSITIVE_INFINITY) === IDLE) {
          const d = clock.nextDeadline();
          if (d === Number.POSITIVE_INFINITY) {
            this.waitIdle(-1);
            return;
          }
          this.jumpTo(d);
        }
      } else {
        const target = this.hostTargetNs();
        const result = clock.now >= target ? LIMIT : this.round(target);
        if (result === LIMIT) {
          // Ahead of the host clock: let it catch up.
          this.waitIdle((clock.now - target) / 1e6);
          return;
        }
        if (result === IDLE) {
          const d = clock.nextDeadline();
          if (d <= target) {
            this.jumpTo(d);
          } else {
            if (target > clock.now) this.jumpTo(target);
            this.waitIdle(d === Number.POSITIVE_INFINITY ? -1 : (d - clock.now) / 1e6);
            return;
          }
        }
      }
      if (this.hostNow() >= yieldAt) {
        this.schedule();
        return;
      }
    }
  }

  /** Deadline listener: cut the running slice or wake the idle loop. */
  private readonly onDeadlineEarlier = (): void => {
    if (this.current !== null) {
      if (this.clock.nextDeadline() < this.sliceEnd) this.current.requestExit?.();
    } else if (this.idleWaiting) {
      this.wake();
    }
  };

  private schedule(): void {
    this.clearPending();
    this.immediate = setImmediate(this.tick);
  }

  /** Waits `ms` host milliseconds (forever when negative) or until woken by kick/deadline. */
  private waitIdle(ms: number): void {
    this.clearPending();
    this.idleWaiting = true;
    // The timeout also keeps the process alive while the machine runs with nothing to do.
    const delay = ms < 0 ? MAX_TIMEOUT_MS : Math.min(Math.max(ms, 1), MAX_TIMEOUT_MS);
    this.timeout = setTimeout(this.tick, delay);
  }

  private wake(): void {
    this.idleWaiting = false;
    if (this.isRunning && !this.inLoop) this.schedule();
  }

  private clearPending(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timeout !== null) clearTimeout(this.timeout);
    this.immediate = null;
    this.timeout = null;
    this.idleWaiting = false;
  }

  private emit(running: boolean): void {
    for (const l of this.listeners.slice()) l(running);
  }
}

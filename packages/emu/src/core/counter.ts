/**
 * A hardware counter derived lazily from the virtual clock (RTC, SysTick-like free-running
 * counters, timer peripherals in counter mode). It is never ticked: its value is computed from
 * the clock when read, and `nsUntil` tells a device when to arm a compare timer.
 *
 * Arithmetic is exact integer arithmetic. The frequency is turned into the reduced fraction
 * ticks/ns = num/den (num = hz/g, den = 1e9/g, g = gcd(hz, 1e9)); for an elapsed time
 * dt = q·den + r, ticks = q·num + floor(r·num/den). For 32768 Hz (num 64, den 1953125) and
 * 16 MHz (num 2, den 125) every intermediate stays far below 2^53 for any span of virtual time
 * the clock can represent; odd frequencies whose r·num might exceed 2^53 fall back to BigInt.
 *
 * Writing the value (`set`), starting, and changing the frequency rebase the counter at the
 * current instant, so the next tick comes one full period later, as when a prescaler restarts.
 */
import type { VirtualClock } from './clock.js';
import { isBool, isNum, type StateData, stateField } from './device.js';
import { UserError } from './errors.js';

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

/** floor(a·b/c) for non-negative integers, exact even when a·b exceeds 2^53. */
export function mulDivFloor(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.floor(p / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** ceil(a·b/c) for non-negative integers, exact even when a·b exceeds 2^53. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.ceil(p / c);
  const big = BigInt(a) * BigInt(b);
  const cc = BigInt(c);
  return Number((big + cc - 1n) / cc);
}

export class ClockCounter {
  private readonly clock: VirtualClock;
  private hz = 0;
  /** Ticks per ns as num/den, reduced. */
  private num = 0;
  private den = 1;
  /** Value at `startNs` (or the held value while stopped). */
  private base = 0;
  private startNs = 0;
  private isRunning = false;

  constructor(clock: VirtualClock, frequencyHz: number) {
    this.clock = clock;
    this.applyFrequency(frequencyHz);
  }

  get frequency(): number {
    return this.hz;
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Starts counting from the current value; no effect when already running. */
  start(): void {
    if (this.isRunning) return;
    this.startNs = this.clock.now;
    this.isRunning = true;
  }

  /** Stops and holds the current value. */
  stop(): void {
    if (!this.isRunning) return;
    this.base = this.value;
    this.isRunning = false;
  }

  /** The current value: the value at the last set/start plus the ticks elapsed since. */
  get value(): number {
    if (!this.isRunning) return this.base;
    return this.base + this.ticksIn(this.clock.now - this.startNs);
  }

  /** Sets the value; a running counter keeps running from it. */
  set(value: number): void {
    this.base = value;
    this.startNs = this.clock.now;
  }

  /** Changes the frequency, keeping the current value. */
  setFrequency(hz: number): void {
    const v = this.value;
    this.applyFrequency(hz);
    this.base = v;
    this.startNs = this.clock.now;
  }

  /**
   * Virtual ns from now until the counter has advanced by `ticks` more: the first instant at
   * which `value` reads at least current + ticks. 0 for ticks ≤ 0; Infinity while stopped.
   */
  nsUntil(ticks: number): number {
    if (ticks <= 0) return 0;
    if (!this.isRunning) return Number.POSITIVE_INFINITY;
    const elapsed = this.clock.now - this.startNs;
    const target = this.ticksIn(elapsed) + ticks;
    // First dt with floor(dt·num/den) ≥ target is ceil(target·den/num); split target = a·num + b.
    const a = Math.floor(target / this.num);
    const b = target - a * this.num;
    const at = a * this.den + mulDivCeil(b, this.den, this.num);
    return at - elapsed;
  }

  saveState(): StateData {
    return { hz: this.hz, base: this.base, start: this.startNs, running: this.isRunning };
  }

  loadState(state: StateData): void {
    const hz = stateField(state, 'hz', isNum);
    if (!Number.isSafeInteger(hz) || hz <= 0)
      throw new UserError(`snapshot: counter frequency ${hz} is invalid`);
    this.applyFrequency(hz);
    this.base = stateField(state, 'base', isNum);
    this.startNs = stateField(state, 'start', isNum);
    this.isRunning = stateField(state, 'running', isBool);
  }

  private ticksIn(dt: number): number {
    const q = Math.floor(dt / this.den);
    const r = dt - q * this.den;
    return q * this.num + mulDivFloor(r, this.num, this.den);
  }

  private applyFrequency(hz: number): void {
    if (!Number.isSafeInteger(hz) || hz <= 0) {
      throw new RangeError(`ClockCounter: frequency must be a positive integer in Hz, got ${hz}`);
    }
    const g = gcd(hz, 1e9);
    this.hz = hz;
    this.num = hz / g;
    this.den = 1e9 / g;
  }
}

/**
 * ARMv6-M SysTick timer (ARMv6-M ARM DDI 0419 B3.3), an optional part of the Cortex-M0 System
 * Control Space at 0xE000E010.
 *
 * Registers (offsets from 0xE000E010):
 *   0x0 CSR   bit 0 ENABLE, bit 1 TICKINT, bit 2 CLKSOURCE (1: CPU clock, 0: reference clock),
 *             bit 16 COUNTFLAG (RO, set when the counter went from 1 to 0, cleared by reading CSR
 *             or writing CVR)
 *   0x4 RVR   RELOAD [23:0]
 *   0x8 CVR   CURRENT [23:0]; any write clears it (and COUNTFLAG); the next tick reloads
 *   0xC CALIB RO: NOREF (31), SKEW (30), TENMS [23:0] derived from the reference clock
 *
 * Counting: a 24-bit down-counter. On each tick, a counter at 0 loads RELOAD, otherwise it
 * decrements; the step from 1 to 0 sets COUNTFLAG and, with TICKINT, pends the SysTick exception.
 * RELOAD = N-1 therefore gives an event every N ticks; RELOAD = 0 stops the events. Enabling
 * counts down from the current CVR (0 after the usual "write CVR" start-up, so the first tick
 * loads RELOAD). A new RELOAD takes effect at the next reload.
 *
 * Clocks: CLKSOURCE=1 ticks at the CPU clock (`cpuClockHz`, in virtual time; the runner turns
 * executed instructions into time, so this is exact in virtual time even though instructions
 * take more than one cycle on hardware). CLKSOURCE=0 ticks at the implementation's reference
 * clock (`refClockHz`, chosen by the SoC; 0 means none: CALIB.NOREF = 1 and CLKSOURCE reads 1
 * and ignores writes of 0).
 *
 * Never ticked: the value is computed from a ClockCounter when read; the one Timer is armed only
 * while ENABLE and TICKINT are set, for the next 1-to-0 step. COUNTFLAG is computed lazily too.
 * Changing RVR, CLKSOURCE or CVR re-bases the arithmetic at the current tick, without losing
 * the fractional tick phase (the counter keeps running).
 */
import type { Timer, VirtualClock } from '../../core/clock.js';
import { ClockCounter } from '../../core/counter.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import type { RegisterBlock, RegisterDef } from '../../core/registers.js';

export const SYSTICK_CSR_ENABLE = 1 << 0;
export const SYSTICK_CSR_TICKINT = 1 << 1;
export const SYSTICK_CSR_CLKSOURCE = 1 << 2;
export const SYSTICK_CSR_COUNTFLAG = 1 << 16;
/** Size of the SysTick register window. */
export const SYSTICK_BLOCK_SIZE = 0x10;
const COUNTER_MASK = 0xff_ffff;

export interface SysTickOptions {
  /** Processor clock (CLKSOURCE = 1), Hz. */
  cpuClockHz: number;
  /** Reference clock (CLKSOURCE = 0), Hz; 0: the SoC provides none. */
  refClockHz: number;
}

export class SysTick {
  readonly cpuClockHz: number;
  readonly refClockHz: number;
  private enabled = false;
  private tickint = false;
  private clksource = 1;
  private reload = 0;
  /** CVR while disabled. */
  private held = 0;
  /** While enabled: at counter tick k0 the value was c0 (see valueAt). */
  private k0 = 0;
  private c0 = 0;
  /** COUNTFLAG: set by a 1-to-0 step before the last re-base, or by one after tick flagFrom. */
  private flagLatched = false;
  private flagFrom = 0;
  /** 1-to-0 steps at ticks ≤ deliveredTo have pended their exception (or had TICKINT clear). */
  private deliveredTo = 0;
  private readonly counter: ClockCounter;
  private readonly timer: Timer;
  private readonly pend: () => void;
  private block: RegisterBlock | null = null;

  constructor(clock: VirtualClock, name: string, options: SysTickOptions, pend: () => void) {
    const { cpuClockHz, refClockHz } = options;
    if (!Number.isSafeInteger(cpuClockHz) || cpuClockHz <= 0) {
      throw new UserError(`${name}: cpu-clock-hz must be a positive integer, got ${cpuClockHz}`);
    }
    if (!Number.isSafeInteger(refClockHz) || refClockHz < 0) {
      throw new UserError(`${name}: systick-ref-hz must be a non-negative integer, got ${refClockHz}`);
    }
    this.cpuClockHz = cpuClockHz;
    this.refClockHz = refClockHz;
    this.pend = pend;
    this.counter = new ClockCounter(clock, cpuClockHz);
    this.timer = clock.createTimer(`${name}.wrap`, () => this.expired());
  }

  /** CALIB: NOREF when there is no reference clock; TENMS = ticks in 10 ms - 1, SKEW when inexact. */
  get calib(): number {
    const ref = this.refClockHz;
    if (ref === 0) return 0xc000_0000;
    const exact = ref % 100 === 0;
    const tenms = Math.min(Math.round(ref / 100) - 1, COUNTER_MASK);
    return ((exact ? 0 : 1 << 30) | Math.max(tenms, 0)) >>> 0;
  }

  registers(): RegisterDef[] {
    return [
      {
        name: 'CSR',
        offset: 0x0,
        reset: this.refClockHz === 0 ? SYSTICK_CSR_CLKSOURCE : 0,
        writeMask: this.refClockHz === 0 ? 0x3 : 0x7,
        onRead: () => this.readCsr(),
        onWrite: (value) => this.writeCsr(value),
      },
      { name: 'RVR', offset: 0x4, writeMask: COUNTER_MASK, onWrite: (value) => this.writeRvr(value) },
      { name: 'CVR', offset: 0x8, onRead: () => this.current, onWrite: () => this.clearCurrent() },
      { name: 'CALIB', offset: 0xc, reset: this.calib, writeMask: 0 },
    ];
  }

  /** The RegisterBlock built from `registers()` (its CSR/RVR storage mirrors this state). */
  attach(block: RegisterBlock): void {
    this.block = block;
  }

  reset(): void {
    this.timer.cancel();
    this.counter.stop();
    this.enabled = false;
    this.tickint = false;
    this.clksource = this.refClockHz === 0 ? 1 : 0;
    this.reload = 0;
    this.held = 0;
    this.k0 = 0;
    this.c0 = 0;
    this.flagLatched = false;
    this.flagFrom = 0;
    this.deliveredTo = 0;
  }

  /** CVR: the counter value now. */
  get current(): number {
    return this.enabled ? this.valueAt(this.counter.value) : this.held;
  }

  /** COUNTFLAG without the clear-on-read (for dumps and tests). */
  get countFlag(): boolean {
    return this.flagLatched || (this.enabled && this.firstStepAfter(this.flagFrom) <= this.counter.value);
  }

  // ---- register behaviour ----

  private readCsr(): number {
    const flag = this.countFlag;
    // Reading CSR clears COUNTFLAG.
    this.flagLatched = false;
    if (this.enabled) this.flagFrom = this.counter.value;
    return (
      ((this.enabled ? SYSTICK_CSR_ENABLE : 0) |
        (this.tickint ? SYSTICK_CSR_TICKINT : 0) |
        (this.clksource !== 0 ? SYSTICK_CSR_CLKSOURCE : 0) |
        (flag ? SYSTICK_CSR_COUNTFLAG : 0)) >>>
      0
    );
  }

  private writeCsr(value: number): void {
    const enable = (value & SYSTICK_CSR_ENABLE) !== 0;
    const clksource = this.refClockHz === 0 ? 1 : (value >>> 2) & 1;
    if (this.enabled) {
      const k = this.counter.value;
      this.rebase(k);
      if (!enable) {
        this.held = this.c0;
        this.counter.stop();
      } else if (clksource !== this.clksource) {
        this.counter.setFrequency(clksource !== 0 ? this.cpuClockHz : this.refClockHz);
      }
    } else if (enable) {
      this.counter.setFrequency(clksource !== 0 ? this.cpuClockHz : this.refClockHz);
      this.counter.set(0);
      this.counter.start();
      this.k0 = 0;
      this.c0 = this.held;
      this.flagFrom = 0;
      this.deliveredTo = 0;
    }
    this.enabled = enable;
    this.tickint = (value & SYSTICK_CSR_TICKINT) !== 0;
    this.clksource = clksource;
    this.rearm();
  }

  private writeRvr(value: number): void {
    if (this.enabled) this.rebase(this.counter.value);
    this.reload = value & COUNTER_MASK;
    this.rearm();
  }

  private clearCurrent(): void {
    this.block?.set('CVR', 0);
    this.flagLatched = false;
    if (this.enabled) {
      const k = this.counter.value;
      this.deliver(k);
      this.k0 = k;
      this.c0 = 0;
      this.flagFrom = k;
    } else {
      this.held = 0;
    }
    this.rearm();
  }

  // ---- counter arithmetic (k = ticks since enable) ----

  /** The value at tick k ≥ k0: c0 counting down, then 0, RELOAD, ..., 1, 0, RELOAD, ... */
  private valueAt(k: number): number {
    const d = k - this.k0;
    if (d < this.c0) return this.c0 - d;
    const m = (d - this.c0) % (this.reload + 1);
    return m === 0 ? 0 : this.reload + 1 - m;
  }

  /** The first tick > k at which the counter steps from 1 to 0 (Infinity if never). */
  private firstStepAfter(k: number): number {
    const base = this.k0 + this.c0;
    if (this.c0 >= 1 && base > k) return base;
    if (this.reload === 0) return Number.POSITIVE_INFINITY;
    const period = this.reload + 1;
    const n = k < base ? 1 : Math.floor((k - base) / period) + 1;
    return base + n * period;
  }

  /** Pends the exception for a 1-to-0 step in (deliveredTo, k] when TICKINT is set. */
  private deliver(k: number): void {
    if (this.tickint && this.firstStepAfter(this.deliveredTo) <= k) this.pend();
    this.deliveredTo = k;
  }

  /** Folds the state up to tick k into (k0, c0) and the latched flag, so RVR/CLKSOURCE may change. */
  private rebase(k: number): void {
    const c = this.valueAt(k);
    this.flagLatched = this.countFlag;
    this.flagFrom = k;
    this.deliver(k);
    this.k0 = k;
    this.c0 = c;
  }

  private rearm(): void {
    this.timer.cancel();
    if (!this.enabled || !this.tickint) return;
    const k = this.counter.value;
    const next = this.firstStepAfter(k);
    if (next !== Number.POSITIVE_INFINITY) this.timer.modRel(this.counter.nsUntil(next - k));
  }

  private expired(): void {
    this.deliver(this.counter.value);
    this.rearm();
  }

  // ---- snapshot ----

  saveState(): StateData {
    return {
      enabled: this.enabled,
      tickint: this.tickint,
      clksource: this.clksource,
      reload: this.reload,
      held: this.held,
      k0: this.k0,
      c0: this.c0,
      flagLatched: this.flagLatched,
      flagFrom: this.flagFrom,
      deliveredTo: this.deliveredTo,
      counter: this.counter.saveState(),
    };
  }

  loadState(state: StateData): void {
    this.enabled = stateField(state, 'enabled', isBool);
    this.tickint = stateField(state, 'tickint', isBool);
    this.clksource = stateField(state, 'clksource', isNum);
    this.reload = stateField(state, 'reload', isNum) & COUNTER_MASK;
    this.held = stateField(state, 'held', isNum) & COUNTER_MASK;
    this.k0 = stateField(state, 'k0', isNum);
    this.c0 = stateField(state, 'c0', isNum);
    this.flagLatched = stateField(state, 'flagLatched', isBool);
    this.flagFrom = stateField(state, 'flagFrom', isNum);
    this.deliveredTo = stateField(state, 'deliveredTo', isNum);
    const counter = stateField(state, 'counter', (v): v is StateData => v !== null && typeof v === 'object');
    this.counter.loadState(counter);
    this.block?.set(
      'CSR',
      (this.enabled ? SYSTICK_CSR_ENABLE : 0) |
        (this.tickint ? SYSTICK_CSR_TICKINT : 0) |
        (this.clksource !== 0 ? SYSTICK_CSR_CLKSOURCE : 0),
    );
    this.block?.set('RVR', this.reload);
    this.rearm();
  }
}

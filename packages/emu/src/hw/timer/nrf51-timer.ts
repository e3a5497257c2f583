/**
 * nRF51 TIMER — timer/counter (nRF51 Series Reference Manual v3.0, chapter "TIMER — Timer/counter").
 * The nRF51822 has TIMER0/1/2 at 0x40008000/0x40009000/0x4000A000 (peripheral IDs 8-10).
 *
 * Interface
 * - MMIO region 0 (4 KiB): tasks START 0x000, STOP 0x004, COUNT 0x008, CLEAR 0x00C, SHUTDOWN 0x010,
 *   CAPTURE[0..3] 0x040+4n; events COMPARE[0..3] 0x140+4n; SHORTS 0x200 (COMPARE[n]_CLEAR bit n,
 *   COMPARE[n]_STOP bit 8+n); INTENSET/INTENCLR 0x304/0x308 (COMPARE[n] = bit 16+n); MODE 0x504
 *   (0 timer, 1 counter); BITMODE 0x508 (0: 16, 1: 8, 2: 24, 3: 32 bits); PRESCALER 0x510 (reset 4;
 *   f = 16 MHz / 2^PRESCALER); CC[0..3] 0x540+4n; the PAN-73 errata register 0xC0C; POWER 0xFFC.
 * - Lines: the common nRF51 peripheral lines (IRQ `''[0]`, `event[n]` = COMPARE[n], `task[i]` in task
 *   order START, STOP, COUNT, CLEAR, SHUTDOWN, CAPTURE0-3).
 * - Property `max-bit-width` (16 or 32, default 32): the widest counter the instance has. On the
 *   nRF51 only TIMER0 counts 24 and 32 bits; TIMER1/2 are 8/16-bit timers (the SoC sets 16).
 *
 * Time: the counter is lazy. In timer mode its value is derived from the virtual clock on an
 * absolute grid of prescaled-clock edges (edge k at k / f seconds), so it is never ticked and
 * stopping, clearing or changing the prescaler never lose the prescaler's phase (no drift when a
 * COMPARE_CLEAR shortcut restarts the count every period). One virtual-clock timer is armed for the
 * instant the counter next reaches any CC value, modulo the bit width: a CC value behind the counter
 * fires after the counter wraps, so time sweeping past CC never misses it. The timer is recomputed
 * on every write that can move that instant (CC, MODE, BITMODE, PRESCALER, and the tasks).
 *
 * Accuracy
 * - Modelled: timer and counter modes, all bit widths (capped at `max-bit-width`), prescalers
 *   0-9, four CC channels, COMPARE events with exact virtual timing, shortcuts COMPARE_CLEAR and
 *   COMPARE_STOP, CAPTURE, the PPI event/task lines.
 * - A COMPARE event fires when the counter *moves onto* CC by counting (or by the COUNT task). Writing
 *   CC equal to the current counter value, CLEAR to 0 with CC = 0, or START from a value equal to CC
 *   fire nothing until the counter comes round to that value again (the manual describes the match
 *   only while counting). The comparator uses the low `width` bits of CC.
 * - With a COMPARE[n]_CLEAR shortcut the period is CC[n] counter ticks (the clear happens on the
 *   compare edge).
 * - PRESCALER values above 9 count as 9 (logged under `-d guest_errors`). On an instance whose
 *   `max-bit-width` is 16, BITMODE 24 and 32 store their value but count 16 bits.
 * - SHUTDOWN is modelled as STOP (the counter keeps its value; power-down is not visible).
 * - The COUNT task only counts while the timer is started and in counter mode (the manual: COUNT has
 *   no effect in timer mode).
 * - The PAN-73 workaround register at 0xC0C (an undocumented errata register MicroPython writes) is
 *   stored and read back and has no other effect; it is deliberately not logged.
 * - HFCLK: the timer always has its clock (on the chip the timer requests HFCLK by itself).
 */
import type { Timer } from '../../core/clock.js';
import { gcd, mulDivCeil, mulDivFloor } from '../../core/counter.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import type { RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';
import {
  Nrf51Peripheral,
  type NrfEventDef,
  type NrfPeripheralLayout,
  type NrfShortDef,
  type NrfTaskDef,
} from '../core/nrf51-peripheral.js';

/** The timer's base clock (PCLK16M). */
export const NRF51_TIMER_BASE_HZ = 16_000_000;
const CC_COUNT = 4;
const MODE_COUNTER = 1;
/** Counter width in bits for each BITMODE value. */
const BITMODE_WIDTH = [16, 8, 24, 32] as const;
const PRESCALER_MAX = 9;

export class Nrf51Timer extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.timer';
  private compareTimer!: Timer;
  private ccIndex: number[] = [];
  private modeIndex = 0;
  private bitmodeIndex = 0;
  private prescalerIndex = 0;
  private maxWidth = 32;
  /** START given and no STOP since. */
  private running = false;
  /** Counter value at grid edge `anchor` (in counter mode, or while stopped: the value). */
  private base = 0;
  /** Index of the prescaled-clock edge at which `base` held. */
  private anchor = 0;
  /** Prescaled edges per ns as the reduced fraction num/den. */
  private num = 2;
  private den = 125;

  constructor() {
    super(Nrf51Timer.typeName);
    this.declareProperty({
      name: 'max-bit-width',
      type: 'uint',
      default: 32,
      description: 'widest counter of this instance: 32 (TIMER0) or 16 (nRF51 TIMER1/2)',
    });
  }

  protected traceName(): string {
    return 'nrf51_timer';
  }

  protected layout(): NrfPeripheralLayout {
    const maxWidth = this.getInt('max-bit-width');
    if (maxWidth !== 16 && maxWidth !== 32) {
      throw new UserError(`${Nrf51Timer.typeName}: max-bit-width must be 16 or 32, got ${maxWidth}`);
    }
    this.maxWidth = maxWidth;
    const ccMask = maxWidth === 32 ? 0xffff_ffff : 0xffff;
    const registers: RegisterDef[] = [
      { name: 'MODE', offset: 0x504, writeMask: 1, onWrite: (v, old) => this.modeWritten(v, old) },
      { name: 'BITMODE', offset: 0x508, writeMask: 3, onWrite: (v, old) => this.bitmodeWritten(v, old) },
      {
        name: 'PRESCALER',
        offset: 0x510,
        reset: 4,
        writeMask: 0xf,
        onWrite: (v) => this.prescalerWritten(v),
      },
      // nRF51 errata PAN-73 workaround register: stored, no effect (see the header).
      { name: 'PAN73', offset: 0xc0c },
    ];
    const tasks: NrfTaskDef[] = [
      { name: 'START', offset: 0x000, run: () => this.start() },
      { name: 'STOP', offset: 0x004, run: () => this.stop() },
      { name: 'COUNT', offset: 0x008, run: () => this.count() },
      { name: 'CLEAR', offset: 0x00c, run: () => this.clear() },
      { name: 'SHUTDOWN', offset: 0x010, run: () => this.stop() },
    ];
    const events: NrfEventDef[] = [];
    const shorts: NrfShortDef[] = [];
    for (let n = 0; n < CC_COUNT; n++) {
      tasks.push({ name: `CAPTURE${n}`, offset: 0x040 + 4 * n, run: () => this.capture(n) });
      events.push({ name: `COMPARE${n}`, offset: 0x140 + 4 * n });
      shorts.push({ bit: n, event: `COMPARE${n}`, task: 'CLEAR' });
      shorts.push({ bit: 8 + n, event: `COMPARE${n}`, task: 'STOP' });
      registers.push({
        name: `CC${n}`,
        offset: 0x540 + 4 * n,
        writeMask: ccMask,
        onWrite: () => this.schedule(),
      });
    }
    return { tasks, events, shorts, hasPower: true, registers };
  }

  protected override onRealizePeripheral(): void {
    this.ccIndex = [];
    for (let n = 0; n < CC_COUNT; n++) this.ccIndex.push(this.regs.index(`CC${n}`));
    this.modeIndex = this.regs.index('MODE');
    this.bitmodeIndex = this.regs.index('BITMODE');
    this.prescalerIndex = this.regs.index('PRESCALER');
    this.compareTimer = this.clock.createTimer(`${this.path}.compare`, () => this.compareReached());
  }

  protected onResetPeripheral(): void {
    this.running = false;
    this.base = 0;
    this.applyPrescaler();
    this.anchor = 0;
    this.compareTimer.cancel();
  }

  /** The current counter value (what CAPTURE latches). */
  get counter(): number {
    return this.counterValue();
  }

  // ---- counter arithmetic ----------------------------------------------------------------------

  private counterMode(): boolean {
    return (this.regs.value(this.modeIndex) & 1) === MODE_COUNTER;
  }

  private ticking(): boolean {
    return this.running && !this.counterMode();
  }

  /** 2^width of the counter. */
  private range(): number {
    const w = BITMODE_WIDTH[this.regs.value(this.bitmodeIndex) & 3];
    return 2 ** Math.min(w, this.maxWidth);
  }

  /** Number of prescaled-clock edges in [0, t]. */
  private edgesAt(t: number): number {
    return mulDivFloor(t, this.num, this.den);
  }

  private counterValue(): number {
    if (!this.ticking()) return this.base;
    return (this.base + this.edgesAt(this.clock.now) - this.anchor) % this.range();
  }

  /** Makes `base`/`anchor` describe the counter at the current instant. */
  private rebase(): void {
    this.base = this.counterValue();
    this.anchor = this.edgesAt(this.clock.now);
  }

  private applyPrescaler(): void {
    const p = Math.min(this.regs.value(this.prescalerIndex) & 0xf, PRESCALER_MAX);
    const hz = NRF51_TIMER_BASE_HZ / 2 ** p;
    const g = gcd(hz, 1e9);
    this.num = hz / g;
    this.den = 1e9 / g;
  }

  /** Arms the compare timer for the next instant the counter moves onto a CC value. */
  private schedule(): void {
    if (!this.ticking()) {
      this.compareTimer.cancel();
      return;
    }
    const range = this.range();
    const nowEdge = this.edgesAt(this.clock.now);
    const cur = (this.base + nowEdge - this.anchor) % range;
    let nearest = range;
    for (let n = 0; n < CC_COUNT; n++) {
      const cc = this.regs.value(this.ccIndex[n]!) % range;
      let d = (cc - cur + range) % range;
      if (d === 0) d = range;
      if (d < nearest) nearest = d;
    }
    // First instant at which edgesAt(t) reaches nowEdge + nearest.
    this.compareTimer.modAbs(mulDivCeil(nowEdge + nearest, this.den, this.num));
  }

  private compareReached(): void {
    this.generateMatches(this.counterValue(), this.range());
    this.schedule();
  }

  /** Generates COMPARE[n] for every channel whose CC equals `value` (shortcuts run in order). */
  private generateMatches(value: number, range: number): void {
    let matched = 0;
    for (let n = 0; n < CC_COUNT; n++) {
      if (this.regs.value(this.ccIndex[n]!) % range === value) matched |= 1 << n;
    }
    for (let n = 0; n < CC_COUNT; n++) if (matched & (1 << n)) this.generateEvent(n);
  }

  // ---- tasks -----------------------------------------------------------------------------------

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.anchor = this.edgesAt(this.clock.now);
    this.schedule();
  }

  private stop(): void {
    if (!this.running) return;
    this.base = this.counterValue();
    this.running = false;
    this.schedule();
  }

  private count(): void {
    if (!this.running || !this.counterMode()) return;
    const range = this.range();
    this.base = (this.base + 1) % range;
    this.generateMatches(this.base, range);
  }

  private clear(): void {
    this.base = 0;
    this.anchor = this.edgesAt(this.clock.now);
    this.schedule();
  }

  private capture(n: number): void {
    this.regs.setValue(this.ccIndex[n]!, this.counterValue());
    this.schedule();
  }

  // ---- configuration writes --------------------------------------------------------------------

  private modeWritten(value: number, old: number): void {
    if (value === old) return;
    // The counter holds the value reached under the old mode and continues from it.
    this.regs.setValue(this.modeIndex, old);
    this.rebase();
    this.regs.setValue(this.modeIndex, value);
    this.anchor = this.edgesAt(this.clock.now);
    this.schedule();
  }

  private bitmodeWritten(value: number, old: number): void {
    this.regs.setValue(this.bitmodeIndex, old);
    this.rebase();
    this.regs.setValue(this.bitmodeIndex, value);
    const w = BITMODE_WIDTH[value & 3];
    if (w > this.maxWidth && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: BITMODE ${value} (${w} bits) on a ${this.maxWidth}-bit timer`);
    }
    this.base %= this.range();
    this.schedule();
  }

  private prescalerWritten(value: number): void {
    if (value > PRESCALER_MAX && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: PRESCALER ${value} is above ${PRESCALER_MAX}; using ${PRESCALER_MAX}`);
    }
    // `rebase` still uses the old frequency: applyPrescaler has not run yet.
    this.rebase();
    this.applyPrescaler();
    this.anchor = this.edgesAt(this.clock.now);
    this.schedule();
  }

  // ---- snapshot --------------------------------------------------------------------------------

  protected override savePeripheralState(): Record<string, StateData> {
    return { running: this.running, base: this.base, anchor: this.anchor };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.base = stateField(state, 'base', isNum);
    this.anchor = stateField(state, 'anchor', isNum);
    this.applyPrescaler();
    // The pending compare instant follows from the registers and the counter state.
    this.schedule();
  }
}

registerDeviceType({
  name: Nrf51Timer.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 TIMER timer/counter',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Timer(),
});

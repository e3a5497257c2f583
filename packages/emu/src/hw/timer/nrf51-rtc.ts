/**
 * nRF51 RTC — real time counter (nRF51 Series Reference Manual v3.0, chapter "RTC — Real time
 * counter"). The nRF51822 has RTC0 at 0x4000B000 (ID 11, 3 compare registers) and RTC1 at
 * 0x40011000 (ID 17, 4 compare registers).
 *
 * Interface
 * - MMIO region 0 (4 KiB): tasks START 0x000, STOP 0x004, CLEAR 0x008, TRIGOVRFLW 0x00C; events
 *   TICK 0x100, OVRFLW 0x104, COMPARE[n] 0x140+4n; INTENSET/INTENCLR 0x304/0x308 (TICK bit 0,
 *   OVRFLW bit 1, COMPARE[n] bit 16+n); EVTEN 0x340, EVTENSET 0x344, EVTENCLR 0x348 (same bits);
 *   COUNTER 0x504 (24 bits, read-only); PRESCALER 0x508 (12 bits); CC[n] 0x540+4n (24 bits);
 *   POWER 0xFFC.
 * - Lines: the common nRF51 peripheral lines (IRQ `''[0]`, `event[i]` = TICK, OVRFLW, COMPARE0..;
 *   `task[i]` = START, STOP, CLEAR, TRIGOVRFLW) and the input `lfclk[0]`: level 0 = LFCLK stopped
 *   (the counter holds), any other level = running. The CLOCK block drives it; while nothing
 *   drives it (a standalone RTC) the LFCLK counts as running.
 * - Property `cc-count` (3 or 4, default 4): compare registers of the instance (RTC0 has 3).
 *
 * Time: COUNTER increments every PRESCALER+1 cycles of the 32768 Hz LFCLK, whose edges sit on an
 * absolute grid of the virtual clock (edge k at k / 32768 s). The counter is lazy: its value is
 * computed from the clock when read, and one virtual-clock timer is armed only for the next
 * increment at which an *enabled* event happens. TICK is scheduled on every increment only while
 * TICK is enabled in INTEN or EVTEN; otherwise only the next OVRFLW/COMPARE counts.
 *
 * Event control (the RTC's variant of the peripheral interface): an event sets its EVENTS_
 * register only when it is enabled in INTEN or EVTEN, and reaches the PPI (`event[i]` line) only
 * when enabled in EVTEN.
 *
 * Accuracy
 * - Modelled: START/STOP/CLEAR/TRIGOVRFLW (COUNTER = 0xFFFFF0), the 12-bit prescaler, TICK,
 *   OVRFLW (counter wrapping from 0xFFFFFF to 0), COMPARE when the counter moves onto CC (a CC
 *   behind the counter fires after the wrap), EVTEN gating, LFCLK start/stop through `lfclk`.
 * - PRESCALER writes while the RTC is started are ignored (the manual allows them only while
 *   stopped) and logged under `-d guest_errors`.
 * - CLEAR and TRIGOVRFLW keep the prescaler's phase. The START-to-first-increment latency of the
 *   chip (up to one LFCLK cycle plus synchronisation) follows from the LFCLK grid only.
 * - The chip's "writing CC = COUNTER or COUNTER+1 may not trigger COMPARE" caveat is modelled as
 *   the friendly case: CC = COUNTER+1 fires at the next increment, CC = COUNTER after a wrap.
 */
import type { Timer } from '../../core/clock.js';
import { mulDivCeil, mulDivFloor } from '../../core/counter.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import type { RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfEventDef, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

export const NRF51_LFCLK_HZ = 32_768;
/** LFCLK edges per ns as a reduced fraction: 32768 / 1e9 = 64 / 1953125. */
const LF_NUM = 64;
const LF_DEN = 1_953_125;
const COUNTER_RANGE = 0x100_0000;
const COUNTER_MASK = 0xff_ffff;
export const NRF51_RTC_TRIGOVRFLW_VALUE = 0xff_fff0;
const BIT_TICK = 1 << 0;
const BIT_OVRFLW = 1 << 1;
const EV_TICK = 0;
const EV_OVRFLW = 1;
/** Event index of COMPARE[0]. */
const EV_COMPARE0 = 2;

/** LFCLK edges in [0, t]. */
function lfEdgesAt(t: number): number {
  return mulDivFloor(t, LF_NUM, LF_DEN);
}

/** The instant of LFCLK edge `k`. */
function lfEdgeTime(k: number): number {
  return mulDivCeil(k, LF_DEN, LF_NUM);
}

export class Nrf51Rtc extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.rtc';
  private ccCount = 4;
  private timer!: Timer;
  private ccIndex: number[] = [];
  /** EVENTS_ register index of each event, in event order. */
  private eventIndex: number[] = [];
  private intenRegIndex = 0;
  private evtenIndex = 0;
  private prescalerIndex = 0;
  private running = false;
  private lfclkOn = true;
  /** Counter value at LFCLK edge `anchor` (the value itself while not counting). */
  private base = 0;
  private anchor = 0;
  /** INTEN | EVTEN when the timer was last scheduled. */
  private scheduledEnables = -1;

  constructor() {
    super(Nrf51Rtc.typeName);
    this.declareProperty({
      name: 'cc-count',
      type: 'uint',
      default: 4,
      description: 'number of compare registers (RTC0: 3, RTC1: 4)',
    });
  }

  protected traceName(): string {
    return 'nrf51_rtc';
  }

  protected layout(): NrfPeripheralLayout {
    const cc = this.getInt('cc-count');
    if (cc !== 3 && cc !== 4) throw new UserError(`${Nrf51Rtc.typeName}: cc-count must be 3 or 4, got ${cc}`);
    this.ccCount = cc;
    let enableMask = BIT_TICK | BIT_OVRFLW;
    const events: NrfEventDef[] = [
      { name: 'TICK', offset: 0x100 },
      { name: 'OVRFLW', offset: 0x104 },
    ];
    const registers: RegisterDef[] = [];
    for (let n = 0; n < cc; n++) {
      events.push({ name: `COMPARE${n}`, offset: 0x140 + 4 * n });
      enableMask |= 1 << (16 + n);
      registers.push({
        name: `CC${n}`,
        offset: 0x540 + 4 * n,
        writeMask: COUNTER_MASK,
        onWrite: () => this.schedule(),
      });
    }
    registers.push(
      { name: 'EVTEN', offset: 0x340, writeMask: enableMask, onWrite: () => this.schedule() },
      { name: 'EVTENSET', offset: 0x344, setOf: 'EVTEN' },
      { name: 'EVTENCLR', offset: 0x348, clearOf: 'EVTEN' },
      { name: 'COUNTER', offset: 0x504, writeMask: 0, onRead: () => this.counterValue() },
      {
        name: 'PRESCALER',
        offset: 0x508,
        writeMask: 0xfff,
        onWrite: (v, old) => this.prescalerWritten(v, old),
      },
    );
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
        { name: 'CLEAR', offset: 0x008, run: () => this.setCounter(0) },
        { name: 'TRIGOVRFLW', offset: 0x00c, run: () => this.setCounter(NRF51_RTC_TRIGOVRFLW_VALUE) },
      ],
      events,
      hasPower: true,
      registers,
    };
  }

  protected override onRealizePeripheral(): void {
    this.ccIndex = [];
    for (let n = 0; n < this.ccCount; n++) this.ccIndex.push(this.regs.index(`CC${n}`));
    this.eventIndex = [this.regs.index('EVENTS_TICK'), this.regs.index('EVENTS_OVRFLW')];
    for (let n = 0; n < this.ccCount; n++) this.eventIndex.push(this.regs.index(`EVENTS_COMPARE${n}`));
    this.intenRegIndex = this.regs.index('INTEN');
    this.evtenIndex = this.regs.index('EVTEN');
    this.prescalerIndex = this.regs.index('PRESCALER');
    this.timer = this.clock.createTimer(`${this.path}.event`, () => this.eventDue());
    this.addGpioIn('lfclk', 1, (level) => this.setLfclk(level !== 0));
  }

  protected onResetPeripheral(): void {
    // `lfclkOn` follows the CLOCK block's line, which the RTC's reset does not change.
    this.running = false;
    this.base = 0;
    this.anchor = 0;
    this.timer.cancel();
    this.scheduledEnables = -1;
  }

  /** The current COUNTER value. */
  get counter(): number {
    return this.counterValue();
  }

  /** Whether the LFCLK input reads as running. */
  get lfclkRunning(): boolean {
    return this.lfclkOn;
  }

  // ---- counter ---------------------------------------------------------------------------------

  private counting(): boolean {
    return this.running && this.lfclkOn;
  }

  private divider(): number {
    return (this.regs.value(this.prescalerIndex) & 0xfff) + 1;
  }

  /** Increments since `anchor`. */
  private incrementsNow(): number {
    return Math.floor((lfEdgesAt(this.clock.now) - this.anchor) / this.divider());
  }

  private counterValue(): number {
    if (!this.counting()) return this.base;
    return (this.base + this.incrementsNow()) % COUNTER_RANGE;
  }

  private setLfclk(on: boolean): void {
    if (on === this.lfclkOn) return;
    if (this.counting()) this.base = this.counterValue();
    this.lfclkOn = on;
    if (this.counting()) this.anchor = lfEdgesAt(this.clock.now);
    this.schedule();
  }

  private enables(): number {
    return (this.regs.value(this.intenRegIndex) | this.regs.value(this.evtenIndex)) >>> 0;
  }

  /** Arms the timer for the next increment at which an enabled event happens. */
  private schedule(): void {
    const en = this.enables();
    this.scheduledEnables = en;
    if (!this.counting() || en === 0) {
      this.timer.cancel();
      return;
    }
    const inc = this.incrementsNow();
    const cur = (this.base + inc) % COUNTER_RANGE;
    let d = COUNTER_RANGE + 1;
    if (en & BIT_TICK) d = 1;
    else {
      if (en & BIT_OVRFLW) d = COUNTER_RANGE - cur;
      for (let n = 0; n < this.ccCount; n++) {
        if ((en & (1 << (16 + n))) === 0) continue;
        let dn = (this.regs.value(this.ccIndex[n]!) - cur + COUNTER_RANGE) % COUNTER_RANGE;
        if (dn === 0) dn = COUNTER_RANGE;
        if (dn < d) d = dn;
      }
    }
    if (d > COUNTER_RANGE) {
      this.timer.cancel();
      return;
    }
    this.timer.modAbs(lfEdgeTime(this.anchor + (inc + d) * this.divider()));
  }

  /** Runs at an increment instant: generates the enabled events that happen at this value. */
  private eventDue(): void {
    const en = this.enables();
    const cur = this.counterValue();
    if (en & BIT_TICK) this.fire(EV_TICK, BIT_TICK);
    if (cur === 0 && en & BIT_OVRFLW) this.fire(EV_OVRFLW, BIT_OVRFLW);
    for (let n = 0; n < this.ccCount; n++) {
      const bit = 1 << (16 + n);
      if (en & bit && this.regs.value(this.ccIndex[n]!) === cur) this.fire(EV_COMPARE0 + n, bit);
    }
    this.schedule();
  }

  /** Generates event `index` (enabled in INTEN or EVTEN); only EVTEN routes it to the PPI. */
  private fire(index: number, bit: number): void {
    this.regs.setValue(this.eventIndex[index]!, 1);
    if (this.regs.value(this.evtenIndex) & bit) this.eventLine(index).pulse();
    this.updateIrq();
  }

  protected override updateIrq(): void {
    super.updateIrq();
    // INTENSET/INTENCLR writes land here: an event newly enabled may need the timer.
    if (this.timer !== undefined && this.enables() !== this.scheduledEnables) this.schedule();
  }

  // ---- tasks -----------------------------------------------------------------------------------

  private start(): void {
    if (this.running) return;
    this.running = true;
    if (this.lfclkOn) this.anchor = lfEdgesAt(this.clock.now);
    this.schedule();
  }

  private stop(): void {
    if (!this.running) return;
    this.base = this.counterValue();
    this.running = false;
    this.schedule();
  }

  /** CLEAR / TRIGOVRFLW: sets COUNTER, keeping the prescaler's phase. */
  private setCounter(value: number): void {
    if (this.counting()) this.anchor += this.incrementsNow() * this.divider();
    this.base = value;
    this.schedule();
  }

  private prescalerWritten(value: number, old: number): void {
    if (!this.running || value === old) return;
    this.regs.setValue(this.prescalerIndex, old);
    if (this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: PRESCALER written while the RTC runs; ignored (STOP it first)`);
    }
  }

  // ---- snapshot --------------------------------------------------------------------------------

  protected override savePeripheralState(): Record<string, StateData> {
    return { running: this.running, lfclkOn: this.lfclkOn, base: this.base, anchor: this.anchor };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.lfclkOn = stateField(state, 'lfclkOn', isBool);
    this.base = stateField(state, 'base', isNum);
    this.anchor = stateField(state, 'anchor', isNum);
    // The next event instant follows from the registers and the counter state.
    this.schedule();
  }
}

registerDeviceType({
  name: Nrf51Rtc.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 RTC real time counter',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Rtc(),
});

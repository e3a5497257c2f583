/**
 * nRF51 CLOCK, POWER and MPU at 0x40000000 (peripheral ID 0, interrupt POWER_CLOCK_IRQn 0).
 * The three blocks share one 4 KiB register window and one interrupt, so one model serves all
 * three (nRF51 Series Reference Manual v3.0, chapters "CLOCK", "POWER" and "MPU"; offsets from
 * Nordic's nrf51.h `NRF_CLOCK_Type`, `NRF_POWER_Type` and `NRF_MPU_Type`, which never overlap).
 *
 * Registers
 *   CLOCK  TASKS 0x000 HFCLKSTART, 0x004 HFCLKSTOP, 0x008 LFCLKSTART, 0x00C LFCLKSTOP, 0x010 CAL,
 *          0x014 CTSTART, 0x018 CTSTOP; EVENTS 0x100 HFCLKSTARTED, 0x104 LFCLKSTARTED,
 *          0x10C DONE, 0x110 CTTO; 0x408 HFCLKRUN, 0x40C HFCLKSTAT (bit 0 SRC 0 RC/1 Xtal,
 *          bit 16 STATE), 0x414 LFCLKRUN, 0x418 LFCLKSTAT (bits 1:0 SRC 0 RC/1 Xtal/2 Synth,
 *          bit 16 STATE), 0x41C LFCLKSRCCOPY, 0x518 LFCLKSRC, 0x538 CTIV (6:0, 0.25 s units),
 *          0x550 XTALFREQ (0xFF 16 MHz, 0x00 32 MHz; reset 0xFF).
 *   POWER  TASKS 0x078 CONSTLAT, 0x07C LOWPWR; EVENTS 0x108 POFWARN; 0x400 RESETREAS (W1C),
 *          0x428 RAMSTATUS, 0x500 SYSTEMOFF, 0x510 POFCON, 0x51C GPREGRET, 0x524 RAMON
 *          (reset 3), 0x544 RESET, 0x554 RAMONB (reset 3), 0x578 DCDCEN, 0xA08 DCDCFORCE.
 *   MPU    0x528 PERR0, 0x52C RLENR0, 0x600 PROTENSET0, 0x604 PROTENSET1 (W1S: set bits stay
 *          until reset), 0x608 DISABLEINDEBUG (reset 1), 0x60C PROTBLOCKSIZE.
 *   Shared INTENSET 0x304 / INTENCLR 0x308: bit 0 HFCLKSTARTED, 1 LFCLKSTARTED, 2 POFWARN,
 *          3 DONE, 4 CTTO. No INTEN, SHORTS or POWER register.
 *
 * Interface
 * - MMIO region 0 (4 KiB); output `''[0]` the interrupt; `event[i]`/`task[i]` PPI lines in the
 *   order of the tables above (events: HFCLKSTARTED, LFCLKSTARTED, POFWARN, DONE, CTTO).
 * - Output lines `hfclk[0]` (1 while the 16 MHz crystal oscillator runs: HFCLKSTAT.SRC = Xtal,
 *   which RADIO needs) and `lfclk[0]` (1 while the 32.768 kHz LFCLK runs; RTC counts only then).
 *   `hfclkRunning` and `lfclkRunning` give the same levels as booleans.
 * - `setResetReason(bits)` ORs RESETREAS bits (RESETREAS_* constants) for the machine: e.g.
 *   SREQ on an AIRCR.SYSRESETREQ reset, DOG on a watchdog reset, OFF on a wake from System OFF.
 * - `onSystemOff` hook: called when firmware writes 1 to SYSTEMOFF (the machine shuts down).
 * - `powerOnReset()`: a reset that also clears the retained registers (RESETREAS, GPREGRET,
 *   RESET); a plain `reset()` is a system reset and keeps them, as the chip does.
 *
 * Timing on the virtual clock (typical start-up times, our reading of the nRF51822 Product
 * Specification v3.1, to be checked against it; approximations of an analogue process): HFCLK crystal 800 µs; LFCLK from the
 * RC oscillator 250 µs, from the 32.768 kHz crystal 300 ms, synthesized from HFCLK 250 µs (taken
 * as the RC time); RC calibration (CAL → DONE) 16 ms; the calibration timer (CTSTART → CTTO)
 * CTIV × 250 ms. At reset the CPU runs from the 16 MHz RC oscillator: HFCLKSTAT = STATE | SRC RC.
 *
 * Accuracy: the clock sources' start-up, run status and events, calibration and the calibration
 * timer are modelled (no frequency error: LFCLK is exactly 32768 Hz whatever the source).
 * Retained registers survive system resets. Stored with no effect on the model (nothing in it
 * depends on them): CONSTLAT/LOWPWR (wake-up latency), DCDCEN/DCDCFORCE, POFCON (the supply
 * never drops, so POFWARN never fires), XTALFREQ, RESET. Not modelled and logged under
 * `-d unimp`: switching RAM blocks off with RAMON.ONRAM0/1 (RAM keeps its contents and stays
 * accessible; RAMSTATUS follows RAMON; RAMONB is stored only, its blocks 2-3 do not exist
 * here) and MPU protection (PERR0, RLENR0, PROTENSET0/1 are stored, nothing is enforced).
 */
import type { Timer } from '../../core/clock.js';
import { isNum, type StateData, stateField } from '../../core/device.js';
import type { OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** RESETREAS bits (nrf51_bitfields.h). */
export const RESETREAS_RESETPIN = 1 << 0;
export const RESETREAS_DOG = 1 << 1;
export const RESETREAS_SREQ = 1 << 2;
export const RESETREAS_LOCKUP = 1 << 3;
export const RESETREAS_OFF = 1 << 16;
export const RESETREAS_LPCOMP = 1 << 17;
export const RESETREAS_DIF = 1 << 18;
const RESETREAS_MASK = 0x0007000f;

/** Start-up and operation times in ns (see the header). */
export const HFXO_START_NS = 800_000;
export const LFRC_START_NS = 250_000;
export const LFXO_START_NS = 300_000_000;
export const LFSYNTH_START_NS = LFRC_START_NS;
export const CAL_NS = 16_000_000;
export const CTIV_UNIT_NS = 250_000_000;

/** Event indices (the order of `layout().events`). */
export const EV_HFCLKSTARTED = 0;
export const EV_LFCLKSTARTED = 1;
export const EV_POFWARN = 2;
export const EV_DONE = 3;
export const EV_CTTO = 4;

const STAT_STATE = 1 << 16;
const LF_SRC_XTAL = 1;
const LF_SRC_SYNTH = 2;

export class Nrf51Clock extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.clock';
  /** Called when firmware writes 1 to POWER.SYSTEMOFF. */
  onSystemOff: (() => void) | null = null;
  private hfTimer!: Timer;
  private lfTimer!: Timer;
  private calTimer!: Timer;
  private ctTimer!: Timer;
  private hfLine!: OutputLine;
  private lfLine!: OutputLine;
  private iHfclkRun = 0;
  private iHfclkStat = 0;
  private iLfclkRun = 0;
  private iLfclkStat = 0;
  private iLfclkSrcCopy = 0;
  private iLfclkSrc = 0;
  private iCtiv = 0;
  private iResetReas = 0;
  private iGpregret = 0;
  private iReset = 0;
  private iRamon = 0;
  /** Constant-latency mode requested (CONSTLAT/LOWPWR); no effect on the model. */
  private constLatency = false;

  constructor() {
    super(Nrf51Clock.typeName);
  }

  protected traceName(): string {
    return 'nrf51_clock';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'HFCLKSTART', offset: 0x000, run: () => this.hfclkStart() },
        { name: 'HFCLKSTOP', offset: 0x004, run: () => this.hfclkStop() },
        { name: 'LFCLKSTART', offset: 0x008, run: () => this.lfclkStart() },
        { name: 'LFCLKSTOP', offset: 0x00c, run: () => this.lfclkStop() },
        { name: 'CAL', offset: 0x010, run: () => this.calTimer.modRel(CAL_NS) },
        { name: 'CTSTART', offset: 0x014, run: () => this.ctTimer.modRel(this.ctivValue() * CTIV_UNIT_NS) },
        { name: 'CTSTOP', offset: 0x018, run: () => this.ctTimer.cancel() },
        { name: 'CONSTLAT', offset: 0x078, run: () => this.setConstLatency(true) },
        { name: 'LOWPWR', offset: 0x07c, run: () => this.setConstLatency(false) },
      ],
      events: [
        { name: 'HFCLKSTARTED', offset: 0x100 },
        { name: 'LFCLKSTARTED', offset: 0x104 },
        { name: 'POFWARN', offset: 0x108 },
        { name: 'DONE', offset: 0x10c },
        { name: 'CTTO', offset: 0x110 },
      ],
      registers: [
        // CLOCK
        { name: 'HFCLKRUN', offset: 0x408, writeMask: 0 },
        { name: 'HFCLKSTAT', offset: 0x40c, writeMask: 0, reset: STAT_STATE },
        { name: 'LFCLKRUN', offset: 0x414, writeMask: 0 },
        { name: 'LFCLKSTAT', offset: 0x418, writeMask: 0 },
        { name: 'LFCLKSRCCOPY', offset: 0x41c, writeMask: 0 },
        { name: 'LFCLKSRC', offset: 0x518, writeMask: 3 },
        { name: 'CTIV', offset: 0x538, writeMask: 0x7f },
        { name: 'XTALFREQ', offset: 0x550, writeMask: 0xff, reset: 0xff },
        // POWER
        { name: 'RESETREAS', offset: 0x400, writeMask: 0, w1c: RESETREAS_MASK },
        { name: 'RAMSTATUS', offset: 0x428, writeMask: 0, onRead: () => this.ramStatus() },
        {
          name: 'SYSTEMOFF',
          offset: 0x500,
          task: true,
          onWrite: (v) => {
            if (v & 1) this.systemOff();
          },
        },
        { name: 'POFCON', offset: 0x510, writeMask: 0x7 },
        {
          // Reserved in the manual, but Nordic's SoftDevice S110 writes 1 here at start-up.
          name: 'UNDOCUMENTED_514',
          offset: 0x514,
          onWrite: (v) => {
            if (this.log.on(LogCat.Unimp)) {
              this.log.write(
                `${this.path}: undocumented POWER register 0x514 written (0x${v.toString(16)}); not modelled`,
              );
            }
          },
        },
        { name: 'GPREGRET', offset: 0x51c, writeMask: 0xff },
        {
          name: 'RAMON',
          offset: 0x524,
          writeMask: 0x00030003,
          reset: 3,
          onWrite: (v, old) => this.ramPowerChanged(v, old),
        },
        { name: 'RESET', offset: 0x544, writeMask: 1 },
        // Blocks 2 and 3 (RAMONB) do not exist on the 16 KiB chip: stored only.
        { name: 'RAMONB', offset: 0x554, writeMask: 0x00030003, reset: 3 },
        { name: 'DCDCEN', offset: 0x578, writeMask: 1 },
        { name: 'DCDCFORCE', offset: 0xa08, writeMask: 3 },
        // MPU
        { name: 'PERR0', offset: 0x528, onWrite: (v) => this.mpuNotEnforced('PERR0', v) },
        { name: 'RLENR0', offset: 0x52c, onWrite: (v) => this.mpuNotEnforced('RLENR0', v) },
        {
          name: 'PROTENSET0',
          offset: 0x600,
          w1s: 0xffffffff,
          onWrite: (v) => this.mpuNotEnforced('PROTENSET0', v),
        },
        {
          name: 'PROTENSET1',
          offset: 0x604,
          w1s: 0xffffffff,
          onWrite: (v) => this.mpuNotEnforced('PROTENSET1', v),
        },
        { name: 'DISABLEINDEBUG', offset: 0x608, writeMask: 1, reset: 1 },
        { name: 'PROTBLOCKSIZE', offset: 0x60c, writeMask: 3 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    const r = this.regs;
    this.iHfclkRun = r.index('HFCLKRUN');
    this.iHfclkStat = r.index('HFCLKSTAT');
    this.iLfclkRun = r.index('LFCLKRUN');
    this.iLfclkStat = r.index('LFCLKSTAT');
    this.iLfclkSrcCopy = r.index('LFCLKSRCCOPY');
    this.iLfclkSrc = r.index('LFCLKSRC');
    this.iCtiv = r.index('CTIV');
    this.iResetReas = r.index('RESETREAS');
    this.iGpregret = r.index('GPREGRET');
    this.iReset = r.index('RESET');
    this.iRamon = r.index('RAMON');
    this.hfTimer = this.clock.createTimer(`${this.path}:hfclk`, () => this.hfclkStarted());
    this.lfTimer = this.clock.createTimer(`${this.path}:lfclk`, () => this.lfclkStarted());
    this.calTimer = this.clock.createTimer(`${this.path}:cal`, () => this.generateEvent(EV_DONE));
    this.ctTimer = this.clock.createTimer(`${this.path}:ct`, () => this.generateEvent(EV_CTTO));
    this.hfLine = this.addGpioOut('hfclk', 1)[0]!;
    this.lfLine = this.addGpioOut('lfclk', 1)[0]!;
  }

  /** System reset: registers to reset values except the retained ones; clocks stop. */
  protected override onReset(): void {
    const r = this.regs;
    const resetReas = r.value(this.iResetReas);
    const gpregret = r.value(this.iGpregret);
    const pinReset = r.value(this.iReset);
    super.onReset();
    r.setValue(this.iResetReas, resetReas);
    r.setValue(this.iGpregret, gpregret);
    r.setValue(this.iReset, pinReset);
  }

  protected onResetPeripheral(): void {
    this.hfTimer.cancel();
    this.lfTimer.cancel();
    this.calTimer.cancel();
    this.ctTimer.cancel();
    this.constLatency = false;
    this.updateClockLines();
  }

  /** Power-on reset: also clears the registers a system reset retains. */
  powerOnReset(): void {
    this.regs.setValue(this.iResetReas, 0);
    this.regs.setValue(this.iGpregret, 0);
    this.regs.setValue(this.iReset, 0);
    this.reset();
  }

  /** ORs reset-reason bits into RESETREAS (RESETREAS_* constants); the machine calls it. */
  setResetReason(bits: number): void {
    const r = this.regs;
    r.setValue(this.iResetReas, (r.value(this.iResetReas) | (bits & RESETREAS_MASK)) >>> 0);
  }

  /** True while the 16 MHz crystal oscillator runs (HFCLKSTAT.SRC = Xtal). */
  get hfclkRunning(): boolean {
    return (this.regs.value(this.iHfclkStat) & 1) !== 0;
  }

  /** True while the 32.768 kHz LFCLK runs (LFCLKSTAT.STATE). */
  get lfclkRunning(): boolean {
    return (this.regs.value(this.iLfclkStat) & STAT_STATE) !== 0;
  }

  /** Constant-latency mode requested by TASKS_CONSTLAT (cleared by TASKS_LOWPWR). */
  get constantLatency(): boolean {
    return this.constLatency;
  }

  // ---- HFCLK ----

  private hfclkStart(): void {
    this.regs.setValue(this.iHfclkRun, 1);
    if (this.hfclkRunning) {
      // Already running from the crystal: the clock is stable, report it at once.
      this.generateEvent(EV_HFCLKSTARTED);
    } else if (!this.hfTimer.pending) {
      this.hfTimer.modRel(HFXO_START_NS);
    }
  }

  private hfclkStarted(): void {
    this.regs.setValue(this.iHfclkStat, STAT_STATE | 1);
    this.updateClockLines();
    this.generateEvent(EV_HFCLKSTARTED);
  }

  private hfclkStop(): void {
    this.hfTimer.cancel();
    this.regs.setValue(this.iHfclkRun, 0);
    // The CPU keeps running from the RC oscillator.
    this.regs.setValue(this.iHfclkStat, STAT_STATE);
    this.updateClockLines();
  }

  // ---- LFCLK ----

  private lfclkStart(): void {
    const r = this.regs;
    r.setValue(this.iLfclkRun, 1);
    if (this.lfclkRunning) {
      this.generateEvent(EV_LFCLKSTARTED);
      return;
    }
    if (this.lfTimer.pending) return;
    const src = r.value(this.iLfclkSrc) & 3;
    r.setValue(this.iLfclkSrcCopy, src);
    const ns = src === LF_SRC_XTAL ? LFXO_START_NS : src === LF_SRC_SYNTH ? LFSYNTH_START_NS : LFRC_START_NS;
    this.lfTimer.modRel(ns);
  }

  private lfclkStarted(): void {
    const src = this.regs.value(this.iLfclkSrcCopy) & 3;
    // SRC value 3 is reserved; the chip would run from the RC oscillator.
    this.regs.setValue(this.iLfclkStat, STAT_STATE | (src === 3 ? 0 : src));
    this.updateClockLines();
    this.generateEvent(EV_LFCLKSTARTED);
  }

  private lfclkStop(): void {
    this.lfTimer.cancel();
    this.regs.setValue(this.iLfclkRun, 0);
    this.regs.setValue(this.iLfclkStat, 0);
    this.updateClockLines();
  }

  private ctivValue(): number {
    return this.regs.value(this.iCtiv) & 0x7f;
  }

  private updateClockLines(): void {
    const hf = this.hfclkRunning ? 1 : 0;
    const lf = this.lfclkRunning ? 1 : 0;
    if (this.hfLine.level !== hf) this.hfLine.set(hf);
    if (this.lfLine.level !== lf) this.lfLine.set(lf);
  }

  // ---- POWER ----

  private setConstLatency(on: boolean): void {
    this.constLatency = on;
  }

  private systemOff(): void {
    this.onSystemOff?.();
  }

  /** RAM blocks 0 and 1 (the two 8 KiB blocks of this chip) are on per RAMON.ONRAM0/1. */
  private ramStatus(): number {
    return this.regs.value(this.iRamon) & 3;
  }

  private ramPowerChanged(value: number, old: number): void {
    // Only switching a block off in System ON (ONRAMn 1 -> 0) changes what firmware could see.
    const turnedOff = old & ~value & 3;
    if (turnedOff === 0 || !this.log.on(LogCat.Unimp)) return;
    this.log.write(
      `nrf51_clock: RAMON = 0x${hex(value, 8)} powers RAM down: not modelled (RAM keeps its contents)`,
    );
  }

  private mpuNotEnforced(name: string, value: number): void {
    if (value === 0 || !this.log.on(LogCat.Unimp)) return;
    this.log.write(`nrf51_clock: MPU ${name} = 0x${hex(value, 8)} stored; memory protection is not enforced`);
  }

  // ---- state ----

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      hfStart: this.hfTimer.expires,
      lfStart: this.lfTimer.expires,
      cal: this.calTimer.expires,
      ct: this.ctTimer.expires,
      constLatency: this.constLatency ? 1 : 0,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const rearm = (timer: Timer, key: string) => {
      const t = stateField(state, key, isNum);
      if (t >= 0) timer.modAbs(t);
      else timer.cancel();
    };
    rearm(this.hfTimer, 'hfStart');
    rearm(this.lfTimer, 'lfStart');
    rearm(this.calTimer, 'cal');
    rearm(this.ctTimer, 'ct');
    this.constLatency = stateField(state, 'constLatency', isNum) !== 0;
    this.updateClockLines();
  }
}

registerDeviceType({
  name: Nrf51Clock.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 CLOCK, POWER and MPU (one register block)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Clock(),
});

/**
 * nRF51 LPCOMP: the low-power comparator (nRF51 Series Reference Manual v3.0, chapter "LPCOMP —
 * Low power comparator"; instance at 0x40013000, peripheral ID 19).
 *
 * Interface
 * - MMIO region 0: TASKS_START 0x000, TASKS_STOP 0x004, TASKS_SAMPLE 0x008; EVENTS_READY 0x100,
 *   EVENTS_DOWN 0x104, EVENTS_UP 0x108, EVENTS_CROSS 0x10C; SHORTS 0x200 (bit 0 READY_SAMPLE,
 *   1 READY_STOP, 2 DOWN_STOP, 3 UP_STOP, 4 CROSS_STOP); INTENSET/INTENCLR 0x304/0x308;
 *   RESULT 0x400 (bit 0: 1 = input above reference, latched by SAMPLE); ENABLE 0x500 (bits 1:0,
 *   1 = enabled); PSEL 0x504 (AIN0-7); REFSEL 0x508 (0-6 = VDD·(n+1)/8, 7 = external);
 *   EXTREFSEL 0x50C (0 = AREF0, 1 = AREF1); ANADETECT 0x520; POWER 0xFFC.
 * - Lines: the IRQ, `event[0..3]` for the PPI, `task[0..2]`.
 * - Board inputs (volts internally; properties in millivolts, mutable): `setAnalogInput(ain,
 *   volts)` / `ain0`..`ain7`; `setSupply(volts)` / `vdd` (default 3000 mV); `aref0` (pin P0.00).
 *   AREF1 is pin P0.06, the same pin as AIN7, so it follows `ain7`.
 *
 * Behaviour: START (with ENABLE = 1) powers the comparator up; READY follows after 140 µs of
 * virtual time and the output is valid from then on. While ready, every change of an input
 * (a board input or the supply) that moves the selected input across the reference generates
 * UP or DOWN, then CROSS. SAMPLE copies the present output to RESULT. STOP powers it down.
 *
 * Accuracy: ideal comparator (no offset, no hysteresis; the nRF51 has no hysteresis setting);
 * the 140 µs start-up time is an approximation. ANADETECT only matters for waking the chip from
 * System OFF, which is not modelled: writes to it are stored and logged under -d unimp.
 * START while disabled, and SAMPLE while not ready, do nothing and are logged under
 * -d guest_errors. Changing PSEL/REFSEL/EXTREFSEL while running (the manual requires the
 * comparator to be stopped first) is compared at once and may generate UP/DOWN/CROSS.
 */
import type { Timer } from '../../core/clock.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import {
  type AnalogInputAccess,
  checkAnalogInput,
  declareAnalogInputProperties,
  loadAnalogInputs,
  saveAnalogInputs,
} from '../adc/nrf51-analog-inputs.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

export const LPCOMP_STARTUP_NS = 140_000;

const EV_READY = 0;
const EV_DOWN = 1;
const EV_UP = 2;
const EV_CROSS = 3;

export class Nrf51Lpcomp extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.lpcomp';
  private timer!: Timer;
  private readonly ain = new Float64Array(8);
  private vdd = 3.0;
  private aref0 = 0;
  private running = false;
  private ready = false;
  private above = false;
  private ix = { result: 0, enable: 0, psel: 0, refsel: 0, extrefsel: 0 };

  /** The board's voltages as the shared analog-input helpers see them. */
  private readonly analog: AnalogInputAccess = {
    ain: this.ain,
    setAnalogInput: (ain, volts) => this.setAnalogInput(ain, volts),
    supply: () => this.vdd,
    setSupply: (volts) => this.setSupply(volts),
    aref0: () => this.aref0,
    setAref0: (volts) => {
      this.aref0 = volts;
      this.inputsChanged();
    },
  };

  constructor() {
    super(Nrf51Lpcomp.typeName);
    declareAnalogInputProperties(this, this.analog);
  }

  /** Sets the voltage on analog input `ain` (0-7), in volts; may generate UP/DOWN/CROSS. */
  setAnalogInput(ain: number, volts: number): void {
    checkAnalogInput(this.path, ain, volts);
    this.ain[ain] = volts;
    this.inputsChanged();
  }

  /** Sets the supply voltage (the reference ladder's top), in volts. */
  setSupply(volts: number): void {
    if (!Number.isFinite(volts) || volts <= 0) throw new UserError(`${this.path}: VDD must be positive`);
    this.vdd = volts;
    this.inputsChanged();
  }

  protected traceName(): string {
    return 'nrf51_lpcomp';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
        { name: 'SAMPLE', offset: 0x008, run: () => this.sample() },
      ],
      events: [
        { name: 'READY', offset: 0x100 },
        { name: 'DOWN', offset: 0x104 },
        { name: 'UP', offset: 0x108 },
        { name: 'CROSS', offset: 0x10c },
      ],
      shorts: [
        { bit: 0, event: 'READY', task: 'SAMPLE' },
        { bit: 1, event: 'READY', task: 'STOP' },
        { bit: 2, event: 'DOWN', task: 'STOP' },
        { bit: 3, event: 'UP', task: 'STOP' },
        { bit: 4, event: 'CROSS', task: 'STOP' },
      ],
      hasPower: true,
      registers: [
        { name: 'RESULT', offset: 0x400, writeMask: 0 },
        { name: 'ENABLE', offset: 0x500, writeMask: 3 },
        // The comparator is continuous: a new configuration is compared at once.
        { name: 'PSEL', offset: 0x504, writeMask: 7, onWrite: () => this.inputsChanged() },
        { name: 'REFSEL', offset: 0x508, writeMask: 7, onWrite: () => this.inputsChanged() },
        { name: 'EXTREFSEL', offset: 0x50c, writeMask: 1, onWrite: () => this.inputsChanged() },
        {
          name: 'ANADETECT',
          offset: 0x520,
          writeMask: 3,
          onWrite: (v) => {
            if (this.log.on(LogCat.Unimp)) {
              this.log.write(`${this.path}: ANADETECT = ${v} (wake-up from System OFF) is not modelled`);
            }
          },
        },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    const r = this.regs;
    this.ix = {
      result: r.index('RESULT'),
      enable: r.index('ENABLE'),
      psel: r.index('PSEL'),
      refsel: r.index('REFSEL'),
      extrefsel: r.index('EXTREFSEL'),
    };
    this.timer = this.clock.createTimer(`${this.path}:ready`, () => this.becomeReady());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.running = false;
    this.ready = false;
    this.above = false;
  }

  private guestError(msg: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${msg}`);
  }

  /** The comparator's output for the present inputs and configuration. */
  private compare(): boolean {
    const vin = this.ain[this.regs.value(this.ix.psel) & 7]!;
    const refsel = this.regs.value(this.ix.refsel) & 7;
    let vref: number;
    if (refsel < 7) vref = (this.vdd * (refsel + 1)) / 8;
    else vref = (this.regs.value(this.ix.extrefsel) & 1) === 0 ? this.aref0 : this.ain[7]!;
    return vin > vref;
  }

  private start(): void {
    if ((this.regs.value(this.ix.enable) & 3) !== 1) {
      this.guestError('START while the LPCOMP is not enabled (ENABLE != 1): ignored');
      return;
    }
    if (this.running) return;
    this.running = true;
    this.ready = false;
    this.timer.modRel(LPCOMP_STARTUP_NS);
  }

  private stop(): void {
    this.timer.cancel();
    this.running = false;
    this.ready = false;
  }

  private sample(): void {
    if (!this.ready) {
      this.guestError('SAMPLE before the comparator is ready: ignored');
      return;
    }
    this.regs.setValue(this.ix.result, this.above ? 1 : 0);
  }

  private becomeReady(): void {
    this.ready = true;
    this.above = this.compare();
    this.generateEvent(EV_READY);
  }

  private inputsChanged(): void {
    if (!this.ready) return;
    const now = this.compare();
    if (now === this.above) return;
    this.above = now;
    this.generateEvent(now ? EV_UP : EV_DOWN);
    // A DOWN/UP_STOP shortcut powers the comparator down, but CROSS is still generated: both
    // events come from the same crossing.
    this.generateEvent(EV_CROSS);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      running: this.running,
      ready: this.ready,
      above: this.above,
      expires: this.timer.pending ? this.timer.expires : -1,
      ...saveAnalogInputs(this.analog),
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.ready = stateField(state, 'ready', isBool);
    this.above = stateField(state, 'above', isBool);
    ({ vdd: this.vdd, aref0: this.aref0 } = loadAnalogInputs(this.ain, state, 'LPCOMP'));
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Lpcomp.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 low-power comparator',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Lpcomp(),
});

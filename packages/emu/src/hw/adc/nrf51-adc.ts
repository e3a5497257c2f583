/**
 * nRF51 ADC: the 10-bit successive-approximation analog-to-digital converter (nRF51 Series
 * Reference Manual v3.0, chapter "ADC — Analog to digital converter"; instance at 0x40007000,
 * peripheral ID 7).
 *
 * Interface
 * - MMIO region 0: TASKS_START 0x000, TASKS_STOP 0x004, EVENTS_END 0x100, INTENSET 0x304 /
 *   INTENCLR 0x308 (bit 0 END), BUSY 0x400 (bit 0, read-only), ENABLE 0x500 (bits 1:0, 1 =
 *   enabled), CONFIG 0x504 (RES 1:0, INPSEL 4:2, REFSEL 6:5, PSEL 15:8 one-hot AIN0-7,
 *   EXTREFSEL 17:16; reset 0x18), RESULT 0x508 (bits 9:0, read-only), POWER 0xFFC.
 * - Lines: the IRQ, `event[0]` (END) for the PPI, `task[0..1]` (START, STOP).
 * - Board inputs (volts internally; the properties are integers in millivolts, all mutable):
 *   `setAnalogInput(ain, volts)` / properties `ain0`..`ain7` (default 0 V) — the voltage on each
 *   analog input pin; `setSupply(volts)` / `vdd` (default 3000 mV; the micro:bit v1 runs at
 *   3.0-3.3 V) — the supply used by the VDD input and reference prescalers; `aref0` (pin
 *   P0.00's voltage, default 0). AREF1 is pin P0.06, the same pin as AIN7, so it reads `ain7`.
 *
 * Conversion: START samples the selected input at once (sample and hold) and, after the
 * conversion time for the resolution (20 µs at 8 bits, 36 µs at 9, 68 µs at 10: the nRF51822
 * product specification's typical times), writes RESULT, clears BUSY and generates END.
 * RESULT = round(Vin · prescale / Vref · (2^n − 1)) clamped to [0, 2^n − 1], following the
 * manual's formula with round-to-nearest quantisation. Vin is the selected AIN pin (INPSEL
 * 0-2) or VDD (INPSEL 5, 6); prescale is 1, 2/3 or 1/3; Vref is 1.2 V (VBG), AREF0/AREF1
 * (EXTREFSEL) or VDD/2, VDD/3.
 *
 * Accuracy: ideal converter (no offset, gain error, noise or input impedance). START while
 * ENABLE is 0 does nothing (logged under -d guest_errors), as on the chip. A START during a
 * conversion restarts it. PSEL with no bit set converts 0 V, with several bits the lowest
 * selected input; both are logged under -d guest_errors. Reserved INPSEL/REFSEL/RES values
 * (logged under -d guest_errors) use the nearest sensible setting: INPSEL 3, 4, 7 as no
 * prescaling, RES 3 as 10 bits, EXTREFSEL 0/3 as 0 V. No register is unimplemented.
 */
import type { Timer } from '../../core/clock.js';
import { isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';
import {
  type AnalogInputAccess,
  checkAnalogInput,
  declareAnalogInputProperties,
  loadAnalogInputs,
  saveAnalogInputs,
} from './nrf51-analog-inputs.js';

/** Conversion time in ns by CONFIG.RES (8, 9, 10 bits; RES 3 behaves as 10). */
export const ADC_CONVERSION_NS = [20_000, 36_000, 68_000, 68_000] as const;
/** The internal band-gap reference, volts. */
export const ADC_VBG = 1.2;

const EV_END = 0;
const CONFIG_WRITABLE = 0x0003_ff7f;
const CONFIG_RESET = 0x18;

export class Nrf51Adc extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.adc';
  private timer!: Timer;
  private readonly ain = new Float64Array(8);
  private vdd = 3.0;
  private aref0 = 0;
  private busyIndex = 0;
  private enableIndex = 0;
  private configIndex = 0;
  private resultIndex = 0;
  /** The result the running conversion will write. */
  private pending = 0;

  /** The board's voltages as the shared analog-input helpers see them. */
  private readonly analog: AnalogInputAccess = {
    ain: this.ain,
    setAnalogInput: (ain, volts) => this.setAnalogInput(ain, volts),
    supply: () => this.vdd,
    setSupply: (volts) => this.setSupply(volts),
    aref0: () => this.aref0,
    setAref0: (volts) => {
      this.aref0 = volts;
    },
  };

  constructor() {
    super(Nrf51Adc.typeName);
    declareAnalogInputProperties(this, this.analog);
  }

  /** Sets the voltage on analog input `ain` (0-7), in volts. */
  setAnalogInput(ain: number, volts: number): void {
    checkAnalogInput(this.path, ain, volts);
    this.ain[ain] = volts;
  }

  /** The voltage on analog input `ain`, in volts. */
  analogInput(ain: number): number {
    return this.ain[ain] ?? 0;
  }

  /** Sets the supply voltage VDD, in volts. */
  setSupply(volts: number): void {
    if (!Number.isFinite(volts) || volts <= 0) throw new UserError(`${this.path}: VDD must be positive`);
    this.vdd = volts;
  }

  protected traceName(): string {
    return 'nrf51_adc';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
      ],
      events: [{ name: 'END', offset: 0x100 }],
      hasPower: true,
      registers: [
        { name: 'BUSY', offset: 0x400, writeMask: 0 },
        { name: 'ENABLE', offset: 0x500, writeMask: 3 },
        { name: 'CONFIG', offset: 0x504, reset: CONFIG_RESET, writeMask: CONFIG_WRITABLE },
        { name: 'RESULT', offset: 0x508, writeMask: 0 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.busyIndex = this.regs.index('BUSY');
    this.enableIndex = this.regs.index('ENABLE');
    this.configIndex = this.regs.index('CONFIG');
    this.resultIndex = this.regs.index('RESULT');
    this.timer = this.clock.createTimer(`${this.path}:end`, () => this.end());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.pending = 0;
  }

  private guestError(msg: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${msg}`);
  }

  private start(): void {
    if ((this.regs.value(this.enableIndex) & 3) !== 1) {
      this.guestError('START while the ADC is not enabled (ENABLE != 1): ignored');
      return;
    }
    const config = this.regs.value(this.configIndex);
    this.pending = this.convert(config);
    this.regs.setValue(this.busyIndex, 1);
    this.timer.modRel(ADC_CONVERSION_NS[config & 3]!);
  }

  private stop(): void {
    this.timer.cancel();
    this.regs.setValue(this.busyIndex, 0);
  }

  private end(): void {
    this.regs.setValue(this.resultIndex, this.pending);
    this.regs.setValue(this.busyIndex, 0);
    this.generateEvent(EV_END);
  }

  /** The conversion result for `config` and the present inputs. */
  convert(config: number): number {
    let res = config & 3;
    if (res === 3) {
      this.guestError('CONFIG.RES 3 is reserved: converting with 10 bits');
      res = 2;
    }
    const full = (1 << (8 + res)) - 1;
    const inpsel = (config >>> 2) & 7;
    const refsel = (config >>> 5) & 3;
    let vin: number;
    if (inpsel === 5 || inpsel === 6) {
      vin = this.vdd;
    } else {
      vin = this.selectedPin((config >>> 8) & 0xff);
      if (inpsel > 2) this.guestError(`CONFIG.INPSEL ${inpsel} is reserved: no prescaling`);
    }
    const prescale = inpsel === 1 || inpsel === 5 ? 2 / 3 : inpsel === 2 || inpsel === 6 ? 1 / 3 : 1;
    let vref: number;
    switch (refsel) {
      case 0:
        vref = ADC_VBG;
        break;
      case 1: {
        const ext = (config >>> 16) & 3;
        if (ext === 1) vref = this.aref0;
        else if (ext === 2) vref = this.ain[7]!;
        else {
          this.guestError('external reference selected with no EXTREFSEL pin');
          vref = 0;
        }
        break;
      }
      case 2:
        vref = this.vdd / 2;
        break;
      default:
        vref = this.vdd / 3;
    }
    const scaled = vin * prescale;
    if (vref <= 0) return scaled > 0 ? full : 0;
    const code = Math.round((scaled / vref) * full);
    return Math.max(0, Math.min(code, full));
  }

  private selectedPin(psel: number): number {
    if (psel === 0) {
      this.guestError('conversion of an analog input with CONFIG.PSEL = 0 (no pin): 0 V');
      return 0;
    }
    if ((psel & (psel - 1)) !== 0) {
      this.guestError(`CONFIG.PSEL 0x${psel.toString(16)} selects several pins: using the lowest`);
    }
    return this.ain[31 - Math.clz32(psel & -psel)]!;
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      pending: this.pending,
      expires: this.timer.pending ? this.timer.expires : -1,
      ...saveAnalogInputs(this.analog),
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.pending = stateField(state, 'pending', isNum);
    ({ vdd: this.vdd, aref0: this.aref0 } = loadAnalogInputs(this.ain, state, 'ADC'));
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Adc.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 analog to digital converter',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Adc(),
});

/**
 * nRF51 TEMP: the on-die temperature sensor (nRF51 Series Reference Manual v3.0, chapter
 * "TEMP — Temperature sensor"; instance at 0x4000C000, peripheral ID 12).
 *
 * Interface
 * - MMIO region 0: TASKS_START 0x000, TASKS_STOP 0x004, EVENTS_DATARDY 0x100, INTENSET 0x304 /
 *   INTENCLR 0x308 (bit 0 DATARDY), TEMP 0x508 (read-only, signed two's complement in 0.25 °C
 *   units), POWER 0xFFC.
 * - Lines: the IRQ, `event[0]` (DATARDY) for the PPI, `task[0..1]` (START, STOP).
 * - Property `temperature` (int, mutable, milli-degrees Celsius like QEMU's temperature sensors;
 *   default 20000 = 20 °C): the die temperature the board reports. `setTemperature(celsius)` and
 *   `temperatureCelsius` are the same input in °C.
 *
 * Timing: START samples the temperature and, 36 µs later (the nRF51822 product
 * specification's typical conversion time), writes TEMP and generates DATARDY on the virtual
 * clock. STOP cancels a measurement in progress. A START during a measurement restarts it.
 *
 * Accuracy: TEMP is the board temperature rounded to the nearest 0.25 °C (halves away from
 * zero); the chip's ±4 °C accuracy and its offset from ambient are not modelled (the board
 * decides the value). Nothing is logged as unimplemented: the block has no other registers.
 */
import type { Timer } from '../../core/clock.js';
import { isNum, type StateData, stateField } from '../../core/device.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** Conversion time in ns. */
export const TEMP_CONVERSION_NS = 36_000;
const EV_DATARDY = 0;

/** milli-°C → the TEMP register's signed 0.25 °C units (round half away from zero). */
export function tempRegisterValue(milliCelsius: number): number {
  const quarters = Math.sign(milliCelsius) * Math.round(Math.abs(milliCelsius) / 250);
  return quarters | 0;
}

export class Nrf51Temp extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.temp';
  private timer!: Timer;
  private tempIndex = 0;
  /** The sample taken at START, written to TEMP when the conversion ends. */
  private sample = 0;

  constructor() {
    super(Nrf51Temp.typeName);
    this.declareProperty({
      name: 'temperature',
      type: 'int',
      default: 20_000,
      min: -273_150,
      max: 1_000_000,
      mutable: true,
      description: 'die temperature in milli-degrees Celsius',
    });
  }

  /** The board's temperature in °C. */
  get temperatureCelsius(): number {
    return this.getInt('temperature') / 1000;
  }

  /** Sets the board's temperature in °C (kept to 1 m°C). */
  setTemperature(celsius: number): void {
    this.setProperty('temperature', Math.round(celsius * 1000));
  }

  protected traceName(): string {
    return 'nrf51_temp';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.timer.cancel() },
      ],
      events: [{ name: 'DATARDY', offset: 0x100 }],
      hasPower: true,
      registers: [{ name: 'TEMP', offset: 0x508, writeMask: 0 }],
    };
  }

  protected override onRealizePeripheral(): void {
    this.tempIndex = this.regs.index('TEMP');
    this.timer = this.clock.createTimer(`${this.path}:datardy`, () => this.done());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.sample = 0;
  }

  private start(): void {
    this.sample = tempRegisterValue(this.getInt('temperature'));
    this.timer.modRel(TEMP_CONVERSION_NS);
  }

  private done(): void {
    this.regs.setValue(this.tempIndex, this.sample >>> 0);
    this.generateEvent(EV_DATARDY);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return { sample: this.sample, expires: this.timer.pending ? this.timer.expires : -1 };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.sample = stateField(state, 'sample', isNum);
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Temp.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 temperature sensor',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Temp(),
});

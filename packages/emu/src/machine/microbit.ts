/**
 * `microbit` — the BBC micro:bit v1 (v1.3/v1.5 board): an nRF51822 with the 5×5 LED matrix,
 * buttons A and B, the MMA8653FC accelerometer and MAG3110 magnetometer on TWI0 (SCL P0.00,
 * SDA P0.30), the edge connector, and the serial port of the USB interface chip on UART0
 * (TX P0.24, RX P0.25).
 *
 * Library API (the same objects QMP and the UI drive): `buttonA`/`buttonB` (press, release,
 * click), `display` (frame, onFrame), `accelerometer.set(x, y, z)` (milli-g),
 * `compass.set(x, y, z)` (nT), `setTemperature(°C)`, `setLightLevel(0..255)` (light sensed
 * through the LED matrix), `pins` (edge connector: digital levels, analog voltages, outputs),
 * `serial` (the serial port's stream when the library created it).
 *
 * Accuracy: see docs/microbit.md (memory map, what is modelled, what is logged as unimplemented).
 */
import type { Chardev } from '../chardev/chardev.js';
import { SerialStream } from '../chardev/serial-stream.js';
import { NOT_DRIVEN } from '../core/lines.js';
import { Machine, type MachineOptions } from '../core/machine.js';
import { registerMachineType } from '../core/registry.js';
import type { CortexM0 } from '../cpu/arm/cortex-m0.js';
import { COL_PINS, MicrobitLedMatrix, ROW_PINS } from '../hw/display/microbit-led-matrix.js';
import { MicrobitButton } from '../hw/input/microbit-button.js';
import { RadioMedium } from '../hw/radio/radio-medium.js';
import { MAG3110_ADDRESS, Mag3110 } from '../hw/sensor/mag3110.js';
import { LIGHT_SENSE_COL_PINS, MicrobitLightSensor } from '../hw/sensor/microbit-light-sensor.js';
import { MMA8653FC_ADDRESS, Mma8653fc } from '../hw/sensor/mma8653fc.js';
import { MICROBIT_V1_BOARD_IDS } from '../loader/universal-hex.js';
import { MicrobitEdgeConnector } from './microbit-pins.js';
import { buildNrf51, NRF51_CPU_HZ, type Nrf51Soc } from './nrf51.js';

export const BUTTON_A_PIN = 17;
export const BUTTON_B_PIN = 26;
export const ACCEL_INT_PIN = 28;
export const COMPASS_INT_PIN = 29;

export interface MicrobitOptions extends MachineOptions {
  /** The radio medium shared with other boards (default: one of its own). */
  radioMedium?: RadioMedium;
}

export class MicrobitMachine extends Machine {
  soc!: Nrf51Soc;
  display!: MicrobitLedMatrix;
  buttonA!: MicrobitButton;
  buttonB!: MicrobitButton;
  accelerometer!: Mma8653fc;
  compass!: Mag3110;
  pins!: MicrobitEdgeConnector;
  lightSensor!: MicrobitLightSensor;
  readonly radioMedium: RadioMedium;

  constructor(options: MicrobitOptions) {
    super('microbit-machine', options);
    this.radioMedium = options.radioMedium ?? new RadioMedium();
  }

  protected override defaultNsPerInstruction(): number {
    return 1e9 / NRF51_CPU_HZ;
  }

  override get serialPortCount(): number {
    return 1;
  }

  override get boardIds(): readonly number[] {
    return MICROBIT_V1_BOARD_IDS;
  }

  get cpu(): CortexM0 {
    return this.soc.cpu;
  }

  /** The serial port's backend (a SerialStream when the library created the machine). */
  get serial(): Chardev | null {
    return this.serialBackend(0);
  }

  /** The serial port as a SerialStream, when it is one (library use). */
  get serialStream(): SerialStream | null {
    const s = this.serialBackend(0);
    return s instanceof SerialStream ? s : null;
  }

  protected build(): void {
    const soc = buildNrf51(this, {
      serial: this.serialBackend(0),
      // The USB interface chip listens on P0.24 and drives P0.25.
      serialPins: { tx: 24, rx: 25 },
      ...(this.options.seed !== undefined ? { seed: this.options.seed } : {}),
      radioMedium: this.radioMedium,
    });
    this.soc = soc;
    const gpio = soc.gpio;

    this.display = this.addDevice('display', new MicrobitLedMatrix());
    for (const [i, pin] of ROW_PINS.entries()) gpio.gpioOut('', pin).connect(this.display.gpioIn('row', i));
    for (const [i, pin] of COL_PINS.entries()) gpio.gpioOut('', pin).connect(this.display.gpioIn('col', i));

    this.buttonA = this.addDevice('button-a', new MicrobitButton());
    this.buttonB = this.addDevice('button-b', new MicrobitButton());
    this.buttonA.gpioOut('pin', 0).connect(gpio.gpioIn('', BUTTON_A_PIN));
    this.buttonB.gpioOut('pin', 0).connect(gpio.gpioIn('', BUTTON_B_PIN));

    this.accelerometer = this.addDevice('accelerometer', new Mma8653fc());
    this.compass = this.addDevice('compass', new Mag3110());
    soc.box0.twi.bus.attach(this.accelerometer, MMA8653FC_ADDRESS);
    soc.box0.twi.bus.attach(this.compass, MAG3110_ADDRESS);
    this.accelerometer.gpioOut('int1', 0).connect(gpio.gpioIn('', ACCEL_INT_PIN));
    this.compass.gpioOut('int1', 0).connect(gpio.gpioIn('', COMPASS_INT_PIN));

    this.pins = new MicrobitEdgeConnector(gpio, soc.adc, soc.lpcomp);

    // Light sensing through the first three matrix columns (also ADC inputs AIN5-7).
    const light = this.addDevice('light-sensor', new MicrobitLightSensor());
    this.lightSensor = light;
    for (const [i, pin] of ROW_PINS.entries()) gpio.gpioOut('', pin).connect(light.gpioIn('row', i));
    for (const [i, pin] of LIGHT_SENSE_COL_PINS.entries())
      gpio.gpioOut('', pin).connect(light.gpioIn('col', i));
    light.attach({
      adc: soc.adc,
      supply: () => soc.adc.getInt('vdd') / 1000,
      drivenFromOutside: (pin) => gpio.gpioIn('', pin).level !== NOT_DRIVEN,
    });
    this.pins.onDriveChange = () => light.refresh();
  }

  protected override afterDeviceReset(powerOn: boolean): void {
    if (powerOn) this.soc.clock0.powerOnReset();
    this.soc.cpu.reset();
  }

  /** The ambient light the LED matrix senses, 0 (dark) to 255 (bright): what the runtimes read. */
  setLightLevel(level: number): void {
    this.lightSensor.setLightLevel(level);
  }

  /** The die temperature the TEMP peripheral measures, in °C. */
  setTemperature(celsius: number): void {
    this.soc.temp.setTemperature(celsius);
  }
}

registerMachineType({
  name: 'microbit',
  description: 'BBC micro:bit (Cortex-M0)',
  cpuMax: 1,
  defaultCpuType: 'cortex-m0-arm-cpu',
  create: (options) => new MicrobitMachine(options),
});

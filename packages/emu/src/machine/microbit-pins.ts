/**
 * The micro:bit v1 edge connector: the named pins P0..P20 and how they reach the nRF51822
 * (micro:bit v1 pinout: GPIO number and, for analog-capable pins, the ADC input).
 *
 * A pin can be driven from outside (`setDigital`, `setAnalog`, `release`) and observed
 * (`output`: what the chip drives; `frequency`: the rate of the chip's toggling, for `music`).
 */

import { UserError } from '../core/errors.js';
import { NOT_DRIVEN } from '../core/lines.js';
import type { Nrf51Adc } from '../hw/adc/nrf51-adc.js';
import type { Nrf51Gpio } from '../hw/gpio/nrf51-gpio.js';
import type { Nrf51Lpcomp } from '../hw/misc/nrf51-lpcomp.js';

/** Edge-connector pin → nRF51 GPIO and analog input (AIN), as on the v1 board. */
export const EDGE_PINS: Readonly<Record<string, { gpio: number; ain?: number }>> = {
  P0: { gpio: 3, ain: 4 },
  P1: { gpio: 2, ain: 3 },
  P2: { gpio: 1, ain: 2 },
  P3: { gpio: 4, ain: 5 },
  P4: { gpio: 5, ain: 6 },
  P5: { gpio: 17 },
  P6: { gpio: 12 },
  P7: { gpio: 11 },
  P8: { gpio: 18 },
  P9: { gpio: 10 },
  P10: { gpio: 6, ain: 7 },
  P11: { gpio: 26 },
  P12: { gpio: 20 },
  P13: { gpio: 23 },
  P14: { gpio: 22 },
  P15: { gpio: 21 },
  P16: { gpio: 16 },
  P19: { gpio: 0 },
  P20: { gpio: 30 },
};

/** The board's supply (3V pad), volts: a digital 1 driven from outside is this voltage. */
export const MICROBIT_VDD = 3.0;

export class MicrobitEdgeConnector {
  private readonly edges = new Map<string, number[]>();
  /** Called after the board's drive on a pin changed, with its GPIO number (the light sensor listens). */
  onDriveChange: ((gpio: number) => void) | null = null;

  constructor(
    private readonly gpio: Nrf51Gpio,
    private readonly adc: Nrf51Adc,
    private readonly lpcomp: Nrf51Lpcomp,
  ) {
    for (const name of Object.keys(EDGE_PINS)) {
      const times: number[] = [];
      this.edges.set(name, times);
      this.gpio.gpioOut('', EDGE_PINS[name]!.gpio).watch((level) => {
        if (level < 0) return;
        times.push(this.gpio.clock.now);
        if (times.length > 64) times.shift();
      });
    }
  }

  private pin(name: string): { gpio: number; ain?: number } {
    const p = EDGE_PINS[name.toUpperCase()];
    if (!p) throw new UserError(`micro:bit has no edge-connector pin '${name}' (P0-P16, P19, P20)`);
    return p;
  }

  /** Drives the pin from outside with a digital level (0 or 1). */
  setDigital(name: string, level: 0 | 1): void {
    const p = this.pin(name);
    this.gpio.setPinInput(p.gpio, level);
    if (p.ain !== undefined) this.setAin(p.ain, level ? MICROBIT_VDD : 0);
    this.onDriveChange?.(p.gpio);
  }

  /** Applies a voltage to an analog-capable pin (P0-P4, P10). */
  setAnalog(name: string, volts: number): void {
    const p = this.pin(name);
    if (p.ain === undefined) throw new UserError(`pin ${name} is not analog-capable (use P0-P4 or P10)`);
    this.setAin(p.ain, volts);
    this.gpio.setPinInput(p.gpio, volts >= MICROBIT_VDD / 2 ? 1 : 0);
    this.onDriveChange?.(p.gpio);
  }

  /** Stops driving the pin from outside (it floats). */
  release(name: string): void {
    const p = this.pin(name);
    this.gpio.setPinInput(p.gpio, NOT_DRIVEN);
    this.onDriveChange?.(p.gpio);
  }

  /** What the chip drives on the pin: 0, 1, or -1 when it drives nothing. */
  output(name: string): number {
    return this.gpio.pinOutput(this.pin(name).gpio);
  }

  /** The pin's logic level as the chip sees it. */
  level(name: string): number {
    return this.gpio.pinLevel(this.pin(name).gpio);
  }

  /**
   * The frequency in Hz of the square wave the chip drives on the pin, from its last rising
   * edges (0 when it is not toggling): how a test hears `music`.
   */
  frequency(name: string): number {
    this.pin(name);
    const times = this.edges.get(name.toUpperCase()) ?? [];
    if (times.length < 5) return 0;
    const recent = times.slice(-5);
    const span = recent[4]! - recent[0]!;
    // 5 edges = 2 full periods of a square wave.
    return span > 0 ? 2e9 / span : 0;
  }

  private setAin(ain: number, volts: number): void {
    this.adc.setAnalogInput(ain, volts);
    this.lpcomp.setAnalogInput(ain, volts);
  }
}

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { UserError } from '../../core/errors.js';
import { Log } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Temp, TEMP_CONVERSION_NS, tempRegisterValue } from './nrf51-temp.js';

const START = 0x000;
const STOP = 0x004;
const DATARDY = 0x100;
const INTENSET = 0x304;
const TEMP = 0x508;

function make(): { temp: Nrf51Temp; clock: VirtualClock } {
  const clock = new VirtualClock();
  const temp = new Nrf51Temp();
  temp.realize({ clock, log: new Log() });
  return { temp, clock };
}

/** Runs one measurement and returns TEMP as a signed value. */
function measure(temp: Nrf51Temp, clock: VirtualClock): number {
  temp.registers.write(DATARDY, 0, 4);
  temp.registers.write(START, 1, 4);
  clock.advanceBy(TEMP_CONVERSION_NS);
  expect(temp.registers.read(DATARDY, 4)).toBe(1);
  return temp.registers.read(TEMP, 4) | 0;
}

describe('nRF51 TEMP', () => {
  it('resets TEMP, DATARDY and INTEN to 0 and POWER to 1', () => {
    const { temp } = make();
    expect(temp.registers.read(TEMP, 4)).toBe(0);
    expect(temp.registers.read(DATARDY, 4)).toBe(0);
    expect(temp.registers.read(INTENSET, 4)).toBe(0);
    expect(temp.registers.read(0xffc, 4)).toBe(1);
  });

  it('generates DATARDY exactly 36 µs after START', () => {
    const { temp, clock } = make();
    temp.registers.write(START, 1, 4);
    clock.advanceTo(TEMP_CONVERSION_NS - 1);
    expect(temp.registers.read(DATARDY, 4)).toBe(0);
    clock.advanceTo(TEMP_CONVERSION_NS);
    expect(temp.registers.read(DATARDY, 4)).toBe(1);
  });

  it('reports the board temperature in 0.25 °C units, negative values in two’s complement', () => {
    const { temp, clock } = make();
    expect(measure(temp, clock)).toBe(80); // default 20 °C
    temp.setProperty('temperature', 23_750);
    expect(measure(temp, clock)).toBe(95);
    temp.setTemperature(-5.25);
    expect(measure(temp, clock)).toBe(-21);
    expect(temp.registers.read(TEMP, 4)).toBe(0xffff_ffeb);
    temp.setTemperature(0.1);
    expect(measure(temp, clock)).toBe(0);
    expect(temp.temperatureCelsius).toBe(0.1);
  });

  it('rounds to the nearest quarter degree', () => {
    expect(tempRegisterValue(20_124)).toBe(80);
    expect(tempRegisterValue(20_125)).toBe(81);
    expect(tempRegisterValue(-20_125)).toBe(-81);
    expect(tempRegisterValue(-20_124)).toBe(-80);
  });

  it('cancels a measurement on STOP', () => {
    const { temp, clock } = make();
    temp.registers.write(START, 1, 4);
    clock.advanceBy(10_000);
    temp.registers.write(STOP, 1, 4);
    clock.advanceBy(TEMP_CONVERSION_NS * 10);
    expect(temp.registers.read(DATARDY, 4)).toBe(0);
  });

  it('raises its IRQ on DATARDY when enabled and pulses the PPI event line', () => {
    const { temp, clock } = make();
    const irq = temp.gpioOut('', 0);
    const seen: number[] = [];
    temp.eventLine(0).watch((l) => seen.push(l));
    temp.registers.write(INTENSET, 1, 4);
    temp.registers.write(START, 1, 4);
    expect(irq.level).not.toBe(1);
    clock.advanceBy(TEMP_CONVERSION_NS);
    expect(irq.level).toBe(1);
    expect(seen).toEqual([1, 0]);
  });

  it('rejects a temperature below absolute zero', () => {
    const { temp } = make();
    expect(() => temp.setProperty('temperature', -300_000)).toThrow(UserError);
  });

  it('round-trips its state with a measurement in progress', () => {
    const a = make();
    a.temp.setProperty('temperature', 31_000);
    a.temp.registers.write(START, 1, 4);
    a.clock.advanceBy(5000);
    const state = JSON.parse(JSON.stringify(a.temp.saveState()));
    const b = make();
    b.clock.loadState(a.clock.saveState());
    b.temp.loadState(state);
    b.clock.advanceTo(TEMP_CONVERSION_NS - 1);
    expect(b.temp.registers.read(DATARDY, 4)).toBe(0);
    b.clock.advanceTo(TEMP_CONVERSION_NS);
    expect(b.temp.registers.read(DATARDY, 4)).toBe(1);
    expect(b.temp.registers.read(TEMP, 4)).toBe(124);
  });

  it('is registered as nrf51_soc.temp', () => {
    expect(findDeviceType('nrf51_soc.temp')?.create?.()).toBeInstanceOf(Nrf51Temp);
  });
});

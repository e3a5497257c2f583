import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { UserError } from '../../core/errors.js';
import { Log, LogCat } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { ADC_CONVERSION_NS, Nrf51Adc } from './nrf51-adc.js';

const START = 0x000;
const STOP = 0x004;
const END = 0x100;
const INTENSET = 0x304;
const BUSY = 0x400;
const ENABLE = 0x500;
const CONFIG = 0x504;
const RESULT = 0x508;

// CONFIG fields (nrf51_bitfields.h).
const RES8 = 0;
const RES9 = 1;
const RES10 = 2;
const INP_NOPRE = 0 << 2;
const INP_2_3 = 1 << 2;
const INP_1_3 = 2 << 2;
const INP_VDD_2_3 = 5 << 2;
const INP_VDD_1_3 = 6 << 2;
const REF_VBG = 0 << 5;
const REF_EXT = 1 << 5;
const REF_VDD_1_2 = 2 << 5;
const REF_VDD_1_3 = 3 << 5;
const psel = (ain: number) => (1 << ain) << 8;
const EXT_AREF0 = 1 << 16;
const EXT_AREF1 = 2 << 16;

function make(): { adc: Nrf51Adc; clock: VirtualClock; lines: string[] } {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = LogCat.GuestErrors;
  const adc = new Nrf51Adc();
  adc.realize({ clock, log });
  adc.registers.write(ENABLE, 1, 4);
  return { adc, clock, lines };
}

function convert(adc: Nrf51Adc, clock: VirtualClock, config: number): number {
  adc.registers.write(CONFIG, config, 4);
  adc.registers.write(END, 0, 4);
  adc.registers.write(START, 1, 4);
  clock.advanceBy(ADC_CONVERSION_NS[config & 3]!);
  expect(adc.registers.read(END, 4)).toBe(1);
  return adc.registers.read(RESULT, 4);
}

/** The manual's formula, computed independently of the model's code path. */
function expected(vin: number, prescale: number, vref: number, bits: number): number {
  const full = 2 ** bits - 1;
  return Math.min(full, Math.max(0, Math.round(((vin * prescale) / vref) * full)));
}

describe('nRF51 ADC', () => {
  it('resets to the manual values: CONFIG 0x18, the rest 0, POWER 1', () => {
    const adc = new Nrf51Adc();
    adc.realize({ clock: new VirtualClock(), log: new Log() });
    expect(adc.registers.read(CONFIG, 4)).toBe(0x18);
    expect(adc.registers.read(ENABLE, 4)).toBe(0);
    expect(adc.registers.read(BUSY, 4)).toBe(0);
    expect(adc.registers.read(RESULT, 4)).toBe(0);
    expect(adc.registers.read(0xffc, 4)).toBe(1);
  });

  it('is BUSY during the conversion and generates END after 20/36/68 µs for 8/9/10 bits', () => {
    const { adc, clock } = make();
    for (const res of [RES8, RES9, RES10]) {
      adc.registers.write(CONFIG, res | INP_VDD_1_3 | REF_VBG, 4);
      adc.registers.write(END, 0, 4);
      const t0 = clock.now;
      adc.registers.write(START, 1, 4);
      expect(adc.registers.read(BUSY, 4)).toBe(1);
      clock.advanceTo(t0 + ADC_CONVERSION_NS[res]! - 1);
      expect(adc.registers.read(END, 4)).toBe(0);
      clock.advanceTo(t0 + ADC_CONVERSION_NS[res]!);
      expect(adc.registers.read(END, 4)).toBe(1);
      expect(adc.registers.read(BUSY, 4)).toBe(0);
    }
    expect(ADC_CONVERSION_NS.slice(0, 3)).toEqual([20_000, 36_000, 68_000]);
  });

  it('converts as micro:bit firmware configures it: AIN 1/3 against VDD 1/3, 10 bits', () => {
    const { adc, clock } = make();
    adc.setAnalogInput(4, 1.5); // pin0 is P0.03 = AIN4
    expect(convert(adc, clock, RES10 | INP_1_3 | REF_VDD_1_3 | psel(4))).toBe(expected(1.5, 1 / 3, 1.0, 10));
    expect(adc.registers.read(RESULT, 4)).toBe(512);
    adc.setProperty('ain4', 3000);
    expect(convert(adc, clock, RES10 | INP_1_3 | REF_VDD_1_3 | psel(4))).toBe(1023);
    adc.setProperty('ain4', 0);
    expect(convert(adc, clock, RES10 | INP_1_3 | REF_VDD_1_3 | psel(4))).toBe(0);
  });

  it('follows the formula for each prescaler, reference and resolution', () => {
    const { adc, clock } = make();
    adc.setAnalogInput(2, 0.8);
    adc.setAnalogInput(7, 2.0);
    adc.setProperty('aref0', 1300);
    adc.setProperty('vdd', 3300);
    const cases: Array<[number, number]> = [
      [RES8 | INP_NOPRE | REF_VBG | psel(2), expected(0.8, 1, 1.2, 8)],
      [RES9 | INP_2_3 | REF_VBG | psel(2), expected(0.8, 2 / 3, 1.2, 9)],
      [RES10 | INP_1_3 | REF_VDD_1_2 | psel(2), expected(0.8, 1 / 3, 1.65, 10)],
      [RES10 | INP_NOPRE | REF_EXT | EXT_AREF0 | psel(2), expected(0.8, 1, 1.3, 10)],
      [RES10 | INP_NOPRE | REF_EXT | EXT_AREF1 | psel(2), expected(0.8, 1, 2.0, 10)],
      [RES10 | INP_VDD_1_3 | REF_VBG, expected(3.3, 1 / 3, 1.2, 10)],
      [RES8 | INP_VDD_2_3 | REF_VDD_1_2, 255], // 2.2 V against 1.65 V saturates
    ];
    for (const [config, want] of cases) expect(convert(adc, clock, config)).toBe(want);
    expect(cases[0]![1]).toBe(170);
  });

  it('samples the input at START (a change during the conversion does not affect it)', () => {
    const { adc, clock } = make();
    adc.setAnalogInput(0, 0.6);
    adc.registers.write(CONFIG, RES10 | INP_NOPRE | REF_VBG | psel(0), 4);
    adc.registers.write(START, 1, 4);
    adc.setAnalogInput(0, 1.2);
    clock.advanceBy(ADC_CONVERSION_NS[2]);
    expect(adc.registers.read(RESULT, 4)).toBe(expected(0.6, 1, 1.2, 10));
  });

  it('ignores START while disabled and logs it as a guest error', () => {
    const { adc, clock, lines } = make();
    adc.registers.write(ENABLE, 0, 4);
    adc.registers.write(START, 1, 4);
    clock.advanceBy(100_000);
    expect(adc.registers.read(END, 4)).toBe(0);
    expect(lines.some((l) => l.includes('not enabled'))).toBe(true);
  });

  it('STOP aborts the conversion without END', () => {
    const { adc, clock } = make();
    adc.registers.write(START, 1, 4);
    adc.registers.write(STOP, 1, 4);
    expect(adc.registers.read(BUSY, 4)).toBe(0);
    clock.advanceBy(100_000);
    expect(adc.registers.read(END, 4)).toBe(0);
  });

  it('converts 0 V and logs when PSEL selects no pin', () => {
    const { adc, clock, lines } = make();
    adc.setAnalogInput(0, 1);
    expect(convert(adc, clock, RES10 | INP_NOPRE | REF_VBG)).toBe(0);
    expect(lines.some((l) => l.includes('PSEL = 0'))).toBe(true);
  });

  it('raises its IRQ on END when enabled', () => {
    const { adc, clock } = make();
    adc.registers.write(INTENSET, 1, 4);
    convert(adc, clock, RES8 | INP_VDD_1_3 | REF_VBG);
    expect(adc.gpioOut('', 0).level).toBe(1);
  });

  it('rejects analog inputs that do not exist', () => {
    const { adc } = make();
    expect(() => adc.setAnalogInput(8, 1)).toThrow(UserError);
    expect(() => adc.setProperty('vdd', 5000)).toThrow(UserError);
    expect(adc.getProperty('vdd')).toBe(3000);
  });

  it('round-trips its state with a conversion in progress', () => {
    const a = make();
    a.adc.setAnalogInput(3, 0.9);
    a.adc.registers.write(CONFIG, RES10 | INP_NOPRE | REF_VBG | psel(3), 4);
    a.adc.registers.write(START, 1, 4);
    a.clock.advanceBy(1000);
    const state = JSON.parse(JSON.stringify(a.adc.saveState()));
    const b = make();
    b.clock.loadState(a.clock.saveState());
    b.adc.loadState(state);
    expect(b.adc.registers.read(BUSY, 4)).toBe(1);
    expect(b.adc.analogInput(3)).toBe(0.9);
    b.clock.advanceTo(ADC_CONVERSION_NS[2]);
    expect(b.adc.registers.read(END, 4)).toBe(1);
    expect(b.adc.registers.read(RESULT, 4)).toBe(expected(0.9, 1, 1.2, 10));
  });

  it('is registered as nrf51_soc.adc', () => {
    expect(findDeviceType('nrf51_soc.adc')?.create?.()).toBeInstanceOf(Nrf51Adc);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { UserError } from '../../core/errors.js';
import { NOT_DRIVEN } from '../../core/lines.js';
import { Log } from '../../core/log.js';
import {
  DAL_LIGHT_BRIGHT_CODE,
  DAL_LIGHT_DARK_CODE,
  dalCodeForLevel,
  dalLevelForCode,
  LIGHT_SENSE_AINS,
  LIGHT_SENSE_TAU_NS,
  MicrobitLightSensor,
} from './microbit-light-sensor.js';

const VDD = 3.0;
const MS = 1_000_000;

/** The runtimes' ADC reading of a voltage: 10 bits, input and reference both VDD/3. */
function code(volts: number): number {
  return Math.round((volts / VDD) * 1023);
}

function make(level = 128) {
  const clock = new VirtualClock();
  const sensor = new MicrobitLightSensor();
  sensor.realize({ clock, log: new Log() });
  const ain = new Float64Array(8);
  const external = new Set<number>();
  sensor.attach({
    adc: {
      setAnalogInput: (i, v) => {
        ain[i] = v;
      },
      analogInput: (i) => ain[i]!,
    },
    supply: () => VDD,
    drivenFromOutside: (pin) => external.has(pin),
  });
  sensor.setLightLevel(level);
  const rows = (level: number) => {
    for (let r = 0; r < 3; r++) sensor.gpioIn('row', r).set(level);
  };
  const col = (c: number, level: number) => sensor.gpioIn('col', c).set(level);
  /** What the DAL does for column `c`: rows low, column high, then the column an input. */
  const startSensing = (c: number) => {
    rows(0);
    col(c, 1);
    col(c, NOT_DRIVEN);
  };
  return { clock, sensor, ain, external, rows, col, startSensing };
}

describe('DAL light level arithmetic', () => {
  it('maps the chosen code of every level 0..255 back to exactly that level, brighter = lower code', () => {
    expect(dalCodeForLevel(0)).toBe(DAL_LIGHT_DARK_CODE);
    expect(dalCodeForLevel(255)).toBe(DAL_LIGHT_BRIGHT_CODE);
    for (let level = 0; level <= 255; level++) {
      expect(dalLevelForCode(dalCodeForLevel(level))).toBe(level);
      if (level > 0) expect(dalCodeForLevel(level)).toBeLessThan(dalCodeForLevel(level - 1));
    }
  });

  it('clamps codes outside the calibration range like the DAL', () => {
    expect(dalLevelForCode(0)).toBe(255);
    expect(dalLevelForCode(1023)).toBe(0);
  });
});

describe('micro:bit light sensing columns', () => {
  it('settles a sensing column at the voltage whose ADC code the DAL reads as the set level', () => {
    for (const level of [0, 1, 64, 128, 200, 255]) {
      const { clock, ain, startSensing } = make(level);
      startSensing(0);
      clock.advanceTo(clock.now + 4 * MS); // the DAL samples 4 ms after switching
      expect(code(ain[LIGHT_SENSE_AINS[0]]!), `level ${level}`).toBe(dalCodeForLevel(level));
      expect(dalLevelForCode(code(ain[LIGHT_SENSE_AINS[0]]!))).toBe(level);
    }
  });

  it('starts at the voltage the column was driven to and discharges over virtual time', () => {
    const { clock, ain, startSensing } = make(128);
    const target = (VDD * dalCodeForLevel(128)) / 1023;
    startSensing(1);
    const ain6 = () => ain[LIGHT_SENSE_AINS[1]]!;
    expect(ain6()).toBe(VDD);
    clock.advanceTo(clock.now + LIGHT_SENSE_TAU_NS);
    // Stepped every 100 µs: within one step of the exponential at one time constant.
    expect(ain6()).toBeGreaterThan(target);
    expect(ain6()).toBeLessThan(VDD);
    expect(Math.abs(ain6() - (target + (VDD - target) / Math.E))).toBeLessThan(0.2);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain6()).toBe(target);
  });

  it('does not sense a column that was driven low (no reverse bias to discharge)', () => {
    const { clock, ain, rows, col } = make(255);
    rows(0);
    col(2, 0);
    col(2, NOT_DRIVEN);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[LIGHT_SENSE_AINS[2]]).toBe(0);
  });

  it('gives the ADC input back its previous voltage when the column is driven again', () => {
    const { clock, ain, col, startSensing } = make(0);
    ain[LIGHT_SENSE_AINS[0]] = 0.5; // what the board last put on the pin
    startSensing(0);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[LIGHT_SENSE_AINS[0]]!)).toBe(DAL_LIGHT_DARK_CODE);
    col(0, 1);
    expect(ain[LIGHT_SENSE_AINS[0]]).toBe(0.5);
  });

  it('only senses with the rows driven low: a row driven high or all rows floating leave the ADC alone', () => {
    const { clock, ain, rows, col, sensor } = make(100);
    rows(0);
    sensor.gpioIn('row', 1).set(1);
    col(0, 1);
    col(0, NOT_DRIVEN);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[LIGHT_SENSE_AINS[0]]).toBe(0);
    rows(NOT_DRIVEN);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[LIGHT_SENSE_AINS[0]]).toBe(0);
    rows(0);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[LIGHT_SENSE_AINS[0]]!)).toBe(dalCodeForLevel(100));
  });

  it('leaves a column driven from outside (edge connector P3/P4/P10) at the board voltage', () => {
    const { clock, ain, external, sensor, startSensing } = make(100);
    external.add(5); // P4 is column 2, P0.05, AIN6
    ain[6] = 1.25;
    startSensing(1);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[6]).toBe(1.25);
    // Released: the column floats, charged to what the board drove, and light discharges it.
    external.delete(5);
    sensor.refresh();
    expect(ain[6]).toBe(1.25);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[6]!)).toBe(dalCodeForLevel(100));
  });

  it('keeps a voltage the board drove onto a column while it was sensing', () => {
    const { clock, ain, external, sensor, startSensing } = make(100);
    startSensing(2);
    clock.advanceTo(clock.now + 4 * MS);
    ain[7] = 2.0; // the edge connector sets the voltage, then drives the pin
    external.add(6);
    sensor.refresh();
    expect(ain[7]).toBe(2.0);
  });

  it('follows a change of light while sensing: brighter discharges further, darker cannot recharge', () => {
    const { clock, ain, sensor, startSensing } = make(100);
    startSensing(0);
    clock.advanceTo(clock.now + 4 * MS);
    sensor.setLightLevel(200);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[5]!)).toBe(dalCodeForLevel(200));
    sensor.setLightLevel(50);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[5]!)).toBe(dalCodeForLevel(200));
    // The next sensing cycle charges the column again and reads the new light.
    startSensing(0);
    clock.advanceTo(clock.now + 4 * MS);
    expect(code(ain[5]!)).toBe(dalCodeForLevel(50));
  });

  it('keeps the light level across a reset; released pins give the ADC input back', () => {
    const { clock, ain, sensor, rows, startSensing } = make(77);
    startSensing(0);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[5]).not.toBe(0);
    // The GPIO's reset releases every pin, the rows included.
    rows(NOT_DRIVEN);
    sensor.reset();
    expect(ain[5]).toBe(0);
    expect(sensor.lightLevel).toBe(77);
    clock.advanceTo(clock.now + 4 * MS);
    expect(ain[5]).toBe(0);
  });

  it('restores a saved state: same level, same settling column, same ADC voltage later', () => {
    const a = make(90);
    a.startSensing(1);
    a.clock.advanceTo(a.clock.now + LIGHT_SENSE_TAU_NS);
    const saved = JSON.parse(JSON.stringify(a.sensor.saveState()));
    const b = make(3);
    b.clock.advanceTo(a.clock.now);
    b.rows(0);
    b.col(1, NOT_DRIVEN);
    b.sensor.loadState(saved);
    expect(b.sensor.saveState()).toEqual(saved);
    expect(b.sensor.lightLevel).toBe(90);
    a.clock.advanceTo(a.clock.now + 4 * MS);
    b.clock.advanceTo(b.clock.now + 4 * MS);
    expect(b.ain[6]).toBe(a.ain[6]);
    expect(code(b.ain[6]!)).toBe(dalCodeForLevel(90));
    expect(() => b.sensor.loadState({ ...saved, level: 999 })).toThrow(UserError);
  });

  it('rejects light levels outside 0..255 with a UserError', () => {
    const { sensor } = make();
    expect(() => sensor.setLightLevel(256)).toThrow(UserError);
    expect(() => sensor.setLightLevel(-1)).toThrow(UserError);
    expect(() => sensor.setLightLevel(1.5)).toThrow(UserError);
    expect(() => sensor.setProperty('light-level', 300)).toThrow(UserError);
    sensor.setProperty('light-level', 42);
    expect(sensor.lightLevel).toBe(42);
    expect(sensor.getInt('light-level')).toBe(42);
  });
});

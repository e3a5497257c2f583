/**
 * Light sensing through the LED matrix on the micro:bit machine: the DAL's measuring sequence
 * at register level, then MicroPython's `display.read_light_level()` and MakeCode's
 * `input.lightLevel()` reading the level set with `setLightLevel`.
 *
 * Both runtimes use the DAL's MicroBitLightSensor: each sample drives the rows low and one of the
 * first three columns high, makes that column an input, converts it 4 ms later, and the level is
 * floor((338 - clamp(average of the three columns' last codes, 75, 338)) * 255 / 263). The board
 * model puts each column at the middle of the code that formula maps back to the set level, so
 * once all three columns have been sampled since the light changed the reading is exact
 * (tolerance 0); until then it mixes the old and new light.
 */
import { describe, expect, it } from 'vitest';
import { dalCodeForLevel } from '../hw/sensor/microbit-light-sensor.js';
import { createMachine } from './create.js';
import type { MicrobitMachine } from './microbit.js';
import { requireMakecode } from './testing/makecode.js';
import {
  frameText,
  haveMicroPythonRuntime,
  MICROPYTHON_RUNTIME,
  MicroPythonBoard,
  MS,
  SECOND,
} from './testing/micropython.js';

const GPIO = 0x5000_0000;
const OUTSET = GPIO + 0x508;
const OUTCLR = GPIO + 0x50c;
const PIN_CNF = (pin: number) => GPIO + 0x700 + 4 * pin;
const ADC = 0x4000_7000;
const ADC_START = ADC + 0x000;
const ADC_ENABLE = ADC + 0x500;
const ADC_CONFIG = ADC + 0x504;
const ADC_RESULT = ADC + 0x508;
/** The DAL's (mbed AnalogIn's) ADC set-up: 10 bits, input 1/3, reference VDD/3, PSEL AIN5-7. */
const DAL_ADC_CONFIG = 0x6a;

/** Runs the DAL's sensing sequence on column `col` (0-2: P0.04-P0.06) and returns the 10-bit code. */
function senseColumn(m: MicrobitMachine, col: number, waitNs = 4 * MS): number {
  const as = m.addressSpace;
  for (const row of [13, 14, 15]) {
    as.write32(OUTCLR, 1 << row);
    as.write32(PIN_CNF(row), 1); // output, low
  }
  const pin = 4 + col;
  as.write32(PIN_CNF(pin), 1); // output ...
  as.write32(OUTSET, 1 << pin); // ... high: the column's LEDs are reverse biased
  as.write32(PIN_CNF(pin), 0); // input, no pull: the column floats
  as.write32(ADC_ENABLE, 1);
  as.write32(ADC_CONFIG, DAL_ADC_CONFIG | (1 << (13 + col)));
  m.clock.advanceTo(m.clock.now + waitNs);
  as.write32(ADC_START, 1);
  m.clock.advanceTo(m.clock.now + 100_000); // a 10-bit conversion takes 68 µs
  const result = as.read32(ADC_RESULT);
  as.write32(ADC_ENABLE, 0);
  as.write32(PIN_CNF(pin), 1); // back to a display output (still high: LEDs off)
  return result;
}

/** A plain conversion of column `col`'s ADC input, whatever the pins do. */
function convert(m: MicrobitMachine, col: number): number {
  const as = m.addressSpace;
  as.write32(ADC_ENABLE, 1);
  as.write32(ADC_CONFIG, DAL_ADC_CONFIG | (1 << (13 + col)));
  as.write32(ADC_START, 1);
  m.clock.advanceTo(m.clock.now + 100_000);
  return as.read32(ADC_RESULT);
}

describe('micro:bit light sensing at register level (the DAL sequence)', () => {
  it('reads, 4 ms after the column floats, the code the DAL maps to the set level, on each column', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    for (const level of [0, 64, 128, 255]) {
      m.setLightLevel(level);
      for (let col = 0; col < 3; col++)
        expect(senseColumn(m, col), `level ${level}`).toBe(dalCodeForLevel(level));
    }
  });

  it('reads near full scale when sampled at once (the column has not discharged yet)', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    m.setLightLevel(255);
    expect(senseColumn(m, 0, 0)).toBe(1023);
  });

  it('scales with the supply: the same level at VDD 3.3 V', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    m.soc.adc.setSupply(3.3);
    m.setLightLevel(200);
    expect(senseColumn(m, 1)).toBe(dalCodeForLevel(200));
  });

  it('leaves the ADC reading the board voltage when the column is not sensing', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    m.setLightLevel(100);
    senseColumn(m, 0);
    // The column is a driven output again: the ADC input is back at 0 V.
    expect(convert(m, 0)).toBe(0);
    // The edge connector drives P3 (the same pin as column 1): its voltage wins, sensing or not.
    m.pins.setAnalog('P3', 1.5);
    expect(convert(m, 0)).toBe(512);
    expect(senseColumn(m, 0)).toBe(512);
    m.pins.release('P3');
    expect(senseColumn(m, 0)).toBe(dalCodeForLevel(100));
  });

  it('offers the light level as property light-level of /machine/light-sensor', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    const dev = m.devices.find((d) => d.path === '/machine/light-sensor')!;
    expect(dev.getInt('light-level')).toBe(128);
    dev.setProperty('light-level', 30);
    expect(senseColumn(m, 2)).toBe(dalCodeForLevel(30));
    expect(() => m.setLightLevel(256)).toThrow(/0 to 255/);
  });
});

const HAVE_MICROPYTHON = haveMicroPythonRuntime();
const SKIP_NOTE = HAVE_MICROPYTHON ? '' : ` [SKIPPED: ${MICROPYTHON_RUNTIME} missing]`;

/** Reads display.read_light_level() `n` times; returns the readings. */
function readLight(board: MicroPythonBoard, n: number): number[] {
  const text = board.eval(`[display.read_light_level() for i in range(${n})]`);
  return JSON.parse(text) as number[];
}

describe.skipIf(!HAVE_MICROPYTHON)(`MicroPython display.read_light_level()${SKIP_NOTE}`, () => {
  it('reads 0, 64, 128 and 255 exactly once the three columns were sampled, rising with the light', () => {
    const board = MicroPythonBoard.boot();
    const settled: number[] = [];
    for (const level of [0, 64, 128, 255]) {
      board.machine.setLightLevel(level);
      // Each call waits for one column's sample (one every 12 ms): the first two readings
      // after a change still average in columns sampled in the old light.
      const readings = readLight(board, 5);
      expect(readings.slice(2), `readings at level ${level}: ${readings}`).toEqual([level, level, level]);
      settled.push(readings[4]!);
    }
    expect(settled).toEqual([...settled].sort((a, b) => a - b));
  });

  it('keeps the display showing its image while and after it senses light', () => {
    const board = MicroPythonBoard.boot();
    board.exec('display.show(Image.HEART)');
    const heart = frameText(board.steadyLevels());
    expect(heart).toMatch(/9/);
    board.machine.setLightLevel(100);
    // Sensing takes one row's time slot now and then, so some LEDs are dimmer in those
    // frames, but every LED of the image stays lit and no other LED lights.
    const frames = board.recordFrames(() => {
      expect(readLight(board, 20).slice(2)).toEqual(new Array(18).fill(100));
    });
    expect(frames.length).toBeGreaterThan(5);
    const litSet = (text: string) => text.replace(/[1-9]/g, '#');
    for (const f of frames) expect(litSet(frameText(f))).toBe(litSet(heart));
    expect(frameText(board.steadyLevels())).toBe(heart);
  });
});

describe('MakeCode input.lightLevel()', () => {
  it('writes the set light level on serial (program `light`, v1 hex)', () => {
    const m = createMachine('microbit', {
      mode: 'fast',
      devices: [{ driver: 'loader', props: { file: requireMakecode('light', 'v1') } }],
    }) as MicrobitMachine;
    const lines = () =>
      m
        .serialStream!.text()
        .replace(/^\0/, '')
        .split('\r\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    m.setLightLevel(40);
    m.runFor(SECOND);
    const first = lines();
    // The DAL's first call starts sensing and answers before any column was sampled: its
    // results are still 0, which it reads as the brightest light.
    expect(first[0]).toBe('255');
    // A sample every 5 display ticks of 5 ms: all three columns within 75 ms, so from the
    // second reading (200 ms later) on, the level is exact.
    expect(first.slice(1).map(Number)).toEqual(new Array(first.length - 1).fill(40));
    for (const level of [0, 128, 255]) {
      m.setLightLevel(level);
      m.runFor(250 * MS); // one reading may still mix in the old light
      const from = lines().length;
      m.runFor(SECOND);
      const readings = lines().slice(from).map(Number);
      expect(readings.length).toBeGreaterThan(2);
      expect(readings, `level ${level}`).toEqual(new Array(readings.length).fill(level));
    }
  });
});

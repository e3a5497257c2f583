import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { NOT_DRIVEN } from '../../core/lines.js';
import { Log, LogCat } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Gpio, OVERRIDE_INPUT } from './nrf51-gpio.js';

const OUT = 0x504;
const OUTSET = 0x508;
const OUTCLR = 0x50c;
const IN = 0x510;
const DIR = 0x514;
const DIRSET = 0x518;
const DIRCLR = 0x51c;
const CNF = (n: number) => 0x700 + 4 * n;

// PIN_CNF values
const INPUT_CONNECTED = 0b0000;
const INPUT_DISCONNECTED = 0b0010;
const OUTPUT_CONNECTED = 0b0001;
const OUTPUT_DISCONNECTED = 0b0011;
const PULLDOWN = 1 << 2;
const PULLUP = 3 << 2;
const SENSE_HIGH = 2 << 16;
const SENSE_LOW = 3 << 16;
const DRIVE_S0D1 = 6 << 8;

function make(log = new Log()): Nrf51Gpio {
  const g = new Nrf51Gpio();
  g.realize({ clock: new VirtualClock(), log });
  return g;
}

function logLines(): { log: Log; lines: string[] } {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = LogCat.GuestErrors;
  return { log, lines };
}

describe('nRF51 GPIO registers', () => {
  it('resets OUT, IN and DIR to 0 and every PIN_CNF to 2 (input, buffer disconnected)', () => {
    const g = make();
    for (const r of [OUT, OUTSET, OUTCLR, IN, DIR, DIRSET, DIRCLR]) expect(g.registers.read(r, 4)).toBe(0);
    for (let n = 0; n < 32; n++) expect(g.registers.read(CNF(n), 4)).toBe(2);
  });

  it('sets and clears OUT bits through OUTSET and OUTCLR, which read back OUT', () => {
    const g = make();
    g.registers.write(OUT, 0x0000_00f0, 4);
    g.registers.write(OUTSET, 0x8000_0001, 4);
    expect(g.registers.read(OUT, 4)).toBe(0x8000_00f1);
    g.registers.write(OUTCLR, 0x0000_0030, 4);
    expect(g.registers.read(OUT, 4)).toBe(0x8000_00c1);
    expect(g.registers.read(OUTSET, 4)).toBe(0x8000_00c1);
    expect(g.registers.read(OUTCLR, 4)).toBe(0x8000_00c1);
  });

  it('keeps DIR and PIN_CNF[n].DIR as one bit, whichever register is written', () => {
    const g = make();
    g.registers.write(DIRSET, 0x8000_0001, 4);
    expect(g.registers.read(DIR, 4)).toBe(0x8000_0001);
    expect(g.registers.read(CNF(0), 4)).toBe(3);
    expect(g.registers.read(CNF(31), 4)).toBe(3);
    expect(g.registers.read(CNF(1), 4)).toBe(2);
    g.registers.write(DIRCLR, 0x8000_0001, 4);
    expect(g.registers.read(DIR, 4)).toBe(0);
    expect(g.registers.read(CNF(0), 4) & 1).toBe(0);
    g.registers.write(DIR, 0x0000_0100, 4);
    expect(g.registers.read(CNF(8), 4) & 1).toBe(1);
    g.registers.write(CNF(5), OUTPUT_CONNECTED, 4);
    expect(g.registers.read(DIR, 4)).toBe(0x0000_0120);
    g.registers.write(CNF(8), INPUT_CONNECTED, 4);
    expect(g.registers.read(DIR, 4)).toBe(0x0000_0020);
  });

  it('keeps only the defined PIN_CNF fields and logs writes to the others', () => {
    const { log, lines } = logLines();
    const g = make(log);
    g.registers.write(CNF(3), 0xffff_ffff, 4);
    expect(g.registers.read(CNF(3), 4)).toBe(0x0003_070f);
    expect(lines.some((l) => l.includes('PIN_CNF[3]'))).toBe(true);
  });

  it('treats IN as read-only', () => {
    const { log, lines } = logLines();
    const g = make(log);
    g.registers.write(IN, 0xffff_ffff, 4);
    expect(g.registers.read(IN, 4)).toBe(0);
    expect(lines.some((l) => l.includes('IN'))).toBe(true);
  });
});

describe('nRF51 GPIO inputs', () => {
  it('reads the external drive through a connected input buffer', () => {
    const g = make();
    g.registers.write(CNF(4), INPUT_CONNECTED, 4);
    g.setPinInput(4, 1);
    expect(g.registers.read(IN, 4)).toBe(1 << 4);
    g.setPinInput(4, 0);
    expect(g.registers.read(IN, 4)).toBe(0);
  });

  it('keeps the last level of a floating input without pull (as QEMU)', () => {
    const g = make();
    g.registers.write(CNF(0), INPUT_CONNECTED, 4);
    g.setPinInput(0, 1);
    g.setPinInput(0, NOT_DRIVEN);
    expect(g.registers.read(IN, 4) & 1).toBe(1);
    expect(g.pinLevel(0)).toBe(1);
  });

  it('reads the pull level on a floating input with a pull resistor', () => {
    const g = make();
    g.registers.write(CNF(2), INPUT_CONNECTED | PULLUP, 4);
    expect(g.registers.read(IN, 4)).toBe(1 << 2);
    g.registers.write(CNF(2), INPUT_CONNECTED | PULLDOWN, 4);
    expect(g.registers.read(IN, 4)).toBe(0);
  });

  it('lets an external drive override the pull resistor', () => {
    const g = make();
    g.registers.write(CNF(17), INPUT_CONNECTED | PULLUP, 4);
    g.setPinInput(17, 0);
    expect(g.registers.read(IN, 4)).toBe(0);
    g.setPinInput(17, NOT_DRIVEN);
    expect(g.registers.read(IN, 4)).toBe(1 << 17);
  });

  it('reads 0 with the input buffer disconnected, or the pull level when a pull is enabled (as QEMU)', () => {
    const g = make();
    g.setPinInput(0, 1);
    expect(g.registers.read(IN, 4)).toBe(0); // reset: buffer disconnected, no pull
    g.setPinInput(0, 0);
    g.registers.write(CNF(0), INPUT_DISCONNECTED | PULLUP, 4);
    expect(g.registers.read(IN, 4) & 1).toBe(1);
    g.setPinInput(0, 1);
    g.registers.write(CNF(0), INPUT_DISCONNECTED | PULLDOWN, 4);
    expect(g.registers.read(IN, 4) & 1).toBe(0);
  });

  it('reads back its own output level through a connected input buffer (loopback)', () => {
    const g = make();
    g.registers.write(CNF(0), OUTPUT_CONNECTED, 4);
    g.registers.write(OUTSET, 1, 4);
    expect(g.registers.read(IN, 4) & 1).toBe(1);
    g.registers.write(OUTCLR, 1, 4);
    expect(g.registers.read(IN, 4) & 1).toBe(0);
  });

  it('logs a short circuit when the board drives against a connected output, and the board wins', () => {
    const { log, lines } = logLines();
    const g = make(log);
    g.registers.write(CNF(0), OUTPUT_CONNECTED, 4);
    g.registers.write(OUTSET, 1, 4);
    g.setPinInput(0, 0);
    expect(lines.filter((l) => l.includes('pin 0 short circuited'))).toHaveLength(1);
    expect(g.registers.read(IN, 4) & 1).toBe(0);
    g.setPinInput(0, 1);
    g.setPinInput(0, 0);
    expect(lines.filter((l) => l.includes('pin 0 short circuited'))).toHaveLength(2);
  });
});

describe('nRF51 GPIO outputs', () => {
  it('drives the output line with OUT only while the pin is an output', () => {
    const g = make();
    const line = g.gpioOut('', 7);
    const seen: number[] = [];
    line.watch((l) => seen.push(l));
    g.registers.write(OUTSET, 1 << 7, 4);
    expect(line.level).toBe(NOT_DRIVEN);
    g.registers.write(DIRSET, 1 << 7, 4);
    expect(line.level).toBe(1);
    g.registers.write(OUTCLR, 1 << 7, 4);
    expect(line.level).toBe(0);
    g.registers.write(DIRCLR, 1 << 7, 4);
    expect(line.level).toBe(NOT_DRIVEN);
    expect(seen).toEqual([1, 0, NOT_DRIVEN]);
    expect(g.pinOutput(7)).toBe(NOT_DRIVEN);
  });

  it('reports the pull level on the output line of a floating input with its buffer connected (as QEMU)', () => {
    const g = make();
    g.registers.write(CNF(3), INPUT_CONNECTED | PULLUP, 4);
    expect(g.pinOutput(3)).toBe(1);
    g.setPinInput(3, 0);
    expect(g.pinOutput(3)).toBe(NOT_DRIVEN);
    g.registers.write(CNF(9), INPUT_DISCONNECTED | PULLUP, 4);
    expect(g.pinOutput(9)).toBe(NOT_DRIVEN);
  });

  it('disconnects the driver on a high level in open-drain mode (S0D1)', () => {
    const g = make();
    g.registers.write(CNF(1), OUTPUT_CONNECTED | DRIVE_S0D1, 4);
    expect(g.pinOutput(1)).toBe(0);
    g.registers.write(OUTSET, 1 << 1, 4);
    expect(g.pinOutput(1)).toBe(NOT_DRIVEN);
  });

  it('lets the override input drive the pin regardless of OUT and DIR, or force it to input', () => {
    const g = make();
    const ovr = g.gpioIn('override', 12);
    ovr.set(1);
    expect(g.pinOutput(12)).toBe(1);
    expect(g.pinLevel(12)).toBe(1);
    expect(g.registers.read(DIR, 4)).toBe(0); // registers keep what firmware wrote
    ovr.set(0);
    expect(g.pinOutput(12)).toBe(0);
    g.registers.write(DIRSET, 1 << 12, 4);
    g.registers.write(OUTSET, 1 << 12, 4);
    ovr.set(OVERRIDE_INPUT);
    expect(g.pinOutput(12)).toBe(NOT_DRIVEN);
    ovr.set(NOT_DRIVEN);
    expect(g.pinOutput(12)).toBe(1);
  });

  it('publishes each pin level on pin-level lines', () => {
    const g = make();
    const seen: number[] = [];
    g.gpioOut('pin-level', 5).watch((l) => seen.push(l));
    g.setPinInput(5, 1);
    g.setPinInput(5, 0);
    expect(seen).toEqual([1, 0]);
  });
});

describe('nRF51 GPIO DETECT', () => {
  it('raises DETECT while a pin with SENSE high reads 1', () => {
    const g = make();
    const detect = g.gpioOut('detect', 0);
    g.registers.write(CNF(6), INPUT_CONNECTED | SENSE_HIGH, 4);
    g.setPinInput(6, 0);
    expect(detect.level).toBe(0);
    g.setPinInput(6, 1);
    expect(detect.level).toBe(1);
    g.setPinInput(6, 0);
    expect(detect.level).toBe(0);
  });

  it('raises DETECT while a pin with SENSE low reads 0 (a button with a pull-up)', () => {
    const g = make();
    const detect = g.gpioOut('detect', 0);
    g.registers.write(CNF(17), INPUT_CONNECTED | PULLUP | SENSE_LOW, 4);
    expect(detect.level).toBe(0);
    g.setPinInput(17, 0);
    expect(detect.level).toBe(1);
    g.setPinInput(17, NOT_DRIVEN);
    expect(detect.level).toBe(0);
  });

  it('ignores SENSE on pins whose input buffer is disconnected', () => {
    const g = make();
    g.registers.write(CNF(6), INPUT_DISCONNECTED | SENSE_HIGH, 4);
    g.setPinInput(6, 1);
    expect(g.gpioOut('detect', 0).level).toBe(0);
  });
});

describe('nRF51 GPIO board API and device', () => {
  it('rejects bad pin numbers and levels with a UserError', () => {
    const g = make();
    expect(() => g.setPinInput(32, 1)).toThrow(/no GPIO pin 32/);
    expect(() => g.setPinInput(0, 5)).toThrow(/pin level must be 0, 1 or -1/);
    expect(() => g.pinLevel(-1)).toThrow(/no GPIO pin/);
  });

  it('is registered as nrf51_soc.gpio', () => {
    const t = findDeviceType('nrf51_soc.gpio');
    expect(t?.parent).toBe('sys-bus-device');
    expect(t?.create?.()).toBeInstanceOf(Nrf51Gpio);
  });

  it('round-trips its state through a snapshot, including the board drive and floating levels', () => {
    const a = make();
    a.registers.write(CNF(0), OUTPUT_CONNECTED, 4);
    a.registers.write(OUTSET, 1, 4);
    a.registers.write(CNF(1), INPUT_CONNECTED, 4);
    a.setPinInput(1, 1);
    a.setPinInput(1, NOT_DRIVEN); // floating, remembers 1
    a.registers.write(CNF(2), INPUT_CONNECTED | SENSE_HIGH, 4);
    a.setPinInput(2, 1);
    a.gpioIn('override', 3).set(1);
    const saved = JSON.parse(JSON.stringify(a.saveState()));
    const b = make();
    b.loadState(saved);
    expect(b.saveState()).toEqual(saved);
    expect(b.registers.read(IN, 4)).toBe(a.registers.read(IN, 4));
    expect(b.pinOutput(0)).toBe(1);
    expect(b.pinOutput(3)).toBe(1);
    expect(b.gpioOut('detect', 0).level).toBe(1);
    expect(b.pinLevel(1)).toBe(1);
  });

  it('keeps the board drive across a chip reset and restores the registers', () => {
    const g = make();
    g.registers.write(CNF(0), INPUT_CONNECTED, 4);
    g.setPinInput(0, 1);
    g.registers.write(OUT, 0xff, 4);
    g.reset();
    expect(g.registers.read(OUT, 4)).toBe(0);
    g.registers.write(CNF(0), INPUT_CONNECTED, 4);
    expect(g.registers.read(IN, 4) & 1).toBe(1);
  });

  it('passes the sequence of checks QEMU qtest /arm/microbit/nrf51/gpio makes', () => {
    const g = make();
    const r = g.registers;
    const in0 = () => r.read(IN, 4) & 1;
    // input propagates, and a released input keeps its level
    r.write(CNF(0), 0x00, 4);
    g.setPinInput(0, 0);
    expect(in0()).toBe(0);
    g.setPinInput(0, 1);
    expect(in0()).toBe(1);
    g.setPinInput(0, NOT_DRIVEN);
    expect(in0()).toBe(1);
    r.write(CNF(0), 0x02, 4);
    // pull-up with the buffer disconnected
    g.setPinInput(0, 0);
    r.write(CNF(0), 0b0000, 4);
    expect(in0()).toBe(0);
    r.write(CNF(0), 0b1110, 4);
    expect(in0()).toBe(1);
    r.write(CNF(0), 0x02, 4);
    // pull-down with the buffer disconnected
    g.setPinInput(0, 1);
    r.write(CNF(0), 0b0000, 4);
    expect(in0()).toBe(1);
    r.write(CNF(0), 0b0110, 4);
    expect(in0()).toBe(0);
    r.write(CNF(0), 0x02, 4);
    g.setPinInput(0, NOT_DRIVEN);
    // output propagates to unnamed output line 0
    r.write(CNF(0), OUTPUT_DISCONNECTED, 4);
    r.write(OUTSET, 1, 4);
    expect(g.gpioOut('', 0).level).toBe(1);
    r.write(OUTCLR, 1, 4);
    expect(g.gpioOut('', 0).level).toBe(0);
    // self-stimulation
    r.write(CNF(0), 0b01, 4);
    r.write(OUTSET, 1, 4);
    expect(in0()).toBe(1);
    r.write(OUTCLR, 1, 4);
    expect(in0()).toBe(0);
  });
});

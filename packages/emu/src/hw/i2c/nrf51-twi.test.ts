import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { Mag3110 } from '../sensor/mag3110.js';
import { Mma8653fc } from '../sensor/mma8653fc.js';
import {
  ERRORSRC_ANACK,
  ERRORSRC_DNACK,
  Nrf51Twi,
  TWI_EV,
  TWI_FREQ_K100,
  TWI_FREQ_K250,
  TWI_FREQ_K400,
} from './nrf51-twi.js';

const STARTRX = 0x000;
const STARTTX = 0x008;
const STOP = 0x014;
const SUSPEND = 0x01c;
const RESUME = 0x020;
const SHORTS = 0x200;
const ERRORSRC = 0x4c4;
const ENABLE = 0x500;
const RXD = 0x518;
const TXD = 0x51c;
const FREQUENCY = 0x524;
const ADDRESS = 0x588;
const EVENT_NAMES = ['STOPPED', 'RXDREADY', 'TXDSENT', 'ERROR', 'BB', 'SUSPENDED'];

function setup(frequency = TWI_FREQ_K100) {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (line) => lines.push(line);
  const twi = new Nrf51Twi();
  const accel = new Mma8653fc();
  const mag = new Mag3110();
  for (const d of [twi, accel, mag]) d.realize({ clock, log });
  twi.bus.attach(accel, 0x1d);
  twi.bus.attach(mag, 0x0e);
  const events: Array<[string, number]> = [];
  EVENT_NAMES.forEach((name, i) => {
    twi.eventLine(i).watch((level) => {
      if (level === 1) events.push([name, clock.now]);
    });
  });
  const r = twi.registers;
  r.write(ENABLE, 5, 4);
  r.write(FREQUENCY, frequency, 4);
  const task = (offset: number) => r.write(offset, 1, 4);
  return { clock, log, lines, twi, accel, mag, events, r, task };
}

describe('nRF51 TWI master', () => {
  it('resets FREQUENCY to K250, the pin selects to disconnected and ENABLE/ERRORSRC to 0', () => {
    const twi = new Nrf51Twi();
    twi.realize({ clock: new VirtualClock(), log: new Log() });
    expect(twi.registers.read(FREQUENCY, 4)).toBe(TWI_FREQ_K250);
    expect(twi.registers.read(0x508, 4)).toBe(0xffff_ffff);
    expect(twi.registers.read(0x50c, 4)).toBe(0xffff_ffff);
    expect(twi.registers.read(ENABLE, 4)).toBe(0);
    expect(twi.registers.read(ERRORSRC, 4)).toBe(0);
    expect(twi.registers.read(0xffc, 4)).toBe(1);
  });

  it('reads WHO_AM_I of the accelerometer at 100 kHz: TXDSENT, RXDREADY and STOPPED at 9-bit byte times', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K100);
    r.write(ADDRESS, 0x1d, 4);
    r.write(TXD, 0x0d, 4); // register pointer, written before STARTTX
    task(STARTTX);
    clock.advanceTo(180_000);
    // Address byte 0-90 µs, data byte 90-180 µs (BB at its start).
    expect(events).toEqual([
      ['BB', 90_000],
      ['TXDSENT', 180_000],
    ]);
    events.length = 0;
    r.write(SHORTS, 0b10, 4); // BB_STOP: NACK the byte and stop after it
    task(STARTRX); // repeated START
    clock.advanceTo(1_000_000);
    expect(events).toEqual([
      ['BB', 270_000],
      ['RXDREADY', 360_000],
      ['STOPPED', 370_000],
    ]);
    expect(r.read(RXD, 4)).toBe(0x5a);
    expect(r.read(ERRORSRC, 4)).toBe(0);
  });

  it('reads WHO_AM_I of the magnetometer at 400 kHz, with STOP triggered while the byte is held', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K400);
    r.write(ADDRESS, 0x0e, 4);
    task(STARTTX);
    clock.advanceTo(30_000); // address done at 22.5 µs; the master stretches waiting for TXD
    expect(events).toEqual([]);
    r.write(TXD, 0x07, 4);
    clock.advanceTo(60_000);
    expect(events).toEqual([
      ['BB', 30_000],
      ['TXDSENT', 52_500],
    ]);
    events.length = 0;
    task(STARTRX);
    clock.advanceTo(200_000);
    expect(events).toEqual([
      ['BB', 82_500],
      ['RXDREADY', 105_000],
    ]);
    task(STOP); // before reading RXD: NACK and STOP
    expect(r.read(RXD, 4)).toBe(0xc4);
    clock.advanceTo(300_000);
    expect(events.at(-1)).toEqual(['STOPPED', 202_500]);
  });

  it('reports an address NACK at an absent address (0x1E) with ERROR and ERRORSRC.ANACK, then STOP gives STOPPED', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K100);
    r.write(ADDRESS, 0x1e, 4);
    r.write(TXD, 0x00, 4);
    task(STARTTX);
    clock.advanceTo(500_000);
    expect(events).toEqual([['ERROR', 90_000]]);
    expect(r.read(ERRORSRC, 4)).toBe(ERRORSRC_ANACK);
    task(STOP);
    clock.advanceTo(600_000);
    expect(events.at(-1)).toEqual(['STOPPED', 510_000]);
    r.write(ERRORSRC, ERRORSRC_ANACK, 4); // write 1 to clear
    expect(r.read(ERRORSRC, 4)).toBe(0);
  });

  it('a STOP during the address byte of a failing probe still ends with ERROR then STOPPED', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K100);
    r.write(ADDRESS, 0x1e, 4);
    task(STARTRX);
    task(STOP);
    clock.advanceTo(1_000_000);
    expect(events).toEqual([
      ['ERROR', 90_000],
      ['STOPPED', 100_000],
    ]);
  });

  it('reports a data NACK with ERRORSRC.DNACK when a slave refuses a byte', () => {
    const { clock, events, r, task, twi } = setup(TWI_FREQ_K100);
    twi.bus.attach({ event: () => true, send: () => false, recv: () => 0 }, 0x42);
    r.write(ADDRESS, 0x42, 4);
    r.write(TXD, 0x99, 4);
    task(STARTTX);
    clock.advanceTo(500_000);
    expect(events).toEqual([
      ['BB', 90_000],
      ['ERROR', 180_000],
    ]);
    expect(r.read(ERRORSRC, 4)).toBe(ERRORSRC_DNACK);
  });

  it('with SHORTS.BB_SUSPEND suspends after each received byte until RESUME, then BB_STOP ends the read', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K100);
    r.write(ADDRESS, 0x1d, 4);
    r.write(TXD, 0x0d, 4);
    task(STARTTX);
    clock.advanceTo(180_000);
    events.length = 0;
    r.write(SHORTS, 0b01, 4); // BB_SUSPEND
    task(STARTRX);
    task(RESUME); // as mbed does right after STARTRX: nothing is suspended yet
    clock.advanceTo(600_000);
    expect(events).toEqual([
      ['BB', 270_000],
      ['RXDREADY', 360_000],
      ['SUSPENDED', 360_000],
    ]);
    expect(r.read(RXD, 4)).toBe(0x5a); // WHO_AM_I
    clock.advanceTo(700_000);
    expect(events.length).toBe(3); // reading RXD does not resume a suspended master
    events.length = 0;
    r.write(SHORTS, 0b10, 4); // BB_STOP for the last byte
    task(RESUME);
    clock.advanceTo(1_000_000);
    expect(events).toEqual([
      ['BB', 700_000],
      ['RXDREADY', 790_000],
      ['STOPPED', 800_000],
    ]);
    expect(r.read(RXD, 4)).toBe(0x00); // XYZ_DATA_CFG, the next register
  });

  it('SUSPEND between bytes of a write suspends at once; RESUME sends the pending TXD', () => {
    const { clock, events, r, task } = setup(TWI_FREQ_K400);
    r.write(ADDRESS, 0x1d, 4);
    task(STARTTX);
    clock.advanceTo(50_000);
    task(SUSPEND);
    expect(events).toEqual([['SUSPENDED', 50_000]]);
    r.write(TXD, 0x2a, 4);
    clock.advanceTo(100_000);
    expect(events.length).toBe(1);
    task(RESUME);
    clock.advanceTo(200_000);
    expect(events.slice(1)).toEqual([
      ['BB', 100_000],
      ['TXDSENT', 122_500],
    ]);
  });

  it('writes registers of a slave: CTRL_REG1 of the accelerometer', () => {
    const { clock, r, task, accel } = setup(TWI_FREQ_K400);
    r.write(ADDRESS, 0x1d, 4);
    r.write(TXD, 0x2a, 4);
    task(STARTTX);
    clock.advanceTo(45_000);
    r.write(TXD, 0x19, 4);
    clock.advanceTo(67_500);
    task(STOP);
    clock.advanceTo(100_000);
    expect(accel.peek(0x2a)).toBe(0x19);
    expect(accel.active).toBe(true);
  });

  it('answers STOP on an idle bus with STOPPED one bit time later', () => {
    const { clock, events, task } = setup(TWI_FREQ_K250);
    task(STOP);
    clock.advanceTo(10_000);
    expect(events).toEqual([['STOPPED', 4_000]]);
  });

  it('drives the interrupt from INTENSET and the PPI task lines', () => {
    const { clock, r, twi } = setup(TWI_FREQ_K100);
    r.write(0x304, 1 << 1, 4); // INTENSET.STOPPED (event at 0x104)
    twi.taskLine(twi.taskIndexAt(STOP)).set(1);
    clock.advanceTo(20_000);
    expect(r.read(0x104, 4)).toBe(1);
    expect(twi.gpioOut('', 0).level).toBe(1);
    expect(twi.eventIndexAt(0x138)).toBe(TWI_EV.BB);
  });

  it('ignores tasks while not enabled and logs them under guest_errors', () => {
    const { clock, events, r, task, log, lines } = setup();
    log.configure('guest_errors');
    r.write(ENABLE, 0, 4);
    task(STARTTX);
    clock.advanceTo(1_000_000);
    expect(events).toEqual([]);
    expect(lines.some((l) => l.includes('STARTTX') && l.includes('not enabled'))).toBe(true);
  });

  it('logs a reserved FREQUENCY value under guest_errors and runs it at 100 kHz', () => {
    const { clock, events, r, task, log, lines } = setup();
    log.configure('guest_errors');
    r.write(FREQUENCY, 0x1234_0000, 4);
    expect(lines.some((l) => l.includes('FREQUENCY'))).toBe(true);
    task(STOP);
    clock.advanceTo(100_000);
    expect(events).toEqual([['STOPPED', 10_000]]);
  });

  it('round-trips its state with a byte on the wire', () => {
    const a = setup(TWI_FREQ_K100);
    a.r.write(ADDRESS, 0x1d, 4);
    a.r.write(TXD, 0x0d, 4);
    a.task(STARTTX);
    a.clock.advanceTo(100_000); // data byte on the wire
    const twiState = JSON.parse(JSON.stringify(a.twi.saveState()));
    const accelState = JSON.parse(JSON.stringify(a.accel.saveState()));
    const b = setup(TWI_FREQ_K100);
    b.clock.advanceTo(100_000);
    b.accel.loadState(accelState);
    b.twi.loadState(twiState);
    b.clock.advanceTo(180_000);
    expect(b.events).toEqual([['TXDSENT', 180_000]]);
    b.r.write(SHORTS, 0b10, 4);
    b.task(STARTRX);
    b.clock.advanceTo(400_000);
    expect(b.r.read(RXD, 4)).toBe(0x5a);
  });
});

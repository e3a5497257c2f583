import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { I2CBus } from '../i2c/i2c-bus.js';
import { MAG3110_ADDRESS, Mag3110, mag3110PeriodNs } from './mag3110.js';

function setup() {
  const clock = new VirtualClock();
  const mag = new Mag3110();
  mag.realize({ clock, log: new Log() });
  const bus = new I2CBus();
  bus.attach(mag, MAG3110_ADDRESS);
  const write = (reg: number, ...data: number[]) => {
    bus.start(MAG3110_ADDRESS, false);
    bus.send(reg);
    for (const d of data) bus.send(d);
    bus.stop();
  };
  const read = (reg: number, n: number) => {
    bus.start(MAG3110_ADDRESS, false);
    bus.send(reg);
    bus.start(MAG3110_ADDRESS, true);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(bus.recv());
    bus.stop();
    return out;
  };
  return { clock, mag, bus, write, read };
}

const s16 = (msb: number, lsb: number) => (((msb << 8) | lsb) << 16) >> 16;

describe('MAG3110 magnetometer', () => {
  it('answers WHO_AM_I 0xC4 and resets to standby', () => {
    const { read } = setup();
    expect(read(0x07, 2)).toEqual([0xc4, 0]);
  });

  it('has output rates 80 Hz / 2^(DR+OS)', () => {
    expect(mag3110PeriodNs(0x00)).toBe(12_500_000);
    expect(mag3110PeriodNs(0x18)).toBe(100_000_000); // 10 Hz, OS 128
    expect(mag3110PeriodNs(0xf8)).toBe(12_500_000 * 1024);
  });

  it('measures the set field in 0.1 µT counts at the configured rate (DAL set-up: RAW, 10 Hz)', () => {
    const { clock, mag, write, read } = setup();
    mag.set(12_300, -45_600, 100);
    write(0x11, 0xa0); // AUTO_MRST_EN | RAW
    write(0x10, 0x18 | 1); // 10 Hz, active
    expect(read(0x08, 1)).toEqual([1]); // active, RAW
    clock.advanceTo(99_999_999);
    expect(read(0x00, 1)).toEqual([0]);
    expect(mag.gpioOut('int1', 0).level).toBe(0);
    clock.advanceTo(100_000_000);
    expect(mag.gpioOut('int1', 0).level).toBe(1);
    const d = read(0x00, 7);
    expect(d[0]).toBe(0x0f);
    expect([s16(d[1]!, d[2]!), s16(d[3]!, d[4]!), s16(d[5]!, d[6]!)]).toEqual([123, -456, 1]);
    expect(mag.gpioOut('int1', 0).level).toBe(0);
    clock.advanceTo(300_000_000);
    expect(read(0x00, 1)).toEqual([0xff]); // two unread samples: overwrite flags
  });

  it('subtracts the user offsets (bits 15:1) unless RAW', () => {
    const { clock, mag, write, read } = setup();
    mag.set(10_000, 0, 0); // 100 counts
    write(0x09, 0x00, 40 << 1, 0xff, 0xff & (-10 << 1)); // OFF_X = 40, OFF_Y = -10
    write(0x10, 0x01);
    clock.advanceTo(12_500_000);
    let d = read(0x01, 4);
    expect([s16(d[0]!, d[1]!), s16(d[2]!, d[3]!)]).toEqual([60, 10]);
    write(0x11, 0x20); // RAW
    expect(read(0x08, 1)).toEqual([1]);
    clock.advanceTo(25_000_000);
    d = read(0x01, 4);
    expect([s16(d[0]!, d[1]!), s16(d[2]!, d[3]!)]).toEqual([100, 0]);
  });

  it('takes one measurement on TM in standby, then clears TM and returns to standby', () => {
    const { clock, mag, write, read } = setup();
    mag.set(-200, 0, 0);
    write(0x10, 0x08 | 0x02); // OS = 1 (32): 25 ms, TM
    expect(read(0x08, 1)).toEqual([2]);
    clock.advanceTo(24_999_999);
    expect(read(0x00, 1)).toEqual([0]);
    clock.advanceTo(25_000_000);
    expect(read(0x10, 1)).toEqual([0x08]);
    expect(read(0x08, 1)).toEqual([0]);
    const d = read(0x01, 2);
    expect(s16(d[0]!, d[1]!)).toBe(-2);
    clock.advanceTo(1_000_000_000);
    expect(read(0x00, 1)).toEqual([0x0e]); // no further measurement; X read, Y and Z not
  });

  it('skips the LSB registers with FR', () => {
    const { clock, mag, write, read } = setup();
    mag.set(25_600, 51_200, -25_600); // 256, 512, -256 counts
    write(0x10, 0x05);
    clock.advanceTo(12_500_000);
    expect(read(0x00, 5)).toEqual([0x0f, 1, 2, 0xff, 0xc4]);
  });

  it('saturates the field at ±1000 µT', () => {
    const { clock, mag, write, read } = setup();
    mag.set(2_000_000, 0, 0);
    write(0x11, 0x20);
    write(0x10, 0x01);
    clock.advanceTo(12_500_000);
    const d = read(0x01, 2);
    expect(s16(d[0]!, d[1]!)).toBe(10_000);
  });

  it('reads the die temperature property', () => {
    const { mag, read } = setup();
    mag.setProperty('die-temperature', -5);
    expect(read(0x0f, 1)).toEqual([0xfb]);
  });

  it('round-trips its state with a pending measurement', () => {
    const a = setup();
    a.mag.set(500, 0, 0);
    a.write(0x10, 0x01);
    a.clock.advanceTo(5_000_000);
    const state = JSON.parse(JSON.stringify(a.mag.saveState()));
    const b = setup();
    b.clock.advanceTo(5_000_000);
    b.mag.loadState(state);
    b.clock.advanceTo(12_500_000);
    const d = b.read(0x00, 3);
    expect(d[0]).toBe(0x0f);
    expect(s16(d[1]!, d[2]!)).toBe(5);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { I2CBus } from '../i2c/i2c-bus.js';
import { MMA8653FC_ADDRESS, Mma8653fc } from './mma8653fc.js';

function setup() {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  const accel = new Mma8653fc();
  accel.realize({ clock, log });
  const bus = new I2CBus();
  bus.attach(accel, MMA8653FC_ADDRESS);
  const write = (reg: number, ...data: number[]) => {
    expect(bus.start(MMA8653FC_ADDRESS, false)).toBe(true);
    bus.send(reg);
    for (const d of data) bus.send(d);
    bus.stop();
  };
  const read = (reg: number, n: number) => {
    bus.start(MMA8653FC_ADDRESS, false);
    bus.send(reg);
    bus.start(MMA8653FC_ADDRESS, true);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(bus.recv());
    bus.nack();
    bus.stop();
    return out;
  };
  return { clock, log, lines, accel, bus, write, read };
}

/** 10-bit left-justified MSB/LSB pair as a signed count. */
const counts = (msb: number, lsb: number) => (((msb << 8) | lsb) << 16) >> 22;

describe('MMA8653FC accelerometer', () => {
  it('answers WHO_AM_I 0x5A and resets to standby', () => {
    const { read } = setup();
    expect(read(0x0d, 1)).toEqual([0x5a]);
    expect(read(0x0b, 1)).toEqual([0]); // SYSMOD standby
    expect(read(0x2a, 1)).toEqual([0]);
  });

  it('reads set values exactly in each range: -1024 milli-g is -1 g (256/128/64 counts)', () => {
    for (const [fs, perG] of [
      [0, 256],
      [1, 128],
      [2, 64],
    ] as const) {
      const { clock, accel, write, read } = setup();
      accel.set(512, -256, -1024);
      write(0x0e, fs);
      write(0x2a, 0x19); // DR = 3 (100 Hz), ACTIVE
      clock.advanceTo(10_000_000);
      const d = read(0x01, 6);
      expect(counts(d[0]!, d[1]!)).toBe(perG / 2);
      expect(counts(d[2]!, d[3]!)).toBe(-perG / 4);
      expect(counts(d[4]!, d[5]!)).toBe(-perG);
    }
  });

  it('saturates at the 10-bit range', () => {
    const { clock, accel, write, read } = setup();
    accel.set(4096, -4096, 0);
    write(0x2a, 0x01);
    clock.advanceTo(1_250_000);
    const d = read(0x01, 4);
    expect(counts(d[0]!, d[1]!)).toBe(511);
    expect(counts(d[2]!, d[3]!)).toBe(-512);
  });

  it('takes samples at the configured data rate only while active', () => {
    const { clock, write, read } = setup();
    write(0x2a, 0x20 | 1); // DR = 4: 50 Hz, 20 ms
    clock.advanceTo(19_999_999);
    expect(read(0x00, 1)[0]! & 0x08).toBe(0);
    clock.advanceTo(20_000_000);
    expect(read(0x00, 1)[0]).toBe(0x0f); // ZYXDR and X/Y/Z DR
    read(0x01, 6);
    expect(read(0x00, 1)).toEqual([0]);
    clock.advanceTo(40_000_000);
    expect(read(0x00, 1)).toEqual([0x0f]);
    clock.advanceTo(60_000_000); // unread data overwritten
    expect(read(0x00, 1)).toEqual([0xff]);
    write(0x2a, 0x20); // standby
    read(0x01, 6);
    clock.advanceTo(200_000_000);
    expect(read(0x00, 1)).toEqual([0]);
    expect(read(0x0b, 1)).toEqual([0]);
  });

  it('asserts the DRDY interrupt on INT1 (active low, as the DAL polls it) until the data is read', () => {
    const { clock, accel, write, read } = setup();
    const int1 = accel.gpioOut('int1', 0);
    const int2 = accel.gpioOut('int2', 0);
    expect(int1.level).toBe(1);
    write(0x2d, 0x01); // CTRL_REG4: INT_EN_DRDY
    write(0x2e, 0x01); // CTRL_REG5: DRDY on INT1
    write(0x2a, 0x21); // 50 Hz, active
    clock.advanceTo(20_000_000);
    expect(int1.level).toBe(0);
    expect(int2.level).toBe(1);
    expect(read(0x0c, 1)).toEqual([0x01]); // INT_SOURCE.SRC_DRDY
    read(0x01, 6);
    expect(int1.level).toBe(1);
    expect(read(0x0c, 1)).toEqual([0]);
  });

  it('routes DRDY to INT2 active high with CTRL_REG5 = 0 and CTRL_REG3.IPOL', () => {
    const { clock, accel, write } = setup();
    write(0x2c, 0x02);
    write(0x2d, 0x01);
    write(0x2a, 0x01);
    expect(accel.gpioOut('int2', 0).level).toBe(0);
    clock.advanceTo(1_250_000);
    expect(accel.gpioOut('int2', 0).level).toBe(1);
    expect(accel.gpioOut('int1', 0).level).toBe(0);
  });

  it('auto-increments: wraps from OUT_Z_LSB to STATUS, and skips LSBs with F_READ', () => {
    const { clock, accel, write, read } = setup();
    accel.set(1024, 2048, -1024);
    write(0x2a, 0x03); // F_READ, active, 800 Hz
    clock.advanceTo(1_250_000);
    expect(read(0x00, 5)).toEqual([0x0f, 64, 127, 0xc0, 0]);
    write(0x2a, 0x00);
    write(0x2a, 0x01);
    clock.advanceTo(2_500_000);
    expect(read(0x05, 4)).toEqual([0xc0, 0x00, 0x0b, 64]); // ZDR cleared by the Z MSB read
  });

  it('adds the offset registers (1/512 g per LSB)', () => {
    const { clock, write, read } = setup();
    write(0x2f, 0x10, 0xf0, 0); // OFF_X +16 (8 counts at 2 g), OFF_Y -16
    write(0x2a, 0x01);
    clock.advanceTo(1_250_000);
    const d = read(0x01, 4);
    expect(counts(d[0]!, d[1]!)).toBe(8);
    expect(counts(d[2]!, d[3]!)).toBe(-8);
  });

  it('ignores XYZ_DATA_CFG and CTRL_REG1 data-rate writes while active (logged)', () => {
    const { write, read, log, lines } = setup();
    log.configure('guest_errors');
    write(0x2a, 0x01);
    write(0x0e, 0x02);
    write(0x2a, 0x39);
    expect(read(0x0e, 1)).toEqual([0]);
    expect(read(0x2a, 1)).toEqual([0x01]);
    expect(lines.length).toBe(2);
  });

  it('software reset (CTRL_REG2.RST) restores the reset values', () => {
    const { write, read } = setup();
    write(0x0e, 0x01);
    write(0x2a, 0x01);
    write(0x2b, 0x40);
    expect(read(0x2a, 1)).toEqual([0]);
    expect(read(0x0e, 1)).toEqual([0]);
    expect(read(0x2b, 1)).toEqual([0]);
  });

  it('logs unmodelled functions under unimp', () => {
    const { write, log, lines } = setup();
    log.configure('unimp');
    write(0x15, 0x80); // FF_MT_CFG
    write(0x2d, 0x04); // INT_EN_FF_MT
    expect(lines.filter((l) => l.includes('unimplemented')).length).toBe(2);
  });

  it('round-trips its state with a pending sample', () => {
    const a = setup();
    a.accel.set(0, 0, 1024);
    a.write(0x2a, 0x21);
    a.clock.advanceTo(5_000_000);
    const state = JSON.parse(JSON.stringify(a.accel.saveState()));
    const b = setup();
    b.clock.advanceTo(5_000_000);
    b.accel.loadState(state);
    b.clock.advanceTo(20_000_000);
    const d = b.read(0x00, 7);
    expect(d[0]).toBe(0x0f);
    expect(counts(d[5]!, d[6]!)).toBe(256);
    expect(b.accel.values).toEqual([0, 0, 1024]);
  });

  it('exposes x/y/z as mutable properties', () => {
    const { accel } = setup();
    accel.setProperty('y', -300);
    expect(accel.getProperty('y')).toBe(-300);
    expect(() => accel.set(Number.NaN, 0, 0)).toThrow(/finite/);
  });
});

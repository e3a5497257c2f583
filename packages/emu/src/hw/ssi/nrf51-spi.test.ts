import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { Nrf51Spi, SPI_FREQ_M8, type SPISlave } from './nrf51-spi.js';

const ENABLE = 0x500;
const RXD = 0x518;
const TXD = 0x51c;
const FREQUENCY = 0x524;
const CONFIG = 0x554;
const EVENTS_READY = 0x108;

function setup() {
  const clock = new VirtualClock();
  const log = new Log();
  const spi = new Nrf51Spi();
  spi.realize({ clock, log });
  const ready: number[] = [];
  spi.eventLine(0).watch((level) => {
    if (level === 1) ready.push(clock.now);
  });
  return { clock, log, spi, r: spi.registers, ready };
}

describe('nRF51 SPI master', () => {
  it('resets FREQUENCY to K250 and the pin selects to disconnected', () => {
    const { r } = setup();
    expect(r.read(FREQUENCY, 4)).toBe(0x0400_0000);
    for (const o of [0x508, 0x50c, 0x510]) expect(r.read(o, 4)).toBe(0xffff_ffff);
    expect(r.read(ENABLE, 4)).toBe(0);
  });

  it('with no slave (the micro:bit) reads 0xFF, READY after 8 bit times (32 µs at 250 kHz)', () => {
    const { clock, r, ready } = setup();
    r.write(ENABLE, 1, 4);
    r.write(TXD, 0x55, 4);
    clock.advanceTo(31_999);
    expect(ready).toEqual([]);
    clock.advanceTo(100_000);
    expect(ready).toEqual([32_000]);
    expect(r.read(EVENTS_READY, 4)).toBe(1);
    expect(r.read(RXD, 4)).toBe(0xff);
  });

  it('double-buffers TXD and RXD: the second received byte reaches RXD (READY) when the first is read', () => {
    const { clock, r, ready, spi } = setup();
    const sent: number[] = [];
    const slave: SPISlave = {
      transfer: (b) => {
        sent.push(b);
        return b ^ 0xff;
      },
    };
    spi.attach(slave);
    r.write(ENABLE, 1, 4);
    r.write(FREQUENCY, SPI_FREQ_M8, 4); // 1 µs per byte
    r.write(TXD, 0x01, 4);
    r.write(TXD, 0x02, 4);
    r.write(TXD, 0x03, 4); // both buffers full: lost
    clock.advanceTo(10_000);
    expect(sent).toEqual([0x01, 0x02]);
    expect(ready).toEqual([1_000]);
    expect(r.read(RXD, 4)).toBe(0xfe);
    expect(ready).toEqual([1_000, 10_000]);
    expect(r.read(RXD, 4)).toBe(0xfd);
  });

  it('stalls while RXD and its buffer are full and continues when RXD is read', () => {
    const { clock, r, spi } = setup();
    const sent: number[] = [];
    spi.attach({
      transfer: (b) => {
        sent.push(b);
        return b;
      },
    });
    r.write(ENABLE, 1, 4);
    r.write(FREQUENCY, SPI_FREQ_M8, 4);
    r.write(TXD, 1, 4);
    r.write(TXD, 2, 4);
    clock.advanceTo(5_000);
    r.write(TXD, 3, 4); // RXD holds 1, buffer holds 2: no room for a reply
    clock.advanceTo(10_000);
    expect(sent).toEqual([1, 2]);
    expect(r.read(RXD, 4)).toBe(1);
    clock.advanceTo(20_000);
    expect(sent).toEqual([1, 2, 3]);
  });

  it('sends LSB first when CONFIG.ORDER is set (the slave sees the wire order)', () => {
    const { clock, r, spi } = setup();
    const sent: number[] = [];
    spi.attach({
      transfer: (b) => {
        sent.push(b);
        return 0x80;
      },
    });
    r.write(ENABLE, 1, 4);
    r.write(CONFIG, 1, 4);
    r.write(TXD, 0x01, 4);
    clock.advanceTo(100_000);
    expect(sent).toEqual([0x80]);
    expect(r.read(RXD, 4)).toBe(0x01);
  });

  it('ignores TXD while disabled', () => {
    const { clock, r, ready } = setup();
    r.write(TXD, 0x55, 4);
    clock.advanceTo(100_000);
    expect(ready).toEqual([]);
  });

  it('round-trips its state with a byte being shifted', () => {
    const a = setup();
    a.r.write(ENABLE, 1, 4);
    a.r.write(TXD, 0x12, 4);
    a.clock.advanceTo(10_000);
    const state = JSON.parse(JSON.stringify(a.spi.saveState()));
    const b = setup();
    b.clock.advanceTo(10_000);
    b.spi.loadState(state);
    b.clock.advanceTo(50_000);
    expect(b.ready).toEqual([32_000]);
    expect(b.r.read(RXD, 4)).toBe(0xff);
  });
});

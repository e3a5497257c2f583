import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import '../sensor/mag3110.js';
import { Mma8653fc } from '../sensor/mma8653fc.js';
import { Nrf51SerialBox } from './nrf51-serial-box.js';

const STARTTX = 0x008;
const STOP = 0x014;
const SUSPEND = 0x01c;
const EVENTS_STOPPED = 0x104;
const EVENTS_READY = 0x108;
const EVENTS_BB = 0x138;
const INTENSET = 0x304;
const ENABLE = 0x500;
const PSEL0 = 0x508;
const PSELMISO = 0x510;
const RXD = 0x518;
const TXD = 0x51c;
const FREQUENCY = 0x524;
const ADDRESS = 0x588;

function setup() {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  const box = new Nrf51SerialBox();
  box.realize({ clock, log });
  const accel = new Mma8653fc();
  accel.realize({ clock, log });
  box.twi.bus.attach(accel, 0x1d);
  return { clock, log, lines, box, mmio: box.mmio(0) };
}

describe('nRF51 SPI/TWI at a shared ID', () => {
  it('is registered with the other nRF51 blocks', () => {
    for (const t of ['nrf51_soc.spi_twi', 'nrf51_soc.twi', 'nrf51_soc.spi', 'mma8653fc', 'mag3110']) {
      expect(findDeviceType(t)?.create?.().typeName).toBe(t);
    }
  });

  it('keeps configuration written before ENABLE for whichever block is then enabled', () => {
    const { box, mmio } = setup();
    box.write(PSEL0, 0, 4);
    box.write(FREQUENCY, 0x0668_0000, 4);
    box.write(ENABLE, 5, 4);
    expect(box.twi.registers.read(PSEL0, 4)).toBe(0);
    expect(box.spi.registers.read(PSEL0, 4)).toBe(0);
    expect(box.read(FREQUENCY, 4)).toBe(0x0668_0000);
    expect(mmio.size).toBe(0x1000);
  });

  it('routes to the TWI when ENABLE = 5: a probe of the accelerometer completes with an interrupt', () => {
    const { clock, box } = setup();
    box.write(ENABLE, 5, 4);
    box.write(FREQUENCY, 0x0198_0000, 4);
    box.write(ADDRESS, 0x1d, 4);
    box.write(INTENSET, 1 << 1, 4); // STOPPED
    box.write(TXD, 0x0d, 4);
    box.write(STARTTX, 1, 4);
    clock.advanceTo(180_000);
    box.write(STOP, 1, 4);
    clock.advanceTo(200_000);
    expect(box.read(EVENTS_STOPPED, 4)).toBe(1);
    expect(box.gpioOut('', 0).level).toBe(1);
    box.write(EVENTS_STOPPED, 0, 4);
    expect(box.gpioOut('', 0).level).toBe(0);
  });

  it('routes to the SPI when ENABLE = 1: READY at 0x108 with 0xFF from the empty bus', () => {
    const { clock, box } = setup();
    box.write(PSELMISO, 3, 4);
    box.write(ENABLE, 1, 4);
    box.write(TXD, 0x12, 4);
    clock.advanceTo(100_000);
    expect(box.read(EVENTS_READY, 4)).toBe(1);
    expect(box.read(RXD, 4)).toBe(0xff);
    expect(box.spi.registers.read(PSELMISO, 4)).toBe(3);
    expect(box.selectedBlock).toBe(box.spi);
  });

  it('gives the PPI the TWI BB event line and the SUSPEND task line', () => {
    const { clock, box } = setup();
    box.write(ENABLE, 5, 4);
    box.write(ADDRESS, 0x1d, 4);
    box.write(TXD, 0x0d, 4);
    const bb: number[] = [];
    box.eventLine(box.eventIndexAt(EVENTS_BB)).watch((l) => {
      if (l === 1) bb.push(clock.now);
    });
    // What MicroPython's PPI channel does: BB -> SUSPEND.
    const suspend = box.taskLine(box.taskIndexAt(SUSPEND));
    box.eventLine(box.eventIndexAt(EVENTS_BB)).connect(suspend);
    box.write(STARTTX, 1, 4);
    clock.advanceTo(1_000_000);
    expect(bb).toEqual([36_000]); // 250 kHz: address byte 36 µs
    expect(box.read(0x148, 4)).toBe(1); // SUSPENDED after the byte
    expect(box.taskIndexAt(0x004)).toBe(-1);
  });

  it('logs selecting the unmodelled SPI slave under unimp', () => {
    const { box, log, lines } = setup();
    log.configure('unimp');
    box.write(ENABLE, 2, 4);
    expect(lines.some((l) => l.includes('SPIS'))).toBe(true);
  });

  it('round-trips its state, including the selected block', () => {
    const a = setup();
    a.box.write(ENABLE, 1, 4);
    a.box.write(TXD, 0x12, 4);
    a.clock.advanceTo(10_000);
    const state = JSON.parse(JSON.stringify(a.box.saveState()));
    const b = setup();
    b.clock.advanceTo(10_000);
    b.box.loadState(state);
    b.clock.advanceTo(100_000);
    expect(b.box.read(EVENTS_READY, 4)).toBe(1);
    expect(b.box.selectedBlock).toBe(b.box.spi);
  });
});

import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../core/address-space.js';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { Nrf51Radio, RadioState, radioCrc } from './nrf51-radio.js';
import { RadioMedium } from './radio-medium.js';

const RAM = 0x2000_0000;
const T = { TXEN: 0x000, RXEN: 0x004, START: 0x008, STOP: 0x00c, DISABLE: 0x010, RSSISTART: 0x014 };
const E = { READY: 0x100, ADDRESS: 0x104, PAYLOAD: 0x108, END: 0x10c, DISABLED: 0x110, RSSIEND: 0x11c };

function setup() {
  const clock = new VirtualClock();
  const log = new Log();
  const root = MemoryRegion.container('system', 2 ** 32);
  root.addSubregion(RAM, MemoryRegion.ram('ram', 0x4000));
  const bus = new AddressSpace('memory', root, log);
  const medium = new RadioMedium();
  const make = () => {
    const r = new Nrf51Radio();
    r.realize({ clock, log });
    r.setDma(bus);
    r.setMedium(medium);
    // The packet format MicroPython's radio module uses: S0 0, LENGTH 8 bits, S1 0,
    // MAXLEN 32, BALEN 4, 16-bit CRC, 1 Mbit/s, channel 7.
    const w = (off: number, v: number) => r.registers.write(off, v >>> 0, 4);
    w(0x510, 0); // MODE Nrf_1Mbit
    w(0x514, 8); // PCNF0 LFLEN=8
    w(0x518, 32 | (4 << 16)); // PCNF1 MAXLEN 32, BALEN 4
    w(0x51c, 0x75626974); // BASE0
    w(0x524, 0x00); // PREFIX0 AP0
    w(0x52c, 0); // TXADDRESS
    w(0x530, 1); // RXADDRESSES
    w(0x534, 2); // CRCCNF 16-bit
    w(0x538, 0x11021);
    w(0x53c, 0xffff);
    w(0x508, 7); // FREQUENCY
    return r;
  };
  return { clock, bus, medium, make };
}

describe('nRF51 RADIO state machine', () => {
  it('ramps up in 130 µs to TXIDLE with READY, and disables with DISABLED after 10 µs', () => {
    const { clock, make } = setup();
    const r = make();
    r.registers.write(T.TXEN, 1, 4);
    expect(r.radioState).toBe(RadioState.TxRu);
    clock.advanceTo(129_999);
    expect(r.registers.read(E.READY, 4)).toBe(0);
    clock.advanceTo(130_000);
    expect(r.registers.read(E.READY, 4)).toBe(1);
    expect(r.registers.read(0x550, 4)).toBe(RadioState.TxIdle);
    r.registers.write(T.DISABLE, 1, 4);
    clock.advanceTo(140_000);
    expect(r.registers.read(E.DISABLED, 4)).toBe(1);
    expect(r.registers.read(0x550, 4)).toBe(RadioState.Disabled);
  });

  it('answers DISABLE in the DISABLED state with a DISABLED event, as radio.on() waits for', () => {
    const { clock, make } = setup();
    const r = make();
    r.registers.write(T.DISABLE, 1, 4);
    clock.advanceTo(clock.now);
    expect(r.registers.read(E.DISABLED, 4)).toBe(1);
  });

  it('samples RSSI and reports the board value', () => {
    const { clock, make } = setup();
    const r = make();
    r.setProperty('rssi', 42);
    r.registers.write(T.RSSISTART, 1, 4);
    clock.advanceTo(8_000);
    expect(r.registers.read(E.RSSIEND, 4)).toBe(1);
    expect(r.registers.read(0x548, 4)).toBe(42);
  });
});

describe('nRF51 RADIO packets over a medium', () => {
  it('sends a packet from RAM with on-air timing and a receiver gets it in its RAM', () => {
    const { clock, bus, medium, make } = setup();
    const tx = make();
    const rx = make();
    const payload = [5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]; // LENGTH 5, "hello"
    bus.writeDebug(RAM, Uint8Array.from(payload));
    tx.registers.write(0x504, RAM, 4);
    rx.registers.write(0x504, RAM + 0x100, 4);
    rx.registers.write(0x200, 1, 4); // SHORTS READY_START
    tx.registers.write(0x200, 1 | 2, 4); // READY_START, END_DISABLE
    rx.registers.write(T.RXEN, 1, 4);
    tx.registers.write(T.TXEN, 1, 4);
    clock.advanceTo(130_000);
    expect(rx.radioState).toBe(RadioState.Rx);
    expect(tx.radioState).toBe(RadioState.Tx);
    // 1 Mbit/s: preamble 1 + address 5 = 6 bytes → 48 µs; body 6 bytes → 48 µs; CRC 2 → 16 µs.
    clock.advanceTo(130_000 + 47_999);
    expect(tx.registers.read(E.ADDRESS, 4)).toBe(0);
    clock.advanceTo(130_000 + 48_000);
    expect(tx.registers.read(E.ADDRESS, 4)).toBe(1);
    clock.advanceTo(130_000 + 112_000);
    expect(tx.registers.read(E.END, 4)).toBe(1);
    expect(rx.registers.read(E.END, 4)).toBe(1);
    expect(rx.registers.read(0x400, 4)).toBe(1); // CRCSTATUS OK
    expect([...bus.readDebug(RAM + 0x100, 6)!]).toEqual(payload);
    expect(rx.registers.read(0x40c, 4)).toBe(
      radioCrc(Uint8Array.from([0, 0x75, 0x62, 0x69, 0x74, ...payload]), 2, 0x11021, 0xffff),
    );
    clock.advanceTo(130_000 + 122_000);
    expect(tx.registers.read(E.DISABLED, 4)).toBe(1);
    expect(medium.history).toHaveLength(1);
  });

  it('does not deliver to a receiver on another channel or address', () => {
    const { clock, bus, make } = setup();
    const tx = make();
    const rx = make();
    bus.writeDebug(RAM, Uint8Array.of(1, 0x41));
    tx.registers.write(0x504, RAM, 4);
    rx.registers.write(0x504, RAM + 0x100, 4);
    rx.registers.write(0x508, 9, 4); // other channel
    rx.registers.write(0x200, 1, 4);
    tx.registers.write(0x200, 1, 4);
    rx.registers.write(T.RXEN, 1, 4);
    tx.registers.write(T.TXEN, 1, 4);
    clock.advanceTo(1_000_000);
    expect(tx.registers.read(E.END, 4)).toBe(1);
    expect(rx.registers.read(E.END, 4)).toBe(0);
  });

  it('limits the payload to MAXLEN', () => {
    const { clock, bus, make } = setup();
    const tx = make();
    const rx = make();
    tx.registers.write(0x518, 3 | (4 << 16), 4); // MAXLEN 3
    rx.registers.write(0x518, 3 | (4 << 16), 4);
    bus.writeDebug(RAM, Uint8Array.of(10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    tx.registers.write(0x504, RAM, 4);
    rx.registers.write(0x504, RAM + 0x100, 4);
    rx.registers.write(0x200, 1, 4);
    tx.registers.write(0x200, 1, 4);
    rx.registers.write(T.RXEN, 1, 4);
    tx.registers.write(T.TXEN, 1, 4);
    clock.advanceTo(1_000_000);
    expect([...bus.readDebug(RAM + 0x100, 6)!]).toEqual([10, 1, 2, 3, 0, 0]);
  });
});

describe('nRF51 RADIO snapshot', () => {
  it('round-trips its state with a ramp-up in progress', () => {
    const a = setup();
    const r = a.make();
    r.registers.write(T.TXEN, 1, 4);
    a.clock.advanceTo(50_000);
    const saved = JSON.parse(JSON.stringify(r.saveState()));
    const b = setup();
    b.clock.loadState(a.clock.saveState());
    const r2 = b.make();
    r2.loadState(saved);
    expect(r2.saveState()).toEqual(r.saveState());
    b.clock.advanceTo(130_000);
    expect(r2.registers.read(E.READY, 4)).toBe(1);
  });
});

describe('radioCrc', () => {
  it('computes a 16-bit CRC with the CCITT polynomial, LSB first', () => {
    // No data leaves the initial value; 0x80 sent LSB first is seven 0 bits then a 1, so from
    // 0 only the last bit feeds the polynomial back once.
    expect(radioCrc(new Uint8Array(0), 2, 0x11021, 0xffff)).toBe(0xffff);
    expect(radioCrc(Uint8Array.of(0x80), 2, 0x11021, 0)).toBe(0x1021);
    // 0x01 is a 1 then seven 0 bits: 0x1021 shifted 7 times, with one more feedback when the
    // top bit falls out after the fourth shift: ((0x1021 << 4) & 0xffff ^ 0x1021) << 3.
    expect(radioCrc(Uint8Array.of(0x01), 2, 0x11021, 0)).toBe((((0x1021 << 4) & 0xffff) ^ 0x1021) << 3);
  });
});

import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../core/address-space.js';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { findDeviceType } from '../../core/registry.js';
import { aes128Block, ECB_BLOCK_NS, Nrf51Ecb } from './nrf51-ecb.js';

const STARTECB = 0x000;
const STOPECB = 0x004;
const ENDECB = 0x100;
const ERRORECB = 0x104;
const INTENSET = 0x304;
const ECBDATAPTR = 0x504;

const RAM_BASE = 0x2000_0000;
const FLASH_BASE = 0;

const hexBytes = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => Number.parseInt(b, 16)));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

// FIPS-197 appendix C.1 (AES-128).
const KEY = '000102030405060708090a0b0c0d0e0f';
const PLAIN = '00112233445566778899aabbccddeeff';
const CIPHER = '69c4e0d86a7b0430d8cdb78070b4c55a';

function make() {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = LogCat.GuestErrors;
  const root = MemoryRegion.container('system', 2 ** 32);
  const ram = MemoryRegion.ram('ram', 0x4000);
  root.addSubregion(RAM_BASE, ram);
  root.addSubregion(FLASH_BASE, MemoryRegion.rom('flash', 0x4000));
  const as = new AddressSpace('cpu', root, log);
  const ecb = new Nrf51Ecb();
  ecb.realize({ clock, log });
  ecb.setDma(as);
  return { ecb, clock, as, lines };
}

describe('nRF51 ECB', () => {
  it('resets ECBDATAPTR, events and INTEN to 0 and POWER to 1, and POWER is writable', () => {
    const { ecb } = make();
    expect(ecb.registers.read(ECBDATAPTR, 4)).toBe(0);
    expect(ecb.registers.read(ENDECB, 4)).toBe(0);
    expect(ecb.registers.read(ERRORECB, 4)).toBe(0);
    expect(ecb.registers.read(INTENSET, 4)).toBe(0);
    expect(ecb.registers.read(0xffc, 4)).toBe(1);
    ecb.registers.write(0xffc, 0, 4);
    expect(ecb.registers.read(0xffc, 4)).toBe(0);
  });

  it('computes AES-128 (FIPS-197 C.1)', () => {
    expect(toHex(aes128Block(hexBytes(KEY), hexBytes(PLAIN)))).toBe(CIPHER);
  });

  it('encrypts the block in RAM and generates ENDECB 7.2 µs after STARTECB', () => {
    const { ecb, clock, as } = make();
    const ptr = RAM_BASE + 0x100;
    as.writeDebug(ptr, hexBytes(KEY + PLAIN));
    ecb.registers.write(ECBDATAPTR, ptr, 4);
    ecb.registers.write(STARTECB, 1, 4);
    clock.advanceTo(ECB_BLOCK_NS - 1);
    expect(ecb.registers.read(ENDECB, 4)).toBe(0);
    expect(toHex(as.readDebug(ptr + 32, 16)!)).toBe('00'.repeat(16));
    clock.advanceTo(ECB_BLOCK_NS);
    expect(ecb.registers.read(ENDECB, 4)).toBe(1);
    expect(toHex(as.readDebug(ptr + 32, 16)!)).toBe(CIPHER);
    expect(toHex(as.readDebug(ptr, 32)!)).toBe(KEY + PLAIN);
  });

  it('generates ERRORECB for a pointer outside RAM, and logs it', () => {
    const { ecb, clock, lines } = make();
    for (const ptr of [FLASH_BASE + 0x100, 0x5000_0000, RAM_BASE + 0x4000 - 47]) {
      ecb.registers.write(ERRORECB, 0, 4);
      ecb.registers.write(ECBDATAPTR, ptr, 4);
      ecb.registers.write(STARTECB, 1, 4);
      expect(ecb.registers.read(ERRORECB, 4)).toBe(1);
      clock.advanceBy(ECB_BLOCK_NS);
      expect(ecb.registers.read(ENDECB, 4)).toBe(0);
    }
    expect(lines.filter((l) => l.includes('ECBDATAPTR')).length).toBe(3);
  });

  it('generates ERRORECB when no DMA address space is connected', () => {
    const { ecb } = make();
    ecb.setDma(null);
    ecb.registers.write(ECBDATAPTR, RAM_BASE, 4);
    ecb.registers.write(STARTECB, 1, 4);
    expect(ecb.registers.read(ERRORECB, 4)).toBe(1);
  });

  it('aborts a running encryption on STOPECB with ERRORECB and writes nothing', () => {
    const { ecb, clock, as } = make();
    as.writeDebug(RAM_BASE, hexBytes(KEY + PLAIN));
    ecb.registers.write(ECBDATAPTR, RAM_BASE, 4);
    ecb.registers.write(STARTECB, 1, 4);
    ecb.registers.write(STOPECB, 1, 4);
    expect(ecb.registers.read(ERRORECB, 4)).toBe(1);
    clock.advanceBy(ECB_BLOCK_NS);
    expect(ecb.registers.read(ENDECB, 4)).toBe(0);
    expect(toHex(as.readDebug(RAM_BASE + 32, 16)!)).toBe('00'.repeat(16));
  });

  it('STOPECB while idle generates nothing', () => {
    const { ecb } = make();
    ecb.registers.write(STOPECB, 1, 4);
    expect(ecb.registers.read(ERRORECB, 4)).toBe(0);
  });

  it('STARTECB during an encryption generates ERRORECB and the first one still completes', () => {
    const { ecb, clock, as } = make();
    as.writeDebug(RAM_BASE, hexBytes(KEY + PLAIN));
    ecb.registers.write(ECBDATAPTR, RAM_BASE, 4);
    ecb.registers.write(STARTECB, 1, 4);
    clock.advanceBy(1000);
    ecb.registers.write(STARTECB, 1, 4);
    expect(ecb.registers.read(ERRORECB, 4)).toBe(1);
    clock.advanceTo(ECB_BLOCK_NS);
    expect(ecb.registers.read(ENDECB, 4)).toBe(1);
    expect(toHex(as.readDebug(RAM_BASE + 32, 16)!)).toBe(CIPHER);
  });

  it('raises its IRQ for ENDECB and ERRORECB when enabled', () => {
    const { ecb, clock, as } = make();
    const irq = ecb.gpioOut('', 0);
    ecb.registers.write(INTENSET, 0b11, 4);
    as.writeDebug(RAM_BASE, hexBytes(KEY + PLAIN));
    ecb.registers.write(ECBDATAPTR, RAM_BASE, 4);
    ecb.registers.write(STARTECB, 1, 4);
    expect(irq.level).not.toBe(1);
    clock.advanceBy(ECB_BLOCK_NS);
    expect(irq.level).toBe(1);
    ecb.registers.write(ENDECB, 0, 4);
    expect(irq.level).toBe(0);
    ecb.registers.write(ECBDATAPTR, 0xffff_fff0, 4);
    ecb.registers.write(STARTECB, 1, 4);
    expect(irq.level).toBe(1);
  });

  it('round-trips its state with an encryption in progress', () => {
    const a = make();
    a.ecb.registers.write(ECBDATAPTR, RAM_BASE + 0x40, 4);
    a.as.writeDebug(RAM_BASE + 0x40, hexBytes(KEY + PLAIN));
    a.ecb.registers.write(STARTECB, 1, 4);
    a.clock.advanceBy(1000);
    const state = JSON.parse(JSON.stringify(a.ecb.saveState()));
    const b = make();
    b.as.writeDebug(RAM_BASE + 0x40, hexBytes(KEY + PLAIN));
    b.clock.loadState(a.clock.saveState());
    b.ecb.loadState(state);
    b.ecb.registers.write(ECBDATAPTR, 0, 4); // the latched pointer is used, not the register
    b.clock.advanceTo(ECB_BLOCK_NS);
    expect(b.ecb.registers.read(ENDECB, 4)).toBe(1);
    expect(toHex(b.as.readDebug(RAM_BASE + 0x60, 16)!)).toBe(CIPHER);
  });

  it('is registered as nrf51_soc.ecb', () => {
    expect(findDeviceType('nrf51_soc.ecb')?.create?.()).toBeInstanceOf(Nrf51Ecb);
  });
});

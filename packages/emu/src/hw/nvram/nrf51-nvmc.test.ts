import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../core/address-space.js';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { MemoryRegion, MemTx } from '../../core/memory.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Nvmc, NVMC_ERASE_PAGE_NS, NVMC_WRITE_NS, type NvmcOperation } from './nrf51-nvmc.js';

const NVMC = 0x4001e000;
const UICR = 0x10001000;
const READY = NVMC + 0x400;
const CONFIG = NVMC + 0x504;
const ERASEPAGE = NVMC + 0x508;
const ERASEALL = NVMC + 0x50c;
const ERASEPCR0 = NVMC + 0x510;
const ERASEUICR = NVMC + 0x514;

/** An nRF51-like bus: flash at 0, UICR at 0x10001000, NVMC registers at 0x4001E000. */
function setup(logSpec = '') {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  if (logSpec) log.configure(logSpec);
  const nvmc = new Nrf51Nvmc();
  nvmc.realize({ clock: new VirtualClock(), log });
  const sys = MemoryRegion.container('system', 0x1_0000_0000);
  sys.addSubregion(0, nvmc.flash);
  sys.addSubregion(UICR, nvmc.uicr);
  sys.addSubregion(NVMC, nvmc.mmio(0));
  const bus = new AddressSpace('cpu', sys, log);
  const ops: Array<[NvmcOperation, number]> = [];
  nvmc.onOperation = (op, ns) => ops.push([op, ns]);
  return { nvmc, bus, lines, ops };
}

describe('nRF51 NVMC', () => {
  it('resets to read-only mode with READY = 1 and erased flash and UICR', () => {
    const { nvmc, bus } = setup();
    expect(bus.read32(READY)).toBe(1);
    expect(bus.read32(CONFIG)).toBe(0);
    expect(nvmc.flash.size).toBe(256 * 1024);
    expect(bus.read32(0x0)).toBe(0xffffffff);
    expect(bus.read32(0x3fffc)).toBe(0xffffffff);
    expect(bus.read32(UICR + 0x14)).toBe(0xffffffff); // BOOTLOADERADDR
    expect(nvmc.uicr.size).toBe(0x400);
  });

  it('programs flash words with NOR semantics when CONFIG.WEN = 1', () => {
    const { bus, ops } = setup();
    bus.write32(CONFIG, 1);
    expect(bus.write32(0x1000, 0x12345678)).toBe(MemTx.Ok);
    expect(bus.read32(0x1000)).toBe(0x12345678);
    // A second write can only clear more bits: new = old & value.
    bus.write32(0x1000, 0xff00ff0f);
    expect(bus.read32(0x1000)).toBe(0x12005608);
    expect(ops).toEqual([
      ['write', NVMC_WRITE_NS],
      ['write', NVMC_WRITE_NS],
    ]);
  });

  it('programs UICR words (BOOTLOADERADDR) the same way', () => {
    const { bus } = setup();
    bus.write32(CONFIG, 1);
    bus.write32(UICR + 0x14, 0x0003c000);
    expect(bus.read32(UICR + 0x14)).toBe(0x0003c000);
  });

  it('ignores flash writes without WEN and logs them under guest_errors', () => {
    const { bus, lines, ops } = setup('guest_errors');
    expect(bus.write32(0x2000, 0)).toBe(MemTx.Ok);
    expect(bus.read32(0x2000)).toBe(0xffffffff);
    bus.write32(CONFIG, 2); // erase mode does not program either
    bus.write32(UICR, 0);
    expect(bus.read32(UICR)).toBe(0xffffffff);
    expect(ops).toEqual([]);
    expect(lines).toEqual([
      'nrf51_soc.nvm: write to nrf51_soc.flash at offset 0x2000 (value 0x0) ignored: CONFIG.WEN is 0',
      'nrf51_soc.nvm: write to nrf51_soc.uicr at offset 0x0 (value 0x0) ignored: CONFIG.WEN is 2',
    ]);
  });

  it('ignores byte, halfword and unaligned flash stores even with WEN, with a guest_errors line', () => {
    const { bus, lines } = setup('guest_errors');
    bus.write32(CONFIG, 1);
    bus.write8(0x100, 0);
    bus.write16(0x104, 0);
    expect(bus.read32(0x100)).toBe(0xffffffff);
    expect(bus.read32(0x104)).toBe(0xffffffff);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/1-byte write to nrf51_soc.flash at offset 0x100 ignored/);
  });

  it('erases the page containing the ERASEPAGE address when CONFIG.WEN = 2', () => {
    const { bus, ops } = setup();
    bus.write32(CONFIG, 1);
    bus.write32(0x07fc, 0); // last word of page 1
    bus.write32(0x0800, 0); // first word of page 2
    bus.write32(0x0bfc, 0); // last word of page 2
    bus.write32(CONFIG, 2);
    bus.write32(ERASEPAGE, 0x0800);
    expect(bus.read32(0x0800)).toBe(0xffffffff);
    expect(bus.read32(0x0bfc)).toBe(0xffffffff);
    expect(bus.read32(0x07fc)).toBe(0); // neighbouring page untouched
    bus.write32(ERASEPCR0, 0x0400);
    expect(bus.read32(0x07fc)).toBe(0xffffffff);
    expect(ops.filter(([op]) => op === 'erase-page')).toEqual([
      ['erase-page', NVMC_ERASE_PAGE_NS],
      ['erase-page', NVMC_ERASE_PAGE_NS],
    ]);
  });

  it('erases page 0 (an address of 0 still erases)', () => {
    const { bus } = setup();
    bus.write32(CONFIG, 1);
    bus.write32(0x0, 0);
    bus.write32(CONFIG, 2);
    bus.write32(ERASEPAGE, 0);
    expect(bus.read32(0)).toBe(0xffffffff);
  });

  it('refuses erases without CONFIG.WEN = 2, and page addresses outside the flash', () => {
    const { bus, lines } = setup('guest_errors');
    bus.write32(CONFIG, 1);
    bus.write32(0x0, 0);
    bus.write32(UICR, 0);
    bus.write32(ERASEPAGE, 0);
    bus.write32(ERASEALL, 1);
    bus.write32(ERASEUICR, 1);
    expect(bus.read32(0x0)).toBe(0);
    expect(bus.read32(UICR)).toBe(0);
    bus.write32(CONFIG, 2);
    bus.write32(ERASEPAGE, 0x40000);
    expect(lines).toEqual([
      'nrf51_soc.nvm: ERASEPAGE of 0x0 ignored: CONFIG.WEN is 1',
      'nrf51_soc.nvm: ERASEALL ignored: CONFIG.WEN is 1',
      'nrf51_soc.nvm: ERASEUICR ignored: CONFIG.WEN is 1',
      'nrf51_soc.nvm: ERASEPAGE address 0x40000 is outside the flash; ignored',
    ]);
  });

  it('ERASEALL erases all flash and the UICR; ERASEUICR only the UICR', () => {
    const { bus } = setup();
    bus.write32(CONFIG, 1);
    bus.write32(0x0, 0);
    bus.write32(0x3fffc, 0);
    bus.write32(UICR + 0x80, 0);
    bus.write32(CONFIG, 2);
    bus.write32(ERASEUICR, 1);
    expect(bus.read32(UICR + 0x80)).toBe(0xffffffff);
    expect(bus.read32(0x0)).toBe(0);
    bus.write32(CONFIG, 1);
    bus.write32(UICR + 0x80, 0);
    bus.write32(CONFIG, 2);
    bus.write32(ERASEALL, 1);
    expect(bus.read32(0x0)).toBe(0xffffffff);
    expect(bus.read32(0x3fffc)).toBe(0xffffffff);
    expect(bus.read32(UICR + 0x80)).toBe(0xffffffff);
  });

  it('lets loaders write flash and UICR through writeDebug whatever CONFIG says', () => {
    const { bus } = setup();
    expect(bus.writeDebug(UICR + 0x14, Uint8Array.of(0x00, 0xc0, 0x03, 0x00))).toBe(true);
    expect(bus.writeDebug(0x18000, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(bus.read32(UICR + 0x14)).toBe(0x0003c000);
    expect(bus.read8(0x18002)).toBe(3);
  });

  it('keeps flash contents across a device reset and resets CONFIG', () => {
    const { nvmc, bus } = setup();
    bus.write32(CONFIG, 1);
    bus.write32(0x10, 0xa5a5a5a5);
    nvmc.reset();
    expect(bus.read32(CONFIG)).toBe(0);
    expect(bus.read32(0x10)).toBe(0xa5a5a5a5);
  });

  it('honours the flash-size property and rejects sizes that are not whole pages', () => {
    const small = new Nrf51Nvmc();
    small.setProperty('flash-size', 128 * 1024);
    small.realize({ clock: new VirtualClock(), log: new Log() });
    expect(small.flash.size).toBe(128 * 1024);
    const bad = new Nrf51Nvmc();
    bad.setProperty('flash-size', 1000 + 1024);
    expect(() => bad.realize({ clock: new VirtualClock(), log: new Log() })).toThrow(/multiple of 1024/);
  });

  it('saves its registers (not the flash, which the machine saves as memory) and restores them', () => {
    const a = setup();
    a.bus.write32(CONFIG, 1);
    a.bus.write32(0x20, 0);
    const state = JSON.parse(JSON.stringify(a.nvmc.saveState()));
    expect(JSON.stringify(state).length).toBeLessThan(200);
    const b = setup();
    b.nvmc.loadState(state);
    expect(b.bus.read32(CONFIG)).toBe(1);
    b.bus.write32(0x20, 0x0);
    expect(b.bus.read32(0x20)).toBe(0);
  });

  it('is registered under QEMU’s type name', () => {
    expect(findDeviceType('nrf51_soc.nvm')?.userCreatable).toBe(false);
  });
});

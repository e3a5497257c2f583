import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { Log } from './log.js';
import { type AccessSize, MemoryRegion, MemTx, type MmioOps, memoryTopology } from './memory.js';

function capture(spec: string): { log: Log; lines: string[] } {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.configure(spec);
  return { log, lines };
}

function system(): MemoryRegion {
  return MemoryRegion.container('system', 0x1_0000_0000);
}

/** Regions filled with a constant byte, so a read shows which region answered. */
function filledRam(name: string, size: number, fill: number): MemoryRegion {
  const r = MemoryRegion.ram(name, size);
  r.data.fill(fill);
  return r;
}

function counterDevice(): { ops: MmioOps; calls: string[]; reg: { value: number } } {
  const calls: string[] = [];
  const reg = { value: 0 };
  return {
    calls,
    reg,
    ops: {
      read(offset: number, size: AccessSize) {
        calls.push(`r${size}@${offset}`);
        return offset === 0 ? reg.value : 0;
      },
      write(offset: number, value: number, size: AccessSize) {
        calls.push(`w${size}@${offset}=${value.toString(16)}`);
        if (offset === 0) reg.value = value;
      },
    },
  };
}

describe('AddressSpace guest accesses', () => {
  it('reads and writes RAM little-endian and returns unsigned values', () => {
    const root = system();
    const ram = MemoryRegion.ram('sram', 0x4000);
    root.addSubregion(0x20000000, ram);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.write32(0x20000010, 0x89abcdef)).toBe(MemTx.Ok);
    expect(Array.from(ram.data.subarray(0x10, 0x14))).toEqual([0xef, 0xcd, 0xab, 0x89]);
    expect(as.read32(0x20000010)).toBe(0x89abcdef);
    expect(as.read16(0x20000012)).toBe(0x89ab);
    expect(as.read8(0x20000013)).toBe(0x89);
    expect(as.write16(0x20000020, 0x1234)).toBe(MemTx.Ok);
    expect(as.write8(0x20000022, 0x56)).toBe(MemTx.Ok);
    expect(as.read32(0x20000020)).toBe(0x561234);
    expect(as.read(0x20000020, 2)).toBe(0x1234);
    expect(as.write(0x20000024, 0xff, 1)).toBe(MemTx.Ok);
    expect(ram.data[0x24]).toBe(0xff);
  });

  it('allows unaligned accesses inside a region', () => {
    const root = system();
    const ram = MemoryRegion.ram('sram', 0x100);
    ram.data.set([1, 2, 3, 4, 5, 6]);
    root.addSubregion(0, ram);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read32(1)).toBe(0x05040302);
    expect(as.read16(3)).toBe(0x0504);
  });

  it('answers DecodeError for unassigned addresses and logs it under guest_errors', () => {
    const root = system();
    root.addSubregion(0, MemoryRegion.ram('sram', 0x1000));
    const { log, lines } = capture('guest_errors');
    const as = new AddressSpace('memory', root, log);
    expect(as.read32(0x40001000)).toBe(MemTx.DecodeError);
    expect(as.write8(0x1000, 7)).toBe(MemTx.DecodeError);
    expect(as.read8(0xffffffff)).toBe(MemTx.DecodeError);
    expect(lines).toEqual([
      "Invalid read at addr 0x40001000, size 4, region '(none)', reason: rejected",
      "Invalid write at addr 0x1000, size 1, value 0x7, region '(none)', reason: rejected",
      "Invalid read at addr 0xFFFFFFFF, size 1, region '(none)', reason: rejected",
    ]);
  });

  it('treats addresses as 32-bit unsigned', () => {
    const root = system();
    const top = filledRam('top', 0x1000, 0xaa);
    root.addSubregion(0xfffff000, top);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(-1)).toBe(0xaa);
    expect(as.write32(-4, 0x01020304)).toBe(MemTx.Ok);
    expect(top.data[0xffc]).toBe(0x04);
  });

  it('splits an access straddling two regions into bytes', () => {
    const root = system();
    root.addSubregion(0x0, filledRam('a', 0x100, 0x11));
    const b = filledRam('b', 0x100, 0x22);
    root.addSubregion(0x100, b);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read32(0xfe)).toBe(0x22221111);
    expect(as.write32(0xff, 0xa1b2c3d4)).toBe(MemTx.Ok);
    expect(Array.from(b.data.subarray(0, 3))).toEqual([0xc3, 0xb2, 0xa1]);
    expect(as.read16(0xff)).toBe(0xc3d4);
  });

  it('fails a straddling access that runs into unassigned space', () => {
    const root = system();
    root.addSubregion(0x0, filledRam('a', 0x100, 0x11));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read32(0xfe)).toBe(MemTx.DecodeError);
    expect(as.write16(0xff, 0)).toBe(MemTx.DecodeError);
  });

  it('dispatches mmio accesses to the callbacks with the offset inside the region', () => {
    const root = system();
    const dev = counterDevice();
    root.addSubregion(0x40002000, MemoryRegion.mmio('dev', 0x1000, dev.ops));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.write32(0x40002000, 0x1234)).toBe(MemTx.Ok);
    expect(as.read32(0x40002000)).toBe(0x1234);
    expect(as.read8(0x40002004)).toBe(0);
    expect(dev.calls).toEqual(['w4@0=1234', 'r4@0', 'r1@4']);
  });

  it('returns DeviceError for mmio accesses outside the valid sizes', () => {
    const root = system();
    const dev = counterDevice();
    root.addSubregion(0x40000000, MemoryRegion.mmio('dev', 0x1000, dev.ops, { valid: { min: 4, max: 4 } }));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read16(0x40000000)).toBe(MemTx.DeviceError);
    expect(as.write8(0x40000000, 1)).toBe(MemTx.DeviceError);
    expect(as.read32(0x40000002)).toBe(MemTx.DeviceError);
    expect(dev.calls).toEqual([]);
  });

  it('ignores guest writes to ROM but reports Ok', () => {
    const root = system();
    const flash = MemoryRegion.rom('flash', 0x1000);
    flash.data.set([0x78, 0x56, 0x34, 0x12]);
    root.addSubregion(0, flash);
    const { log, lines } = capture('guest_errors');
    const as = new AddressSpace('memory', root, log);
    expect(as.write32(0, 0xffffffff)).toBe(MemTx.Ok);
    expect(as.read32(0)).toBe(0x12345678);
    expect(lines).toEqual(["write to ROM 'flash' ignored: offset 0x0, size 4, value 0xffffffff"]);
  });

  it('logs unimplemented accesses with the region name under -d unimp', () => {
    const root = system();
    root.addSubregion(0x40000000, MemoryRegion.unimplemented('nrf51_soc.io', 0x10000000), -1000);
    const { log, lines } = capture('unimp');
    const as = new AddressSpace('memory', root, log);
    expect(as.read32(0x4000a504)).toBe(0);
    expect(as.write16(0x4000a508, 0xbeef)).toBe(MemTx.Ok);
    expect(lines).toEqual([
      'nrf51_soc.io: unimplemented device read  (size 4, offset 0x000a504)',
      'nrf51_soc.io: unimplemented device write (size 2, offset 0x000a508, value 0xbeef)',
    ]);
    log.configure('');
    as.read32(0x4000a504);
    expect(lines).toHaveLength(2);
  });
});

describe('AddressSpace flattening', () => {
  it('lets a higher-priority region shadow part of a lower one; removing it reveals the lower one', () => {
    const root = system();
    const low = filledRam('low', 0x1000, 0x11);
    const high = filledRam('high', 0x100, 0x22);
    root.addSubregion(0x0, low);
    root.addSubregion(0x800, high, 1);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(0x7ff)).toBe(0x11);
    expect(as.read8(0x800)).toBe(0x22);
    expect(as.read8(0x8ff)).toBe(0x22);
    expect(as.read8(0x900)).toBe(0x11);
    // The low region's bytes keep their offsets on both sides of the hole.
    expect(as.rangeAt(0x900)).toEqual({ region: low, start: 0x900, end: 0x1000, offset: 0x900 });
    root.removeSubregion(high);
    expect(as.read8(0x800)).toBe(0x11);
    expect(as.flatRanges()).toEqual([{ region: low, start: 0, end: 0x1000, offset: 0 }]);
  });

  it('keeps a lower-priority region behind an earlier-added higher one', () => {
    const root = system();
    root.addSubregion(0x0, filledRam('high', 0x100, 0x22), 5);
    root.addSubregion(0x0, filledRam('low', 0x1000, 0x11), 0);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(0x0)).toBe(0x22);
    expect(as.read8(0x100)).toBe(0x11);
  });

  it('lets the later-added region win between equal priorities', () => {
    const root = system();
    root.addSubregion(0x0, filledRam('first', 0x100, 0x11));
    root.addSubregion(0x80, filledRam('second', 0x100, 0x22));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(0x7f)).toBe(0x11);
    expect(as.read8(0x80)).toBe(0x22);
    expect(as.read8(0x17f)).toBe(0x22);
  });

  it('maps an alias as a window into its target starting at the alias offset', () => {
    const root = system();
    const flash = MemoryRegion.rom('flash', 0x10000);
    for (let i = 0; i < flash.data.length; i++) flash.data[i] = i >>> 8;
    root.addSubregion(0x0, flash);
    root.addSubregion(0x10000000, MemoryRegion.alias('window', flash, 0x3000, 0x2000));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(0x10000000)).toBe(0x30);
    expect(as.read8(0x10001fff)).toBe(0x4f);
    expect(as.read8(0x10002000)).toBe(MemTx.DecodeError);
    expect(as.rangeAt(0x10000010)).toEqual({
      region: flash,
      start: 0x10000000,
      end: 0x10002000,
      offset: 0x3000,
    });
  });

  it('writes through a RAM alias into the target', () => {
    const root = system();
    const sram = MemoryRegion.ram('sram', 0x1000);
    root.addSubregion(0x20000000, sram);
    root.addSubregion(0x30000000, MemoryRegion.alias('sram-mirror', sram, 0x800, 0x800));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.write32(0x30000004, 0xdeadbeef)).toBe(MemTx.Ok);
    expect(as.read32(0x20000804)).toBe(0xdeadbeef);
  });

  it('clips subregions to their container and aliases to their target', () => {
    const root = system();
    const box = MemoryRegion.container('box', 0x100);
    box.addSubregion(0x80, filledRam('big', 0x1000, 0x33));
    root.addSubregion(0x1000, box);
    const small = filledRam('small', 0x10, 0x44);
    root.addSubregion(0x2000, MemoryRegion.alias('long-alias', small, 0x8, 0x100));
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read8(0x10ff)).toBe(0x33);
    expect(as.read8(0x1100)).toBe(MemTx.DecodeError);
    expect(as.read8(0x2007)).toBe(0x44);
    expect(as.read8(0x2008)).toBe(MemTx.DecodeError);
  });

  it('re-flattens after addSubregion, removeSubregion and setEnabled', () => {
    const root = system();
    const periph = MemoryRegion.container('periph', 0x10000);
    root.addSubregion(0x40000000, periph);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.read32(0x40001000)).toBe(MemTx.DecodeError);

    const ram = filledRam('late', 0x1000, 0x5a);
    periph.addSubregion(0x1000, ram);
    expect(as.read8(0x40001000)).toBe(0x5a);

    periph.setEnabled(false);
    expect(as.read8(0x40001000)).toBe(MemTx.DecodeError);
    periph.setEnabled(true);
    expect(as.read8(0x40001000)).toBe(0x5a);

    periph.removeSubregion(ram);
    expect(as.read8(0x40001000)).toBe(MemTx.DecodeError);
  });

  it('bumps the topology generation on every tree change and not on no-op toggles', () => {
    const root = system();
    const ram = MemoryRegion.ram('r', 0x10);
    const g0 = memoryTopology.generation;
    root.addSubregion(0, ram);
    ram.setEnabled(true);
    expect(memoryTopology.generation).toBe(g0 + 1);
    ram.setEnabled(false);
    root.removeSubregion(ram);
    expect(memoryTopology.generation).toBe(g0 + 3);
  });

  it('finds the right region among many small neighbours within one lookup page', () => {
    const root = system();
    const regions: MemoryRegion[] = [];
    for (let i = 0; i < 32; i++) {
      const r = filledRam(`p${i}`, 0x400, i);
      regions.push(r);
      root.addSubregion(0x40000000 + i * 0x800, r);
    }
    const as = new AddressSpace('memory', root, new Log());
    for (let i = 31; i >= 0; i--) {
      expect(as.read8(0x40000000 + i * 0x800 + 0x3ff)).toBe(i);
      expect(as.read8(0x40000000 + i * 0x800 + 0x400)).toBe(MemTx.DecodeError);
    }
  });
});

describe('AddressSpace debug path and queries', () => {
  it('writes ROM through writeDebug and reads it back through readDebug', () => {
    const root = system();
    const flash = MemoryRegion.rom('flash', 0x1000);
    root.addSubregion(0, flash);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.writeDebug(0x10, Uint8Array.of(1, 2, 3, 4))).toBe(true);
    expect(as.read32(0x10)).toBe(0x04030201);
    expect(as.readDebug(0xe, 8)).toEqual(Uint8Array.of(0, 0, 1, 2, 3, 4, 0, 0));
  });

  it('spans several regions and goes through mmio callbacks', () => {
    const root = system();
    root.addSubregion(0x0, filledRam('a', 0x10, 0xaa));
    const dev = counterDevice();
    dev.reg.value = 0x44332211;
    root.addSubregion(0x10, MemoryRegion.mmio('dev', 0x10, dev.ops, { valid: { min: 4, max: 4 } }));
    root.addSubregion(0x20, MemoryRegion.unimplemented('unimp', 0x10));
    const { log, lines } = capture('unimp');
    const as = new AddressSpace('memory', root, log);
    expect(as.readDebug(0xe, 0x14)).toEqual(
      Uint8Array.of(0xaa, 0xaa, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    );
    expect(dev.calls).toEqual(['r4@0', 'r4@4', 'r4@8', 'r4@12']);
    expect(lines).toEqual([]);
    expect(as.writeDebug(0x10, Uint8Array.of(0x78, 0x56, 0x34, 0x12))).toBe(true);
    expect(dev.reg.value).toBe(0x12345678);
  });

  it('refuses debug accesses touching unassigned space and writes nothing', () => {
    const root = system();
    const ram = MemoryRegion.ram('ram', 0x10);
    root.addSubregion(0, ram);
    const as = new AddressSpace('memory', root, new Log());
    expect(as.readDebug(0x8, 0x10)).toBeNull();
    expect(as.writeDebug(0x8, new Uint8Array(0x10).fill(9))).toBe(false);
    expect(ram.data[0x8]).toBe(0);
    expect(as.readDebug(0xfffffff0, 0x20)).toBeNull();
  });

  it('gives CPU fast paths a pointer into RAM or ROM bytes, and nothing for mmio', () => {
    const root = system();
    const flash = MemoryRegion.rom('flash', 0x1000);
    root.addSubregion(0, flash);
    root.addSubregion(0x8000, MemoryRegion.alias('flash-hi', flash, 0x800, 0x800));
    root.addSubregion(0x40000000, MemoryRegion.mmio('dev', 0x1000, counterDevice().ops));
    const as = new AddressSpace('memory', root, new Log());
    const p = as.ramPointer(0x8010)!;
    expect(p.data).toBe(flash.data);
    expect(p.base).toBe(0x8000 - 0x800);
    expect(p.start).toBe(0x8000);
    expect(p.end).toBe(0x8800);
    expect(p.writable).toBe(false);
    flash.data[0x810] = 0x42;
    expect(p.data[0x8010 - p.base]).toBe(0x42);
    expect(as.ramPointer(0x40000000)).toBeNull();
    expect(as.ramPointer(0x9000)).toBeNull();
    expect(as.rangeAt(0x9000)).toBeUndefined();
  });

  it('prints info mtree with the address-space header and the alias targets', () => {
    const root = system();
    const flash = MemoryRegion.rom('nrf51.flash', 0x40000);
    root.addSubregion(0, flash);
    root.addSubregion(0x20000000, MemoryRegion.ram('nrf51.sram', 0x4000));
    root.addSubregion(0x10000000, MemoryRegion.alias('flash-alias', flash, 0, 0x1000));
    const as = new AddressSpace('cpu-memory-0', root, new Log());
    expect(as.mtree()).toBe(
      [
        'address-space: cpu-memory-0',
        '  0000000000000000-00000000ffffffff (prio 0, i/o): system',
        '    0000000000000000-000000000003ffff (prio 0, rom): nrf51.flash',
        '    0000000010000000-0000000010000fff (prio 0, rom): alias flash-alias @nrf51.flash 0000000000000000-0000000000000fff',
        '    0000000020000000-0000000020003fff (prio 0, ram): nrf51.sram',
        '',
        'memory-region: nrf51.flash',
        '  0000000000000000-000000000003ffff (prio 0, rom): nrf51.flash',
        '',
        '',
      ].join('\n'),
    );
    expect(as.mtreeFlat()).toContain(
      '  0000000010000000-0000000010000fff (rom): nrf51.flash\n  0000000020000000-0000000020003fff (ram): nrf51.sram',
    );
  });
});

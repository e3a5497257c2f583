import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { Log } from './log.js';
import { type AccessSize, MemoryRegion, MemTx, type MmioOps } from './memory.js';

function capture(spec: string): { log: Log; lines: string[] } {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.configure(spec);
  return { log, lines };
}

/** A device model recording every callback, backed by a little-endian byte array. */
function recordingDevice(size: number): { ops: MmioOps; calls: string[]; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  const calls: string[] = [];
  const ops: MmioOps = {
    read(offset: number, s: AccessSize) {
      calls.push(`r${s}@${offset}`);
      let v = 0;
      for (let i = 0; i < s; i++) v |= bytes[offset + i]! << (8 * i);
      return v >>> 0;
    },
    write(offset: number, value: number, s: AccessSize) {
      calls.push(`w${s}@${offset}=${value.toString(16)}`);
      for (let i = 0; i < s; i++) bytes[offset + i] = value >>> (8 * i);
    },
  };
  return { ops, calls, bytes };
}

describe('MemoryRegion constructors', () => {
  it('ram and rom own zeroed byte arrays of their size', () => {
    expect(MemoryRegion.ram('r', 0x100).data).toEqual(new Uint8Array(0x100));
    expect(MemoryRegion.rom('f', 0x40).data.length).toBe(0x40);
    expect(MemoryRegion.mmio('m', 0x10, recordingDevice(0x10).ops).data.length).toBe(0);
  });

  it('rejects sizes outside 1..4 GiB and bad access-size rules', () => {
    expect(() => MemoryRegion.ram('r', 0)).toThrow(/size/);
    expect(() => MemoryRegion.container('c', 0x1_0000_0001)).toThrow(/size/);
    expect(() =>
      MemoryRegion.mmio('m', 4, recordingDevice(4).ops, { valid: { min: 4, max: 2, unaligned: false } }),
    ).toThrow(/valid/);
  });

  it('only containers take subregions, and a region is mapped in one container at a time', () => {
    const ram = MemoryRegion.ram('r', 0x10);
    expect(() => ram.addSubregion(0, MemoryRegion.ram('x', 4))).toThrow(/not a container/);
    const a = MemoryRegion.container('a', 0x100);
    const b = MemoryRegion.container('b', 0x100);
    a.addSubregion(0, ram);
    expect(() => b.addSubregion(0, ram)).toThrow(/already mapped in 'a'/);
    a.removeSubregion(ram);
    b.addSubregion(0, ram);
    expect(ram.parent).toBe(b);
    expect(() => a.removeSubregion(ram)).toThrow(/not mapped/);
  });

  it('refuses to put a container inside itself', () => {
    const a = MemoryRegion.container('a', 0x100);
    const b = MemoryRegion.container('b', 0x100);
    a.addSubregion(0, b);
    expect(() => b.addSubregion(0, a)).toThrow(/itself/);
  });

  it('keeps subregions highest priority first, later-added first among equals', () => {
    const c = MemoryRegion.container('c', 0x1000);
    const low = MemoryRegion.ram('low', 0x10);
    const first = MemoryRegion.ram('first', 0x10);
    const second = MemoryRegion.ram('second', 0x10);
    const high = MemoryRegion.ram('high', 0x10);
    c.addSubregion(0, low, -1);
    c.addSubregion(0x100, first);
    c.addSubregion(0x200, high, 5);
    c.addSubregion(0x300, second);
    expect(c.subregions.map((s) => s.region.name)).toEqual(['high', 'second', 'first', 'low']);
  });
});

describe('MemoryRegion mmio access sizes', () => {
  it('extracts a byte read from the wider access the callbacks implement', () => {
    const dev = recordingDevice(8);
    dev.bytes.set([0x11, 0x22, 0x33, 0x44]);
    const r = MemoryRegion.mmio('dev', 8, dev.ops, { impl: { min: 4, max: 4 } });
    const { log } = capture('');
    expect(r.accessRead(2, 1, log)).toBe(0x33);
    expect(r.accessRead(2, 2, log)).toBe(0x4433);
    expect(dev.calls).toEqual(['r4@0', 'r4@0']);
  });

  it('widens a narrow write with read-modify-write of the enclosing word', () => {
    const dev = recordingDevice(8);
    dev.bytes.set([0x11, 0x22, 0x33, 0x44]);
    const r = MemoryRegion.mmio('dev', 8, dev.ops, { impl: { min: 4, max: 4 } });
    expect(r.accessWrite(1, 0xab, 1, new Log())).toBe(MemTx.Ok);
    expect(dev.calls).toEqual(['r4@0', 'w4@0=4433ab11']);
  });

  it('splits a 32-bit access to a byte-wide device into 4 little-endian byte calls', () => {
    const dev = recordingDevice(8);
    dev.bytes.set([0x78, 0x56, 0x34, 0x12], 4);
    const r = MemoryRegion.mmio('dev', 8, dev.ops, { impl: { min: 1, max: 1 } });
    const log = new Log();
    expect(r.accessRead(4, 4, log)).toBe(0x12345678);
    expect(dev.calls).toEqual(['r1@4', 'r1@5', 'r1@6', 'r1@7']);
    dev.calls.length = 0;
    expect(r.accessWrite(0, 0xcafebabe, 4, log)).toBe(MemTx.Ok);
    expect(dev.calls).toEqual(['w1@0=be', 'w1@1=ba', 'w1@2=fe', 'w1@3=ca']);
  });

  it('splits a 32-bit access into two halfword calls when impl.max is 2', () => {
    const dev = recordingDevice(4);
    const r = MemoryRegion.mmio('dev', 4, dev.ops, { impl: { min: 2, max: 2 } });
    expect(r.accessWrite(0, 0x89abcdef, 4, new Log())).toBe(MemTx.Ok);
    expect(dev.calls).toEqual(['w2@0=cdef', 'w2@2=89ab']);
  });

  it('answers DeviceError and logs under guest_errors for sizes outside valid', () => {
    const dev = recordingDevice(8);
    const r = MemoryRegion.mmio('wordonly', 8, dev.ops, { valid: { min: 4, max: 4 } });
    const { log, lines } = capture('guest_errors');
    expect(r.accessRead(0, 1, log)).toBe(MemTx.DeviceError);
    expect(r.accessWrite(4, 1, 2, log)).toBe(MemTx.DeviceError);
    expect(dev.calls).toEqual([]);
    expect(lines).toEqual([
      "Invalid read at offset 0x0 of region 'wordonly', size 1, reason: invalid size (min:4 max:4)",
      "Invalid write at offset 0x4 of region 'wordonly', size 2, reason: invalid size (min:4 max:4)",
    ]);
  });

  it('rejects unaligned accesses unless valid.unaligned, then splits them into bytes', () => {
    const strict = recordingDevice(8);
    const r1 = MemoryRegion.mmio('strict', 8, strict.ops);
    const { log, lines } = capture('guest_errors');
    expect(r1.accessRead(1, 4, log)).toBe(MemTx.DeviceError);
    expect(lines[0]).toContain('reason: unaligned');

    const loose = recordingDevice(8);
    loose.bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const r2 = MemoryRegion.mmio('loose', 8, loose.ops, { valid: { unaligned: true } });
    expect(r2.accessRead(1, 4, log)).toBe(0x05040302);
    expect(loose.calls).toEqual(['r1@1', 'r1@2', 'r1@3', 'r1@4']);
  });

  it('lets the device refuse an access through accepts()', () => {
    const dev = recordingDevice(8);
    const ops: MmioOps = { ...dev.ops, accepts: (_offset, _size, isWrite) => !isWrite };
    const r = MemoryRegion.mmio('ro-dev', 8, ops);
    const { log, lines } = capture('guest_errors');
    expect(r.accessRead(0, 4, log)).toBe(0);
    expect(r.accessWrite(0, 1, 4, log)).toBe(MemTx.DeviceError);
    expect(lines).toEqual(["Invalid write at offset 0x0 of region 'ro-dev', size 4, reason: rejected"]);
  });

  it('logs nothing for bus errors when guest_errors is off', () => {
    const r = MemoryRegion.mmio('wordonly', 8, recordingDevice(8).ops, { valid: { min: 4 } });
    const { log, lines } = capture('unimp');
    expect(r.accessRead(0, 1, log)).toBe(MemTx.DeviceError);
    expect(lines).toEqual([]);
  });
});

describe('MemoryRegion rom and unimplemented', () => {
  it('ignores guest writes to ROM, logs them under guest_errors and reports Ok', () => {
    const rom = MemoryRegion.rom('flash', 0x100);
    rom.data[0x10] = 0x5a;
    const { log, lines } = capture('guest_errors');
    expect(rom.accessWrite(0x10, 0xff, 1, log)).toBe(MemTx.Ok);
    expect(rom.data[0x10]).toBe(0x5a);
    expect(lines).toEqual(["write to ROM 'flash' ignored: offset 0x10, size 1, value 0xff"]);
    rom.debugWrite(0x10, 0xff, 1);
    expect(rom.data[0x10]).toBe(0xff);
  });

  it('sends guest writes to a ROM write handler (romd) while reads and debug writes stay direct', () => {
    const rom = MemoryRegion.rom('flash', 0x100);
    rom.data.fill(0xff);
    const seen: string[] = [];
    rom.setRomWriteHandler((offset, value, size) => {
      seen.push(`w${size}@${offset}=${value.toString(16)}`);
      rom.data[offset] = value & rom.data[offset]!;
      return size === 1 ? MemTx.Ok : MemTx.DeviceError;
    });
    const { log, lines } = capture('guest_errors');
    const sys = MemoryRegion.container('sys', 0x1000);
    sys.addSubregion(0x200, rom);
    const as = new AddressSpace('test', sys, log);
    expect(as.write8(0x210, 0x0f)).toBe(MemTx.Ok);
    expect(as.write32(0x220, 0x12345678)).toBe(MemTx.DeviceError);
    expect(seen).toEqual(['w1@16=f', 'w4@32=12345678']);
    expect(as.read8(0x210)).toBe(0x0f);
    expect(as.ramPointer(0x210)?.writable).toBe(false);
    expect(as.writeDebug(0x230, Uint8Array.of(0x11))).toBe(true);
    expect(rom.data[0x30]).toBe(0x11);
    expect(seen).toHaveLength(2);
    expect(lines).toEqual([]);
    rom.setRomWriteHandler(null);
    expect(as.write8(0x210, 0)).toBe(MemTx.Ok);
    expect(rom.data[0x10]).toBe(0x0f);
    expect(lines).toHaveLength(1);
  });

  it('accepts a ROM write handler only on ROM regions', () => {
    expect(() => MemoryRegion.ram('r', 0x10).setRomWriteHandler(() => MemTx.Ok)).toThrow(/not a ROM/);
  });

  it('reads 0 from an unimplemented region and logs each access under -d unimp', () => {
    const r = MemoryRegion.unimplemented('nrf51_soc.io', 0x1000);
    const { log, lines } = capture('unimp');
    expect(r.accessRead(0x504, 4, log)).toBe(0);
    expect(r.accessWrite(0x8, 0x1, 1, log)).toBe(MemTx.Ok);
    expect(r.accessWrite(0x10, 0xdeadbeef, 4, log)).toBe(MemTx.Ok);
    expect(lines).toEqual([
      'nrf51_soc.io: unimplemented device read  (size 4, offset 0x504)',
      'nrf51_soc.io: unimplemented device write (size 1, offset 0x008, value 0x01)',
      'nrf51_soc.io: unimplemented device write (size 4, offset 0x010, value 0xdeadbeef)',
    ]);
  });

  it('logs nothing for unimplemented accesses when -d unimp is off', () => {
    const r = MemoryRegion.unimplemented('quiet', 0x1000);
    const { log, lines } = capture('guest_errors');
    expect(r.accessRead(0, 4, log)).toBe(0);
    expect(r.accessWrite(0, 4, 4, log)).toBe(MemTx.Ok);
    expect(lines).toEqual([]);
  });
});

describe('MemoryRegion.mtreeLines', () => {
  it('lists the tree like info mtree: by address, with priority, type, aliases and disabled marks', () => {
    const sys = MemoryRegion.container('system', 0x1_0000_0000);
    const flash = MemoryRegion.rom('nrf51.flash', 0x40000);
    const sram = MemoryRegion.ram('nrf51.sram', 0x4000);
    const io = MemoryRegion.unimplemented('nrf51_soc.io', 0x10000000);
    const periph = MemoryRegion.container('periph', 0x1000);
    const uart = MemoryRegion.mmio('nrf51_soc.uart', 0x1000, recordingDevice(4).ops);
    const mirror = MemoryRegion.alias('flash-mirror', flash, 0x1000, 0x2000);
    sys.addSubregion(0x20000000, sram);
    sys.addSubregion(0x0, flash);
    sys.addSubregion(0x40000000, io, -1);
    sys.addSubregion(0x40002000, periph);
    periph.addSubregion(0, uart);
    sys.addSubregion(0x10000000, mirror);
    mirror.setEnabled(false);
    expect(sys.mtreeLines()).toEqual([
      '0000000000000000-00000000ffffffff (prio 0, i/o): system',
      '  0000000000000000-000000000003ffff (prio 0, rom): nrf51.flash',
      '  0000000010000000-0000000010001fff (prio 0, rom): alias flash-mirror @nrf51.flash 0000000000001000-0000000000002fff [disabled]',
      '  0000000020000000-0000000020003fff (prio 0, ram): nrf51.sram',
      '  0000000040000000-000000004fffffff (prio -1, i/o): nrf51_soc.io',
      '  0000000040002000-0000000040002fff (prio 0, i/o): periph',
      '    0000000040002000-0000000040002fff (prio 0, i/o): nrf51_soc.uart',
    ]);
  });
});

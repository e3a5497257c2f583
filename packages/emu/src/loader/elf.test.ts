import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { parseElf32 } from './elf.js';
import { checkOverlaps } from './image.js';
import { requireFirmware } from './test-firmware.js';

interface TestSegment {
  type?: number;
  vaddr?: number;
  paddr: number;
  data: number[];
  memsz?: number;
  flags?: number;
}

/** Builds a minimal ELF32 little-endian executable: header, program headers, segment data. */
function buildElf(segments: TestSegment[], entry = 0, machine = 40): Uint8Array {
  const phoff = 52;
  let dataOff = phoff + 32 * segments.length;
  const size = dataOff + segments.reduce((n, s) => n + s.data.length, 0);
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, entry, true);
  v.setUint32(28, phoff, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, segments.length, true);
  v.setUint16(46, 40, true);
  segments.forEach((s, i) => {
    const ph = phoff + 32 * i;
    v.setUint32(ph, s.type ?? 1, true);
    v.setUint32(ph + 4, dataOff, true);
    v.setUint32(ph + 8, s.vaddr ?? s.paddr, true);
    v.setUint32(ph + 12, s.paddr, true);
    v.setUint32(ph + 16, s.data.length, true);
    v.setUint32(ph + 20, s.memsz ?? s.data.length, true);
    v.setUint32(ph + 24, s.flags ?? 5, true);
    buf.set(s.data, dataOff);
    dataOff += s.data.length;
  });
  return buf;
}

function elfError(buf: Uint8Array, file = 'app.elf'): string {
  try {
    parseElf32(buf, file);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('parseElf32 on our hello firmware', () => {
  const file = readFileSync(requireFirmware('hello.elf'));
  const image = parseElf32(file, 'hello.elf');
  const symbol = (name: string) => image.symbols!.find((s) => s.name === name);

  it('starts at the reset handler', () => {
    expect(image.format).toBe('elf');
    expect(symbol('Reset_Handler')).toMatchObject({ type: 'func', binding: 'global' });
    expect(image.entry).toBe(symbol('Reset_Handler')!.value);
    expect(image.entry! & 1).toBe(1);
  });

  it('has the symbols GDB and tracing need', () => {
    expect(symbol('main')).toMatchObject({ type: 'func', binding: 'global' });
    expect(symbol('main')!.size).toBeGreaterThan(0);
    expect(symbol('message')).toMatchObject({
      type: 'object',
      binding: 'local',
      value: 0x20000000,
      size: 18,
    });
    expect(symbol('vector_table')).toMatchObject({ type: 'object', value: 0, size: 48 * 4 });
  });

  it('loads code at 0 and the initialised data at its flash (physical) address', () => {
    const [text, data] = image.segments;
    expect(image.segments).toHaveLength(2);
    expect(text!.addr).toBe(0);
    expect(text!.source).toBe('segment 0');
    const word = new DataView(text!.data.buffer, text!.data.byteOffset);
    expect(word.getUint32(0, true)).toBe(0x20004000);
    expect(word.getUint32(4, true)).toBe(image.entry);
    // .data is linked for RAM but stored right after the code, where startup.c copies it from.
    expect(data!.addr).toBe(text!.addr + text!.data.length);
    expect(Buffer.from(data!.data).toString('latin1')).toBe('Hello from tsemu\n\0\0\0');
  });

  it('holds the same bytes objcopy put in hello.bin', () => {
    const bin = readFileSync(requireFirmware('hello.bin'));
    const flat = Buffer.concat(image.segments.map((s) => s.data));
    expect(flat).toEqual(bin);
  });
});

describe('parseElf32 on built files', () => {
  it('zero-fills memory past p_filesz', () => {
    const image = parseElf32(
      buildElf([{ paddr: 0x20000000, data: [1, 2, 3], memsz: 8, flags: 6 }]),
      'app.elf',
    );
    expect(image.segments.map((s) => [s.addr, [...s.data]])).toEqual([
      [0x20000000, [1, 2, 3, 0, 0, 0, 0, 0]],
    ]);
  });

  it('skips segments that are not PT_LOAD or are empty', () => {
    const image = parseElf32(
      buildElf([
        { type: 4, paddr: 0x100, data: [9] }, // PT_NOTE
        { paddr: 0x200, data: [] },
        { paddr: 0x300, data: [7] },
      ]),
      'app.elf',
    );
    expect(image.segments.map((s) => [s.addr, s.source])).toEqual([[0x300, 'segment 2']]);
    expect(image.symbols).toBeUndefined();
  });

  it('moves the entry point with an executable segment whose physical address differs', () => {
    const image = parseElf32(
      buildElf([{ vaddr: 0x08000000, paddr: 0x1000, data: Array(16).fill(0), flags: 5 }], 0x08000009),
      'app.elf',
    );
    expect(image.segments[0]!.addr).toBe(0x1000);
    expect(image.entry).toBe(0x1009);
  });

  it('finds overlapping segments by index and range', () => {
    const image = parseElf32(
      buildElf([
        { paddr: 0, data: Array(0x100).fill(1) },
        { paddr: 0x80, data: Array(0x100).fill(2) },
      ]),
      'app.elf',
    );
    expect(() => checkOverlaps(image)).toThrow(
      new UserError(
        'app.elf: segment 0 at 0x00000000-0x000000ff overlaps segment 1 at 0x00000080-0x0000017f',
      ),
    );
  });

  describe('rejects', () => {
    const good = buildElf([{ paddr: 0, data: Array(64).fill(0xaa) }], 1);
    const patched = (off: number, bytes: number[]) => {
      const copy = good.slice();
      copy.set(bytes, off);
      return copy;
    };

    it('a file without the ELF magic', () => {
      expect(elfError(patched(1, [0x45, 0x4c, 0x47]))).toBe('app.elf: not an ELF file (bad magic number)');
    });

    it('a 64-bit ELF file', () => {
      expect(elfError(patched(4, [2]))).toBe('app.elf: is a 64-bit ELF file; tsemu-system-arm loads ELF32');
    });

    it('a big-endian ELF file', () => {
      expect(elfError(patched(5, [2]))).toBe(
        'app.elf: is a big-endian ELF file; tsemu-system-arm loads little-endian ARM',
      );
    });

    it('an unknown class or data encoding', () => {
      expect(elfError(patched(4, [7]))).toBe('app.elf: unknown ELF class 7 (expected 1, ELF32)');
      expect(elfError(patched(5, [0]))).toBe(
        'app.elf: unknown ELF data encoding 0 (expected 1, little-endian)',
      );
    });

    it('another machine', () => {
      expect(elfError(patched(18, [62, 0]))).toBe('app.elf: not an ARM ELF file (e_machine 62)');
    });

    it('a truncated header', () => {
      expect(elfError(good.subarray(0, 40))).toBe(
        'app.elf: truncated ELF header (file is 40 bytes, the header needs 52)',
      );
      expect(elfError(good.subarray(0, 10))).toBe('app.elf: truncated ELF header (file is 10 bytes)');
    });

    it('a truncated program header table', () => {
      expect(elfError(good.subarray(0, 70))).toBe(
        'app.elf: truncated: program header table (e_phoff, 1 entries) at offset 0x00000034 (32 bytes) ' +
          'runs past the end of the file (70 bytes)',
      );
    });

    it('truncated segment data', () => {
      expect(elfError(good.subarray(0, 100))).toBe(
        'app.elf: truncated: segment 0 data (p_offset) at offset 0x00000054 (64 bytes) ' +
          'runs past the end of the file (100 bytes)',
      );
    });

    it('a truncated section header table', () => {
      const file = readFileSync(requireFirmware('hello.elf'));
      const cut = new Uint8Array(file.subarray(0, file.length - 10));
      expect(elfError(cut, 'hello.elf')).toMatch(
        /^hello\.elf: truncated: section header table \(e_shoff, \d+ entries\) at offset 0x[0-9a-f]{8} \(\d+ bytes\) runs past the end of the file \(\d+ bytes\)$/,
      );
    });

    it('bad header sizes', () => {
      expect(elfError(patched(40, [20, 0]))).toBe(
        'app.elf: bad ELF header size e_ehsize 20 (needs at least 52)',
      );
      expect(elfError(patched(42, [16, 0]))).toBe(
        'app.elf: bad program header size e_phentsize 16 (needs at least 32)',
      );
    });

    it('p_filesz larger than p_memsz', () => {
      expect(elfError(patched(52 + 20, [1, 0, 0, 0]))).toBe(
        'app.elf: segment 0: p_filesz 0x00000040 is larger than p_memsz 0x00000001',
      );
    });
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { parseElf32 } from './elf.js';
import { formatHexRecord, parseIntelHex } from './ihex.js';
import { requireFirmware } from './test-firmware.js';

const MICROPYTHON_HEX = '/usr/share/firmware-microbit-micropython/firmware.hex';
const EOF = ':00000001FF';

function bytes(n: number, first = 0): number[] {
  return Array.from({ length: n }, (_, i) => (first + i) & 0xff);
}

function hexOf(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function parseError(text: string, file = 'bad.hex'): string {
  try {
    parseIntelHex(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('parseIntelHex', () => {
  it('places data at the extended linear address and merges touching records', () => {
    const image = parseIntelHex(
      hexOf(
        formatHexRecord(0x04, 0, [0x00, 0x01]),
        formatHexRecord(0x00, 0x0000, bytes(16)),
        formatHexRecord(0x00, 0x0010, bytes(16, 16)),
        formatHexRecord(0x05, 0, [0x00, 0x01, 0x00, 0x09]),
        EOF,
      ),
      'a.hex',
    );
    expect(image.format).toBe('ihex');
    expect(image.file).toBe('a.hex');
    expect(image.entry).toBe(0x10009);
    expect(image.segments).toHaveLength(1);
    const [seg] = image.segments;
    expect(seg!.addr).toBe(0x10000);
    expect([...seg!.data]).toEqual(bytes(32));
    expect(seg!.source).toBe('line 2');
    expect(seg!.records).toEqual([
      { offset: 0, line: 2 },
      { offset: 16, line: 3 },
    ]);
  });

  it('merges records across a 64 KiB boundary when the addresses continue', () => {
    const image = parseIntelHex(
      hexOf(
        formatHexRecord(0x00, 0xfff0, bytes(16)),
        formatHexRecord(0x04, 0, [0x00, 0x01]),
        formatHexRecord(0x00, 0x0000, bytes(16, 16)),
        EOF,
      ),
      'a.hex',
    );
    expect(image.segments.map((s) => [s.addr, s.data.length])).toEqual([[0xfff0, 32]]);
  });

  it('starts a new segment where the addresses jump', () => {
    const image = parseIntelHex(
      hexOf(formatHexRecord(0x00, 0x0000, bytes(4)), formatHexRecord(0x00, 0x0100, bytes(4)), EOF),
      'a.hex',
    );
    expect(image.segments.map((s) => [s.addr, s.source])).toEqual([
      [0x0000, 'line 1'],
      [0x0100, 'line 2'],
    ]);
  });

  it('multiplies an extended segment address by 16 and takes CS:IP as the start address', () => {
    const image = parseIntelHex(
      hexOf(
        formatHexRecord(0x02, 0, [0x12, 0x34]),
        formatHexRecord(0x00, 0x0008, bytes(2)),
        formatHexRecord(0x03, 0, [0x10, 0x00, 0x00, 0x21]),
        EOF,
      ),
      'a.hex',
    );
    expect(image.segments[0]!.addr).toBe(0x12340 + 8);
    expect(image.entry).toBe(0x10000 + 0x21);
  });

  it('wraps data within the 64 KiB segment under an extended segment address', () => {
    const image = parseIntelHex(
      hexOf(formatHexRecord(0x02, 0, [0x10, 0x00]), formatHexRecord(0x00, 0xfffe, [1, 2, 3, 4]), EOF),
      'a.hex',
    );
    expect(image.segments.map((s) => [s.addr, [...s.data]])).toEqual([
      [0x1fffe, [1, 2]],
      [0x10000, [3, 4]],
    ]);
  });

  it('has no entry without a start address record', () => {
    expect(parseIntelHex(hexOf(formatHexRecord(0x00, 0, [1]), EOF), 'a.hex').entry).toBeUndefined();
  });

  it('accepts CR LF line endings, blank lines, surrounding spaces and a byte order mark', () => {
    const text = `\uFEFF${formatHexRecord(0x00, 0, [0xaa])}\r\n\r\n  ${formatHexRecord(0x00, 1, [0xbb])}  \r\n${EOF}\r\n`;
    const image = parseIntelHex(text, 'a.hex');
    expect([...image.segments[0]!.data]).toEqual([0xaa, 0xbb]);
    expect(image.segments[0]!.records).toEqual([
      { offset: 0, line: 1 },
      { offset: 1, line: 3 },
    ]);
  });

  it('ignores everything after the end-of-file record (MakeCode appends 0x0E records there)', () => {
    const image = parseIntelHex(
      hexOf(
        formatHexRecord(0x00, 0, [1, 2]),
        EOF,
        formatHexRecord(0x0e, 0, bytes(8)),
        'not a record at all',
        ':10000000ZZ',
      ),
      'a.hex',
    );
    expect(image.segments.map((s) => [...s.data])).toEqual([[1, 2]]);
  });

  describe('rejects malformed files with FILE:LINE messages', () => {
    it('bad checksum', () => {
      const good = formatHexRecord(0x00, 0x0010, bytes(16));
      const bad = `${good.slice(0, -2)}1F`;
      expect(good.slice(-2)).toBe('68');
      expect(parseError(hexOf(formatHexRecord(0x00, 0, [1]), good, bad, EOF))).toBe(
        'bad.hex:3: checksum mismatch (record says 0x1f, computed 0x68)',
      );
    });

    it('truncated record', () => {
      const line = formatHexRecord(0x00, 0, bytes(16)).slice(0, 27);
      // Line 5, after an address record and three blank lines.
      expect(parseError(hexOf(formatHexRecord(0x04, 0, [0, 0]), '', '', '', line, EOF))).toBe(
        'bad.hex:5: record is truncated (byte count 16 needs 43 characters, line has 27)',
      );
    });

    it('record longer than its byte count', () => {
      expect(parseError(hexOf(`${formatHexRecord(0x00, 0, [1, 2])}00`, EOF))).toBe(
        'bad.hex:1: record is too long (byte count 2 needs 15 characters, line has 17)',
      );
    });

    it('record too short to hold the fixed fields', () => {
      expect(parseError(hexOf(':0000001F', EOF))).toBe(
        'bad.hex:1: record is too short (9 characters; the smallest record has 11)',
      );
    });

    it('unknown record type', () => {
      expect(parseError(hexOf(formatHexRecord(0x00, 0, [1]), formatHexRecord(0x07, 0, []), EOF))).toBe(
        'bad.hex:2: unknown record type 0x07',
      );
    });

    it('non-hex characters, with the column', () => {
      expect(parseError(hexOf(':10000G00000102030405060708090A0B0C0D0E0F78', EOF))).toBe(
        'bad.hex:1: non-hex character "G" at column 7',
      );
    });

    it('a line that is not a record', () => {
      expect(parseError(hexOf(formatHexRecord(0x00, 0, [1]), 'hello', EOF))).toBe(
        "bad.hex:2: record does not start with ':'",
      );
    });

    it('missing end-of-file record', () => {
      expect(parseError(hexOf(formatHexRecord(0x00, 0, [1])))).toBe('bad.hex: no end-of-file record');
      expect(parseError('')).toBe('bad.hex: no end-of-file record');
    });

    it('end-of-file record with data', () => {
      expect(parseError(hexOf(formatHexRecord(0x01, 0, [0, 0])))).toBe(
        'bad.hex:1: end-of-file record has 2 data bytes (needs 0)',
      );
    });

    it('address records of the wrong length', () => {
      expect(parseError(hexOf(formatHexRecord(0x04, 0, [0, 1, 2]), EOF))).toBe(
        'bad.hex:1: extended linear address record has 3 data bytes (needs 2)',
      );
      expect(parseError(hexOf(formatHexRecord(0x02, 0, [0]), EOF))).toBe(
        'bad.hex:1: extended segment address record has 1 data bytes (needs 2)',
      );
      expect(parseError(hexOf(formatHexRecord(0x05, 0, [0, 0]), EOF))).toBe(
        'bad.hex:1: start linear address record has 2 data bytes (needs 4)',
      );
      expect(parseError(hexOf(formatHexRecord(0x03, 0, [0, 0, 0, 0, 0]), EOF))).toBe(
        'bad.hex:1: start segment address record has 5 data bytes (needs 4)',
      );
    });

    it('data past the end of the 32-bit address space', () => {
      expect(
        parseError(hexOf(formatHexRecord(0x04, 0, [0xff, 0xff]), formatHexRecord(0, 0xfffe, [1, 2, 3]), EOF)),
      ).toBe('bad.hex:2: data at 0xfffffffe runs past the end of the 32-bit address space');
    });
  });
});

describe('formatHexRecord', () => {
  it('writes the standard end-of-file and extended linear address records', () => {
    expect(formatHexRecord(0x01, 0, [])).toBe(':00000001FF');
    expect(formatHexRecord(0x04, 0, [0x10, 0x00])).toBe(':020000041000EA');
    expect(formatHexRecord(0x00, 0x0010, new Uint8Array(16))).toBe(
      ':1000100000000000000000000000000000000000E0',
    );
  });
});

describe('the MicroPython 1.9.2 runtime hex', () => {
  const image = parseIntelHex(readFileSync(MICROPYTHON_HEX, 'utf8'), 'firmware.hex');
  const flash = image.segments[0]!;
  const word = (off: number) => new DataView(flash.data.buffer, flash.data.byteOffset).getUint32(off, true);

  it('starts with the vector table at flash address 0', () => {
    expect(flash.addr).toBe(0);
    // Initial stack pointer: the top of the nRF51's 16 KiB of RAM.
    expect(word(0)).toBe(0x20004000);
  });

  it('has a Thumb reset vector equal to the start linear address record', () => {
    expect(word(4) & 1).toBe(1);
    expect(image.entry).toBe(word(4));
  });

  it('fits in the 256 KiB flash and has the UICR words', () => {
    const total = image.segments.reduce((n, s) => n + s.data.length, 0);
    expect(flash.data.length).toBeGreaterThan(128 * 1024);
    expect(flash.data.length).toBeLessThanOrEqual(256 * 1024);
    expect(total).toBeLessThan(256 * 1024 + 1024);
    expect(image.segments.map((s) => s.addr)).toEqual([0, 0x100010c0]);
  });

  it('keeps every record line for messages', () => {
    expect(flash.records![0]).toEqual({ offset: 0, line: 2 });
    expect(flash.records!.every((r, i, all) => i === 0 || r.offset > all[i - 1]!.offset)).toBe(true);
  });
});

describe('our hello firmware', () => {
  it('hex matches the binary objcopy wrote and starts where the ELF says', () => {
    const image = parseIntelHex(readFileSync(requireFirmware('hello.hex'), 'utf8'), 'hello.hex');
    const bin = readFileSync(requireFirmware('hello.bin'));
    expect(image.segments.map((s) => s.addr)).toEqual([0]);
    expect(Buffer.from(image.segments[0]!.data)).toEqual(bin);
    const elf = parseElf32(readFileSync(requireFirmware('hello.elf')), 'hello.elf');
    // objcopy writes the ELF entry point as a start segment address (type 03) record.
    expect(image.entry).toBe(elf.entry);
  });
});

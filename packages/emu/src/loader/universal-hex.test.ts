import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { formatHexRecord, parseIntelHex } from './ihex.js';
import type { LoadSegment } from './image.js';
import {
  createUniversalHex,
  isUniversalHex,
  MICROBIT_V1_BOARD_IDS,
  parseUniversalHex,
  UniversalRecordType,
} from './universal-hex.js';

const MICROPYTHON_HEX = readFileSync('/usr/share/firmware-microbit-micropython/firmware.hex', 'utf8');

/** A stand-in for a v2 image: flash data at 0 and past 64 KiB, and a UICR-like word. */
function fakeV2Hex(): string {
  const lines = [formatHexRecord(0x04, 0, [0, 0])];
  for (let a = 0; a < 0x100; a += 16)
    lines.push(formatHexRecord(0, a, [0x00, 0x00, 0x04, 0x20, ...Array(12).fill(a)]));
  lines.push(formatHexRecord(0x04, 0, [0x00, 0x07]));
  lines.push(formatHexRecord(0, 0xfff8, Array(8).fill(0x5a)));
  lines.push(formatHexRecord(0x04, 0, [0x10, 0x00]));
  lines.push(formatHexRecord(0, 0x1200, [1, 2, 3, 4]));
  lines.push(':00000001FF');
  return `${lines.join('\n')}\n`;
}

/** Address-sorted runs with touching runs joined, so differently split images compare equal. */
function memoryOf(segments: LoadSegment[]): Array<{ addr: number; data: Buffer }> {
  const runs: Array<{ addr: number; data: Buffer }> = [];
  for (const seg of [...segments].sort((a, b) => a.addr - b.addr)) {
    const last = runs[runs.length - 1];
    if (last && last.addr + last.data.length === seg.addr) last.data = Buffer.concat([last.data, seg.data]);
    else runs.push({ addr: seg.addr, data: Buffer.from(seg.data) });
  }
  return runs;
}

function recordType(line: string): number {
  return Number.parseInt(line.slice(7, 9), 16);
}

describe('createUniversalHex and parseUniversalHex', () => {
  const universal = createUniversalHex([
    { hex: MICROPYTHON_HEX, boardId: 0x9900 },
    { hex: fakeV2Hex(), boardId: 0x9903 },
  ]);

  it('gives back exactly the v1 bytes for board 0x9900', () => {
    const image = parseUniversalHex(universal, 'uni.hex', 0x9900);
    expect(image.format).toBe('universal-hex');
    expect(memoryOf(image.segments)).toEqual(memoryOf(parseIntelHex(MICROPYTHON_HEX, 'mp.hex').segments));
  });

  it('gives back exactly the other bytes for board 0x9903', () => {
    const image = parseUniversalHex(universal, 'uni.hex', 0x9903);
    expect(memoryOf(image.segments)).toEqual(memoryOf(parseIntelHex(fakeV2Hex(), 'v2.hex').segments));
  });

  it('accepts a set of board IDs (any micro:bit v1)', () => {
    const image = parseUniversalHex(universal, 'uni.hex', MICROBIT_V1_BOARD_IDS);
    expect(image.segments[0]!.addr).toBe(0);
    expect(image.segments[0]!.data.length).toBe(
      parseIntelHex(MICROPYTHON_HEX, 'mp.hex').segments[0]!.data.length,
    );
  });

  it('names the boards it has when none matches', () => {
    expect(() => parseUniversalHex(universal, 'uni.hex', [0x9901, 0x9904])).toThrow(
      new UserError('uni.hex: no block for board ID 0x9901/0x9904 (blocks found: 0x9900, 0x9903)'),
    );
  });

  it('lays sections out as the specification says', () => {
    const lines = universal.split('\n');
    expect(lines.pop()).toBe('');
    // Section start: extended linear address, then Block Start with the board ID and 0xC0DE.
    expect(lines[0]).toBe(':020000040000FA');
    expect(lines[1]).toBe(formatHexRecord(UniversalRecordType.BlockStart, 0, [0x99, 0x00, 0xc0, 0xde]));
    const v2Start = lines.indexOf(
      formatHexRecord(UniversalRecordType.BlockStart, 0, [0x99, 0x03, 0xc0, 0xde]),
    );
    expect(v2Start).toBeGreaterThan(1);
    expect(recordType(lines[v2Start - 1]!)).toBe(0x04);
    // v1 data in plain data records, other boards' data in Custom Data records, none over 32 bytes.
    const v1Types = new Set(lines.slice(2, v2Start - 1).map(recordType));
    const v2Types = new Set(lines.slice(v2Start + 1, -1).map(recordType));
    expect([...v1Types].sort((a, b) => a - b)).toEqual([0x00, 0x04, 0x0b, 0x0c]);
    expect(v2Types.has(0x0d)).toBe(true);
    expect(v2Types.has(0x00)).toBe(false);
    expect(lines.every((l) => Number.parseInt(l.slice(1, 3), 16) <= 32)).toBe(true);
    // Start address records are left out; one end-of-file record ends the file.
    expect(lines.some((l) => recordType(l) === 0x03 || recordType(l) === 0x05)).toBe(false);
    expect(lines[lines.length - 1]).toBe(':00000001FF');
    expect(lines.filter((l) => recordType(l) === 0x01)).toHaveLength(1);
  });

  it('ends every section on a 512-character boundary', () => {
    let offset = 0;
    const blockEnds: number[] = [];
    for (const line of universal.split('\n').slice(0, -1)) {
      offset += line.length + 1;
      if (recordType(line) === UniversalRecordType.BlockEnd) blockEnds.push(offset);
    }
    expect(blockEnds).toHaveLength(2);
    for (const end of blockEnds) expect(end % 512).toBe(0);
  });

  it('is recognised by isUniversalHex, and a plain hex is not', () => {
    expect(isUniversalHex(universal)).toBe(true);
    expect(isUniversalHex(`\r\n${universal.replace(/\n/g, '\r\n')}`)).toBe(true);
    expect(isUniversalHex(MICROPYTHON_HEX)).toBe(false);
    expect(isUniversalHex('')).toBe(false);
    expect(isUniversalHex('hello')).toBe(false);
  });

  it('is rejected by the plain Intel HEX parser at the Block Start record', () => {
    expect(() => parseIntelHex(universal, 'uni.hex')).toThrow(
      new UserError('uni.hex:2: unknown record type 0x0a'),
    );
  });
});

describe('parseUniversalHex on hand-written files', () => {
  const block = (id: number, ...records: string[]) => [
    formatHexRecord(0x04, 0, [0, 0]),
    formatHexRecord(0x0a, 0, [id >> 8, id & 0xff, 0xc0, 0xde]),
    ...records,
    formatHexRecord(0x0b, 0, [0xff, 0xff]),
  ];

  it('loads data from 0x00 and 0x0D records of its blocks and skips padding and other data', () => {
    const text = [
      ...block(
        0x9900,
        formatHexRecord(0x00, 0x10, [1, 2]),
        formatHexRecord(0x0c, 0, [0xff, 0xff]),
        formatHexRecord(0x0e, 0x10, [9, 9]),
      ),
      ...block(0x9903, formatHexRecord(0x0d, 0x10, [3, 4]), formatHexRecord(0x05, 0, [0, 0, 0, 0x41])),
      ':00000001FF',
    ].join('\n');
    const v1 = parseUniversalHex(text, 'u.hex', 0x9900);
    expect(v1.segments.map((s) => [s.addr, [...s.data], s.source])).toEqual([[0x10, [1, 2], 'line 3']]);
    expect(v1.entry).toBeUndefined();
    const v2 = parseUniversalHex(text, 'u.hex', 0x9903);
    expect(v2.segments.map((s) => [s.addr, [...s.data], s.source])).toEqual([[0x10, [3, 4], 'line 9']]);
    expect(v2.entry).toBe(0x41);
  });

  it('closes a block at the next Block Start or at the end of file, as MakeCode writes them', () => {
    // MakeCode's universal hexes have no Block End records.
    const noEnds = [
      ...block(0x9900, formatHexRecord(0x00, 0, [1, 2])).slice(0, -1),
      ...block(0x9903, formatHexRecord(0x0d, 0, [3, 4])).slice(0, -1),
      ':00000001FF',
    ].join('\n');
    const v1 = parseUniversalHex(noEnds, 'u.hex', 0x9900);
    const v2 = parseUniversalHex(noEnds, 'u.hex', 0x9903);
    expect(v1.segments).toHaveLength(1);
    expect(v2.segments).toHaveLength(1);
    expect(v1.segments[0]!.data).not.toEqual(v2.segments[0]!.data);
  });

  it('reports broken block structure', () => {
    const strayEnd = [formatHexRecord(0x0b, 0, []), ':00000001FF'].join('\n');
    expect(() => parseUniversalHex(strayEnd, 'u.hex', 0x9900)).toThrow(
      new UserError('u.hex:1: block end without a block start'),
    );
    const shortStart = [formatHexRecord(0x0a, 0, [0x99]), ':00000001FF'].join('\n');
    expect(() => parseUniversalHex(shortStart, 'u.hex', 0x9900)).toThrow(
      new UserError('u.hex:1: block start record has 1 data bytes (needs at least 2)'),
    );
    expect(() => parseUniversalHex(block(0x9900).join('\n'), 'u.hex', 0x9900)).toThrow(
      new UserError('u.hex: no end-of-file record'),
    );
    expect(() => parseUniversalHex(':00000001FF', 'u.hex', 0x9900)).toThrow(
      new UserError('u.hex: no block for board ID 0x9900 (blocks found: none)'),
    );
  });
});

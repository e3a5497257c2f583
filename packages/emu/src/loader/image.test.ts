import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { formatHexRecord, parseIntelHex } from './ihex.js';
import { describeAt, type LoadedImage, type LoadTarget, placeImage } from './image.js';

interface FakeRange {
  name: string;
  kind: string;
  start: number;
  end: number;
  bytes: Uint8Array;
}

/** A tiny address space: flash (ROM) at 0, RAM at 0x20000000, a UART (MMIO) at 0x40002000. */
class FakeTarget implements LoadTarget {
  readonly ranges: FakeRange[] = [
    { name: 'flash', kind: 'rom', start: 0, end: 0x1000, bytes: new Uint8Array(0x1000) },
    { name: 'flash-hi', kind: 'rom', start: 0x1000, end: 0x2000, bytes: new Uint8Array(0x1000) },
    { name: 'sram', kind: 'ram', start: 0x20000000, end: 0x20004000, bytes: new Uint8Array(0x4000) },
    { name: 'uart0', kind: 'mmio', start: 0x40002000, end: 0x40003000, bytes: new Uint8Array(0x1000) },
  ];
  writes = 0;

  rangeAt(addr: number) {
    const r = this.ranges.find((x) => addr >= x.start && addr < x.end);
    return r ? { region: { name: r.name, kind: r.kind }, start: r.start, end: r.end } : undefined;
  }

  writeDebug(addr: number, data: Uint8Array): boolean {
    this.writes++;
    for (let i = 0; i < data.length; i++) {
      const r = this.ranges.find((x) => addr + i >= x.start && addr + i < x.end);
      if (!r) return false;
      r.bytes[addr + i - r.start] = data[i]!;
    }
    return true;
  }

  read(addr: number, length: number): number[] {
    const r = this.ranges.find((x) => addr >= x.start && addr < x.end)!;
    return [...r.bytes.subarray(addr - r.start, addr - r.start + length)];
  }

  untouched(): boolean {
    return this.ranges.every((r) => r.bytes.every((b) => b === 0));
  }
}

function placeError(target: LoadTarget, image: LoadedImage): string {
  try {
    placeImage(target, image);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

function seq(n: number, first = 1): number[] {
  return Array.from({ length: n }, (_, i) => (first + i) & 0xff);
}

describe('placeImage', () => {
  it('writes exactly the image bytes, one write per merged segment', () => {
    const target = new FakeTarget();
    const image = parseIntelHex(
      [
        formatHexRecord(0x00, 0x0ff8, seq(8)),
        formatHexRecord(0x00, 0x1000, seq(8, 9)), // continues into the next ROM range
        formatHexRecord(0x04, 0, [0x20, 0x00]),
        formatHexRecord(0x00, 0x0010, [0xaa, 0xbb]),
        ':00000001FF',
      ].join('\n'),
      'fw.hex',
    );
    placeImage(target, image);
    expect(target.writes).toBe(2);
    expect(target.read(0x0ff0, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(target.read(0x0ff8, 8)).toEqual(seq(8));
    expect(target.read(0x1000, 10)).toEqual([...seq(8, 9), 0, 0]);
    expect(target.read(0x2000000f, 4)).toEqual([0, 0xaa, 0xbb, 0]);
  });

  it('names both hex records and their lines when data overlaps', () => {
    const lines = [
      formatHexRecord(0x04, 0, [0, 0]),
      '',
      formatHexRecord(0x00, 0x0f00, [1]),
      '',
      '',
      formatHexRecord(0x00, 0x0ff0, seq(16)),
      formatHexRecord(0x00, 0x1000, seq(16)), // line 7, merged with line 6
      formatHexRecord(0x00, 0x1010, seq(16)),
      '',
      '',
      '',
      formatHexRecord(0x00, 0x1008, seq(16)), // line 12
      ':00000001FF',
    ];
    const target = new FakeTarget();
    expect(placeError(target, parseIntelHex(lines.join('\n'), 'firmware.hex'))).toBe(
      'firmware.hex: data at 0x00001000-0x0000100f (line 7) overlaps data at 0x00001008-0x00001017 (line 12)',
    );
    expect(target.untouched()).toBe(true);
  });

  it('reports an overlap even when a later segment lies inside an earlier long one', () => {
    const image: LoadedImage = {
      format: 'elf',
      file: 'app.elf',
      segments: [
        { addr: 0x100, data: new Uint8Array(4), source: 'segment 0' },
        { addr: 0x0, data: new Uint8Array(0x1000), source: 'segment 1' },
        { addr: 0x800, data: new Uint8Array(4), source: 'segment 2' },
      ],
    };
    expect(placeError(new FakeTarget(), image)).toBe(
      'app.elf: segment 0 at 0x00000100-0x00000103 overlaps segment 1 at 0x00000000-0x00000fff',
    );
  });

  it('rejects a segment outside every memory region', () => {
    const image: LoadedImage = {
      format: 'elf',
      file: 'app.elf',
      segments: [
        { addr: 0, data: new Uint8Array(4), source: 'segment 0' },
        { addr: 0x20000000, data: new Uint8Array(4), source: 'segment 1' },
        { addr: 0x30000000, data: new Uint8Array(0x100), source: 'segment 2' },
      ],
    };
    const target = new FakeTarget();
    expect(placeError(target, image)).toBe(
      'app.elf: segment 2 at 0x30000000-0x300000ff is outside every memory region',
    );
    expect(target.writes).toBe(0);
  });

  it('rejects data that runs off the end of RAM, naming the first missing byte', () => {
    const image: LoadedImage = {
      format: 'elf',
      file: 'app.elf',
      segments: [{ addr: 0x20003ff0, data: new Uint8Array(0x20), source: 'segment 1' }],
    };
    expect(placeError(new FakeTarget(), image)).toBe(
      'app.elf: segment 1 at 0x20003ff0-0x2000400f runs past the end of memory ' +
        '(0x20004000 is outside every memory region)',
    );
  });

  it('names the hex record that misses memory', () => {
    const text = [
      formatHexRecord(0x00, 0x0000, seq(16)),
      formatHexRecord(0x04, 0, [0x30, 0x00]),
      formatHexRecord(0x00, 0x0000, seq(16)),
      ':00000001FF',
    ].join('\n');
    expect(placeError(new FakeTarget(), parseIntelHex(text, 'fw.hex'))).toBe(
      'fw.hex: data at 0x30000000-0x3000000f (line 3) is outside every memory region',
    );
  });

  it('rejects data aimed at device registers', () => {
    const image: LoadedImage = {
      format: 'raw',
      file: 'regs.bin',
      segments: [{ addr: 0x40002000, data: new Uint8Array(4), source: 'image' }],
    };
    expect(placeError(new FakeTarget(), image)).toBe(
      "regs.bin: image at 0x40002000-0x40002003 lies in mmio region 'uart0' at 0x40002000, " +
        'which cannot hold loaded data (only RAM and ROM can)',
    );
  });

  it('accepts an image with no segments', () => {
    const target = new FakeTarget();
    placeImage(target, { format: 'ihex', file: 'empty.hex', segments: [] });
    expect(target.writes).toBe(0);
  });

  it('turns a refused write into a UserError', () => {
    const target = new FakeTarget();
    target.writeDebug = () => false;
    const image: LoadedImage = {
      format: 'raw',
      file: 'a.bin',
      segments: [{ addr: 0, data: new Uint8Array(2), source: 'image' }],
    };
    expect(placeError(target, image)).toBe('a.bin: could not write image at 0x00000000-0x00000001');
  });
});

describe('describeAt', () => {
  it('finds the record holding a byte of a merged segment', () => {
    const seg = {
      addr: 0x100,
      data: new Uint8Array(40),
      source: 'line 3',
      records: [
        { offset: 0, line: 3 },
        { offset: 16, line: 4 },
        { offset: 32, line: 9 },
      ],
    };
    expect(describeAt(seg, 0)).toBe('data at 0x00000100-0x0000010f (line 3)');
    expect(describeAt(seg, 31)).toBe('data at 0x00000110-0x0000011f (line 4)');
    expect(describeAt(seg, 39)).toBe('data at 0x00000120-0x00000127 (line 9)');
  });
});

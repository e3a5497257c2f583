/**
 * The result of parsing a firmware file, and the code that places it into guest memory.
 *
 * Every parser (Intel HEX, micro:bit Universal Hex, ELF, raw) produces a `LoadedImage`: a list of
 * byte runs with their guest addresses plus where each came from, so that `placeImage` can name
 * the offending line or program header when two runs overlap or a run misses memory.
 */
import { UserError } from '../core/errors.js';
import type { ElfSymbol } from './elf.js';

/** Where one Intel HEX record's bytes start inside a merged segment. */
export interface RecordOrigin {
  /** Offset of the record's first byte within `LoadSegment.data`. */
  offset: number;
  /** 1-based line number of the record in the file. */
  line: number;
}

export interface LoadSegment {
  /** Guest physical address of `data[0]`. */
  addr: number;
  data: Uint8Array;
  /**
   * Where the bytes came from, without the file name, for messages: `line 12` (hex, the first
   * record), `segment 1` (ELF program header index) or `image` (raw file).
   */
  source: string;
  /**
   * Hex only: consecutive records at consecutive addresses are merged into one segment (one
   * write instead of thousands); this keeps each record's offset and line, ascending by offset.
   */
  records?: RecordOrigin[];
}

export type ImageFormat = 'ihex' | 'universal-hex' | 'elf' | 'raw';

export interface LoadedImage {
  format: ImageFormat;
  /** The file name as the user gave it (used as the prefix of every message). */
  file: string;
  segments: LoadSegment[];
  /** Start address from the file (hex type 03/05 record, ELF e_entry), if it has one. */
  entry?: number;
  /** ELF symbol table, kept for the GDB stub and tracing. */
  symbols?: ElfSymbol[];
}

/**
 * What placing an image needs from the address space (core/address-space.ts satisfies it
 * structurally): the flat range containing an address (`end` exclusive) and a debug write
 * that also writes ROM.
 */
export interface LoadTarget {
  rangeAt(addr: number): { region: { name: string; kind: string }; start: number; end: number } | undefined;
  writeDebug(addr: number, data: Uint8Array): boolean;
}

/** `0x0000100f`: the form every loader message uses for an address. */
export function hexAddr(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** `0x00001000-0x0000100f` (inclusive end) for `length` bytes at `start`. */
function hexRange(start: number, length: number): string {
  return `${hexAddr(start)}-${hexAddr(start + Math.max(length, 1) - 1)}`;
}

/** One reportable piece of a segment: a hex record, or a whole ELF segment / raw image. */
interface Piece {
  start: number;
  length: number;
  /** `data at 0x...-0x... (line 7)` or `segment 2 at 0x...-0x...`. */
  text: string;
}

/**
 * The piece of `seg` holding the byte at `offset`: for a hex segment the one record that holds
 * it, otherwise the whole segment.
 */
function pieceAt(seg: LoadSegment, offset: number): Piece {
  const records = seg.records;
  if (records && records.length > 0) {
    // Binary search for the last record starting at or before `offset`.
    let lo = 0;
    let hi = records.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (records[mid]!.offset <= offset) lo = mid;
      else hi = mid - 1;
    }
    const rec = records[lo]!;
    const end = lo + 1 < records.length ? records[lo + 1]!.offset : seg.data.length;
    const start = seg.addr + rec.offset;
    const length = end - rec.offset;
    return { start, length, text: `data at ${hexRange(start, length)} (line ${rec.line})` };
  }
  const length = seg.data.length;
  return { start: seg.addr, length, text: `${seg.source} at ${hexRange(seg.addr, length)}` };
}

/** Names the piece of `seg` holding the byte at `offset`, for messages. */
export function describeAt(seg: LoadSegment, offset: number): string {
  return pieceAt(seg, offset).text;
}

/**
 * Throws a UserError naming the first pair of overlapping segments, the one that comes first
 * in the file first.
 */
export function checkOverlaps(image: LoadedImage): void {
  const order = image.segments
    .map((seg, index) => ({ seg, index }))
    .filter((e) => e.seg.data.length > 0)
    .sort((a, b) => a.seg.addr - b.seg.addr || a.index - b.index);
  // Sweep by address; any overlap shows up against the segment reaching furthest so far.
  let reach: { seg: LoadSegment; index: number } | undefined;
  for (const cur of order) {
    if (reach && cur.seg.addr < reach.seg.addr + reach.seg.data.length) {
      const at = cur.seg.addr;
      const [first, second] = reach.index < cur.index ? [reach, cur] : [cur, reach];
      throw new UserError(
        `${image.file}: ${describeAt(first.seg, at - first.seg.addr)} overlaps ` +
          `${describeAt(second.seg, at - second.seg.addr)}`,
      );
    }
    if (!reach || cur.seg.addr + cur.seg.data.length > reach.seg.addr + reach.seg.data.length) reach = cur;
  }
}

/** Throws a UserError unless every byte of `seg` falls in a RAM or ROM region of `target`. */
function checkInMemory(target: LoadTarget, file: string, seg: LoadSegment): void {
  const end = seg.addr + seg.data.length;
  let addr = seg.addr;
  while (addr < end) {
    const range = target.rangeAt(addr);
    const offset = addr - seg.addr;
    if (!range) {
      const piece = pieceAt(seg, offset);
      // Name the first missing byte when the piece starts inside memory and runs off its end.
      throw new UserError(
        piece.start === addr
          ? `${file}: ${piece.text} is outside every memory region`
          : `${file}: ${piece.text} runs past the end of memory (${hexAddr(addr)} is outside every memory region)`,
      );
    }
    const kind = range.region.kind;
    if (kind !== 'ram' && kind !== 'rom') {
      throw new UserError(
        `${file}: ${describeAt(seg, offset)} lies in ${kind} region '${range.region.name}' at ` +
          `${hexAddr(range.start)}, which cannot hold loaded data (only RAM and ROM can)`,
      );
    }
    if (range.end <= addr) throw new Error(`rangeAt(${hexAddr(addr)}) returned a range ending before it`);
    addr = range.end;
  }
}

/**
 * Checks the image (no overlaps, every byte in RAM or ROM) and then writes every segment into
 * the target. Nothing is written when a check fails.
 */
export function placeImage(target: LoadTarget, image: LoadedImage): void {
  checkOverlaps(image);
  for (const seg of image.segments) {
    if (seg.data.length > 0) checkInMemory(target, image.file, seg);
  }
  for (const seg of image.segments) {
    if (seg.data.length === 0) continue;
    if (!target.writeDebug(seg.addr, seg.data)) {
      throw new UserError(`${image.file}: could not write ${describeAt(seg, 0)}`);
    }
  }
}

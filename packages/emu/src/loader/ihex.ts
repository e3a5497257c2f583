/**
 * Intel HEX reader.
 *
 * Record layout: `:` then hex pairs — byte count, 16-bit address (big-endian), record type,
 * data, checksum (two's complement of the sum of all preceding bytes). Types: 00 data, 01 end of
 * file, 02 extended segment address (base = value × 16), 03 start segment address (CS:IP),
 * 04 extended linear address (base = value << 16), 05 start linear address.
 *
 * Everything after the end-of-file record is ignored without being read: MakeCode appends
 * records of type 0x0E there (the program's source), and other tools append free text.
 */
import { UserError } from '../core/errors.js';
import { hexAddr, type LoadedImage, type LoadSegment, type RecordOrigin } from './image.js';

export const RecordType = {
  Data: 0x00,
  EndOfFile: 0x01,
  ExtSegmentAddress: 0x02,
  StartSegmentAddress: 0x03,
  ExtLinearAddress: 0x04,
  StartLinearAddress: 0x05,
} as const;

export interface HexRecord {
  /** 1-based line number. */
  line: number;
  type: number;
  /** The record's 16-bit address field. */
  address: number;
  data: Uint8Array;
}

/** Value of each character code as a hex digit, or -1. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[0x41 + i] = 10 + i;
  HEX_VALUE[0x61 + i] = 10 + i;
}

/** The smallest record: `:` + count, address, type and checksum (5 bytes, 10 digits). */
const MIN_RECORD_CHARS = 11;

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/**
 * Decodes one record (a line with surrounding whitespace removed) and checks its syntax and
 * checksum. `column0` is the 1-based column of the record's ':' for messages.
 */
function decodeRecord(rec: string, file: string, line: number, column0: number): HexRecord {
  const where = `${file}:${line}`;
  if (rec[0] !== ':') throw new UserError(`${where}: record does not start with ':'`);
  for (let i = 1; i < rec.length; i++) {
    const code = rec.charCodeAt(i);
    if (code >= 128 || HEX_VALUE[code]! < 0) {
      throw new UserError(`${where}: non-hex character ${JSON.stringify(rec[i])} at column ${column0 + i}`);
    }
  }
  if (rec.length < MIN_RECORD_CHARS) {
    throw new UserError(
      `${where}: record is too short (${rec.length} characters; the smallest record has ${MIN_RECORD_CHARS})`,
    );
  }
  const byteAt = (i: number): number =>
    (HEX_VALUE[rec.charCodeAt(1 + 2 * i)]! << 4) | HEX_VALUE[rec.charCodeAt(2 + 2 * i)]!;
  const count = byteAt(0);
  // A wrong length also covers an odd number of digits: a whole record is always 11 + 2n long.
  const needed = MIN_RECORD_CHARS + 2 * count;
  if (rec.length !== needed) {
    const problem = rec.length < needed ? 'truncated' : 'too long';
    throw new UserError(
      `${where}: record is ${problem} (byte count ${count} needs ${needed} characters, line has ${rec.length})`,
    );
  }
  let sum = 0;
  for (let i = 0; i < 4 + count; i++) sum += byteAt(i);
  const computed = -sum & 0xff;
  const stated = byteAt(4 + count);
  if (computed !== stated) {
    throw new UserError(
      `${where}: checksum mismatch (record says ${hex2(stated)}, computed ${hex2(computed)})`,
    );
  }
  const data = new Uint8Array(count);
  for (let i = 0; i < count; i++) data[i] = byteAt(4 + i);
  return { line, type: byteAt(3), address: (byteAt(1) << 8) | byteAt(2), data };
}

/**
 * Calls `visit` for each record of `text` in order, until it returns true (the caller saw the
 * end of its data). Blank lines are skipped; LF, CR LF and CR line endings and a leading byte
 * order mark are accepted. Returns whether `visit` stopped the scan.
 */
export function forEachHexRecord(text: string, file: string, visit: (rec: HexRecord) => boolean): boolean {
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!;
    if (i === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    const start = raw.search(/\S/);
    if (start < 0) continue;
    const rec = raw.slice(start).trimEnd();
    if (visit(decodeRecord(rec, file, i + 1, start + 1))) return true;
  }
  return false;
}

const RECORD_NAMES: Record<number, string> = {
  [RecordType.EndOfFile]: 'end-of-file',
  [RecordType.ExtSegmentAddress]: 'extended segment address',
  [RecordType.StartSegmentAddress]: 'start segment address',
  [RecordType.ExtLinearAddress]: 'extended linear address',
  [RecordType.StartLinearAddress]: 'start linear address',
};

/** Data length each standard non-data record type must have. */
const RECORD_LENGTHS: Record<number, number> = {
  [RecordType.EndOfFile]: 0,
  [RecordType.ExtSegmentAddress]: 2,
  [RecordType.StartSegmentAddress]: 4,
  [RecordType.ExtLinearAddress]: 2,
  [RecordType.StartLinearAddress]: 4,
};

/** Throws unless a standard record (types 01–05) has the data length its type requires. */
export function checkRecordLength(rec: HexRecord, file: string): void {
  const want = RECORD_LENGTHS[rec.type];
  if (want !== undefined && rec.data.length !== want) {
    throw new UserError(
      `${file}:${rec.line}: ${RECORD_NAMES[rec.type]} record has ${rec.data.length} data bytes (needs ${want})`,
    );
  }
}

export function unknownRecordType(rec: HexRecord, file: string): UserError {
  return new UserError(`${file}:${rec.line}: unknown record type ${hex2(rec.type)}`);
}

/**
 * Address state of a hex file: the base set by 02/04 records and how data addresses wrap.
 * Under an 02 base, offsets wrap within 64 KiB (the 8086 segment model); under 04 they do not.
 */
export class HexAddressing {
  private base = 0;
  private segmented = false;

  /** Applies an 02 or 04 record (already length-checked). */
  setBase(rec: HexRecord): void {
    const value = (rec.data[0]! << 8) | rec.data[1]!;
    this.segmented = rec.type === RecordType.ExtSegmentAddress;
    this.base = this.segmented ? value * 16 : value * 0x10000;
  }

  /** Adds a data record's bytes to `out` at their absolute addresses. */
  place(rec: HexRecord, file: string, out: SegmentBuilder): void {
    const len = rec.data.length;
    if (len === 0) return;
    if (this.segmented && rec.address + len > 0x10000) {
      const first = 0x10000 - rec.address;
      out.add(this.base + rec.address, rec.data.subarray(0, first), rec.line);
      out.add(this.base, rec.data.subarray(first), rec.line);
      return;
    }
    const addr = this.base + rec.address;
    if (addr + len > 0x1_0000_0000) {
      throw new UserError(
        `${file}:${rec.line}: data at ${hexAddr(addr)} runs past the end of the 32-bit address space`,
      );
    }
    out.add(addr, rec.data, rec.line);
  }
}

/** The start address from an 03 (CS:IP → CS × 16 + IP) or 05 record. */
export function startAddress(rec: HexRecord): number {
  const d = rec.data;
  if (rec.type === RecordType.StartSegmentAddress)
    return ((d[0]! << 8) | d[1]!) * 16 + ((d[2]! << 8) | d[3]!);
  return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
}

/** Collects data records into segments, merging a record into the previous one when they touch. */
export class SegmentBuilder {
  readonly segments: LoadSegment[] = [];
  private chunks: Uint8Array[] = [];
  private records: RecordOrigin[] = [];
  private start = 0;
  private size = 0;

  add(addr: number, data: Uint8Array, line: number): void {
    if (this.chunks.length === 0 || addr !== this.start + this.size) {
      this.flush();
      this.start = addr;
    }
    this.records.push({ offset: this.size, line });
    this.chunks.push(data);
    this.size += data.length;
  }

  /** Ends the current segment; call once more after the last record. */
  flush(): LoadSegment[] {
    if (this.chunks.length > 0) {
      const data = new Uint8Array(this.size);
      let at = 0;
      for (const chunk of this.chunks) {
        data.set(chunk, at);
        at += chunk.length;
      }
      this.segments.push({
        addr: this.start,
        data,
        source: `line ${this.records[0]!.line}`,
        records: this.records,
      });
    }
    this.chunks = [];
    this.records = [];
    this.size = 0;
    return this.segments;
  }
}

/** Parses an Intel HEX file. Throws UserError `FILE:LINE: problem` for any malformed record. */
export function parseIntelHex(text: string, file: string): LoadedImage {
  const out = new SegmentBuilder();
  const addressing = new HexAddressing();
  let entry: number | undefined;
  const sawEnd = forEachHexRecord(text, file, (rec) => {
    checkRecordLength(rec, file);
    switch (rec.type) {
      case RecordType.Data:
        addressing.place(rec, file, out);
        return false;
      case RecordType.EndOfFile:
        return true;
      case RecordType.ExtSegmentAddress:
      case RecordType.ExtLinearAddress:
        addressing.setBase(rec);
        return false;
      case RecordType.StartSegmentAddress:
      case RecordType.StartLinearAddress:
        entry = startAddress(rec);
        return false;
      default:
        throw unknownRecordType(rec, file);
    }
  });
  if (!sawEnd) throw new UserError(`${file}: no end-of-file record`);
  const image: LoadedImage = { format: 'ihex', file, segments: out.flush() };
  if (entry !== undefined) image.entry = entry;
  return image;
}

/** Formats one record (upper-case hex, no line ending); `address` is the 16-bit field. */
export function formatHexRecord(type: number, address: number, data: ArrayLike<number>): string {
  let sum = data.length + (address >> 8) + (address & 0xff) + type;
  let s = `:${byteHex(data.length)}${byteHex(address >> 8)}${byteHex(address & 0xff)}${byteHex(type)}`;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]! & 0xff;
    sum += b;
    s += byteHex(b);
  }
  return s + byteHex(-sum & 0xff);
}

function byteHex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

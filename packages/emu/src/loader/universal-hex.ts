/**
 * micro:bit Universal Hex: one Intel HEX file carrying the images for several boards.
 *
 * Facts from the micro:bit Universal Hex specification (v0.4.0): the file is a run of
 * sections (or, in the older layout, 512-byte blocks), each normally an extended linear address
 * record, then a Block Start record (type 0x0A) whose data is the board ID (big-endian u16,
 * 0x9900/0x9901 micro:bit v1, 0x9903/0x9904 v2) usually followed by 0xC0DE, then data and
 * extended address records, optional Padded Data records (0x0C, contents ignored) and a Block
 * End record (0x0B, data is padding). v1 data uses plain Data records (0x00); data for other
 * boards uses Custom Data records (0x0D), which have the layout of Data records, so that old v1
 * interface firmware, which skips unknown record types, ignores it. Other Data records (0x0E)
 * belong to other tools. Each section is padded to a multiple of 512 characters; a single
 * end-of-file record closes the file.
 */
import { UserError } from '../core/errors.js';
import {
  checkRecordLength,
  forEachHexRecord,
  formatHexRecord,
  HexAddressing,
  parseIntelHex,
  RecordType,
  SegmentBuilder,
  startAddress,
  unknownRecordType,
} from './ihex.js';
import type { LoadedImage } from './image.js';

export const UniversalRecordType = {
  BlockStart: 0x0a,
  BlockEnd: 0x0b,
  PaddedData: 0x0c,
  CustomData: 0x0d,
  OtherData: 0x0e,
} as const;

/** Board IDs of the micro:bit v1 variants (v1.3, v1.3B; v1.5). */
export const MICROBIT_V1_BOARD_IDS: readonly number[] = [0x9900, 0x9901];
/** Board IDs of the micro:bit v2 variants. */
export const MICROBIT_V2_BOARD_IDS: readonly number[] = [0x9903, 0x9904];

/** Sections are aligned to this many characters so no USB block mixes two boards' data. */
const SECTION_ALIGN = 512;
/** Largest data field DAPLink accepts, and the size the specification recommends. */
const RECORD_DATA_BYTES = 32;

function boardHex(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}

/**
 * Whether `text` looks like a Universal Hex: one of its first two records is a Block Start
 * (the specification puts it second, after an extended linear address record).
 */
export function isUniversalHex(text: string): boolean {
  let seen = 0;
  for (const raw of text.split(/\r\n|\n|\r/, 16)) {
    const line = raw.replace(/^\uFEFF/, '').trim();
    if (line === '') continue;
    if (line[0] !== ':' || line.length < 9) return false;
    if (Number.parseInt(line.slice(7, 9), 16) === UniversalRecordType.BlockStart) return true;
    if (++seen === 2) return false;
  }
  return false;
}

/** The board IDs of every block in a Universal Hex, in file order (records are validated). */
export function universalHexBoardIds(text: string, file: string): number[] {
  const ids: number[] = [];
  forEachHexRecord(text, file, (rec) => {
    if (rec.type === UniversalRecordType.BlockStart && rec.data.length >= 2)
      ids.push((rec.data[0]! << 8) | rec.data[1]!);
    return false;
  });
  return ids;
}

/**
 * Extracts the image for one board from a Universal Hex: the data of every block whose board ID
 * is in `boardIds`, plus any plain data records outside blocks (which any board would load).
 */
export function parseUniversalHex(
  text: string,
  file: string,
  boardIds: number | readonly number[],
): LoadedImage {
  const wanted = new Set(typeof boardIds === 'number' ? [boardIds] : boardIds);
  const out = new SegmentBuilder();
  const addressing = new HexAddressing();
  const found: number[] = [];
  let entry: number | undefined;
  let block: { id: number; line: number } | undefined;
  let matched = false;

  const sawEnd = forEachHexRecord(text, file, (rec) => {
    checkRecordLength(rec, file);
    const mine = block === undefined || wanted.has(block.id);
    switch (rec.type) {
      case RecordType.Data:
      case UniversalRecordType.CustomData:
        // Custom data outside a block has no board to belong to.
        if (block === undefined ? rec.type === RecordType.Data : mine) addressing.place(rec, file, out);
        return false;
      case RecordType.ExtSegmentAddress:
      case RecordType.ExtLinearAddress:
        addressing.setBase(rec);
        return false;
      case RecordType.StartSegmentAddress:
      case RecordType.StartLinearAddress:
        if (mine) entry = startAddress(rec);
        return false;
      case RecordType.EndOfFile:
        // MakeCode writes no Block End records: the end of file closes the last block.
        return true;
      case UniversalRecordType.BlockStart: {
        // A new Block Start closes the open block (MakeCode's universal hexes have no Block End).
        if (rec.data.length < 2) {
          throw new UserError(
            `${file}:${rec.line}: block start record has ${rec.data.length} data bytes (needs at least 2)`,
          );
        }
        const id = (rec.data[0]! << 8) | rec.data[1]!;
        block = { id, line: rec.line };
        if (!found.includes(id)) found.push(id);
        if (wanted.has(id)) matched = true;
        return false;
      }
      case UniversalRecordType.BlockEnd:
        if (block === undefined) throw new UserError(`${file}:${rec.line}: block end without a block start`);
        block = undefined;
        return false;
      case UniversalRecordType.PaddedData:
      case UniversalRecordType.OtherData:
        return false;
      default:
        throw unknownRecordType(rec, file);
    }
  });
  if (!sawEnd) throw new UserError(`${file}: no end-of-file record`);
  if (!matched) {
    const want = [...wanted].map(boardHex).join('/');
    const have = found.length > 0 ? found.map(boardHex).join(', ') : 'none';
    throw new UserError(`${file}: no block for board ID ${want} (blocks found: ${have})`);
  }
  const image: LoadedImage = { format: 'universal-hex', file, segments: out.flush() };
  if (entry !== undefined) image.entry = entry;
  return image;
}

/**
 * Builds a Universal Hex in the specification's section layout from plain Intel HEX files, one
 * section per part in the order given (put v1 first, as the specification recommends). Start
 * address records are left out, as the specification says.
 */
export function createUniversalHex(parts: ReadonlyArray<{ hex: string; boardId: number }>): string {
  const lines: string[] = [];
  let length = 0;
  const emit = (type: number, address: number, data: ArrayLike<number>): void => {
    const line = `${formatHexRecord(type, address, data)}\n`;
    lines.push(line);
    length += line.length;
  };
  // A record line of n data bytes is 12 + 2n characters with its newline.
  const recordChars = (n: number): number => 12 + 2 * n;

  for (const { hex, boardId } of parts) {
    if (!Number.isInteger(boardId) || boardId < 0 || boardId > 0xffff) {
      throw new UserError(`board ID ${boardId} is not a 16-bit number`);
    }
    const image = parseIntelHex(hex, `board ${boardHex(boardId)} hex`);
    const dataType = MICROBIT_V1_BOARD_IDS.includes(boardId)
      ? RecordType.Data
      : UniversalRecordType.CustomData;
    let upper = image.segments.length > 0 ? image.segments[0]!.addr >>> 16 : 0;
    emit(RecordType.ExtLinearAddress, 0, [upper >> 8, upper & 0xff]);
    emit(UniversalRecordType.BlockStart, 0, [boardId >> 8, boardId & 0xff, 0xc0, 0xde]);
    for (const seg of image.segments) {
      let offset = 0;
      while (offset < seg.data.length) {
        const addr = seg.addr + offset;
        if (addr >>> 16 !== upper) {
          upper = addr >>> 16;
          emit(RecordType.ExtLinearAddress, 0, [upper >> 8, upper & 0xff]);
        }
        // Records never cross a 64 KiB boundary: the address field is only 16 bits.
        const n = Math.min(RECORD_DATA_BYTES, seg.data.length - offset, 0x10000 - (addr & 0xffff));
        emit(dataType, addr & 0xffff, seg.data.subarray(offset, offset + n));
        offset += n;
      }
    }
    // Pad so that the section, Block End included, ends on a 512-character boundary.
    let remaining = SECTION_ALIGN - ((length + recordChars(0)) % SECTION_ALIGN) + recordChars(0);
    if (remaining > SECTION_ALIGN) remaining -= SECTION_ALIGN;
    while (remaining > recordChars(RECORD_DATA_BYTES)) {
      // Leave at least an empty Block End's worth for the last record.
      const n = Math.min(RECORD_DATA_BYTES, (remaining - 2 * recordChars(0)) / 2);
      emit(UniversalRecordType.PaddedData, 0, new Uint8Array(n).fill(0xff));
      remaining -= recordChars(n);
    }
    emit(UniversalRecordType.BlockEnd, 0, new Uint8Array((remaining - recordChars(0)) / 2).fill(0xff));
  }
  emit(RecordType.EndOfFile, 0, []);
  return lines.join('');
}

/**
 * Firmware loading: detects a file's format and parses it into a `LoadedImage`, which
 * `placeImage` then writes into guest memory.
 */
import { readFileSync } from 'node:fs';
import { describeSystemError, UserError } from '../core/errors.js';
import { isElf, parseElf32 } from './elf.js';
import { parseIntelHex } from './ihex.js';
import type { ImageFormat, LoadedImage } from './image.js';
import { rawImage } from './raw.js';
import { isUniversalHex, parseUniversalHex } from './universal-hex.js';

export * from './elf.js';
export * from './ihex.js';
export * from './image.js';
export * from './raw.js';
export * from './universal-hex.js';

/** How much of a file's start is decoded to tell Intel HEX from Universal Hex. */
const SNIFF_BYTES = 4096;

/** Text of the file's start when it begins (after a BOM and whitespace) with ':'. */
function hexPrefix(bytes: Uint8Array): string | undefined {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || (bytes[i]! >= 0x09 && bytes[i]! <= 0x0d))) i++;
  if (bytes[i] !== 0x3a) return undefined;
  return new TextDecoder().decode(bytes.subarray(i, i + SNIFF_BYTES));
}

/**
 * The format of a firmware file from its contents: ELF by its magic number, Intel HEX or
 * micro:bit Universal Hex by a leading ':' (after an optional byte order mark and whitespace),
 * anything else raw. `file` is accepted for symmetry with the parsers and not used.
 */
export function detectFormat(bytes: Uint8Array, _file?: string): ImageFormat {
  if (isElf(bytes)) return 'elf';
  const text = hexPrefix(bytes);
  if (text === undefined) return 'raw';
  return isUniversalHex(text) ? 'universal-hex' : 'ihex';
}

export interface LoadImageOptions {
  /** Load address for a raw binary (required for one); ignored for ELF and hex files. */
  addr?: number;
  /** Treat the file as a raw binary whatever it looks like. */
  forceRaw?: boolean;
  /** Board IDs whose blocks a Universal Hex contributes (e.g. 0x9900/0x9901 for micro:bit v1). */
  boardIds?: readonly number[];
}

/** Reads and parses a firmware file. Every problem with the file is a UserError. */
export function loadImageFile(path: string, opts: LoadImageOptions = {}): LoadedImage {
  let bytes: Uint8Array;
  try {
    const buf = readFileSync(path);
    bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new UserError(`Could not open '${path}': ${describeSystemError(e)}`);
  }
  const format = opts.forceRaw ? 'raw' : detectFormat(bytes, path);
  switch (format) {
    case 'elf':
      return parseElf32(bytes, path);
    case 'ihex':
      return parseIntelHex(new TextDecoder().decode(bytes), path);
    case 'universal-hex': {
      if (!opts.boardIds || opts.boardIds.length === 0) {
        throw new UserError(
          `${path}: is a micro:bit Universal Hex, but this machine has no board ID to pick a block`,
        );
      }
      return parseUniversalHex(new TextDecoder().decode(bytes), path, opts.boardIds);
    }
    case 'raw':
      if (opts.addr === undefined) {
        throw new UserError(
          `${path}: not an ELF or Intel HEX file, and a raw binary image needs a load address ` +
            `(give one, e.g. -device loader,file=${path},addr=0x0)`,
        );
      }
      return rawImage(bytes, path, opts.addr);
  }
}
export * from './micropython-script.js';

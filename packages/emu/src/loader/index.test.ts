import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { createUniversalHex, detectFormat, formatHexRecord, loadImageFile, rawImage } from './index.js';
import { requireFirmware } from './test-firmware.js';

const dir = mkdtempSync(join(tmpdir(), 'tsemu-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, contents: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

const SMALL_HEX = `${formatHexRecord(0x00, 0x10, [1, 2, 3])}\n:00000001FF\n`;
const enc = (s: string) => new TextEncoder().encode(s);

describe('detectFormat', () => {
  it('tells ELF, Intel HEX, Universal Hex and raw apart by content', () => {
    expect(detectFormat(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]), 'a')).toBe('elf');
    expect(detectFormat(enc(SMALL_HEX))).toBe('ihex');
    expect(detectFormat(enc(createUniversalHex([{ hex: SMALL_HEX, boardId: 0x9900 }])))).toBe(
      'universal-hex',
    );
    expect(detectFormat(new Uint8Array([0x00, 0x40, 0x00, 0x20]))).toBe('raw');
    expect(detectFormat(new Uint8Array())).toBe('raw');
  });

  it('allows a byte order mark and whitespace before the first hex record', () => {
    expect(detectFormat(new Uint8Array([0xef, 0xbb, 0xbf, ...enc(`\r\n  ${SMALL_HEX}`)]))).toBe('ihex');
  });
});

describe('rawImage', () => {
  it('puts the whole file at the given address', () => {
    const image = rawImage(new Uint8Array([9, 8, 7]), 'a.bin', 0x20000000);
    expect(image).toEqual({
      format: 'raw',
      file: 'a.bin',
      segments: [{ addr: 0x20000000, data: new Uint8Array([9, 8, 7]), source: 'image' }],
    });
  });

  it('rejects addresses that do not fit 32 bits', () => {
    expect(() => rawImage(new Uint8Array(4), 'a.bin', 0xfffffffe)).toThrow(
      new UserError('a.bin: 4 bytes at 0xfffffffe run past the end of the 32-bit address space'),
    );
    expect(() => rawImage(new Uint8Array(4), 'a.bin', -1)).toThrow(
      new UserError('a.bin: load address -1 is not a 32-bit address'),
    );
  });
});

describe('loadImageFile', () => {
  it('reports a missing file the way QEMU does', () => {
    const path = join(dir, 'missing.hex');
    expect(() => loadImageFile(path)).toThrow(
      new UserError(`Could not open '${path}': No such file or directory`),
    );
    expect(() => loadImageFile(dir)).toThrow(new UserError(`Could not open '${dir}': Is a directory`));
  });

  it('loads Intel HEX and ELF files by their content, whatever their name', () => {
    const hex = loadImageFile(file('prog.bin', SMALL_HEX));
    expect(hex.format).toBe('ihex');
    expect(hex.segments.map((s) => [s.addr, [...s.data]])).toEqual([[0x10, [1, 2, 3]]]);
    const elf = loadImageFile(requireFirmware('hello.elf'), { addr: 0x1234 });
    expect(elf.format).toBe('elf');
    expect(elf.segments[0]!.addr).toBe(0);
  });

  it('needs an address for a raw binary', () => {
    const path = file('blob.bin', new Uint8Array([1, 2, 3, 4]));
    expect(() => loadImageFile(path)).toThrow(
      new UserError(
        `${path}: not an ELF or Intel HEX file, and a raw binary image needs a load address ` +
          `(give one, e.g. -device loader,file=${path},addr=0x0)`,
      ),
    );
    const image = loadImageFile(path, { addr: 0x20000000 });
    expect(image.format).toBe('raw');
    expect(image.segments.map((s) => [s.addr, [...s.data]])).toEqual([[0x20000000, [1, 2, 3, 4]]]);
  });

  it('loads any file as raw when forced', () => {
    const path = requireFirmware('hello.hex');
    const image = loadImageFile(path, { forceRaw: true, addr: 0 });
    expect(image.format).toBe('raw');
    expect(Buffer.from(image.segments[0]!.data)).toEqual(readFileSync(path));
  });

  it('picks the block for the machine from a Universal Hex', () => {
    const other = `${formatHexRecord(0x00, 0x10, [7, 7])}\n:00000001FF\n`;
    const path = file(
      'uni.hex',
      createUniversalHex([
        { hex: SMALL_HEX, boardId: 0x9900 },
        { hex: other, boardId: 0x9903 },
      ]),
    );
    const v1 = loadImageFile(path, { boardIds: [0x9900, 0x9901] });
    expect(v1.format).toBe('universal-hex');
    expect(v1.segments.map((s) => [s.addr, [...s.data]])).toEqual([[0x10, [1, 2, 3]]]);
    expect(() => loadImageFile(path)).toThrow(
      new UserError(
        `${path}: is a micro:bit Universal Hex, but this machine has no board ID to pick a block`,
      ),
    );
  });
});

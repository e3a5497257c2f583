import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { parseIntelHex } from './ihex.js';
import type { LoadedImage } from './image.js';
import { loadImageFile } from './index.js';
import {
  MICROPYTHON_SCRIPT_ADDR,
  MICROPYTHON_SCRIPT_MAX_BLOCK,
  microPythonScriptSegment,
  withMicroPythonScript,
} from './micropython-script.js';

const RUNTIME = '/usr/share/firmware-microbit-micropython/firmware.hex';
const HAVE_RUNTIME = existsSync(RUNTIME);

function haveUflash(): boolean {
  try {
    execFileSync('uflash', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const HAVE_UFLASH = haveUflash() && HAVE_RUNTIME;
const UFLASH_SKIP = HAVE_UFLASH
  ? ''
  : ' [SKIPPED: needs `uflash` (Debian python3-uflash) and firmware-microbit-micropython]';

/** The image flattened into a 256 KiB flash picture (0xFF where nothing is loaded). */
function flashPicture(image: LoadedImage): Uint8Array {
  const flash = new Uint8Array(256 * 1024).fill(0xff);
  for (const seg of image.segments) if (seg.addr < flash.length) flash.set(seg.data, seg.addr);
  return flash;
}

/** Runs the real uflash on `script` and returns the hex it built. */
function uflashHex(script: Uint8Array | string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsemu-uflash-'));
  try {
    const file = join(dir, 'main.py');
    writeFileSync(file, script);
    execFileSync('uflash', [file, dir], { stdio: 'ignore' });
    return readFileSync(join(dir, 'micropython.hex'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('microPythonScriptSegment', () => {
  it('writes MP, the little-endian length and the script at 0x3E000, NUL-padded to 16 bytes', () => {
    const seg = microPythonScriptSegment('print(1)\n');
    expect(seg.addr).toBe(MICROPYTHON_SCRIPT_ADDR);
    expect(seg.data.length).toBe(16);
    expect([...seg.data]).toEqual([0x4d, 0x50, 9, 0, ...new TextEncoder().encode('print(1)\n'), 0, 0, 0]);
  });

  it('counts the length in UTF-8 bytes and stores lengths above 255 little-endian', () => {
    const script = `s = "é"\n${'#'.repeat(300)}\n`;
    const bytes = new TextEncoder().encode(script);
    const seg = microPythonScriptSegment(script);
    expect(bytes.length).toBe(310); // "é" is two bytes
    expect(seg.data[2]).toBe(310 & 0xff);
    expect(seg.data[3]).toBe(310 >> 8);
    expect(seg.data.subarray(4, 4 + bytes.length)).toEqual(bytes);
    expect(seg.data.length % 16).toBe(0);
    expect(seg.data.subarray(4 + bytes.length).every((b) => b === 0)).toBe(true);
  });

  it('turns CRLF and CR line endings into LF as uflash does', () => {
    const seg = microPythonScriptSegment('a = 1\r\nb = 2\rc = 3\n');
    expect(new TextDecoder().decode(seg.data.subarray(4, 4 + seg.data[2]!))).toBe('a = 1\nb = 2\nc = 3\n');
  });

  it('pads an already aligned block with a further 16 NULs (uflash always pads)', () => {
    // 4 header bytes + 12 script bytes = 16: uflash still appends a full block of padding.
    expect(microPythonScriptSegment('x = 12345678').data.length).toBe(32);
  });

  it('accepts the longest script that fits and rejects one byte more with a UserError', () => {
    const longest = 'a'.repeat(8171);
    expect(microPythonScriptSegment(longest).data.length).toBeLessThanOrEqual(MICROPYTHON_SCRIPT_MAX_BLOCK);
    expect(() => microPythonScriptSegment(`${longest}a`)).toThrow(UserError);
    expect(() => microPythonScriptSegment(`${longest}a`)).toThrow(
      'MicroPython script is too long: 8172 bytes of UTF-8 (after line-ending conversion), ' +
        'the most that fits at 0x0003e000 is 8171 bytes',
    );
  });
});

describe('withMicroPythonScript', () => {
  const runtime: LoadedImage = {
    format: 'ihex',
    file: 'runtime.hex',
    segments: [{ addr: 0, data: new Uint8Array(64), source: 'line 1' }],
    entry: 0x1234,
  };

  it('appends the script segment and keeps the runtime unchanged', () => {
    const image = withMicroPythonScript(runtime, 'pass\n');
    expect(image.segments).toHaveLength(2);
    expect(image.segments[1]!.addr).toBe(0x3e000);
    expect(image.entry).toBe(0x1234);
    expect(image.file).toBe('runtime.hex');
    expect(runtime.segments).toHaveLength(1);
  });

  it('refuses a runtime that already has data where the script goes', () => {
    const clash: LoadedImage = {
      ...runtime,
      segments: [{ addr: 0x3e008, data: new Uint8Array(4), source: 'line 9' }],
    };
    expect(() => withMicroPythonScript(clash, 'pass\n')).toThrow(UserError);
    expect(() => withMicroPythonScript(clash, 'pass\n')).toThrow(/overlaps/);
  });
});

describe(`agreement with the real uflash${UFLASH_SKIP}`, () => {
  const scripts: Array<[string, string]> = [
    ['a scroll program', 'from microbit import *\ndisplay.scroll("Hello World!")\n'],
    ['an aligned script with CRLF and non-ASCII text', 'x = "ü"\r\nprint(x)\r\n'],
    ['a 3000-byte script', `# ${'long '.repeat(598)}\npass\n`],
  ];
  for (const [name, script] of scripts) {
    it.skipIf(!HAVE_UFLASH)(`gives the bytes uflash writes at 0x3E000 for ${name}`, () => {
      const theirs = flashPicture(parseIntelHex(uflashHex(script), 'uflash.hex'));
      const ours = microPythonScriptSegment(script);
      const at = MICROPYTHON_SCRIPT_ADDR;
      expect([...theirs.subarray(at, at + ours.data.length)]).toEqual([...ours.data]);
      // Nothing more was written after the block.
      expect(theirs[at + ours.data.length]).toBe(0xff);
    });
  }

  it.skipIf(!HAVE_UFLASH)('builds the same flash contents as uflash from the Debian runtime', () => {
    const script = 'from microbit import *\ndisplay.show(Image.HEART)\n';
    const theirs = flashPicture(parseIntelHex(uflashHex(script), 'uflash.hex'));
    const ours = flashPicture(withMicroPythonScript(loadImageFile(RUNTIME), script));
    expect(Buffer.compare(Buffer.from(ours), Buffer.from(theirs))).toBe(0);
  });
});

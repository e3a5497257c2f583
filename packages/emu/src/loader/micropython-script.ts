/**
 * Embedding a MicroPython script into the micro:bit v1 MicroPython runtime, as `uflash` does.
 *
 * The runtime looks at flash 0x3E000 at boot: when it finds the bytes 'M', 'P' followed by a
 * little-endian u16 length, it runs that many bytes of UTF-8 source before its REPL starts.
 * `uflash` (python3-uflash 1.2.4) writes exactly that block: the header and the script with line
 * endings normalised to LF, then NUL bytes up to the next multiple of 16. Like uflash, the
 * padding is never empty (an already aligned block gets 16 more NULs), so the bytes at 0x3E000
 * match a uflash-built hex byte for byte; a block over 8188 bytes is refused.
 */
import { UserError } from '../core/errors.js';
import { checkOverlaps, hexAddr, type LoadedImage, type LoadSegment } from './image.js';

/** Flash address where the MicroPython runtime looks for an appended script. */
export const MICROPYTHON_SCRIPT_ADDR = 0x3e000;
/** The largest script block (header + script + padding) uflash accepts, in bytes. */
export const MICROPYTHON_SCRIPT_MAX_BLOCK = 8188;
const HEADER_BYTES = 4;
const ALIGN = 16;

/** The script's bytes as uflash stores them: UTF-8 with CRLF and lone CR turned into LF. */
function scriptBytes(script: string): Uint8Array {
  return new TextEncoder().encode(script.replace(/\r\n?/g, '\n'));
}

/** The block uflash writes at 0x3E000 for `script`: 'MP', u16 length, source, NUL padding. */
export function microPythonScriptSegment(script: string): LoadSegment {
  const source = scriptBytes(script);
  const used = HEADER_BYTES + source.length;
  const size = used + (ALIGN - (used % ALIGN));
  if (size > MICROPYTHON_SCRIPT_MAX_BLOCK) {
    // The largest script that fits: its padded block must stay within the limit.
    const maxScript = Math.floor(MICROPYTHON_SCRIPT_MAX_BLOCK / ALIGN) * ALIGN - 1 - HEADER_BYTES;
    throw new UserError(
      `MicroPython script is too long: ${source.length} bytes of UTF-8 (after line-ending ` +
        `conversion), the most that fits at ${hexAddr(MICROPYTHON_SCRIPT_ADDR)} is ${maxScript} bytes`,
    );
  }
  const data = new Uint8Array(size);
  data[0] = 0x4d; // 'M'
  data[1] = 0x50; // 'P'
  data[2] = source.length & 0xff;
  data[3] = source.length >>> 8;
  data.set(source, HEADER_BYTES);
  return { addr: MICROPYTHON_SCRIPT_ADDR, data, source: 'MicroPython script' };
}

/**
 * The runtime image with `script` appended at 0x3E000 (a new image; `runtime` is not changed).
 * Throws a UserError when the runtime already has data where the script goes.
 */
export function withMicroPythonScript(runtime: LoadedImage, script: string): LoadedImage {
  const image: LoadedImage = {
    ...runtime,
    segments: [...runtime.segments, microPythonScriptSegment(script)],
  };
  checkOverlaps(image);
  return image;
}

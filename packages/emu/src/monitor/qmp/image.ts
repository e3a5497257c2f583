/**
 * Image files for `screendump`: PPM (P6, QEMU's default format) and PNG (8-bit RGB, one IDAT
 * chunk compressed with node:zlib, CRC-32 per chunk as the PNG specification requires), and the
 * picture of the micro:bit's 5×5 LED display.
 */
import { deflateSync } from 'node:zlib';

/** An RGB picture, 3 bytes per pixel, rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export function encodePpm(img: RgbImage): Uint8Array {
  const header = Buffer.from(`P6\n${img.width} ${img.height}\n255\n`, 'latin1');
  return Buffer.concat([header, img.pixels]);
}

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, the polynomial PNG and zlib use). */
export function crc32(data: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(img: RgbImage): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = img.width * 3;
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    raw.set(img.pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Pixels per LED cell in the display picture. */
export const LED_CELL_PX = 32;
const LED_SIZE_PX = 20;
/** Red of an LED that is off: a dim outline so the grid is visible on black. */
const LED_OFF_RED = 40;

/**
 * The 5×5 LED display as a picture: each LED a red square on black, its red channel following
 * its brightness (0..1, row-major, y*5+x).
 */
export function renderLedMatrix(brightness: ArrayLike<number>, columns = 5, rows = 5): RgbImage {
  const width = columns * LED_CELL_PX;
  const height = rows * LED_CELL_PX;
  const pixels = new Uint8Array(width * height * 3);
  const margin = (LED_CELL_PX - LED_SIZE_PX) / 2;
  for (let ly = 0; ly < rows; ly++) {
    for (let lx = 0; lx < columns; lx++) {
      const b = Math.max(0, Math.min(1, brightness[ly * columns + lx] ?? 0));
      const red = Math.round(LED_OFF_RED + (255 - LED_OFF_RED) * b);
      for (let y = 0; y < LED_SIZE_PX; y++) {
        const row = (ly * LED_CELL_PX + margin + y) * width;
        for (let x = 0; x < LED_SIZE_PX; x++) {
          pixels[(row + lx * LED_CELL_PX + margin + x) * 3] = red;
        }
      }
    }
  }
  return { width, height, pixels };
}

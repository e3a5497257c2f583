import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, encodePpm, LED_CELL_PX, renderLedMatrix } from './image.js';

describe('image encoders', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes a PNG whose chunks carry valid CRCs and whose pixels decode back', () => {
    const img = { width: 2, height: 2, pixels: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) };
    const png = Buffer.from(encodePng(img));
    let at = 8;
    const chunks: string[] = [];
    let idat = Buffer.alloc(0);
    while (at < png.length) {
      const len = png.readUInt32BE(at);
      const type = png.subarray(at + 4, at + 8).toString('latin1');
      expect(png.readUInt32BE(at + 8 + len), type).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
      if (type === 'IDAT') idat = png.subarray(at + 8, at + 8 + len);
      chunks.push(type);
      at += 12 + len;
    }
    expect(chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([...inflateSync(idat)]).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12]);
  });

  it('writes a binary PPM (P6)', () => {
    const ppm = Buffer.from(encodePpm({ width: 1, height: 1, pixels: Uint8Array.of(9, 8, 7) }));
    expect(ppm.toString('latin1')).toBe('P6\n1 1\n255\n\x09\x08\x07');
  });

  it('draws each LED as a red square whose red follows its brightness, on black', () => {
    const b = new Array(25).fill(0);
    b[6] = 1;
    const img = renderLedMatrix(b);
    const at = (x: number, y: number) => [
      ...img.pixels.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
    ];
    expect(img.width).toBe(5 * LED_CELL_PX);
    expect(at(LED_CELL_PX + 16, LED_CELL_PX + 16)).toEqual([255, 0, 0]);
    expect(at(16, 16)[0]).toBeLessThan(64);
    expect(at(0, 0)).toEqual([0, 0, 0]);
  });
});

/** A raw binary image: the file's bytes, placed at an address the user gives. */
import { UserError } from '../core/errors.js';
import { hexAddr, type LoadedImage } from './image.js';

export function rawImage(data: Uint8Array, file: string, addr: number): LoadedImage {
  if (!Number.isInteger(addr) || addr < 0 || addr > 0xffff_ffff) {
    throw new UserError(`${file}: load address ${addr} is not a 32-bit address`);
  }
  if (addr + data.length > 0x1_0000_0000) {
    throw new UserError(
      `${file}: ${data.length} bytes at ${hexAddr(addr)} run past the end of the 32-bit address space`,
    );
  }
  return { format: 'raw', file, segments: [{ addr, data, source: 'image' }] };
}

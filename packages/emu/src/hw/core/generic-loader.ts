/**
 * loader — the generic loader device (`-device loader,...`), as QEMU's generic-loader.
 *
 * Interface
 * - No regions, no lines. Properties:
 *     file       image to load: Intel HEX, micro:bit Universal Hex, ELF32, or raw binary
 *     addr       load address for raw images; with `data`, where the value is written
 *     cpu-num    CPU whose program counter is set to the entry point (ELF entry, or `addr`
 *                for a raw image); unset (-1): no CPU is touched
 *     force-raw  load `file` as raw bytes at `addr` even if it looks like ELF or hex
 *     data, data-len (1, 2, 4 or 8), data-be   write one value instead of a file
 * - The machine calls `apply(target)` once after every device is realized and before the
 *   first reset. Flash keeps what was loaded across `system_reset`, as a real chip does.
 *
 * Accuracy: the file formats are validated fully (see src/loader). QEMU reloads images on
 * every system reset; tsemu does not, so data a guest wrote to flash survives a reset.
 */
import { Device, type StateData } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { registerDeviceType } from '../../core/registry.js';
import { type LoadedImage, type LoadTarget, loadImageFile, placeImage } from '../../loader/index.js';

export class GenericLoader extends Device {
  static readonly typeName = 'loader';
  /** What was loaded (after `apply`), for tracing and GDB symbols. */
  image: LoadedImage | null = null;

  constructor() {
    super(GenericLoader.typeName);
    this.declareProperties([
      { name: 'file', type: 'string', default: '', description: 'image file to load' },
      { name: 'addr', type: 'uint', default: 0, max: 0xffff_ffff, description: 'load address' },
      {
        name: 'cpu-num',
        type: 'int',
        default: -1,
        min: -1,
        description: 'CPU whose PC is set to the entry point',
      },
      { name: 'force-raw', type: 'bool', default: false, description: 'load the file as a raw binary' },
      { name: 'data', type: 'uint', default: 0, description: 'value to write at addr (instead of a file)' },
      {
        name: 'data-len',
        type: 'uint',
        default: 0,
        max: 8,
        description: 'size of data in bytes (1, 2, 4, 8)',
      },
      { name: 'data-be', type: 'bool', default: false, description: 'data is big-endian' },
    ]);
  }

  protected onRealize(): void {
    const file = this.getString('file');
    const dataLen = this.getInt('data-len');
    if (file === '' && dataLen === 0) {
      throw new UserError('loader: please give file=FILE, or data=VALUE,data-len=N with addr=ADDR');
    }
    if (file !== '' && dataLen !== 0) throw new UserError('loader: data and file cannot be used together');
    if (dataLen !== 0 && ![1, 2, 4, 8].includes(dataLen)) {
      throw new UserError(`loader: data-len must be 1, 2, 4 or 8 (got ${dataLen})`);
    }
    if (this.getBool('force-raw') && !this.isPropertySet('addr'))
      throw new UserError('loader: force-raw needs addr=ADDR');
  }

  protected onReset(): void {}

  /** Loads the file or data into `target`; returns the entry point to give the CPU, if any. */
  apply(target: LoadTarget, boardIds?: readonly number[]): number | undefined {
    const addr = this.getInt('addr');
    const dataLen = this.getInt('data-len');
    if (dataLen !== 0) {
      const bytes = new Uint8Array(dataLen);
      let v = BigInt(this.getInt('data'));
      for (let i = 0; i < dataLen; i++) {
        const idx = this.getBool('data-be') ? dataLen - 1 - i : i;
        bytes[idx] = Number(v & 0xffn);
        v >>= 8n;
      }
      const image: LoadedImage = {
        format: 'raw',
        file: 'loader data',
        segments: [{ addr, data: bytes, source: 'loader data' }],
      };
      placeImage(target, image);
      this.image = image;
      return undefined;
    }
    const image = loadImageFile(this.getString('file'), {
      ...(this.isPropertySet('addr') ? { addr } : {}),
      forceRaw: this.getBool('force-raw'),
      ...(boardIds ? { boardIds: [...boardIds] } : {}),
    });
    placeImage(target, image);
    this.image = image;
    if (this.getInt('cpu-num') < 0) return undefined;
    return image.entry ?? (image.format === 'raw' ? addr : undefined);
  }

  saveState(): StateData {
    return {};
  }

  loadState(_state: StateData): void {}
}

registerDeviceType({
  name: GenericLoader.typeName,
  parent: 'device',
  description: 'Generic Loader',
  userCreatable: true,
  category: 'Misc devices',
  create: () => new GenericLoader(),
});

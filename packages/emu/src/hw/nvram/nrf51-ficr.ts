/**
 * nRF51 FICR, the factory information configuration registers at 0x10000000 (nRF51 Series
 * Reference Manual v3.0, chapter "FICR"; layout checked against Nordic's nrf51.h
 * `NRF_FICR_Type`, whose offsets differ from QEMU's table).
 *
 * Words modelled (offset: value):
 *   0x010 CODEPAGESIZE 1024        0x014 CODESIZE 256 (pages: 256 KiB of flash)
 *   0x028 CLENR0 0xFFFFFFFF        0x02C PPFC 0xFFFFFFFF (no pre-programmed factory code)
 *   0x034 NUMRAMBLOCK 2            0x038-0x044 SIZERAMBLOCK[0..3] 8192 (0x038 is also the
 *                                  older name SIZERAMBLOCKS)
 *   0x05C CONFIGID 0xFFFF0072 (HWID 0x0072 in bits 15:0, FWID unset)
 *   0x060/0x064 DEVICEID[0..1]      64-bit device identifier, low word first
 *   0x080-0x08C ER[0..3], 0x090-0x09C IR[0..3]  encryption/identity roots, derived from DEVICEID
 *   0x0A0 DEVICEADDRTYPE 1 (random static)
 *   0x0A4/0x0A8 DEVICEADDR[0..1]    48-bit address; bits 31:16 of DEVICEADDR[1] read 0xFFFF
 *   0x0AC OVERRIDEEN 0xFFFFFFFF (no radio overrides), 0x0B0-0x0C0 NRF_1MBIT[0..4] and
 *   0x0EC-0x0FC BLE_1MBIT[0..4] 0xFFFFFFFF (unused while OVERRIDEEN says "not override")
 *
 * Interface
 * - MMIO region 0: the 1 KiB FICR page, read-only, 1/2/4-byte aligned reads.
 * - Properties (before realize): `device-id` (64-bit, as hex text with or without `0x`, e.g.
 *   `0x0123456789abcdef`) and `device-addr` (48-bit, hex text or `aa:bb:cc:dd:ee:ff`, most
 *   significant byte first). Both are deterministic by default, so runs are reproducible.
 *
 * Accuracy: the documented words above are modelled. Undocumented words of the page read
 * 0xFFFFFFFF (erased flash) and are logged under `-d unimp`, since the real chip keeps
 * undocumented factory data there. Writes are ignored and logged under `-d guest_errors`: the
 * FICR is flash the NVMC cannot program, so a store changes nothing (and raises no bus error).
 */
import { Device, type StateData } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { type AccessSize, hex, MemoryRegion } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';

export const FICR_SIZE = 0x400;
export const FICR_DEFAULT_DEVICE_ID = 0x7473656d_75510001n;
export const FICR_DEFAULT_DEVICE_ADDR = 0xe7_75_51_0a_dd_01n;

const ERASED = 0xffffffff;

/** Parses `text` as an unsigned integer of at most `bits` bits (hex, or colon-separated bytes). */
export function parseFicrId(name: string, text: string, bits: number, allowColons: boolean): bigint {
  const t = text.trim();
  let digits: string;
  if (allowColons && t.includes(':')) {
    const parts = t.split(':');
    if (parts.length !== bits / 8 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
      throw new UserError(
        `Property '${name}' expects ${bits / 8} colon-separated hex bytes (e.g. e7:75:51:0a:dd:01), got '${text}'`,
      );
    }
    digits = parts.map((p) => p.padStart(2, '0')).join('');
  } else {
    digits = t.replace(/^0[xX]/, '');
    if (!/^[0-9a-fA-F]+$/.test(digits)) {
      throw new UserError(`Property '${name}' expects a hexadecimal number, got '${text}'`);
    }
  }
  const value = BigInt(`0x${digits}`);
  if (value >> BigInt(bits) !== 0n) {
    throw new UserError(`Property '${name}' value '${text}' does not fit in ${bits} bits`);
  }
  return value;
}

/** A small deterministic mixer (splitmix-style) to derive ER/IR words from DEVICEID. */
function mixWord(seed: bigint, index: number): number {
  let z = (seed + BigInt(index + 1) * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  z ^= z >> 31n;
  return Number(z & 0xffffffffn);
}

export class Nrf51Ficr extends Device {
  static readonly typeName = 'nrf51_soc.ficr';
  /** Word values by offset >> 2; undefined entries are undocumented. */
  private readonly words: Array<number | undefined> = new Array(FICR_SIZE / 4);

  constructor() {
    super(Nrf51Ficr.typeName);
    this.declareProperty({
      name: 'device-id',
      type: 'string',
      default: `0x${FICR_DEFAULT_DEVICE_ID.toString(16)}`,
      description: 'FICR DEVICEID, a 64-bit number in hex',
    });
    this.declareProperty({
      name: 'device-addr',
      type: 'string',
      default: `0x${FICR_DEFAULT_DEVICE_ADDR.toString(16)}`,
      description: 'FICR DEVICEADDR, a 48-bit Bluetooth address in hex or aa:bb:cc:dd:ee:ff form',
    });
  }

  protected onRealize(): void {
    const id = parseFicrId('device-id', this.getString('device-id'), 64, false);
    const addr = parseFicrId('device-addr', this.getString('device-addr'), 48, true);
    const set = (offset: number, value: number) => {
      this.words[offset >> 2] = value >>> 0;
    };
    set(0x010, 1024);
    set(0x014, 256);
    set(0x028, ERASED);
    set(0x02c, ERASED);
    set(0x034, 2);
    for (let i = 0; i < 4; i++) set(0x038 + 4 * i, 8192);
    set(0x05c, 0xffff0072);
    set(0x060, Number(id & 0xffffffffn));
    set(0x064, Number(id >> 32n));
    for (let i = 0; i < 4; i++) set(0x080 + 4 * i, mixWord(id, i));
    for (let i = 0; i < 4; i++) set(0x090 + 4 * i, mixWord(id, 4 + i));
    set(0x0a0, 1);
    set(0x0a4, Number(addr & 0xffffffffn));
    set(0x0a8, 0xffff0000 | Number(addr >> 32n));
    set(0x0ac, ERASED);
    for (let i = 0; i < 5; i++) set(0x0b0 + 4 * i, ERASED);
    for (let i = 0; i < 5; i++) set(0x0ec + 4 * i, ERASED);
    this.addMmio(
      MemoryRegion.mmio(
        'nrf51_soc.ficr',
        FICR_SIZE,
        {
          read: (offset, size) => this.readWord(offset, size),
          write: (offset, value, size) => this.ignoreWrite(offset, value, size),
        },
        { valid: { min: 1, max: 4, unaligned: false }, impl: { min: 1, max: 4 } },
      ),
    );
  }

  /** The value of the FICR word at `offset` (word-aligned), as firmware reads it. */
  word(offset: number): number {
    return this.words[offset >> 2] ?? ERASED;
  }

  private readWord(offset: number, size: AccessSize): number {
    let v = this.words[offset >> 2];
    if (v === undefined) {
      if (this.log.on(LogCat.Unimp)) {
        this.log.write(`nrf51_soc.ficr: read of undocumented FICR word at offset 0x${hex(offset, 3)}`);
      }
      v = ERASED;
    }
    // Accesses are aligned to their size, so a narrow read lies within one word.
    return size === 4 ? v : (v >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  private ignoreWrite(offset: number, value: number, size: AccessSize): void {
    if (this.log.on(LogCat.GuestErrors)) {
      this.log.write(
        `nrf51_soc.ficr: write to read-only FICR ignored: offset 0x${hex(offset, 3)}, size ${size}, value 0x${hex(value >>> 0)}`,
      );
    }
  }

  protected onReset(): void {}

  saveState(): StateData {
    // Everything comes from the properties; nothing changes at run time.
    return {};
  }

  loadState(_state: StateData): void {}
}

registerDeviceType({
  name: Nrf51Ficr.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 factory information configuration registers (FICR)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Ficr(),
});

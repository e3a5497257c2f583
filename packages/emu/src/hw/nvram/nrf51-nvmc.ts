/**
 * nRF51 NVMC, the non-volatile memory controller at 0x4001E000 (peripheral ID 30; nRF51 Series
 * Reference Manual v3.0, chapter "NVMC"; offsets from Nordic's nrf51.h `NRF_NVMC_Type`), with
 * the memories it programs: the code flash and the UICR page.
 *
 * Registers (region 0)
 *   0x400 READY      RO  1: ready (operations complete at once, see Accuracy)
 *   0x504 CONFIG     RW  WEN bits 1:0: 0 read-only, 1 write enabled, 2 erase enabled
 *   0x508 ERASEPAGE  RW  (also called ERASEPCR1) writing a flash address erases its page
 *   0x50C ERASEALL   RW  writing 1 erases the whole flash and the UICR
 *   0x510 ERASEPCR0  RW  (ERASEPROTECTEDPAGE) erases a page as ERASEPAGE does
 *   0x514 ERASEUICR  RW  writing 1 erases the UICR
 * Erases need CONFIG.WEN = 2 and set the bytes to 0xFF.
 *
 * Interface
 * - MMIO region 0: the NVMC registers (4 KiB).
 * - `flash` (also MMIO region 1): the code flash, a ROM region of `flash-size` bytes (default
 *   256 KiB, 1 KiB pages), to be mapped at 0x00000000.
 * - `uicr` (also MMIO region 2): the UICR page, a 1 KiB ROM region to be mapped at 0x10001000
 *   (defined words: CLENR0 0x000, RBPCONF 0x004, XTALFREQ 0x008, FWID 0x010, BOOTLOADERADDR =
 *   NRFFW[0] 0x014, NRFFW[1..14] to 0x04C, NRFHW[0..11] 0x050-0x07C, CUSTOMER[0..31]
 *   0x080-0x0FC).
 *   Map both with `Machine.addMemory` so snapshots save their contents; the NVMC itself saves
 *   only its registers. Both read as plain memory (CPU fast path); guest stores reach the NVMC
 *   through `MemoryRegion.setRomWriteHandler`. Loaders and debuggers write them directly with
 *   `AddressSpace.writeDebug`, as a programmer would.
 * - `onOperation` hook: called with the duration in ns of each write or erase as the chip
 *   takes it, so that a SoC can stall its CPU (see Accuracy). Optional.
 * - Property `flash-size` (bytes, a multiple of 1024; QEMU's name).
 * - Both memories start erased (0xFF) at realize. Device reset leaves them alone (flash keeps
 *   its contents across resets).
 *
 * Guest stores to flash or UICR with CONFIG.WEN = 1 program the word with NOR semantics: bits
 * only go from 1 to 0 (new = old & value). Only aligned 32-bit stores program; other sizes or
 * alignments, and any store while WEN is not 1, are ignored and logged under `-d guest_errors`
 * (the bus answers them as completed: flash does not fault on a stray store).
 *
 * Accuracy: on the chip, a word write takes about 46 µs and a page erase or erase-all about
 * 22 ms (our reading of the nRF51822 PS v3.1 t_WRITE/t_ERASEPAGE/t_ERASEALL; to be checked
 * against the PS), and the CPU stalls if it fetches from flash meanwhile. Here each operation completes immediately and READY always
 * reads 1; the durations are handed to `onOperation` so the machine can charge them to the CPU.
 * Not modelled: the limit of two writes per word between erases (n_WRITE), the region-0
 * protection of ERASEPCR0/ERASEPAGE (CLENR0/PROTENSET), and the UICR-to-register copies done at
 * reset (e.g. UICR.XTALFREQ into CLOCK.XTALFREQ).
 */
import { Device, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { type AccessSize, hex, MemoryRegion, MemTx } from '../../core/memory.js';
import { RegisterBlock } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';

export const NVMC_PAGE_SIZE = 1024;
export const NVMC_DEFAULT_FLASH_SIZE = 256 * 1024;
export const NVMC_UICR_SIZE = 0x400;

/** CONFIG.WEN values. */
export const NVMC_WEN_READ = 0;
export const NVMC_WEN_WRITE = 1;
export const NVMC_WEN_ERASE = 2;

/** Operation durations in ns (see Accuracy in the header). */
export const NVMC_WRITE_NS = 46_000;
export const NVMC_ERASE_PAGE_NS = 22_300_000;
export const NVMC_ERASE_ALL_NS = 22_300_000;

const READY = 0x400;
const CONFIG = 0x504;
const ERASEPAGE = 0x508;
const ERASEALL = 0x50c;
const ERASEPCR0 = 0x510;
const ERASEUICR = 0x514;

export type NvmcOperation = 'write' | 'erase-page' | 'erase-all' | 'erase-uicr';

export class Nrf51Nvmc extends Device {
  static readonly typeName = 'nrf51_soc.nvm';
  private regs!: RegisterBlock;
  private flashRegion!: MemoryRegion;
  private uicrRegion!: MemoryRegion;
  private configIndex = 0;
  /** Called with each operation and its duration on the chip (ns); see the header. */
  onOperation: ((op: NvmcOperation, ns: number) => void) | null = null;

  constructor() {
    super(Nrf51Nvmc.typeName);
    this.declareProperty({
      name: 'flash-size',
      type: 'uint',
      default: NVMC_DEFAULT_FLASH_SIZE,
      min: NVMC_PAGE_SIZE,
      max: 0x1000_0000,
      description: 'size of the code flash in bytes (a multiple of the 1 KiB page)',
    });
  }

  /** The code flash (map at 0x00000000 with `Machine.addMemory`). */
  get flash(): MemoryRegion {
    return this.flashRegion;
  }

  /** The UICR page (map at 0x10001000 with `Machine.addMemory`). */
  get uicr(): MemoryRegion {
    return this.uicrRegion;
  }

  /** The register block (tests, HMP register dumps). */
  get registers(): RegisterBlock {
    return this.regs;
  }

  protected onRealize(): void {
    const flashSize = this.getInt('flash-size');
    if (flashSize % NVMC_PAGE_SIZE !== 0) {
      throw new UserError(`Property 'flash-size' must be a multiple of ${NVMC_PAGE_SIZE}, got ${flashSize}`);
    }
    this.regs = new RegisterBlock({
      name: this.path,
      size: 0x1000,
      log: () => this.log,
      trace: 'nrf51_nvmc',
      registers: [
        { name: 'READY', offset: READY, reset: 1, writeMask: 0 },
        { name: 'CONFIG', offset: CONFIG, writeMask: 3, onWrite: (v) => this.checkConfig(v) },
        { name: 'ERASEPAGE', offset: ERASEPAGE, onWrite: (v) => this.erasePageAt(v, 'ERASEPAGE') },
        {
          name: 'ERASEALL',
          offset: ERASEALL,
          writeMask: 1,
          onWrite: (v) => {
            if (v & 1) this.eraseAll();
          },
        },
        { name: 'ERASEPCR0', offset: ERASEPCR0, onWrite: (v) => this.erasePageAt(v, 'ERASEPCR0') },
        {
          name: 'ERASEUICR',
          offset: ERASEUICR,
          writeMask: 1,
          onWrite: (v) => {
            if (v & 1) this.eraseUicr();
          },
        },
      ],
    });
    this.configIndex = this.regs.index('CONFIG');
    this.addMmio(this.regs.toRegion('nrf51_soc.nvmc'));
    this.flashRegion = MemoryRegion.rom('nrf51_soc.flash', flashSize);
    this.uicrRegion = MemoryRegion.rom('nrf51_soc.uicr', NVMC_UICR_SIZE);
    this.flashRegion.data.fill(0xff);
    this.uicrRegion.data.fill(0xff);
    this.flashRegion.setRomWriteHandler((o, v, s) => this.program(this.flashRegion, o, v, s));
    this.uicrRegion.setRomWriteHandler((o, v, s) => this.program(this.uicrRegion, o, v, s));
    this.addMmio(this.flashRegion);
    this.addMmio(this.uicrRegion);
  }

  protected onReset(): void {
    this.regs.reset();
  }

  private get wen(): number {
    return this.regs.value(this.configIndex) & 3;
  }

  private checkConfig(value: number): void {
    if ((value & 3) === 3 && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${Nrf51Nvmc.typeName}: CONFIG.WEN = 3 is reserved; flash stays read-only`);
    }
  }

  private refuse(what: string): void {
    if (this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${Nrf51Nvmc.typeName}: ${what} ignored: CONFIG.WEN is ${this.wen}`);
    }
  }

  /** A guest store to flash or UICR (the ROM write handler). */
  private program(region: MemoryRegion, offset: number, value: number, size: AccessSize): number {
    if (this.wen !== NVMC_WEN_WRITE) {
      this.refuse(`write to ${region.name} at offset 0x${hex(offset)} (value 0x${hex(value >>> 0)})`);
      return MemTx.Ok;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      if (this.log.on(LogCat.GuestErrors)) {
        this.log.write(
          `${Nrf51Nvmc.typeName}: ${size}-byte write to ${region.name} at offset 0x${hex(offset)} ignored: the NVMC programs aligned 32-bit words only`,
        );
      }
      return MemTx.Ok;
    }
    const d = region.data;
    // NOR flash: programming can only clear bits.
    const word =
      (d[offset]! | (d[offset + 1]! << 8) | (d[offset + 2]! << 16) | (d[offset + 3]! << 24)) & value;
    d[offset] = word;
    d[offset + 1] = word >>> 8;
    d[offset + 2] = word >>> 16;
    d[offset + 3] = word >>> 24;
    this.onOperation?.('write', NVMC_WRITE_NS);
    return MemTx.Ok;
  }

  private erasePageAt(address: number, register: string): void {
    if (this.wen !== NVMC_WEN_ERASE) {
      this.refuse(`${register} of 0x${hex(address)}`);
      return;
    }
    const flash = this.flashRegion;
    if (address >= flash.size) {
      if (this.log.on(LogCat.GuestErrors)) {
        this.log.write(
          `${Nrf51Nvmc.typeName}: ${register} address 0x${hex(address)} is outside the flash; ignored`,
        );
      }
      return;
    }
    const start = address - (address % NVMC_PAGE_SIZE);
    flash.data.fill(0xff, start, start + NVMC_PAGE_SIZE);
    this.onOperation?.('erase-page', NVMC_ERASE_PAGE_NS);
  }

  private eraseAll(): void {
    if (this.wen !== NVMC_WEN_ERASE) {
      this.refuse('ERASEALL');
      return;
    }
    this.flashRegion.data.fill(0xff);
    this.uicrRegion.data.fill(0xff);
    this.onOperation?.('erase-all', NVMC_ERASE_ALL_NS);
  }

  private eraseUicr(): void {
    if (this.wen !== NVMC_WEN_ERASE) {
      this.refuse('ERASEUICR');
      return;
    }
    this.uicrRegion.data.fill(0xff);
    this.onOperation?.('erase-uicr', NVMC_ERASE_PAGE_NS);
  }

  saveState(): StateData {
    return { regs: this.regs.saveState() };
  }

  loadState(state: StateData): void {
    this.regs.loadState(stateField(state, 'regs', isNumArray));
  }
}

registerDeviceType({
  name: Nrf51Nvmc.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 non-volatile memory controller (NVMC) with the code flash and UICR',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Nvmc(),
});

/**
 * nRF51 ECB: AES-128 electronic code book block encryption with EasyDMA (nRF51 Series
 * Reference Manual v3.0, chapter "ECB — AES electronic codebook mode encryption"; instance at
 * 0x4000E000, peripheral ID 14).
 *
 * Interface
 * - MMIO region 0: TASKS_STARTECB 0x000, TASKS_STOPECB 0x004, EVENTS_ENDECB 0x100,
 *   EVENTS_ERRORECB 0x104, INTENSET 0x304 / INTENCLR 0x308 (bit 0 ENDECB, bit 1 ERRORECB),
 *   ECBDATAPTR 0x504, POWER 0xFFC (reset 1, writable: the SoftDevice writes it).
 * - Lines: the IRQ, `event[0..1]` (ENDECB, ERRORECB) for the PPI, `task[0..1]`.
 * - DMA: `setDma(as)` gives the device the address space its EasyDMA masters (the machine
 *   passes the CPU's view of memory). ECBDATAPTR points to 48 bytes of RAM: KEY (16 bytes),
 *   CLEARTEXT (16), CIPHERTEXT (16, written by the block).
 *
 * Behaviour: STARTECB latches ECBDATAPTR and, 7.2 µs later (the nRF51822 product
 * specification's typical time per block), reads the key and clear text, encrypts with real
 * AES-128 (node:crypto), writes the cipher text and generates ENDECB. Key and clear text are
 * read at completion; firmware does not change them while the block runs. STOPECB during an
 * operation aborts it with ERRORECB; STARTECB during an operation generates ERRORECB and leaves
 * the running one alone (nrf51.h's register descriptions). A pointer whose 48 bytes are not all
 * in RAM (EasyDMA reaches only data RAM) or a missing DMA connection generates ERRORECB at once
 * and is logged under -d guest_errors.
 *
 * Accuracy: the AES core shared with CCM/AAR is not arbitrated (on the chip a CCM or AAR
 * operation aborts ECB with ERRORECB); everything else is modelled.
 */
import { createCipheriv } from 'node:crypto';
import type { AddressSpace } from '../../core/address-space.js';
import type { Timer } from '../../core/clock.js';
import { isNum, type StateData, stateField } from '../../core/device.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** Time per 16-byte block, ns. */
export const ECB_BLOCK_NS = 7_200;

const EV_ENDECB = 0;
const EV_ERRORECB = 1;

/** AES-128 of one 16-byte block (the AES core every nRF51 crypto block shares). */
export function aes128Block(key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  const out = cipher.update(block);
  cipher.final();
  return new Uint8Array(out.buffer, out.byteOffset, 16);
}

/**
 * EasyDMA access to data RAM: the `length` bytes at `addr` as a view of the RAM region's
 * bytes, or null when they are not all inside one RAM region (flash, peripherals, unmapped).
 */
export function dmaRam(as: AddressSpace, addr: number, length: number): Uint8Array | null {
  const a = addr >>> 0;
  const p = as.ramPointer(a);
  if (p === null || !p.writable || a + length > p.end) return null;
  const o = a - p.base;
  return p.data.subarray(o, o + length);
}

export class Nrf51Ecb extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.ecb';
  private timer!: Timer;
  private dma: AddressSpace | null = null;
  private ptrIndex = 0;
  /** ECBDATAPTR latched at STARTECB. */
  private latchedPtr = 0;

  constructor() {
    super(Nrf51Ecb.typeName);
  }

  /** Connects EasyDMA to an address space (the machine passes the CPU's). */
  setDma(as: AddressSpace | null): void {
    this.dma = as;
  }

  protected traceName(): string {
    return 'nrf51_ecb';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'STARTECB', offset: 0x000, run: () => this.start() },
        { name: 'STOPECB', offset: 0x004, run: () => this.stop() },
      ],
      events: [
        { name: 'ENDECB', offset: 0x100 },
        { name: 'ERRORECB', offset: 0x104 },
      ],
      hasPower: true,
      registers: [{ name: 'ECBDATAPTR', offset: 0x504 }],
    };
  }

  protected override onRealizePeripheral(): void {
    this.ptrIndex = this.regs.index('ECBDATAPTR');
    this.timer = this.clock.createTimer(`${this.path}:endecb`, () => this.finish());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.latchedPtr = 0;
  }

  private guestError(msg: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${msg}`);
  }

  private start(): void {
    if (this.timer.pending) {
      this.guestError('STARTECB while an encryption is running: ERRORECB');
      this.generateEvent(EV_ERRORECB);
      return;
    }
    const ptr = this.regs.value(this.ptrIndex);
    if (this.dataBlock(ptr) === null) {
      this.generateEvent(EV_ERRORECB);
      return;
    }
    this.latchedPtr = ptr;
    this.timer.modRel(ECB_BLOCK_NS);
  }

  private stop(): void {
    if (!this.timer.pending) return;
    this.timer.cancel();
    this.generateEvent(EV_ERRORECB);
  }

  /** The 48-byte data structure at `ptr`, or null (logged) when EasyDMA cannot reach it. */
  private dataBlock(ptr: number): Uint8Array | null {
    if (this.dma === null) {
      this.guestError('no DMA address space connected: ERRORECB');
      return null;
    }
    const data = dmaRam(this.dma, ptr, 48);
    if (data === null) this.guestError(`ECBDATAPTR 0x${ptr.toString(16)} is not 48 bytes of RAM: ERRORECB`);
    return data;
  }

  private finish(): void {
    const data = this.dataBlock(this.latchedPtr);
    if (data === null) {
      this.generateEvent(EV_ERRORECB);
      return;
    }
    data.set(aes128Block(data.subarray(0, 16), data.subarray(16, 32)), 32);
    this.generateEvent(EV_ENDECB);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return { ptr: this.latchedPtr, expires: this.timer.pending ? this.timer.expires : -1 };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.latchedPtr = stateField(state, 'ptr', isNum);
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Ecb.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 AES-128 ECB encryption block',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Ecb(),
});

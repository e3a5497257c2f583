/**
 * nRF51 CCM and AAR: AES-CCM for Bluetooth low energy packets and the accelerated address
 * resolver (nRF51 Series Reference Manual v3.0, chapters "CCM — AES CCM mode encryption" and
 * "AAR — Accelerated address resolver"; both at 0x4000F000, peripheral ID 15).
 *
 * The two blocks share their ID, so they share one register file (as Nordic's manuals say of
 * peripherals with a shared ID): one model, with ENABLE (0x500, bits 1:0) choosing which block
 * the tasks drive: 2 = CCM, 3 = AAR, 0 = neither. Registers by offset, AAR name / CCM name:
 *   0x000 TASKS_START / TASKS_KSGEN   0x004 — / TASKS_CRYPT   0x008 TASKS_STOP (both)
 *   0x100 EVENTS_END / EVENTS_ENDKSGEN   0x104 EVENTS_RESOLVED / EVENTS_ENDCRYPT
 *   0x108 EVENTS_NOTRESOLVED / EVENTS_ERROR   0x200 SHORTS (CCM bit 0 ENDKSGEN_CRYPT)
 *   0x304/0x308 INTENSET/INTENCLR (bits 0-2 = the three events)
 *   0x400 STATUS (IRK index, bits 3:0) / MICSTATUS (bit 0)   0x500 ENABLE
 *   0x504 NIRK (bits 4:0) / MODE (bit 0: 0 encrypt, 1 decrypt; reset 1)
 *   0x508 IRKPTR / CNFPTR   0x50C — / INPTR   0x510 ADDRPTR / OUTPTR   0x514 SCRATCHPTR
 *   0xFFC POWER (reset 1, writable; the SoftDevice checks it at start-up).
 * Lines: the IRQ, `event[0..2]` for the PPI (the three shared events), `task[0..2]`.
 * DMA: `setDma(as)` connects EasyDMA to an address space (the machine passes the CPU's view);
 * every pointer must address data RAM.
 *
 * CCM (real AES-CCM, node:crypto): KSGEN reads the data structure at CNFPTR (KEY 16 bytes,
 * packet counter 39 bits at 16-20, direction bit at 24 bit 0, IV 8 bytes at 25), builds the
 * Bluetooth nonce (counter and direction bit, then IV, least significant octet first) and
 * generates ENDKSGEN after 20 µs. CRYPT then reads the packet at INPTR (HEADER, LENGTH, RFU,
 * PAYLOAD) and writes it to OUTPTR: encryption appends a 4-byte MIC and adds 4 to LENGTH;
 * decryption removes it, subtracts 4 and sets MICSTATUS. The additional authenticated data is
 * HEADER & 0xE3 (Bluetooth masks NESN, SN and MD); empty packets (LENGTH 0) pass through with no
 * MIC (MICSTATUS 1). ENDCRYPT comes 8 µs per packet byte (HEADER, LENGTH, RFU, payload and MIC;
 * the 1 Mbit/s radio's pace, which the block keeps up with) after CRYPT. CRYPT with no key
 * stream generated since ENABLE or the last STOP, or a pointer outside RAM, generates ERROR.
 *
 * AAR: START reads NIRK identity resolving keys (16 bytes each) at IRKPTR and the 6-byte
 * address at ADDRPTR + 3 (ADDRPTR points at the packet: HEADER, LENGTH, RFU, then the address,
 * least significant octet first) and checks hash == ah(IRK, prand) (Bluetooth's random address
 * hash: the low 24 bits of AES-128(IRK, 13 zero octets || prand), with the IRK in AES byte
 * order). It generates RESOLVED (STATUS = the matching IRK's index) or NOTRESOLVED, then END,
 * 6 µs per IRK after START (at least 6 µs). Bad pointers are logged under -d guest_errors and
 * give NOTRESOLVED and END (the chip may fault; firmware must not hang here).
 *
 * Accuracy: the timings above are approximations (the manuals give no exact figures); the
 * SCRATCHPTR area is not used (the model keeps the key stream internally); the CCM length
 * field is the whole LENGTH byte; the AES core is not arbitrated with ECB. Tasks while the
 * selected block is disabled (ENABLE 0, or CRYPT with the AAR selected) and ENABLE value 1 are
 * logged under -d guest_errors and do nothing.
 */
import { createCipheriv } from 'node:crypto';
import type { AddressSpace } from '../../core/address-space.js';
import type { Timer } from '../../core/clock.js';
import { isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';
import { aes128Block, dmaRam } from './nrf51-ecb.js';

export const CCM_KSGEN_NS = 20_000;
export const CCM_NS_PER_BYTE = 8_000;
export const AAR_NS_PER_IRK = 6_000;

export const ENABLE_CCM = 2;
export const ENABLE_AAR = 3;

// Shared event indices: AAR END / CCM ENDKSGEN, AAR RESOLVED / CCM ENDCRYPT, AAR NOTRESOLVED / CCM ERROR.
const EV_END_ENDKSGEN = 0;
const EV_RESOLVED_ENDCRYPT = 1;
const EV_NOTRESOLVED_ERROR = 2;

const OP_NONE = 0;
const OP_KSGEN = 1;
const OP_CRYPT = 2;
const OP_AAR = 3;

/** CCM encryption of `plain` with a 4-byte MIC (Bluetooth: L = 2, M = 4, 13-byte nonce). */
function ccmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array) {
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
  c.setAAD(aad, { plaintextLength: plain.length });
  const data = c.update(plain);
  c.final();
  return { data: new Uint8Array(data), mic: new Uint8Array(c.getAuthTag()) };
}

/** CTR part of CCM alone (counter blocks from 1): decrypts whatever the MIC says. */
function ccmCtr(key: Uint8Array, nonce: Uint8Array, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv[0] = 1; // flags: L - 1 with L = 2
  iv.set(nonce, 1);
  iv[15] = 1;
  const c = createCipheriv('aes-128-ctr', key, iv);
  const out = c.update(data);
  c.final();
  return new Uint8Array(out);
}

export class Nrf51CcmAar extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.ccm_aar';
  private timer!: Timer;
  private dma: AddressSpace | null = null;
  private op = OP_NONE;
  /** Key and nonce captured by KSGEN (16 + 13 bytes), valid while keystreamReady. */
  private readonly keyNonce = new Uint8Array(29);
  private keystreamReady = false;
  private ix = { status: 0, enable: 0, nirkMode: 0, ptr508: 0, inptr: 0, ptr510: 0 };

  constructor() {
    super(Nrf51CcmAar.typeName);
  }

  /** Connects EasyDMA to an address space (the machine passes the CPU's). */
  setDma(as: AddressSpace | null): void {
    this.dma = as;
  }

  protected traceName(): string {
    return 'nrf51_ccm_aar';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START/KSGEN', offset: 0x000, run: () => this.startOrKsgen() },
        { name: 'CRYPT', offset: 0x004, run: () => this.crypt() },
        { name: 'STOP', offset: 0x008, run: () => this.stop() },
      ],
      events: [
        { name: 'END/ENDKSGEN', offset: 0x100 },
        { name: 'RESOLVED/ENDCRYPT', offset: 0x104 },
        { name: 'NOTRESOLVED/ERROR', offset: 0x108 },
      ],
      shorts: [{ bit: 0, event: 'END/ENDKSGEN', task: 'CRYPT' }],
      hasPower: true,
      registers: [
        { name: 'STATUS/MICSTATUS', offset: 0x400, writeMask: 0 },
        { name: 'ENABLE', offset: 0x500, writeMask: 3, onWrite: (v, old) => this.enableChanged(v, old) },
        { name: 'NIRK/MODE', offset: 0x504, reset: 1, writeMask: 0x1f },
        { name: 'IRKPTR/CNFPTR', offset: 0x508 },
        { name: 'INPTR', offset: 0x50c },
        { name: 'ADDRPTR/OUTPTR', offset: 0x510 },
        { name: 'SCRATCHPTR', offset: 0x514 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    const r = this.regs;
    this.ix = {
      status: r.index('STATUS/MICSTATUS'),
      enable: r.index('ENABLE'),
      nirkMode: r.index('NIRK/MODE'),
      ptr508: r.index('IRKPTR/CNFPTR'),
      inptr: r.index('INPTR'),
      ptr510: r.index('ADDRPTR/OUTPTR'),
    };
    this.timer = this.clock.createTimer(`${this.path}:done`, () => this.finish());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.op = OP_NONE;
    this.keystreamReady = false;
    this.keyNonce.fill(0);
  }

  private guestError(msg: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${msg}`);
  }

  private enableChanged(value: number, old: number): void {
    if (value === 1) this.guestError('ENABLE = 1 is reserved (2 = CCM, 3 = AAR)');
    if (value !== old) {
      // Switching blocks abandons any operation and the CCM key stream.
      this.timer.cancel();
      this.op = OP_NONE;
      this.keystreamReady = false;
    }
  }

  private enabled(): number {
    return this.regs.value(this.ix.enable) & 3;
  }

  private ram(addr: number, length: number, what: string): Uint8Array | null {
    if (this.dma === null) {
      this.guestError('no DMA address space connected');
      return null;
    }
    const data = dmaRam(this.dma, addr, length);
    if (data === null)
      this.guestError(`${what} 0x${addr.toString(16)} does not point to ${length} bytes of RAM`);
    return data;
  }

  private startOrKsgen(): void {
    const en = this.enabled();
    if (en === ENABLE_CCM) {
      this.op = OP_KSGEN;
      this.timer.modRel(CCM_KSGEN_NS);
    } else if (en === ENABLE_AAR) {
      const nirk = this.regs.value(this.ix.nirkMode) & 0x1f;
      this.op = OP_AAR;
      this.timer.modRel(AAR_NS_PER_IRK * Math.max(1, nirk));
    } else {
      this.guestError('TASKS_START/KSGEN while neither AAR nor CCM is enabled: ignored');
    }
  }

  private crypt(): void {
    if (this.enabled() !== ENABLE_CCM) {
      this.guestError('TASKS_CRYPT while the CCM is not enabled: ignored');
      return;
    }
    if (!this.keystreamReady) {
      this.guestError('TASKS_CRYPT with no key stream (run KSGEN first): ERROR');
      this.generateEvent(EV_NOTRESOLVED_ERROR);
      return;
    }
    const header = this.ram(this.regs.value(this.ix.inptr), 3, 'INPTR');
    if (header === null) {
      this.generateEvent(EV_NOTRESOLVED_ERROR);
      return;
    }
    const decrypt = (this.regs.value(this.ix.nirkMode) & 1) !== 0;
    const len = header[1]!;
    const outLen = len === 0 ? 0 : decrypt ? Math.max(0, len - 4) : len + 4;
    this.op = OP_CRYPT;
    this.timer.modRel(CCM_NS_PER_BYTE * (3 + Math.max(len, outLen)));
  }

  private stop(): void {
    this.timer.cancel();
    this.op = OP_NONE;
  }

  private finish(): void {
    const op = this.op;
    this.op = OP_NONE;
    if (op === OP_KSGEN) this.finishKsgen();
    else if (op === OP_CRYPT) this.finishCrypt();
    else if (op === OP_AAR) this.finishAar();
  }

  private finishKsgen(): void {
    const cnf = this.ram(this.regs.value(this.ix.ptr508), 33, 'CNFPTR');
    if (cnf === null) {
      this.keystreamReady = false;
      this.generateEvent(EV_NOTRESOLVED_ERROR);
      return;
    }
    const kn = this.keyNonce;
    kn.set(cnf.subarray(0, 16), 0);
    kn.set(cnf.subarray(16, 20), 16); // counter octets 0-3
    kn[20] = (cnf[20]! & 0x7f) | ((cnf[24]! & 1) << 7); // counter bits 32-38, direction bit
    kn.set(cnf.subarray(25, 33), 21); // IV
    this.keystreamReady = true;
    this.generateEvent(EV_END_ENDKSGEN);
  }

  private finishCrypt(): void {
    const inPtr = this.regs.value(this.ix.inptr);
    const head = this.ram(inPtr, 3, 'INPTR');
    const len = head?.[1] ?? 0;
    const input = head === null ? null : this.ram(inPtr, 3 + len, 'INPTR');
    const decrypt = (this.regs.value(this.ix.nirkMode) & 1) !== 0;
    const outLen = len === 0 ? 0 : decrypt ? Math.max(0, len - 4) : len + 4;
    const output = this.ram(this.regs.value(this.ix.ptr510), 3 + outLen, 'OUTPTR');
    if (input === null || output === null) {
      this.generateEvent(EV_NOTRESOLVED_ERROR);
      return;
    }
    const key = this.keyNonce.subarray(0, 16);
    const nonce = this.keyNonce.subarray(16, 29);
    const aad = Uint8Array.of(input[0]! & 0xe3);
    // Copy the input first: OUTPTR may equal INPTR.
    const payload = input.slice(3, 3 + len);
    const hdr = input[0]!;
    const rfu = input[2]!;
    let micOk = true;
    output[0] = hdr;
    output[1] = outLen;
    output[2] = rfu;
    if (len !== 0 && !decrypt) {
      const { data, mic } = ccmSeal(key, nonce, aad, payload);
      output.set(data, 3);
      output.set(mic, 3 + len);
    } else if (len !== 0) {
      const plain = ccmCtr(key, nonce, payload.subarray(0, outLen));
      const expected = ccmSeal(key, nonce, aad, plain).mic;
      const got = payload.subarray(outLen, outLen + 4);
      micOk = got.length === 4 && expected.every((b, i) => b === got[i]);
      output.set(plain, 3);
    }
    if (decrypt) this.regs.setValue(this.ix.status, micOk ? 1 : 0);
    this.generateEvent(EV_RESOLVED_ENDCRYPT);
  }

  private finishAar(): void {
    const nirk = this.regs.value(this.ix.nirkMode) & 0x1f;
    const packet = this.ram(this.regs.value(this.ix.ptr510), 9, 'ADDRPTR');
    const irks =
      nirk === 0 ? new Uint8Array(0) : this.ram(this.regs.value(this.ix.ptr508), 16 * nirk, 'IRKPTR');
    let resolved = -1;
    if (packet !== null && irks !== null) {
      const addr = packet.subarray(3, 9);
      const block = new Uint8Array(16);
      // prand is the address's upper three octets; AES takes it most significant octet first.
      block[13] = addr[5]!;
      block[14] = addr[4]!;
      block[15] = addr[3]!;
      for (let i = 0; i < nirk && resolved < 0; i++) {
        const h = aes128Block(irks.subarray(16 * i, 16 * i + 16), block);
        if (h[15] === addr[0] && h[14] === addr[1] && h[13] === addr[2]) resolved = i;
      }
    }
    if (resolved >= 0) {
      this.regs.setValue(this.ix.status, resolved);
      this.generateEvent(EV_RESOLVED_ENDCRYPT);
    } else {
      this.generateEvent(EV_NOTRESOLVED_ERROR);
    }
    this.generateEvent(EV_END_ENDKSGEN);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      op: this.op,
      expires: this.timer.pending ? this.timer.expires : -1,
      keystreamReady: this.keystreamReady,
      keyNonce: Array.from(this.keyNonce),
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const op = stateField(state, 'op', isNum);
    if (op !== OP_NONE && op !== OP_KSGEN && op !== OP_CRYPT && op !== OP_AAR) {
      throw new UserError(`snapshot: bad CCM/AAR operation ${op}`);
    }
    const keyNonce = stateField(state, 'keyNonce', isNumArray);
    if (keyNonce.length !== 29) throw new UserError('snapshot: CCM key and nonce must be 29 bytes');
    this.op = op;
    this.keystreamReady = stateField(state, 'keystreamReady', isBool);
    this.keyNonce.set(keyNonce);
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51CcmAar.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 AES-CCM and accelerated address resolver (shared ID 15)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51CcmAar(),
});

/**
 * nRF51 RADIO — the 2.4 GHz transceiver (nRF51 Series Reference Manual v3.0, chapter "RADIO —
 * 2.4 GHz Radio"), enough for MicroPython's `radio` module and MakeCode's radio blocks.
 *
 * Interface
 * - MMIO region 0 at 0x40001000 (peripheral ID 1). Tasks TXEN 0x000, RXEN 0x004, START 0x008,
 *   STOP 0x00C, DISABLE 0x010, RSSISTART 0x014, RSSISTOP 0x018, BCSTART 0x01C, BCSTOP 0x020.
 *   Events READY 0x100, ADDRESS 0x104, PAYLOAD 0x108, END 0x10C, DISABLED 0x110, DEVMATCH 0x114,
 *   DEVMISS 0x118, RSSIEND 0x11C, BCMATCH 0x128. SHORTS 0x200, INTENSET/INTENCLR, CRCSTATUS
 *   0x400, RXMATCH 0x408, RXCRC 0x40C, DAI 0x410, PACKETPTR 0x504, FREQUENCY 0x508, TXPOWER
 *   0x50C, MODE 0x510, PCNF0 0x514, PCNF1 0x518, BASE0/1 0x51C/0x520, PREFIX0/1 0x524/0x528,
 *   TXADDRESS 0x52C, RXADDRESSES 0x530, CRCCNF 0x534, CRCPOLY 0x538, CRCINIT 0x53C, TEST 0x540,
 *   TIFS 0x544, RSSISAMPLE 0x548, STATE 0x550, DATAWHITEIV 0x554, BCC 0x560, DAB[8] 0x600,
 *   DAP[8] 0x620, DACNF 0x640, OVERRIDE0-4 0x724-0x734, POWER 0xFFC.
 * - Lines: IRQ (`''[0]`), PPI event/task lines (see Nrf51Peripheral).
 * - Wiring: `setDma(space)` gives the radio the bus it reads and writes packets through
 *   (EasyDMA at PACKETPTR); `setMedium(medium)` attaches it to a RadioMedium.
 * - Property `rssi`: the signal strength RSSISAMPLE reports, in -dBm (default 60).
 *
 * Accuracy
 * - Modelled: the state machine (DISABLED, RXRU, RXIDLE, RX, RXDISABLE, TXRU, TXIDLE, TX,
 *   TXDISABLE) with ramp-up 130 µs and ramp-down 10 µs, DISABLE from DISABLED giving DISABLED
 *   (firmware relies on it); packet timing on air from MODE's bit rate (preamble, address, S0,
 *   LENGTH, S1, payload, CRC); the packet layout in RAM from PCNF0/PCNF1 (S0LEN, LFLEN, S1LEN,
 *   MAXLEN, STATLEN, BALEN); logical addresses from BASE0/1 and PREFIX0/1; RXADDRESSES
 *   matching; the CRC computed with CRCPOLY/CRCINIT over the bytes (address unless SKIPADDR),
 *   least significant bit first; all shortcuts; RSSI sampling; the bit counter (BCMATCH BCC
 *   bits after the address).
 * - Approximated: a receiver gets ADDRESS, PAYLOAD and END together when the transmitter's
 *   packet ends; whitening is transparent (both ends are tsemu radios); the CRC always matches
 *   (CRCSTATUS 1) because bytes cannot be corrupted on our medium; TXPOWER has no effect.
 * - Not modelled (logged under `-d unimp` when used): device address matching (DACNF, DAB,
 *   DAP: DEVMATCH/DEVMISS), TEST, OVERRIDE0-4 trim values, TIFS.
 */
import type { AddressSpace } from '../../core/address-space.js';
import type { Timer } from '../../core/clock.js';
import { isNum, type StateData, stateField } from '../../core/device.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';
import type { RadioMedium, RadioPacket, RadioReceiver } from './radio-medium.js';

/** STATE register values. */
export const RadioState = {
  Disabled: 0,
  RxRu: 1,
  RxIdle: 2,
  Rx: 3,
  RxDisable: 4,
  TxRu: 9,
  TxIdle: 10,
  Tx: 11,
  TxDisable: 12,
} as const;

const EV = {
  READY: 0,
  ADDRESS: 1,
  PAYLOAD: 2,
  END: 3,
  DISABLED: 4,
  DEVMATCH: 5,
  DEVMISS: 6,
  RSSIEND: 7,
  BCMATCH: 8,
};
const RAMP_UP_NS = 130_000;
const RAMP_DOWN_NS = 10_000;
const RSSI_NS = 8_000;

/** Bits per second by MODE (Nrf_1Mbit, Nrf_2Mbit, Nrf_250Kbit, Ble_1Mbit). */
function bitRate(mode: number): number {
  switch (mode & 3) {
    case 1:
      return 2_000_000;
    case 2:
      return 250_000;
    default:
      return 1_000_000;
  }
}

/** Nanoseconds on air for `bytes` bytes at MODE's bit rate. */
function airNs(bytes: number, mode: number): number {
  return Math.round((bytes * 8 * 1e9) / bitRate(mode));
}

/** CRC over `data`, bits least significant first, `len` bytes wide (1-3). */
export function radioCrc(data: Uint8Array, len: number, poly: number, init: number): number {
  const width = len * 8;
  const top = 1 << (width - 1);
  const mask = width === 32 ? 0xffffffff : (1 << width) - 1;
  let crc = init & mask;
  for (const byte of data) {
    for (let bit = 0; bit < 8; bit++) {
      const inBit = (byte >> bit) & 1;
      const feedback = ((crc & top) !== 0 ? 1 : 0) ^ inBit;
      crc = (crc << 1) & mask;
      if (feedback) crc = (crc ^ poly) & mask;
    }
  }
  return crc >>> 0;
}

interface PacketLayout {
  s0: number;
  lengthBytes: number;
  lfMask: number;
  s1: number;
  maxLen: number;
  statLen: number;
  baLen: number;
}

export class Nrf51Radio extends Nrf51Peripheral implements RadioReceiver {
  static readonly typeName = 'nrf51_soc.radio';
  private dma: AddressSpace | null = null;
  private medium: RadioMedium | null = null;
  private state: number = RadioState.Disabled;
  private stateTimer!: Timer;
  private packetTimers: Timer[] = [];
  private rssiTimer!: Timer;
  private bcTimer!: Timer;
  /** Virtual time at which the current packet's address ended (bit counter reference). */
  private addressTime = -1;
  private sending: RadioPacket | null = null;

  constructor() {
    super(Nrf51Radio.typeName);
    this.declareProperty({
      name: 'rssi',
      type: 'uint',
      default: 60,
      max: 127,
      mutable: true,
      description: 'signal strength RSSISAMPLE reports, in -dBm',
    });
  }

  protected traceName(): string {
    return 'nrf51_radio';
  }

  /** The bus EasyDMA uses for packets (the machine's system address space). */
  setDma(space: AddressSpace): void {
    this.dma = space;
  }

  setMedium(medium: RadioMedium | null): void {
    this.medium?.detach(this);
    this.medium = medium;
    medium?.attach(this);
  }

  protected layout(): NrfPeripheralLayout {
    const unimpWrite = (name: string) => (v: number) => {
      if (v !== 0 && this.log.on(LogCat.Unimp))
        this.log.write(`${this.path}: ${name} is not modelled (written 0x${v.toString(16)})`);
    };
    return {
      tasks: [
        { name: 'TXEN', offset: 0x000, run: () => this.enable(true) },
        { name: 'RXEN', offset: 0x004, run: () => this.enable(false) },
        { name: 'START', offset: 0x008, run: () => this.start() },
        { name: 'STOP', offset: 0x00c, run: () => this.stopPacket() },
        { name: 'DISABLE', offset: 0x010, run: () => this.disable() },
        { name: 'RSSISTART', offset: 0x014, run: () => this.rssiTimer.modRel(RSSI_NS) },
        { name: 'RSSISTOP', offset: 0x018, run: () => this.rssiTimer.cancel() },
        { name: 'BCSTART', offset: 0x01c, run: () => this.bcStart() },
        { name: 'BCSTOP', offset: 0x020, run: () => this.bcTimer.cancel() },
      ],
      events: [
        { name: 'READY', offset: 0x100 },
        { name: 'ADDRESS', offset: 0x104 },
        { name: 'PAYLOAD', offset: 0x108 },
        { name: 'END', offset: 0x10c },
        { name: 'DISABLED', offset: 0x110 },
        { name: 'DEVMATCH', offset: 0x114 },
        { name: 'DEVMISS', offset: 0x118 },
        { name: 'RSSIEND', offset: 0x11c },
        { name: 'BCMATCH', offset: 0x128 },
      ],
      shorts: [
        { bit: 0, event: 'READY', task: 'START' },
        { bit: 1, event: 'END', task: 'DISABLE' },
        { bit: 2, event: 'DISABLED', task: 'TXEN' },
        { bit: 3, event: 'DISABLED', task: 'RXEN' },
        { bit: 4, event: 'ADDRESS', task: 'RSSISTART' },
        { bit: 5, event: 'END', task: 'START' },
        { bit: 6, event: 'ADDRESS', task: 'BCSTART' },
        { bit: 8, event: 'DISABLED', task: 'RSSISTOP' },
      ],
      hasPower: true,
      registers: [
        { name: 'CRCSTATUS', offset: 0x400, writeMask: 0 },
        { name: 'RXMATCH', offset: 0x408, writeMask: 0 },
        { name: 'RXCRC', offset: 0x40c, writeMask: 0 },
        { name: 'DAI', offset: 0x410, writeMask: 0 },
        { name: 'PACKETPTR', offset: 0x504 },
        { name: 'FREQUENCY', offset: 0x508, reset: 2, writeMask: 0x7f },
        { name: 'TXPOWER', offset: 0x50c, writeMask: 0xff },
        { name: 'MODE', offset: 0x510, writeMask: 0x3 },
        { name: 'PCNF0', offset: 0x514, writeMask: 0x000f010f },
        { name: 'PCNF1', offset: 0x518, writeMask: 0x0307ffff },
        { name: 'BASE0', offset: 0x51c },
        { name: 'BASE1', offset: 0x520 },
        { name: 'PREFIX0', offset: 0x524 },
        { name: 'PREFIX1', offset: 0x528 },
        { name: 'TXADDRESS', offset: 0x52c, writeMask: 0x7 },
        { name: 'RXADDRESSES', offset: 0x530, writeMask: 0xff },
        { name: 'CRCCNF', offset: 0x534, writeMask: 0x103 },
        { name: 'CRCPOLY', offset: 0x538, writeMask: 0xffffff },
        { name: 'CRCINIT', offset: 0x53c, writeMask: 0xffffff },
        { name: 'TEST', offset: 0x540, writeMask: 0x3, onWrite: unimpWrite('TEST') },
        { name: 'TIFS', offset: 0x544, writeMask: 0xff },
        { name: 'RSSISAMPLE', offset: 0x548, writeMask: 0 },
        { name: 'STATE', offset: 0x550, writeMask: 0, onRead: () => this.state },
        { name: 'DATAWHITEIV', offset: 0x554, reset: 0x40, writeMask: 0x7f },
        { name: 'BCC', offset: 0x560 },
        ...Array.from({ length: 8 }, (_, i) => ({ name: `DAB${i}`, offset: 0x600 + 4 * i })),
        ...Array.from({ length: 8 }, (_, i) => ({
          name: `DAP${i}`,
          offset: 0x620 + 4 * i,
          writeMask: 0xffff,
        })),
        {
          name: 'DACNF',
          offset: 0x640,
          writeMask: 0xffff,
          onWrite: unimpWrite('DACNF (device address match)'),
        },
        ...Array.from({ length: 5 }, (_, i) => ({ name: `OVERRIDE${i}`, offset: 0x724 + 4 * i })),
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.stateTimer = this.clock.createTimer(`${this.path}.state`, () => this.stateTimerFired());
    this.packetTimers = [EV.ADDRESS, EV.PAYLOAD, EV.END].map((ev) =>
      this.clock.createTimer(`${this.path}.packet${ev}`, () => this.packetPhase(ev)),
    );
    this.rssiTimer = this.clock.createTimer(`${this.path}.rssi`, () => {
      this.regs.set('RSSISAMPLE', this.getInt('rssi'));
      this.generateEvent(EV.RSSIEND);
    });
    this.bcTimer = this.clock.createTimer(`${this.path}.bc`, () => this.generateEvent(EV.BCMATCH));
  }

  protected onResetPeripheral(): void {
    this.state = RadioState.Disabled;
    this.stateTimer?.cancel();
    for (const t of this.packetTimers) t.cancel();
    this.rssiTimer?.cancel();
    this.bcTimer?.cancel();
    this.sending = null;
    this.addressTime = -1;
  }

  /** The current STATE value. */
  get radioState(): number {
    return this.state;
  }

  // ---- state machine ---------------------------------------------------------------------------

  private enable(tx: boolean): void {
    if (this.state !== RadioState.Disabled) {
      this.guestError(`TASKS_${tx ? 'TXEN' : 'RXEN'} in state ${this.state} (only allowed when DISABLED)`);
      return;
    }
    this.state = tx ? RadioState.TxRu : RadioState.RxRu;
    this.stateTimer.modRel(RAMP_UP_NS);
  }

  private disable(): void {
    for (const t of this.packetTimers) t.cancel();
    this.sending = null;
    if (this.state === RadioState.Disabled) {
      // Firmware (MicroPython's radio.on) disables an idle radio and waits for DISABLED.
      this.stateTimer.modRel(0);
      return;
    }
    const tx = this.state >= RadioState.TxRu;
    this.state = tx ? RadioState.TxDisable : RadioState.RxDisable;
    this.stateTimer.modRel(RAMP_DOWN_NS);
  }

  private stateTimerFired(): void {
    switch (this.state) {
      case RadioState.TxRu:
        this.state = RadioState.TxIdle;
        this.generateEvent(EV.READY);
        break;
      case RadioState.RxRu:
        this.state = RadioState.RxIdle;
        this.generateEvent(EV.READY);
        break;
      case RadioState.TxDisable:
      case RadioState.RxDisable:
      case RadioState.Disabled:
        this.state = RadioState.Disabled;
        this.generateEvent(EV.DISABLED);
        break;
    }
  }

  private start(): void {
    if (this.state === RadioState.TxIdle) this.startTx();
    else if (this.state === RadioState.RxIdle) this.state = RadioState.Rx;
    else this.guestError(`TASKS_START in state ${this.state} (needs TXIDLE or RXIDLE)`);
  }

  private stopPacket(): void {
    for (const t of this.packetTimers) t.cancel();
    this.sending = null;
    if (this.state === RadioState.Tx) this.state = RadioState.TxIdle;
    else if (this.state === RadioState.Rx) this.state = RadioState.RxIdle;
  }

  private bcStart(): void {
    if (this.addressTime < 0) return;
    const bits = this.regs.get('BCC');
    const at = this.addressTime + Math.round((bits * 1e9) / bitRate(this.regs.get('MODE')));
    this.bcTimer.modAbs(Math.max(at, this.clock.now));
  }

  // ---- packets ---------------------------------------------------------------------------------

  private packetLayout(): PacketLayout {
    const p0 = this.regs.get('PCNF0');
    const p1 = this.regs.get('PCNF1');
    const lflen = p0 & 0xf;
    const s1len = (p0 >> 16) & 0xf;
    return {
      s0: (p0 >> 8) & 1,
      lengthBytes: lflen > 0 ? 1 : 0,
      lfMask: (1 << lflen) - 1,
      s1: s1len > 0 ? 1 : 0,
      maxLen: p1 & 0xff,
      statLen: (p1 >> 8) & 0xff,
      baLen: (p1 >> 16) & 7,
    };
  }

  /** On-air address of logical address `n`: prefix byte then the BALEN top bytes of BASE0/1. */
  private logicalAddress(n: number, baLen: number): Uint8Array {
    const base = n === 0 ? this.regs.get('BASE0') : this.regs.get('BASE1');
    const prefixReg = n < 4 ? this.regs.get('PREFIX0') : this.regs.get('PREFIX1');
    const prefix = (prefixReg >>> ((n & 3) * 8)) & 0xff;
    const out = new Uint8Array(1 + baLen);
    out[0] = prefix;
    for (let i = 0; i < baLen; i++) out[1 + i] = (base >>> (24 - 8 * i)) & 0xff;
    return out;
  }

  private crcOf(address: Uint8Array, body: Uint8Array): { crc: number; len: number } {
    const cnf = this.regs.get('CRCCNF');
    const len = cnf & 3;
    if (len === 0) return { crc: 0, len: 0 };
    const data = cnf & 0x100 ? body : Uint8Array.from([...address, ...body]);
    return { crc: radioCrc(data, len, this.regs.get('CRCPOLY'), this.regs.get('CRCINIT')), len };
  }

  private startTx(): void {
    const layout = this.packetLayout();
    const ptr = this.regs.get('PACKETPTR');
    const header = layout.s0 + layout.lengthBytes + layout.s1;
    const head = this.dmaRead(ptr, header);
    if (!head) return;
    const length = layout.lengthBytes ? head[layout.s0]! & layout.lfMask : 0;
    const payloadLen = Math.min(length + layout.statLen, layout.maxLen);
    const body = this.dmaRead(ptr, header + payloadLen);
    if (!body) return;
    const address = this.logicalAddress(this.regs.get('TXADDRESS'), layout.baLen);
    const { crc, len } = this.crcOf(address, body);
    this.sending = {
      frequency: this.regs.get('FREQUENCY'),
      mode: this.regs.get('MODE'),
      address,
      body,
      crc,
      crcLength: len,
    };
    this.state = RadioState.Tx;
    const mode = this.sending.mode;
    const tAddress = airNs(1 + address.length, mode);
    const tPayload = tAddress + airNs(body.length, mode);
    const tEnd = tPayload + airNs(len, mode);
    const now = this.clock.now;
    this.packetTimers[0]!.modAbs(now + tAddress);
    this.packetTimers[1]!.modAbs(now + tPayload);
    this.packetTimers[2]!.modAbs(now + tEnd);
  }

  private packetPhase(ev: number): void {
    if (ev === EV.ADDRESS) this.addressTime = this.clock.now;
    if (ev === EV.END) {
      const packet = this.sending;
      this.sending = null;
      this.state = RadioState.TxIdle;
      this.addressTime = -1;
      if (packet) this.medium?.transmit(this, packet);
    }
    this.generateEvent(ev);
  }

  // ---- RadioReceiver ---------------------------------------------------------------------------

  accepts(packet: RadioPacket): boolean {
    if (this.state !== RadioState.Rx) return false;
    if (packet.frequency !== this.regs.get('FREQUENCY') || packet.mode !== this.regs.get('MODE'))
      return false;
    return this.matchAddress(packet.address) >= 0;
  }

  private matchAddress(address: Uint8Array): number {
    const enabled = this.regs.get('RXADDRESSES');
    const baLen = this.packetLayout().baLen;
    for (let n = 0; n < 8; n++) {
      if ((enabled & (1 << n)) === 0) continue;
      const mine = this.logicalAddress(n, baLen);
      if (mine.length === address.length && mine.every((b, i) => b === address[i])) return n;
    }
    return -1;
  }

  deliver(packet: RadioPacket): void {
    const layout = this.packetLayout();
    const header = layout.s0 + layout.lengthBytes + layout.s1;
    const length = layout.lengthBytes ? (packet.body[layout.s0] ?? 0) & layout.lfMask : 0;
    const n = Math.min(header + Math.min(length + layout.statLen, layout.maxLen), packet.body.length);
    this.regs.set('RXMATCH', this.matchAddress(packet.address));
    this.addressTime = this.clock.now;
    this.generateEvent(EV.ADDRESS);
    if (this.dma?.writeDebug(this.regs.get('PACKETPTR'), packet.body.subarray(0, n)) === false) {
      this.guestError(`PACKETPTR 0x${this.regs.get('PACKETPTR').toString(16)} is not in RAM`);
    }
    this.generateEvent(EV.PAYLOAD);
    this.regs.set('RXCRC', packet.crc);
    this.regs.set('CRCSTATUS', 1);
    this.state = RadioState.RxIdle;
    this.generateEvent(EV.END);
    this.addressTime = -1;
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private dmaRead(addr: number, length: number): Uint8Array | null {
    const bytes = this.dma?.readDebug(addr, length) ?? null;
    if (!bytes) this.guestError(`EasyDMA read of ${length} bytes at PACKETPTR 0x${addr.toString(16)} failed`);
    return bytes;
  }

  private guestError(msg: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${msg}`);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      state: this.state,
      stateTimer: this.stateTimer.pending ? this.stateTimer.expires : -1,
      rssiTimer: this.rssiTimer.pending ? this.rssiTimer.expires : -1,
      bcTimer: this.bcTimer.pending ? this.bcTimer.expires : -1,
      addressTime: this.addressTime,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.state = stateField(state, 'state', isNum);
    this.addressTime = stateField(state, 'addressTime', isNum);
    const rearm = (t: Timer, at: number) => (at >= 0 ? t.modAbs(at) : t.cancel());
    rearm(this.stateTimer, stateField(state, 'stateTimer', isNum));
    rearm(this.rssiTimer, stateField(state, 'rssiTimer', isNum));
    rearm(this.bcTimer, stateField(state, 'bcTimer', isNum));
    // A packet in flight is not part of the snapshot: it is lost, as if STOP had been issued.
    for (const t of this.packetTimers) t.cancel();
    this.sending = null;
    if (this.state === RadioState.Tx) this.state = RadioState.TxIdle;
  }
}

registerDeviceType({
  name: Nrf51Radio.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 2.4 GHz radio',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Radio(),
});

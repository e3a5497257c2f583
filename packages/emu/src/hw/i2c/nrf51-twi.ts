/**
 * nRF51 TWI: the I2C-compatible two-wire interface master (nRF51 Series Reference Manual v3.0,
 * chapter "TWI — I2C compatible two-wire interface"). Type `nrf51_soc.twi`; TWI0 at 0x40003000
 * (ID 3) and TWI1 at 0x40004000 (ID 4), IDs it shares with SPI0/SPI1 (the SoC maps
 * `nrf51_soc.spi_twi`, hw/misc/nrf51-serial-box.ts, which holds one TWI and one SPI).
 *
 * Interface (besides the common nRF51 peripheral interface, see Nrf51Peripheral)
 * - Tasks STARTRX 0x000, STARTTX 0x008, STOP 0x014, SUSPEND 0x01C, RESUME 0x020.
 * - Events STOPPED 0x104, RXDREADY 0x108, TXDSENT 0x11C, ERROR 0x124, BB 0x138, SUSPENDED 0x148.
 * - SHORTS: bit 0 BB_SUSPEND, bit 1 BB_STOP. INTENSET/INTENCLR (no INTEN register), POWER 0xFFC.
 * - ERRORSRC 0x4C4 (bit 0 OVERRUN, bit 1 ANACK, bit 2 DNACK; write 1 to clear), ENABLE 0x500
 *   (5 = TWI enabled), PSELSCL 0x508, PSELSDA 0x50C, RXD 0x518, TXD 0x51C, FREQUENCY 0x524
 *   (K100 0x01980000, K250 0x04000000, K400 0x06680000), ADDRESS 0x588 (the 7-bit address).
 * - `bus`: the I2C bus it masters (child `i2c`); the board attaches slaves there.
 *
 * Behaviour. A byte on the wire takes 9 bit times at the FREQUENCY (8 data bits and the
 * acknowledge bit) on the virtual clock; the STOP condition takes one bit time.
 * - STARTTX/STARTRX: START and the address byte. On NACK: ERRORSRC.ANACK, ERROR, and the master
 *   holds the bus until STOP. STARTTX/STARTRX during a transfer is a repeated START (after the
 *   byte in flight, if any).
 * - Write: each byte written to TXD (before or after STARTTX) is sent; TXDSENT when its ACK has
 *   been clocked in; with no new TXD the master stretches the clock. A data NACK gives
 *   ERRORSRC.DNACK and ERROR instead of TXDSENT.
 * - Read: the master receives bytes; RXDREADY when a byte is in RXD. It then holds the clock
 *   until RXD is read (or RESUME, when suspended), then acknowledges and receives the next one.
 *   A STOP triggered while a byte is being received (typically by the BB_STOP shortcut) or while
 *   the master holds a received byte makes it NACK that byte and send STOP. A byte completed
 *   while RXD was still unread (after a RESUME without reading RXD) sets ERRORSRC.OVERRUN.
 * - BB is generated at the start of every data byte (not the address byte), so BB_SUSPEND or a
 *   PPI channel BB -> SUSPEND suspends the master after that byte (SUSPENDED), and BB_STOP ends
 *   the transfer after it. SUSPEND between bytes suspends at once; RESUME continues.
 * - STOP always ends with STOPPED one bit time later, even on an idle bus (drivers issue a
 *   second STOP after BB_STOP and wait for STOPPED).
 *
 * Accuracy: byte-level timing as above, with the nominal 100/250/400 kHz rates (the chip's
 * dividers give 99.6/250/410 kHz); the START condition's setup time and the acknowledge bit of
 * a received byte are folded into the 9-bit byte slot. Slaves never stretch the clock. The bus
 * does not depend on PSELSCL/PSELSDA (stored, not checked: the micro:bit's sensors answer on
 * whatever pins are selected). Tasks while ENABLE is not 5 and reserved FREQUENCY values
 * (treated as 100 kHz) are logged under `-d guest_errors`.
 */
import type { Timer } from '../../core/clock.js';
import { isNumArray, type StateData, stateField } from '../../core/device.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';
import { I2CBus } from './i2c-bus.js';

export const TWI_ENABLED = 5;
export const TWI_FREQ_K100 = 0x0198_0000;
export const TWI_FREQ_K250 = 0x0400_0000;
export const TWI_FREQ_K400 = 0x0668_0000;
export const ERRORSRC_OVERRUN = 1 << 0;
export const ERRORSRC_ANACK = 1 << 1;
export const ERRORSRC_DNACK = 1 << 2;

/** Event indices (order of `layout().events`). */
export const TWI_EV = { STOPPED: 0, RXDREADY: 1, TXDSENT: 2, ERROR: 3, BB: 4, SUSPENDED: 5 } as const;

// Transfer phases.
const IDLE = 0;
/** START and address byte on the wire. */
const ADDRESS = 1;
/** Write transfer, waiting for TXD (clock stretched). */
const TX_WAIT = 2;
const TX_BYTE = 3;
const RX_BYTE = 4;
/** Read transfer, a received byte held until RXD is read / RESUME. */
const RX_HOLD = 5;
/** STOP condition on the wire. */
const STOPPING = 6;
/** After a NACK: the bus is held until STOP. */
const HALTED = 7;

const F_READING = 1 << 0;
const F_TXD_PENDING = 1 << 1;
const F_STOP_PENDING = 1 << 2;
const F_SUSPEND_PENDING = 1 << 3;
const F_SUSPENDED = 1 << 4;
const F_RXD_UNREAD = 1 << 5;

export class Nrf51Twi extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.twi';
  /** The bus this master drives; slaves attach here (before or after realize). */
  readonly bus: I2CBus;
  private wire!: Timer;
  private phase = IDLE;
  private flags = 0;
  /** Byte on the wire in a write transfer. */
  private shiftByte = 0;
  /** Repeated START requested while a byte was on the wire: 0 none, 1 write, 2 read. */
  private pendingStart = 0;
  private iErrorsrc = 0;
  private iEnable = 0;
  private iRxd = 0;
  private iTxd = 0;
  private iFrequency = 0;
  private iAddress = 0;

  constructor() {
    super(Nrf51Twi.typeName);
    this.bus = this.addChild('i2c', new I2CBus());
  }

  protected traceName(): string {
    return 'nrf51_twi';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'STARTRX', offset: 0x000, run: () => this.startTask(true) },
        { name: 'STARTTX', offset: 0x008, run: () => this.startTask(false) },
        { name: 'STOP', offset: 0x014, run: () => this.stopTask() },
        { name: 'SUSPEND', offset: 0x01c, run: () => this.suspendTask() },
        { name: 'RESUME', offset: 0x020, run: () => this.resumeTask() },
      ],
      events: [
        { name: 'STOPPED', offset: 0x104 },
        { name: 'RXDREADY', offset: 0x108 },
        { name: 'TXDSENT', offset: 0x11c },
        { name: 'ERROR', offset: 0x124 },
        { name: 'BB', offset: 0x138 },
        { name: 'SUSPENDED', offset: 0x148 },
      ],
      shorts: [
        { bit: 0, event: 'BB', task: 'SUSPEND' },
        { bit: 1, event: 'BB', task: 'STOP' },
      ],
      hasPower: true,
      registers: [
        { name: 'ERRORSRC', offset: 0x4c4, writeMask: 0, w1c: 0x7 },
        { name: 'ENABLE', offset: 0x500, writeMask: 0x7, onWrite: (v) => this.enableWritten(v) },
        { name: 'PSELSCL', offset: 0x508, reset: 0xffff_ffff },
        { name: 'PSELSDA', offset: 0x50c, reset: 0xffff_ffff },
        { name: 'RXD', offset: 0x518, writeMask: 0, readMask: 0xff, onRead: (v) => this.rxdRead(v) },
        { name: 'TXD', offset: 0x51c, writeMask: 0xff, onWrite: () => this.txdWritten() },
        {
          name: 'FREQUENCY',
          offset: 0x524,
          reset: TWI_FREQ_K250,
          onWrite: (v) => this.frequencyWritten(v),
        },
        { name: 'ADDRESS', offset: 0x588, writeMask: 0x7f },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.iErrorsrc = this.regs.index('ERRORSRC');
    this.iEnable = this.regs.index('ENABLE');
    this.iRxd = this.regs.index('RXD');
    this.iTxd = this.regs.index('TXD');
    this.iFrequency = this.regs.index('FREQUENCY');
    this.iAddress = this.regs.index('ADDRESS');
    this.wire = this.clock.createTimer(`${this.path}.wire`, () => this.wireDone());
  }

  protected onResetPeripheral(): void {
    this.wire.cancel();
    if (this.phase !== IDLE) this.bus.stop();
    this.phase = IDLE;
    this.flags = 0;
    this.shiftByte = 0;
    this.pendingStart = 0;
  }

  /** True while ENABLE selects the TWI. */
  get enabled(): boolean {
    return this.regs.value(this.iEnable) === TWI_ENABLED;
  }

  /** One bit time in ns at the current FREQUENCY. */
  bitTimeNs(): number {
    switch (this.regs.value(this.iFrequency)) {
      case TWI_FREQ_K250:
        return 4_000;
      case TWI_FREQ_K400:
        return 2_500;
      default:
        return 10_000;
    }
  }

  // ---- tasks ----

  private startTask(read: boolean): void {
    if (!this.checkEnabled(read ? 'STARTRX' : 'STARTTX')) return;
    switch (this.phase) {
      case ADDRESS:
      case TX_BYTE:
      case RX_BYTE:
      case STOPPING:
        // Applied when the wire is free again.
        this.pendingStart = read ? 2 : 1;
        return;
      default:
        this.beginAddress(read);
    }
  }

  private stopTask(): void {
    if (!this.checkEnabled('STOP')) return;
    switch (this.phase) {
      case ADDRESS:
      case TX_BYTE:
      case RX_BYTE:
        this.flags |= F_STOP_PENDING;
        return;
      case RX_HOLD:
        this.bus.nack();
        this.beginStop();
        return;
      case STOPPING:
        return;
      default:
        this.beginStop();
    }
  }

  private suspendTask(): void {
    if (!this.checkEnabled('SUSPEND')) return;
    switch (this.phase) {
      case ADDRESS:
      case TX_BYTE:
      case RX_BYTE:
        this.flags |= F_SUSPEND_PENDING;
        return;
      case TX_WAIT:
      case RX_HOLD:
        if ((this.flags & F_SUSPENDED) === 0) {
          this.flags |= F_SUSPENDED;
          this.generateEvent(TWI_EV.SUSPENDED);
        }
        return;
      default:
        // No transfer to suspend; still answer, so that nothing waits for SUSPENDED forever.
        this.guestError('SUSPEND without a transfer in progress');
        this.generateEvent(TWI_EV.SUSPENDED);
    }
  }

  private resumeTask(): void {
    if (!this.checkEnabled('RESUME')) return;
    this.flags &= ~F_SUSPEND_PENDING;
    if ((this.flags & F_SUSPENDED) === 0) return;
    this.flags &= ~F_SUSPENDED;
    if (this.pendingStart !== 0 && (this.phase === TX_WAIT || this.phase === RX_HOLD)) {
      this.takePendingStart();
    } else if (this.phase === TX_WAIT) {
      if ((this.flags & F_TXD_PENDING) !== 0) this.beginTxByte();
    } else if (this.phase === RX_HOLD) {
      this.beginRxByte();
    }
  }

  // ---- registers ----

  private txdWritten(): void {
    this.flags |= F_TXD_PENDING;
    if (this.phase === TX_WAIT && (this.flags & F_SUSPENDED) === 0 && this.enabled) this.beginTxByte();
  }

  private rxdRead(value: number): number {
    if ((this.flags & F_RXD_UNREAD) !== 0) {
      this.flags &= ~F_RXD_UNREAD;
      if (this.phase === RX_HOLD && (this.flags & F_SUSPENDED) === 0) {
        if (this.pendingStart !== 0) this.takePendingStart();
        else this.beginRxByte();
      }
    }
    return value;
  }

  private enableWritten(value: number): void {
    // 1 (SPI) and 2 (SPIS) belong to the peripherals sharing the ID; others are reserved.
    if (value !== 0 && value !== 1 && value !== 2 && value !== TWI_ENABLED) {
      this.guestError(`reserved ENABLE value ${value}`);
    }
    if (value !== TWI_ENABLED && this.phase !== IDLE) {
      // Disabling aborts the transfer; the chip releases the lines without a STOP event.
      this.wire.cancel();
      this.bus.stop();
      this.phase = IDLE;
      this.flags &= F_TXD_PENDING;
      this.pendingStart = 0;
    }
  }

  private frequencyWritten(value: number): void {
    // FREQUENCY is shared with the other block of this ID: only judge values meant for us.
    if (!this.enabled) return;
    if (value !== TWI_FREQ_K100 && value !== TWI_FREQ_K250 && value !== TWI_FREQ_K400) {
      this.guestError(`reserved FREQUENCY value 0x${hex(value >>> 0)}, using 100 kHz`);
    }
  }

  // ---- the wire ----

  private beginAddress(read: boolean): void {
    // A repeated START while holding a received byte NACKs it first.
    if (this.phase === RX_HOLD) this.bus.nack();
    this.phase = ADDRESS;
    this.flags = (this.flags & (F_TXD_PENDING | F_RXD_UNREAD)) | (read ? F_READING : 0);
    this.pendingStart = 0;
    this.wire.modRel(9 * this.bitTimeNs());
  }

  private beginTxByte(): void {
    this.shiftByte = this.regs.value(this.iTxd) & 0xff;
    this.flags &= ~F_TXD_PENDING;
    this.phase = TX_BYTE;
    this.wire.modRel(9 * this.bitTimeNs());
    // After arming: a BB shortcut sets STOP/SUSPEND pending for the end of this byte.
    this.generateEvent(TWI_EV.BB);
  }

  private beginRxByte(): void {
    this.phase = RX_BYTE;
    this.wire.modRel(9 * this.bitTimeNs());
    this.generateEvent(TWI_EV.BB);
  }

  private beginStop(): void {
    this.flags &= ~(F_STOP_PENDING | F_SUSPEND_PENDING | F_SUSPENDED);
    this.phase = STOPPING;
    this.wire.modRel(this.bitTimeNs());
  }

  private takePendingStart(): void {
    const read = this.pendingStart === 2;
    this.pendingStart = 0;
    this.beginAddress(read);
  }

  private wireDone(): void {
    switch (this.phase) {
      case ADDRESS:
        this.addressDone();
        return;
      case TX_BYTE:
        this.txByteDone();
        return;
      case RX_BYTE:
        this.rxByteDone();
        return;
      case STOPPING:
        this.bus.stop();
        this.phase = IDLE;
        this.flags &= F_TXD_PENDING | F_RXD_UNREAD;
        this.generateEvent(TWI_EV.STOPPED);
        if (this.pendingStart !== 0 && this.phase === IDLE) this.takePendingStart();
        return;
      default:
        return;
    }
  }

  private addressDone(): void {
    const read = (this.flags & F_READING) !== 0;
    if (!this.bus.start(this.regs.value(this.iAddress) & 0x7f, read)) {
      this.nacked(ERRORSRC_ANACK);
      return;
    }
    if (this.pendingStart !== 0) {
      this.takePendingStart();
      return;
    }
    if (read) {
      // A read transfer always receives at least one byte (the slave drives SDA).
      this.beginRxByte();
      return;
    }
    this.phase = TX_WAIT;
    this.continueWrite();
  }

  private txByteDone(): void {
    if (!this.bus.send(this.shiftByte)) {
      this.nacked(ERRORSRC_DNACK);
      return;
    }
    this.phase = TX_WAIT;
    this.generateEvent(TWI_EV.TXDSENT);
    // A shortcut or PPI channel may have acted on TXDSENT already.
    if (this.phase === TX_WAIT) this.continueWrite();
  }

  /** Between bytes of a write transfer: stop, suspend, repeated START or the next byte. */
  private continueWrite(): void {
    if ((this.flags & F_STOP_PENDING) !== 0) {
      this.beginStop();
    } else if ((this.flags & F_SUSPEND_PENDING) !== 0) {
      this.flags = (this.flags & ~F_SUSPEND_PENDING) | F_SUSPENDED;
      this.generateEvent(TWI_EV.SUSPENDED);
    } else if (this.pendingStart !== 0) {
      this.takePendingStart();
    } else if ((this.flags & (F_TXD_PENDING | F_SUSPENDED)) === F_TXD_PENDING) {
      this.beginTxByte();
    }
  }

  private rxByteDone(): void {
    const byte = this.bus.recv();
    const overrun = (this.flags & F_RXD_UNREAD) !== 0;
    this.regs.setValue(this.iRxd, byte);
    this.flags |= F_RXD_UNREAD;
    this.phase = RX_HOLD;
    const stop = (this.flags & F_STOP_PENDING) !== 0;
    const suspend = !stop && (this.flags & F_SUSPEND_PENDING) !== 0;
    this.flags &= ~F_SUSPEND_PENDING;
    if (stop) {
      this.bus.nack();
      this.beginStop();
    } else if (suspend) {
      this.flags |= F_SUSPENDED;
    }
    if (overrun) this.setErrorSource(ERRORSRC_OVERRUN);
    this.generateEvent(TWI_EV.RXDREADY);
    if (overrun) this.generateEvent(TWI_EV.ERROR);
    if (suspend) this.generateEvent(TWI_EV.SUSPENDED);
  }

  private nacked(source: number): void {
    this.phase = HALTED;
    this.setErrorSource(source);
    const stop = (this.flags & F_STOP_PENDING) !== 0;
    if (stop) this.beginStop();
    this.generateEvent(TWI_EV.ERROR);
  }

  private setErrorSource(bits: number): void {
    this.regs.setValue(this.iErrorsrc, this.regs.value(this.iErrorsrc) | bits);
  }

  private checkEnabled(task: string): boolean {
    if (this.enabled) return true;
    this.guestError(`task ${task} while the TWI is not enabled (ENABLE != 5)`);
    return false;
  }

  private guestError(message: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${message}`);
  }

  // ---- state ----

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      twi: [this.phase, this.flags, this.shiftByte, this.pendingStart],
      wire: [this.wire.pending ? this.wire.expires : -1],
      bus: this.bus.saveState(),
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const twi = stateField(state, 'twi', isNumArray);
    const [wire] = stateField(state, 'wire', isNumArray);
    this.phase = twi[0] ?? IDLE;
    this.flags = twi[1] ?? 0;
    this.shiftByte = twi[2] ?? 0;
    this.pendingStart = twi[3] ?? 0;
    this.bus.loadState(stateField(state, 'bus', (v): v is StateData => v !== undefined));
    if (wire !== undefined && wire >= 0) this.wire.modAbs(wire);
    else this.wire.cancel();
  }
}

registerDeviceType({
  name: Nrf51Twi.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 TWI (I2C master)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Twi(),
});

/**
 * A generic I2C bus: one master drives transfers to slaves attached at 7-bit addresses.
 *
 * Our own design (QEMU's i2c core only inspired the vocabulary). The bus works at byte level:
 * bit timing belongs to the master model (e.g. the nRF51 TWI), which calls these methods when
 * the corresponding part of a transfer completes on the wire.
 *
 * Master API
 * - `start(address, read)`: START (or repeated START) and the address byte. Returns true when a
 *   slave acknowledged, false (NACK) when none is attached there or the slave refuses.
 * - `send(byte)`: one data byte to the addressed slave (write transfer); true = ACK.
 * - `recv()`: one data byte from the addressed slave (read transfer); 0xFF (the bus's pulled-up
 *   level) when no slave is addressed.
 * - `nack()`: the master NACKs the last byte it read (end of a read transfer).
 * - `stop()`: STOP; the bus is free again.
 *
 * A repeated START to the same address keeps the slave's context (the usual "write a register
 * pointer, then read" sequence); to another address, the previous slave sees 'stop' first, as a
 * real slave that is no longer addressed returns to idle.
 *
 * Slaves implement `I2CSlave`. Attaching two slaves at one address is a programming error
 * (the board wires its parts once), so it throws a plain Error.
 *
 * Accuracy: byte-level only: no clock stretching, no multi-master arbitration, no 10-bit
 * addressing, no general call; a slave answers every byte at once.
 */
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { declareType, ObjectNode } from '../../core/object.js';

export type I2CEvent = 'start-send' | 'start-recv' | 'stop' | 'nack';

export interface I2CSlave {
  /**
   * A bus condition concerning this slave. For 'start-send'/'start-recv' the return value is
   * the address ACK (false refuses the transfer); it is ignored for 'stop' and 'nack'.
   */
  event(kind: I2CEvent): boolean;
  /** A data byte written by the master; returns the ACK bit (true = ACK). */
  send(byte: number): boolean;
  /** The next data byte the master reads. */
  recv(): number;
}

/** Address of no slave: the bus is idle or the last START was not acknowledged. */
const NONE = -1;

export class I2CBus extends ObjectNode {
  static readonly typeName = 'i2c-bus';
  private readonly slaves: Array<I2CSlave | null> = new Array<I2CSlave | null>(128).fill(null);
  /** Address of the slave taking part in the current transfer, or NONE. */
  private current = NONE;
  private reading = false;

  constructor() {
    super(I2CBus.typeName);
  }

  /** Attaches `slave` at the 7-bit `address`. */
  attach(slave: I2CSlave, address: number): void {
    if (!Number.isInteger(address) || address < 0 || address > 0x7f) {
      throw new Error(`${this.path}: I2C address ${address} is not a 7-bit address`);
    }
    if (this.slaves[address] !== null) {
      throw new Error(`${this.path}: two slaves at I2C address 0x${address.toString(16)}`);
    }
    this.slaves[address] = slave;
  }

  detach(address: number): void {
    if (this.current === address) this.current = NONE;
    this.slaves[address] = null;
  }

  /** The slave at `address`, or null. */
  slaveAt(address: number): I2CSlave | null {
    return this.slaves[address & 0x7f] ?? null;
  }

  /** Addresses with a slave, ascending (monitor listings). */
  addresses(): number[] {
    const out: number[] = [];
    for (let a = 0; a < 128; a++) if (this.slaves[a] !== null) out.push(a);
    return out;
  }

  /** True between an acknowledged START and the STOP. */
  get busy(): boolean {
    return this.current !== NONE;
  }

  start(address: number, read: boolean): boolean {
    const addr = address & 0x7f;
    if (this.current !== NONE && this.current !== addr) this.slaves[this.current]?.event('stop');
    this.current = NONE;
    const slave = this.slaves[addr];
    if (slave === null || slave === undefined) return false;
    if (!slave.event(read ? 'start-recv' : 'start-send')) return false;
    this.current = addr;
    this.reading = read;
    return true;
  }

  send(byte: number): boolean {
    if (this.current === NONE || this.reading) return false;
    return this.slaves[this.current]!.send(byte & 0xff);
  }

  recv(): number {
    if (this.current === NONE || !this.reading) return 0xff;
    return this.slaves[this.current]!.recv() & 0xff;
  }

  nack(): void {
    if (this.current !== NONE && this.reading) this.slaves[this.current]!.event('nack');
  }

  stop(): void {
    if (this.current !== NONE) this.slaves[this.current]!.event('stop');
    this.current = NONE;
  }

  /** The transfer in progress (the slaves save their own state). */
  saveState(): StateData {
    return { current: this.current, reading: this.reading };
  }

  loadState(state: StateData): void {
    const current = stateField(state, 'current', isNum);
    this.current =
      Number.isInteger(current) && current >= 0 && current < 128 && this.slaves[current] !== null
        ? current
        : NONE;
    this.reading = stateField(state, 'reading', isBool);
  }
}

declareType(I2CBus.typeName, 'object');
/** Parent type of I2C slave devices (QEMU's TYPE_I2C_SLAVE). */
export const I2C_SLAVE_TYPE = 'i2c-slave';
declareType(I2C_SLAVE_TYPE, 'device');

/**
 * nRF51 SPI master (nRF51 Series Reference Manual v3.0, chapter "SPI — Serial peripheral
 * interface master"). Type `nrf51_soc.spi`; SPI0 at 0x40003000 (ID 3) and SPI1 at 0x40004000
 * (ID 4), IDs it shares with TWI0/TWI1 (the SoC maps `nrf51_soc.spi_twi`, which holds one of
 * each, see hw/misc/nrf51-serial-box.ts).
 *
 * Interface (besides the common nRF51 peripheral interface, see Nrf51Peripheral)
 * - No tasks. Event READY 0x108. INTENSET/INTENCLR (no INTEN register), POWER 0xFFC.
 * - ENABLE 0x500 (1 = SPI enabled), PSELSCK 0x508, PSELMOSI 0x50C, PSELMISO 0x510, RXD 0x518,
 *   TXD 0x51C, FREQUENCY 0x524 (K125 0x02000000 ... M8 0x80000000), CONFIG 0x554 (bit 0 ORDER
 *   1 = LSB first, bit 1 CPHA, bit 2 CPOL).
 * - `attach(slave)`: the device at the far end of the bus (`SPISlave`), or null. Nothing is
 *   attached on the micro:bit, so MISO floats high and every received byte is 0xFF.
 *
 * Behaviour: TXD and RXD are double buffered. Writing TXD while enabled starts a transfer when
 * the shifter is idle and RXD has room; a second byte waits in TXD. A byte takes 8 bit times at
 * the FREQUENCY on the virtual clock; then the byte clocked in moves to RXD if RXD is free
 * (READY) or waits in the second RXD buffer, and the next TXD byte starts if there is room for
 * its reply. Reading RXD frees it: a waiting received byte moves in (READY again) and a stalled
 * transfer continues. With ORDER = LSB first the slave sees (and answers) the bit-reversed byte,
 * as an MSB-first device on that wire would.
 *
 * Accuracy: CPOL/CPHA are stored and not checked against the slave (a byte-level bus has no
 * clock edges). Chip select is a GPIO on the nRF51, not part of this block. A TXD write while
 * both TXD buffers are full is lost, and a reserved FREQUENCY value (treated as 250 kHz) is
 * logged; both under `-d guest_errors`.
 */
import type { Timer } from '../../core/clock.js';
import { isNumArray, type StateData, stateField } from '../../core/device.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** The device at the far end of an SPI bus. */
export interface SPISlave {
  /** Exchanges one byte: `mosi` is what the master sends (MSB first), the result what it reads. */
  transfer(mosi: number): number;
}

export const SPI_ENABLED = 1;
export const SPI_FREQ_K125 = 0x0200_0000;
export const SPI_FREQ_K250 = 0x0400_0000;
export const SPI_FREQ_M8 = 0x8000_0000;
/** Event index of READY. */
export const SPI_EV_READY = 0;

const CONFIG_ORDER_LSB = 1 << 0;

function reverseBits(byte: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((byte >> i) & 1) << (7 - i);
  return r;
}

export class Nrf51Spi extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.spi';
  private slave: SPISlave | null = null;
  private shifter!: Timer;
  private iEnable = 0;
  private iRxd = 0;
  private iFrequency = 0;
  private iConfig = 0;
  /** A byte is being shifted. */
  private shifting = false;
  private shiftByte = 0;
  /** A byte waits in the TXD buffer. */
  private txdFull = false;
  private txdByte = 0;
  /** Received bytes: [0] is in RXD (when count >= 1), [1] waits behind it. */
  private readonly rx = [0, 0];
  private rxCount = 0;

  constructor() {
    super(Nrf51Spi.typeName);
  }

  /** Connects the far end of the bus (null: nothing; reads give 0xFF). */
  attach(slave: SPISlave | null): void {
    this.slave = slave;
  }

  protected traceName(): string {
    return 'nrf51_spi';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [],
      events: [{ name: 'READY', offset: 0x108 }],
      hasPower: true,
      registers: [
        { name: 'ENABLE', offset: 0x500, writeMask: 0x7, onWrite: (v) => this.enableWritten(v) },
        { name: 'PSELSCK', offset: 0x508, reset: 0xffff_ffff },
        { name: 'PSELMOSI', offset: 0x50c, reset: 0xffff_ffff },
        { name: 'PSELMISO', offset: 0x510, reset: 0xffff_ffff },
        { name: 'RXD', offset: 0x518, writeMask: 0, readMask: 0xff, onRead: (v) => this.rxdRead(v) },
        { name: 'TXD', offset: 0x51c, writeMask: 0xff, onWrite: (v) => this.txdWritten(v) },
        {
          name: 'FREQUENCY',
          offset: 0x524,
          reset: SPI_FREQ_K250,
          onWrite: (v) => this.frequencyWritten(v),
        },
        { name: 'CONFIG', offset: 0x554, writeMask: 0x7 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.iEnable = this.regs.index('ENABLE');
    this.iRxd = this.regs.index('RXD');
    this.iFrequency = this.regs.index('FREQUENCY');
    this.iConfig = this.regs.index('CONFIG');
    this.shifter = this.clock.createTimer(`${this.path}.shifter`, () => this.shiftDone());
  }

  protected onResetPeripheral(): void {
    this.clearTransfer();
  }

  get enabled(): boolean {
    return this.regs.value(this.iEnable) === SPI_ENABLED;
  }

  /** Time of one byte (8 bit times) in ns at the current FREQUENCY. */
  byteTimeNs(): number {
    const f = this.regs.value(this.iFrequency) >>> 0;
    // Valid values are 0x02000000 << n (125 kHz << n), n = 0..6.
    const units = f / SPI_FREQ_K125;
    const valid = f !== 0 && (f & 0x01ff_ffff) === 0 && (units & (units - 1)) === 0;
    return 64_000 / (valid ? units : 2);
  }

  private clearTransfer(): void {
    this.shifter.cancel();
    this.shifting = false;
    this.txdFull = false;
    this.rxCount = 0;
  }

  private enableWritten(value: number): void {
    // 2 (SPIS) and 5 (TWI) belong to the peripherals sharing the ID; others are reserved.
    if (value !== 0 && value !== SPI_ENABLED && value !== 2 && value !== 5) {
      this.guestError(`reserved ENABLE value ${value}`);
    }
    if (value !== SPI_ENABLED) this.clearTransfer();
  }

  private frequencyWritten(value: number): void {
    // FREQUENCY is shared with the other block of this ID: only judge values meant for us.
    if (!this.enabled) return;
    const units = (value >>> 0) / SPI_FREQ_K125;
    if (!Number.isInteger(units) || units === 0 || units > 64 || (units & (units - 1)) !== 0) {
      this.guestError(`reserved FREQUENCY value 0x${hex(value >>> 0)}, using 250 kHz`);
    }
  }

  private txdWritten(value: number): void {
    if (!this.enabled) return;
    if (!this.shifting && !this.txdFull && this.rxCount < 2) {
      this.startShift(value & 0xff);
    } else if (!this.txdFull) {
      this.txdFull = true;
      this.txdByte = value & 0xff;
    } else {
      this.guestError(
        `TXD written while both transmit buffers are full: byte 0x${hex(value & 0xff, 2)} lost`,
      );
    }
  }

  private rxdRead(value: number): number {
    if (this.rxCount > 0) {
      this.rxCount--;
      if (this.rxCount > 0) {
        this.rx[0] = this.rx[1]!;
        this.regs.setValue(this.iRxd, this.rx[0]);
        this.generateEvent(SPI_EV_READY);
      }
      this.startNextIfPossible();
    }
    return value;
  }

  private startShift(byte: number): void {
    this.shiftByte = byte;
    this.shifting = true;
    this.shifter.modRel(this.byteTimeNs());
  }

  private startNextIfPossible(): void {
    if (this.shifting || !this.txdFull || this.rxCount >= 2) return;
    this.txdFull = false;
    this.startShift(this.txdByte);
  }

  private shiftDone(): void {
    this.shifting = false;
    const lsbFirst = (this.regs.value(this.iConfig) & CONFIG_ORDER_LSB) !== 0;
    const wire = lsbFirst ? reverseBits(this.shiftByte) : this.shiftByte;
    const answer = this.slave === null ? 0xff : this.slave.transfer(wire) & 0xff;
    const received = lsbFirst ? reverseBits(answer) : answer;
    this.rx[this.rxCount] = received;
    this.rxCount++;
    if (this.rxCount === 1) {
      this.regs.setValue(this.iRxd, received);
      this.generateEvent(SPI_EV_READY);
    }
    this.startNextIfPossible();
  }

  private guestError(message: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${message}`);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      spi: [
        this.shifting ? 1 : 0,
        this.shiftByte,
        this.txdFull ? 1 : 0,
        this.rx[0]!,
        this.rx[1]!,
        this.rxCount,
        this.shifter.pending ? this.shifter.expires : -1,
        this.txdByte,
      ],
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const s = stateField(state, 'spi', isNumArray);
    this.shifting = s[0] === 1;
    this.shiftByte = s[1] ?? 0;
    this.txdFull = s[2] === 1;
    this.rx[0] = s[3] ?? 0;
    this.rx[1] = s[4] ?? 0;
    this.rxCount = Math.max(0, Math.min(2, s[5] ?? 0));
    this.txdByte = s[7] ?? 0;
    const expires = s[6] ?? -1;
    if (expires >= 0) this.shifter.modAbs(expires);
    else this.shifter.cancel();
  }
}

registerDeviceType({
  name: Nrf51Spi.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 SPI master',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Spi(),
});

/**
 * The nRF51 serial block at a shared peripheral ID: SPI master and TWI master behind one 4 KiB
 * register window, selected by ENABLE (nRF51 Series Reference Manual v3.0, "Peripherals with
 * shared ID": only one of them may be enabled at a time, and they share the register space).
 * Type `nrf51_soc.spi_twi`; the SoC maps one at 0x40003000 (SPI0/TWI0, ID 3) and one at
 * 0x40004000 (SPI1/TWI1, ID 4).
 *
 * Design: the box holds two complete devices, children `twi` (Nrf51Twi, with its I2C bus at
 * `twi.bus`) and `spi` (Nrf51Spi), each with its own register block and tests. The box's MMIO
 * region routes each access:
 * - ENABLE (0x500) and the configuration registers both blocks have at the same offset with the
 *   same meaning (PSEL 0x508/0x50C, FREQUENCY 0x524, POWER 0xFFC) are written to both, so that
 *   they read back the same whichever block is selected (shared storage, as on the chip);
 * - every other register goes to the selected block: the TWI when ENABLE = 5, the SPI when
 *   ENABLE = 1, otherwise the block enabled last (the TWI after reset), so that firmware can
 *   configure a block before enabling it; offsets only one block has always go to that block.
 * The interrupt output `''[0]` is the OR of both blocks' interrupts. For the PPI, the box has
 * the event/task interface of an nRF51 peripheral (`eventIndexAt`, `eventLine`, `taskIndexAt`,
 * `taskLine`) over the union of both blocks' EVENTS_/TASKS_ offsets: an event line pulses when
 * either block generates that event, a task line runs the task on the selected block.
 *
 * Accuracy: the SPI slave (SPIS1, ENABLE = 2 at ID 4) is not modelled: selecting it is logged
 * under `-d unimp` and then no block answers tasks. Reserved ENABLE values are logged under
 * `-d guest_errors` by the blocks.
 */
import { Device, type StateData, stateField } from '../../core/device.js';
import type { InputLine, OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { type AccessSize, MemoryRegion, type MmioOps } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import type { Nrf51Peripheral, NrfPpiEndpoints } from '../core/nrf51-peripheral.js';
import { Nrf51Twi, TWI_ENABLED } from '../i2c/nrf51-twi.js';
import { Nrf51Spi, SPI_ENABLED } from '../ssi/nrf51-spi.js';

const ENABLE = 0x500;
const SPIS_ENABLED = 2;
/** Registers written to both blocks (same offset, same meaning). */
const SHARED = new Set([ENABLE, 0x508, 0x50c, 0x524, 0xffc]);

/** Routing of a word offset. */
const ROUTE_NONE = 0;
const ROUTE_TWI = 1;
const ROUTE_SPI = 2;
// ROUTE_TWI | ROUTE_SPI (both blocks have the offset) is routed by the selection.

const SELECT_TWI = 0;
const SELECT_SPI = 1;

interface EndPoint {
  block: Nrf51Peripheral;
  index: number;
}

export class Nrf51SerialBox extends Device implements MmioOps, NrfPpiEndpoints {
  static readonly typeName = 'nrf51_soc.spi_twi';
  readonly twi: Nrf51Twi;
  readonly spi: Nrf51Spi;
  /** Which block receives unshared accesses (SELECT_*). */
  private selected = SELECT_TWI;
  /** Neither block selected (ENABLE = SPIS): tasks go nowhere. */
  private spisSelected = false;
  private readonly routes = new Uint8Array(0x1000 / 4);
  private irq!: OutputLine;
  private eventOffsets: number[] = [];
  private taskOffsets: number[] = [];
  private eventLines: OutputLine[] = [];
  /** Per box task: the task of each block at that offset (or null). */
  private taskTargets: Array<[EndPoint | null, EndPoint | null]> = [];

  constructor() {
    super(Nrf51SerialBox.typeName);
    this.twi = this.addChild('twi', new Nrf51Twi());
    this.spi = this.addChild('spi', new Nrf51Spi());
  }

  protected onRealize(): void {
    this.twi.realize(this.ctx);
    this.spi.realize(this.ctx);
    for (const r of this.twi.registers.registers) this.routes[r.offset >> 2]! |= ROUTE_TWI;
    for (const r of this.spi.registers.registers) this.routes[r.offset >> 2]! |= ROUTE_SPI;
    this.addMmio(
      MemoryRegion.mmio(`${this.typeName}.regs`, 0x1000, this, {
        valid: { min: 1, max: 4, unaligned: false },
        impl: { min: 1, max: 4 },
      }),
    );

    this.irq = this.addGpioOut('', 1)[0]!;
    const updateIrq = () => this.updateIrq();
    this.twi.gpioOut('', 0).watch(updateIrq);
    this.spi.gpioOut('', 0).watch(updateIrq);

    const blocks: Nrf51Peripheral[] = [this.twi, this.spi];
    const events = new Set<number>();
    const tasks = new Set<number>();
    for (const r of [...this.twi.registers.registers, ...this.spi.registers.registers]) {
      if (r.offset >= 0x100 && r.offset < 0x200 && r.name.startsWith('EVENTS_')) events.add(r.offset);
      if (r.offset < 0x100 && r.task) tasks.add(r.offset);
    }
    this.eventOffsets = [...events].sort((a, b) => a - b);
    this.taskOffsets = [...tasks].sort((a, b) => a - b);
    this.eventLines = this.addGpioOut('event', this.eventOffsets.length);
    this.eventOffsets.forEach((offset, j) => {
      const out = this.eventLines[j]!;
      for (const b of blocks) {
        const i = b.eventIndexAt(offset);
        if (i >= 0) b.eventLine(i).watch((level) => out.set(level));
      }
    });
    this.taskTargets = this.taskOffsets.map((offset) => {
      const at = (b: Nrf51Peripheral): EndPoint | null => {
        const i = b.taskIndexAt(offset);
        return i >= 0 ? { block: b, index: i } : null;
      };
      return [at(this.twi), at(this.spi)];
    });
    this.addGpioIn('task', this.taskOffsets.length, (level, j) => {
      const target = this.spisSelected ? null : this.taskTargets[j]![this.selected];
      if (target) target.block.taskLine(target.index).set(level);
    });
  }

  protected onReset(): void {
    this.twi.reset();
    this.spi.reset();
    this.selected = SELECT_TWI;
    this.spisSelected = false;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.twi.gpioOut('', 0).level > 0 || this.spi.gpioOut('', 0).level > 0 ? 1 : 0;
    if (this.irq.level !== level) this.irq.set(level);
  }

  // ---- MMIO ----

  read(offset: number, size: AccessSize): number {
    return this.blockFor(offset).registers.read(offset, size);
  }

  write(offset: number, value: number, size: AccessSize): void {
    const word = offset & ~3;
    if (SHARED.has(word)) {
      this.twi.registers.write(offset, value, size);
      this.spi.registers.write(offset, value, size);
      if (word === ENABLE) this.enableWritten(this.twi.registers.get('ENABLE'));
      return;
    }
    this.blockFor(offset).registers.write(offset, value, size);
  }

  private blockFor(offset: number): Nrf51Peripheral {
    const route = offset < 0x1000 ? this.routes[offset >> 2]! : ROUTE_NONE;
    if (route === ROUTE_TWI) return this.twi;
    if (route === ROUTE_SPI) return this.spi;
    // Shared offsets, and unknown ones (the selected block logs those).
    return this.selected === SELECT_SPI ? this.spi : this.twi;
  }

  private enableWritten(value: number): void {
    this.spisSelected = value === SPIS_ENABLED;
    if (value === TWI_ENABLED) this.selected = SELECT_TWI;
    else if (value === SPI_ENABLED) this.selected = SELECT_SPI;
    else if (this.spisSelected && this.log.on(LogCat.Unimp)) {
      this.log.write(`${this.path}: unimplemented: SPI slave (SPIS, ENABLE = 2) is not modelled`);
    }
  }

  // ---- PPI end points (same interface as Nrf51Peripheral) ----

  eventIndexAt(offset: number): number {
    return this.eventOffsets.indexOf(offset);
  }

  taskIndexAt(offset: number): number {
    return this.taskOffsets.indexOf(offset);
  }

  eventLine(index: number): OutputLine {
    return this.eventLines[index]!;
  }

  taskLine(index: number): InputLine {
    return this.gpioIn('task', index);
  }

  /** The block that receives unshared accesses now. */
  get selectedBlock(): Nrf51Peripheral {
    return this.selected === SELECT_SPI ? this.spi : this.twi;
  }

  // ---- state ----

  saveState(): StateData {
    return {
      twi: this.twi.saveState(),
      spi: this.spi.saveState(),
      selected: this.selected,
      spis: this.spisSelected,
    };
  }

  loadState(state: StateData): void {
    const any = (v: StateData): v is StateData => v !== undefined;
    this.twi.loadState(stateField(state, 'twi', any));
    this.spi.loadState(stateField(state, 'spi', any));
    this.selected = stateField(state, 'selected', (v): v is number => v === SELECT_TWI || v === SELECT_SPI);
    this.spisSelected = stateField(state, 'spis', (v): v is boolean => typeof v === 'boolean');
  }
}

registerDeviceType({
  name: Nrf51SerialBox.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 SPI/TWI master pair at a shared peripheral ID',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51SerialBox(),
});

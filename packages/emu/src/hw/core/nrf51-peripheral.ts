/**
 * Common base of the nRF51 peripherals: the "peripheral interface" every block shares
 * (nRF51 Series Reference Manual v3.0, chapter "Peripheral interface").
 *
 * Interface shared by every subclass
 * - MMIO region 0: the peripheral's 4 KiB block. TASKS_* at 0x000-0x0FC (write 1 to trigger,
 *   read 0), EVENTS_* at 0x100-0x1FC (set by hardware, cleared by writing 0; writing 1 sets the
 *   register, which raises the interrupt if enabled but does not drive PPI or shortcuts),
 *   SHORTS at 0x200, INTEN at 0x300 (where the block has it), INTENSET 0x304, INTENCLR 0x308
 *   (bit n enables the event at 0x100 + 4n), POWER at 0xFFC (where the block has it; reset 1).
 * - Output line `''[0]`: the peripheral's interrupt, high while any enabled event is set.
 * - Output lines `event[i]`: pulsed when the hardware generates event i (PPI listens here).
 * - Input lines `task[i]`: a rising level triggers task i (PPI drives these).
 * - `eventIndexAt(offset)` / `taskIndexAt(offset)` map register offsets to those lines, so the
 *   PPI can connect the addresses firmware writes into its EEP/TEP registers.
 *
 * Accuracy: events are level registers as on the chip; the interrupt is their OR over INTEN.
 * Shortcuts fire synchronously when the event is generated (the chip's propagation delay is a
 * fraction of a clock cycle and is not modelled).
 */
import { Device, isNumArray, type StateData, stateField } from '../../core/device.js';
import type { InputLine, OutputLine } from '../../core/lines.js';
import { RegisterBlock, type RegisterDef } from '../../core/registers.js';

export interface NrfTaskDef {
  name: string;
  /** Offset of the TASKS_ register (0x000-0x0FC). */
  offset: number;
  run: () => void;
}

export interface NrfEventDef {
  name: string;
  /** Offset of the EVENTS_ register (0x100-0x1FC); its INTEN bit is (offset - 0x100) / 4. */
  offset: number;
}

export interface NrfShortDef {
  /** Bit in SHORTS. */
  bit: number;
  event: string;
  task: string;
}

export interface NrfPeripheralLayout {
  tasks: NrfTaskDef[];
  events: NrfEventDef[];
  shorts?: NrfShortDef[];
  /** The block has an INTEN register at 0x300 (all have INTENSET/INTENCLR). */
  hasInten?: boolean;
  /** The block has a POWER register at 0xFFC. */
  hasPower?: boolean;
  /** The block's other registers. */
  registers: RegisterDef[];
}

/** What the PPI needs of a block: its event and task end points by register offset. */
export interface NrfPpiEndpoints {
  eventIndexAt(offset: number): number;
  taskIndexAt(offset: number): number;
  eventLine(index: number): OutputLine;
  taskLine(index: number): InputLine;
}

const EVENTS_BASE = 0x100;
const SHORTS = 0x200;
const INTEN = 0x300;
const INTENSET = 0x304;
const INTENCLR = 0x308;
const POWER = 0xffc;

export abstract class Nrf51Peripheral extends Device implements NrfPpiEndpoints {
  protected regs!: RegisterBlock;
  private irq!: OutputLine;
  private eventLines: OutputLine[] = [];
  private taskDefs: NrfTaskDef[] = [];
  private eventDefs: NrfEventDef[] = [];
  /** Register index of each event's EVENTS_ register, by event index. */
  private eventRegIndex: number[] = [];
  /** Tasks to trigger when event i is generated, by SHORTS bit. */
  private shortsByEvent: Array<Array<{ mask: number; task: number }>> = [];
  private intenIndex = 0;
  private shortsIndex = 0;

  /** The peripheral's register layout (called once at realize). */
  protected abstract layout(): NrfPeripheralLayout;

  /** The name the register block uses in log lines and trace events (e.g. `nrf51_uart`). */
  protected abstract traceName(): string;

  protected onRealize(): void {
    const layout = this.layout();
    this.taskDefs = layout.tasks;
    this.eventDefs = layout.events;
    const defs: RegisterDef[] = [];
    for (const t of layout.tasks) {
      defs.push({ name: `TASKS_${t.name}`, offset: t.offset, task: true, onWrite: () => t.run() });
    }
    for (const [i, e] of layout.events.entries()) {
      defs.push({
        name: `EVENTS_${e.name}`,
        offset: e.offset,
        writeMask: 1,
        onWrite: () => this.updateIrq(),
      });
      this.shortsByEvent[i] = [];
    }
    const shorts = layout.shorts ?? [];
    if (shorts.length > 0) {
      let mask = 0;
      for (const s of shorts) mask |= 1 << s.bit;
      defs.push({ name: 'SHORTS', offset: SHORTS, writeMask: mask >>> 0 });
    }
    let intenMask = 0;
    for (const e of layout.events) intenMask |= 1 << ((e.offset - EVENTS_BASE) >> 2);
    intenMask >>>= 0;
    defs.push({
      name: 'INTEN',
      offset: INTEN,
      writeMask: layout.hasInten ? intenMask : 0,
      onWrite: () => this.updateIrq(),
    });
    defs.push({
      name: 'INTENSET',
      offset: INTENSET,
      setOf: 'INTEN',
      writeMask: intenMask,
      onWrite: () => this.updateIrq(),
    });
    defs.push({
      name: 'INTENCLR',
      offset: INTENCLR,
      clearOf: 'INTEN',
      writeMask: intenMask,
      onWrite: () => this.updateIrq(),
    });
    if (layout.hasPower) defs.push({ name: 'POWER', offset: POWER, reset: 1, writeMask: 1 });
    defs.push(...layout.registers);
    this.regs = new RegisterBlock({
      name: this.path,
      size: 0x1000,
      registers: defs,
      log: () => this.log,
      trace: this.traceName(),
    });
    this.addMmio(this.regs.toRegion(this.traceName()));
    this.eventRegIndex = layout.events.map((e) => this.regs.index(`EVENTS_${e.name}`));
    this.intenIndex = this.regs.index('INTEN');
    if (shorts.length > 0) {
      this.shortsIndex = this.regs.index('SHORTS');
      for (const s of shorts) {
        const ev = layout.events.findIndex((e) => e.name === s.event);
        const task = layout.tasks.findIndex((t) => t.name === s.task);
        if (ev < 0 || task < 0)
          throw new Error(`${this.typeName}: short ${s.event}_${s.task} names an unknown event or task`);
        this.shortsByEvent[ev]!.push({ mask: 1 << s.bit, task });
      }
    }
    this.irq = this.addGpioOut('', 1)[0]!;
    this.eventLines = this.addGpioOut('event', layout.events.length);
    this.addGpioIn('task', layout.tasks.length, (level, index) => {
      if (level > 0) this.taskDefs[index]!.run();
    });
    this.onRealizePeripheral();
  }

  /** Subclass set-up after the registers exist (timers, chardevs, lines). */
  protected onRealizePeripheral(): void {}

  protected onReset(): void {
    this.regs.reset();
    this.onResetPeripheral();
    this.updateIrq();
  }

  /** Subclass reset after the registers were reset. */
  protected abstract onResetPeripheral(): void;

  /** Generates event `index` as the hardware does: register, PPI line, shortcuts, interrupt. */
  protected generateEvent(index: number): void {
    this.regs.setValue(this.eventRegIndex[index]!, 1);
    this.eventLines[index]!.pulse();
    const shorts = this.shortsByEvent[index]!;
    if (shorts.length > 0) {
      const enabled = this.regs.value(this.shortsIndex);
      for (const s of shorts) if (enabled & s.mask) this.taskDefs[s.task]!.run();
    }
    this.updateIrq();
  }

  /** Whether event `index`'s register is set. */
  protected eventSet(index: number): boolean {
    return this.regs.value(this.eventRegIndex[index]!) !== 0;
  }

  /** Clears event `index` (some tasks do, e.g. a stop that cancels a pending event). */
  protected clearEvent(index: number): void {
    this.regs.setValue(this.eventRegIndex[index]!, 0);
    this.updateIrq();
  }

  protected updateIrq(): void {
    const inten = this.regs.value(this.intenIndex);
    let level = 0;
    if (inten !== 0) {
      for (let i = 0; i < this.eventDefs.length; i++) {
        const bit = 1 << ((this.eventDefs[i]!.offset - EVENTS_BASE) >> 2);
        if (inten & bit && this.regs.value(this.eventRegIndex[i]!) !== 0) {
          level = 1;
          break;
        }
      }
    }
    if (level !== this.irq.level) this.irq.set(level);
  }

  /** Index of the event whose EVENTS_ register is at `offset`, or -1 (for the PPI). */
  eventIndexAt(offset: number): number {
    return this.eventDefs.findIndex((e) => e.offset === offset);
  }

  /** Index of the task whose TASKS_ register is at `offset`, or -1 (for the PPI). */
  taskIndexAt(offset: number): number {
    return this.taskDefs.findIndex((t) => t.offset === offset);
  }

  /** The PPI-visible line of event `index`. */
  eventLine(index: number): OutputLine {
    return this.eventLines[index]!;
  }

  /** The PPI-visible line of task `index`. */
  taskLine(index: number): InputLine {
    return this.gpioIn('task', index);
  }

  /** The register block (tests, HMP register dumps). */
  get registers(): RegisterBlock {
    return this.regs;
  }

  saveState(): StateData {
    return { regs: this.regs.saveState(), ...this.savePeripheralState() };
  }

  loadState(state: StateData): void {
    this.regs.loadState(stateField(state, 'regs', isNumArray));
    this.loadPeripheralState(state);
    this.updateIrq();
  }

  /** Device state beyond the registers (timers, FIFOs), as plain data fields. */
  protected savePeripheralState(): Record<string, StateData> {
    return {};
  }

  protected loadPeripheralState(_state: StateData): void {}
}

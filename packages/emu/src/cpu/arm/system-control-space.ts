/**
 * The ARMv6-M System Control Space (ARMv6-M ARM DDI 0419 B3.1) of a Cortex-M0: one device, one
 * 4 KiB MMIO region for 0xE000E000-0xE000EFFF, built from three register blocks:
 *   0xE000E010 SysTick (systick.ts; optional: the `systick` property, off for the nRF51)
 *   0xE000E100 NVIC    (nvic.ts: ISER, ICER, ISPR, ICPR, IPR0-7)
 *   0xE000ED00 SCB     (scb.ts: CPUID, ICSR, AIRCR, SCR, CCR, SHPR2, SHPR3)
 * Why one device: the three share the exception state (a SysTick wrap pends through the NVIC,
 * ICSR reads and writes NVIC state), and the SCS is architecturally part of the core; separate
 * RegisterBlocks keep each part's table next to its logic.
 *
 * The CPU does not know this device: it talks to the `ExceptionController` interface
 * (implemented by `Nvic`) set in `cpu.nvic` when the SCS is constructed. Dependency direction:
 * SCS → CPU.
 *
 * Interface
 * - MMIO region 0 (4 KiB), mapped by the machine at SCS_BASE (0xE000E000).
 * - Input lines: unnamed-gpio-in[0..31] = IRQ 0..31 (level-sensitive, see nvic.ts); `nmi`[0]
 *   (a rising edge pends NMI). Lines and region 0 exist from construction, so a SoC may wire
 *   and map them before realize.
 * - Properties: `systick` (bool, default true), `cpu-clock-hz` (SysTick CLKSOURCE=1 clock,
 *   default 16 MHz), `systick-ref-hz` (SysTick reference clock for CLKSOURCE=0, default 0: none).
 * - Hooks: `onSystemResetRequest` (AIRCR.SYSRESETREQ; called from a timer at the end of the
 *   current CPU slice, never in the middle of an instruction), `onWake` (the NVIC woke a sleeping
 *   CPU; wire to `runner.kick()` so a realtime idle loop notices). `installScs` wires both.
 *
 * Accuracy
 * - Access sizes: the Cortex-M0 TRM makes byte and halfword accesses to NVIC/SCB registers
 *   UNPREDICTABLE. Here they honour byte lanes (RegisterBlock behaviour) and are logged under
 *   `-d guest_errors`.
 * - Unmodelled offsets inside a block read 0, ignore writes and are logged under guest_errors
 *   (RegisterBlock); everything else in the 4 KiB (ICTR/ACTLR space, debug registers such as
 *   DHCSR, and SysTick when absent) is RAZ/WI and logged under `-d unimp`.
 * - Reset clears pending state; an IRQ line held high across the reset pends again on its next
 *   rising edge or when it is next sampled at an exception return, not immediately.
 *
 * How a SoC builds a core (the nRF51 will do this):
 *   const cpu = new CortexM0('cpu0', machine.addressSpace);
 *   const scs = new SystemControlSpace(cpu, { systick: false });
 *   installScs(machine, scs, 'scs', socNode);       // maps 0xE000E000, SYSRESETREQ, wake-ups
 *   machine.addExecutor(cpu);
 *   uartIrq.connect(scs.gpioIn('', 2));              // after realize, or before: lines exist
 *   // the SoC's reset (after the devices) calls cpu.reset(), which reads SP/PC at 0.
 */

import type { Timer } from '../../core/clock.js';
import { Device, isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import type { Machine } from '../../core/machine.js';
import { type AccessSize, MemoryRegion, type MmioOps } from '../../core/memory.js';
import { declareType, type ObjectNode } from '../../core/object.js';
import { RegisterBlock } from '../../core/registers.js';
import { type CortexM0, Exc } from './cortex-m0.js';
import { IRQ_BASE, NUM_IRQS, Nvic, type StrobeFactory } from './nvic.js';
import { SCB_BLOCK_SIZE, Scb } from './scb.js';
import { SYSTICK_BLOCK_SIZE, SysTick } from './systick.js';

export const SCS_BASE = 0xe000_e000;
export const SCS_SIZE = 0x1000;
const SYSTICK_OFFSET = 0x010;
const NVIC_OFFSET = 0x100;
const NVIC_BLOCK_SIZE = 0x320;
const SCB_OFFSET = 0xd00;

export interface ScsOptions {
  /** Include the SysTick timer (default true; the nRF51 has none). */
  systick?: boolean;
  /** CPU clock in Hz (SysTick CLKSOURCE = 1); default 16 MHz. */
  cpuClockHz?: number;
  /** SysTick reference clock in Hz (CLKSOURCE = 0); default 0: no reference clock. */
  systickRefHz?: number;
}

declareType('armv6m-scs', 'sys-bus-device');

export class SystemControlSpace extends Device {
  static readonly typeName = 'armv6m-scs';
  readonly cpu: CortexM0;
  readonly nvic: Nvic;
  readonly scb: Scb;
  systick: SysTick | null = null;
  /** AIRCR.SYSRESETREQ (deferred to the end of the CPU slice). */
  onSystemResetRequest: (() => void) | null = null;
  private readonly region: MemoryRegion;
  private readonly nvicRegs: RegisterBlock;
  private readonly scbRegs: RegisterBlock;
  private systickRegs: RegisterBlock | null = null;
  private resetTimer!: Timer;

  constructor(cpu: CortexM0, options: ScsOptions = {}) {
    super(SystemControlSpace.typeName);
    this.cpu = cpu;
    this.nvic = new Nvic(cpu);
    this.scb = new Scb(
      this.nvic,
      () => this.path,
      () => this.log,
    );
    this.scb.onSystemResetRequest = () => this.requestSystemReset();
    cpu.nvic = this.nvic;
    this.declareProperties([
      { name: 'systick', type: 'bool', default: true, description: 'include the SysTick timer' },
      {
        name: 'cpu-clock-hz',
        type: 'uint',
        default: 16_000_000,
        min: 1,
        description: 'processor clock (SysTick CLKSOURCE=1), Hz',
      },
      {
        name: 'systick-ref-hz',
        type: 'uint',
        default: 0,
        description: 'SysTick reference clock (CLKSOURCE=0), Hz; 0: none',
      },
    ]);
    if (options.systick !== undefined) this.setProperty('systick', options.systick);
    if (options.cpuClockHz !== undefined) this.setProperty('cpu-clock-hz', options.cpuClockHz);
    if (options.systickRefHz !== undefined) this.setProperty('systick-ref-hz', options.systickRefHz);
    // Regions and lines exist from construction so that a SoC can map and wire the SCS before
    // the machine realizes it; only SysTick (which needs the clock) is added at realize.
    const log = () => this.log;
    this.nvicRegs = new RegisterBlock({
      name: 'armv6m-scs.nvic',
      size: NVIC_BLOCK_SIZE,
      registers: this.nvic.registers(strobeFactory(() => this.nvicRegs)),
      log,
      trace: 'armv6m_nvic',
    });
    this.scbRegs = new RegisterBlock({
      name: 'armv6m-scs.scb',
      size: SCB_BLOCK_SIZE,
      registers: this.scb.registers(strobeFactory(() => this.scbRegs)),
      log,
      trace: 'armv6m_scb',
    });
    this.region = MemoryRegion.container(SystemControlSpace.typeName, SCS_SIZE);
    this.region.addSubregion(
      0,
      MemoryRegion.unimplemented(`${SystemControlSpace.typeName}.reserved`, SCS_SIZE),
      -1,
    );
    this.region.addSubregion(NVIC_OFFSET, this.wordRegion('nvic', this.nvicRegs));
    this.region.addSubregion(SCB_OFFSET, this.wordRegion('scb', this.scbRegs));
    this.addMmio(this.region);
    this.addGpioIn('', NUM_IRQS, (level, irq) => this.nvic.setIrqLevel(irq, level));
    this.addGpioIn('nmi', 1, (level) => {
      if (level > 0) this.nvic.setPending(Exc.NMI);
    });
  }

  /** Called by the NVIC after it woke a sleeping CPU. */
  set onWake(fn: (() => void) | null) {
    this.nvic.onWake = fn;
  }

  get onWake(): (() => void) | null {
    return this.nvic.onWake;
  }

  protected onRealize(): void {
    if (this.getBool('systick')) {
      const name = this.path;
      const systick = new SysTick(
        this.clock,
        name,
        { cpuClockHz: this.getInt('cpu-clock-hz'), refClockHz: this.getInt('systick-ref-hz') },
        () => this.nvic.setPending(Exc.SysTick),
      );
      this.systick = systick;
      this.systickRegs = new RegisterBlock({
        name: `${name}.systick`,
        size: SYSTICK_BLOCK_SIZE,
        registers: systick.registers(),
        log: () => this.log,
        trace: 'armv6m_systick',
      });
      systick.attach(this.systickRegs);
      this.region.addSubregion(SYSTICK_OFFSET, this.wordRegion('systick', this.systickRegs));
    }
    this.resetTimer = this.clock.createTimer(`${this.path}.sysresetreq`, () => this.onSystemResetRequest?.());
  }

  protected onReset(): void {
    this.nvic.reset();
    this.nvicRegs.reset();
    this.scbRegs.reset();
    this.systickRegs?.reset();
    this.systick?.reset();
    this.resetTimer.cancel();
  }

  /** AIRCR.SYSRESETREQ: leave the instruction first, then reset from a timer callback. */
  private requestSystemReset(): void {
    this.resetTimer.modRel(0);
    this.cpu.requestExit();
  }

  /** A region over `block` that logs sub-word accesses (UNPREDICTABLE on the Cortex-M0). */
  private wordRegion(part: string, block: RegisterBlock): MemoryRegion {
    const ops: MmioOps = {
      read: (offset: number, size: AccessSize) => {
        if (size !== 4) this.logNarrow(part, offset, size);
        return block.read(offset, size);
      },
      write: (offset: number, value: number, size: AccessSize) => {
        if (size !== 4) this.logNarrow(part, offset, size);
        block.write(offset, value, size);
      },
    };
    return MemoryRegion.mmio(`${SystemControlSpace.typeName}.${part}`, block.size, ops);
  }

  private logNarrow(part: string, offset: number, size: number): void {
    const log = this.log;
    if (log.on(LogCat.GuestErrors)) {
      log.write(
        `${this.path}: ${size}-byte access to ${part} offset 0x${offset.toString(16)}: SCS registers are word-access only (UNPREDICTABLE)`,
      );
    }
  }

  saveState(): StateData {
    const nvic = this.nvic;
    return {
      enabled: nvic.enabled,
      pending: Array.from(nvic.pending),
      lineLevel: Array.from(nvic.lineLevel),
      nvicRegs: this.nvicRegs.saveState(),
      scbRegs: this.scbRegs.saveState(),
      systickRegs: this.systickRegs?.saveState() ?? null,
      systick: this.systick?.saveState() ?? null,
      resetRequested: this.resetTimer.pending,
    };
  }

  loadState(state: StateData): void {
    const nvic = this.nvic;
    const pending = stateField(state, 'pending', isNumArray);
    const lineLevel = stateField(state, 'lineLevel', isNumArray);
    if (pending.length !== nvic.pending.length || lineLevel.length !== nvic.lineLevel.length) {
      throw new UserError(`snapshot: ${this.path} has the wrong number of exceptions or lines`);
    }
    this.nvicRegs.loadState(stateField(state, 'nvicRegs', isNumArray));
    this.scbRegs.loadState(stateField(state, 'scbRegs', isNumArray));
    if (this.systickRegs !== null && this.systick !== null) {
      this.systickRegs.loadState(stateField(state, 'systickRegs', isNumArray));
      this.systick.loadState(
        stateField(state, 'systick', (v): v is StateData => v !== null && typeof v === 'object'),
      );
    }
    nvic.enabled = stateField(state, 'enabled', isNum) >>> 0;
    nvic.pending.set(pending);
    nvic.lineLevel.set(lineLevel);
    // Derived state: priorities from IPR/SHPR, SCR flags.
    for (let i = 0; i < NUM_IRQS / 4; i++)
      nvic.writePriorities(IRQ_BASE + i * 4, this.nvicRegs.get(`IPR${i}`));
    nvic.writePriorities(8, this.scbRegs.get('SHPR2') & 0xff00_0000);
    nvic.writePriorities(12, this.scbRegs.get('SHPR3') & 0xffff_0000);
    this.scb.applyScr(this.scbRegs.get('SCR'));
    if (stateField(state, 'resetRequested', isBool)) this.resetTimer.modRel(0);
    else this.resetTimer.cancel();
    nvic.update();
  }
}

/** A StrobeFactory for registers of `block`: stored value kept 0, reads live, writes pass bits. */
function strobeFactory(block: () => RegisterBlock): StrobeFactory {
  return (name, offset, read, write) => ({
    name,
    offset,
    onRead: () => read(),
    onWrite: (value) => {
      // Keep the stored value 0 so that the next write passes on exactly the bits written.
      block().set(name, 0);
      write(value >>> 0);
    },
  });
}

/**
 * Adds an SCS to a machine: realizes it with the machine's devices, maps it at SCS_BASE, turns
 * SYSRESETREQ into `machine.requestGuestReset()` and NVIC wake-ups into `runner.kick()`.
 */
export function installScs(
  machine: Machine,
  scs: SystemControlSpace,
  name = 'scs',
  parent: ObjectNode = machine,
): SystemControlSpace {
  machine.addDevice(name, scs, parent);
  machine.mapMmio(scs, 0, SCS_BASE);
  scs.onSystemResetRequest = () => machine.requestGuestReset();
  scs.onWake = () => machine.runner.kick();
  return scs;
}

/**
 * ARMv6-M NVIC: the exception state machine of a Cortex-M0 (pending, enabled, priorities) and the
 * NVIC register block (ARMv6-M ARM DDI 0419 B3.4; Cortex-M0 TRM DDI 0432 chapter 5).
 *
 * The NVIC owns the *pending* state of every exception and the priorities of the configurable
 * ones; the core (`CortexM0`) owns the *active* state, IPSR and PRIMASK. The core asks through
 * the `ExceptionController` interface which exception to take; the NVIC tells the core through
 * `cpu.exceptionCheck` + `cpu.requestExit()` that it should look at the next instruction
 * boundary, and wakes it from WFI/WFE.
 *
 * Registers (offsets from 0xE000E100; word access only on Cortex-M0, see system-control-space.ts):
 *   0x000 ISER  write 1 enables IRQ n, reads the enables
 *   0x080 ICER  write 1 disables IRQ n, reads the enables
 *   0x100 ISPR  write 1 pends IRQ n, reads the pending bits
 *   0x180 ICPR  write 1 clears pending IRQ n (not while its level-sensitive line is high)
 *   0x300 IPR0..IPR7  four 8-bit priority fields each; only bits [7:6] exist (0, 64, 128, 192)
 * There is no STIR on ARMv6-M and no IABR on the Cortex-M0.
 *
 * Interrupt inputs (level-sensitive, as the Cortex-M0 NVIC samples them): a rising edge, or a
 * high level while the interrupt is not active, sets pending; pending stays set when the line
 * drops (until the interrupt is taken or ICPR clears it); ICPR cannot clear it while the line is
 * still high; when the handler returns and the line is still high, the interrupt pends again.
 * Pending is independent of the enable bit (a disabled interrupt can be pending).
 *
 * Priority order: lower value wins; Reset -3, NMI -2, HardFault -1 are fixed (handled by the
 * core); configurable exceptions use the 2-bit field value as is (0, 64, 128, 192). Among equal
 * priorities the lower exception number is taken first. There are no priority groups on
 * ARMv6-M: any strictly higher priority preempts.
 */
import type { RegisterDef } from '../../core/registers.js';
import { type CortexM0, Exc, type ExceptionController } from './cortex-m0.js';

/** Number of external interrupt lines of the Cortex-M0 NVIC. */
export const NUM_IRQS = 32;
/** Exception number of IRQ 0. */
export const IRQ_BASE = 16;
/** Exception slots (vector table entries): 16 system + 32 external. */
export const NUM_EXCEPTIONS = IRQ_BASE + NUM_IRQS;
/** Only bits [7:6] of each priority field are implemented. */
export const PRIORITY_MASK = 0xc0;

/**
 * Builds a register without stored state: reads return `read()`, writes call `write` with the
 * bits written as 1 (in their lanes). Provided by the SCS, which owns the RegisterBlocks.
 */
export type StrobeFactory = (
  name: string,
  offset: number,
  read: () => number,
  write: (bits: number) => void,
) => RegisterDef;

/** Execution priority with nothing active and PRIMASK clear (any configurable priority is higher). */
const NO_PRIORITY = 256;

export class Nvic implements ExceptionController {
  readonly cpu: CortexM0;
  /** IRQ enable bits (ISER/ICER), bit n = IRQ n. */
  enabled = 0;
  /** Pending state by exception number (NMI, PendSV, SysTick and IRQs can pend). */
  readonly pending = new Uint8Array(NUM_EXCEPTIONS);
  /** Priorities of configurable exceptions by exception number (0, 64, 128, 192). */
  readonly priority = new Uint8Array(NUM_EXCEPTIONS);
  /** Last level seen on each IRQ input (1 high, 0 low or not driven). */
  readonly lineLevel = new Uint8Array(NUM_IRQS);
  /** SCR.SLEEPONEXIT and SCR.SEVONPEND (mirrored here by the SCB). */
  sleepOnExit = false;
  sevOnPend = false;
  /** Called when the NVIC wakes a sleeping CPU (the machine wires it to `runner.kick()`). */
  onWake: (() => void) | null = null;
  constructor(cpu: CortexM0) {
    this.cpu = cpu;
  }

  reset(): void {
    this.enabled = 0;
    this.pending.fill(0);
    this.priority.fill(0);
    this.sleepOnExit = false;
    this.sevOnPend = false;
  }

  // ---- ExceptionController (called by the core) ----

  priorityOf(num: number): number {
    return this.priority[num] ?? 0;
  }

  highestPending(): number {
    let best = 0;
    let bestPriority = NO_PRIORITY;
    const pending = this.pending;
    // NMI first: its fixed priority beats everything that can pend.
    if (pending[Exc.NMI] !== 0) return Exc.NMI;
    for (let num = Exc.SVCall; num < NUM_EXCEPTIONS; num++) {
      if (pending[num] === 0) continue;
      if (num >= IRQ_BASE && ((this.enabled >>> (num - IRQ_BASE)) & 1) === 0) continue;
      const p = this.priority[num]!;
      // Strictly lower wins, so among equals the lower exception number (seen first) stays.
      if (p < bestPriority) {
        best = num;
        bestPriority = p;
      }
    }
    return best;
  }

  entered(num: number): void {
    this.pending[num] = 0;
  }

  deactivated(num: number): void {
    const irq = num - IRQ_BASE;
    if (irq >= 0 && irq < NUM_IRQS && this.lineLevel[irq] !== 0) this.setPending(num);
  }

  wfiWakeCondition(): boolean {
    const num = this.highestPending();
    return num !== 0 && this.cpu.exceptionPriority(num) < this.activePriority();
  }

  primaskCleared(): void {
    this.update();
  }

  // ---- state changes ----

  /** Sets an exception pending (IRQ lines, ISPR, ICSR, SysTick) and re-evaluates. */
  setPending(num: number): void {
    if (this.pending[num] === 0) {
      this.pending[num] = 1;
      // SCR.SEVONPEND: a new pending exception is a WFE wake-up event, whatever its priority.
      if (this.sevOnPend) this.signalEvent();
    }
    this.update();
  }

  clearPending(num: number): void {
    this.pending[num] = 0;
  }

  /** An IRQ input changed level (the handler of the NVIC's input lines). */
  setIrqLevel(irq: number, level: number): void {
    const high = level > 0 ? 1 : 0;
    const was = this.lineLevel[irq]!;
    this.lineLevel[irq] = high;
    // A rising edge always pends; a high level pends while the interrupt is not active.
    if (high !== 0 && (was === 0 || this.cpu.active[IRQ_BASE + irq] === 0)) this.setPending(IRQ_BASE + irq);
  }

  /**
   * After any change that may make an exception takeable or wake the CPU: asks the core to take
   * it at the next instruction boundary, and wakes a sleeping core when the architecture says so
   * (WFI and sleep-on-exit: an exception that would preempt if PRIMASK were clear; WFE: one that
   * would be taken).
   */
  update(): void {
    const num = this.highestPending();
    if (num === 0) return;
    const cpu = this.cpu;
    const p = cpu.exceptionPriority(num);
    if (p < cpu.executionPriority()) {
      cpu.exceptionCheck = true;
      cpu.requestExit();
      if (cpu.sleeping) this.wakeCpu();
    } else if (cpu.sleeping && !cpu.waitingForEvent && p < this.activePriority()) {
      this.wakeCpu();
    }
  }

  /** The execution priority ignoring PRIMASK: the highest active exception's priority. */
  activePriority(): number {
    let p = NO_PRIORITY;
    const active = this.cpu.active;
    for (let i = 1; i < active.length; i++) {
      if (active[i] !== 0) {
        const q = this.cpu.exceptionPriority(i);
        if (q < p) p = q;
      }
    }
    return p;
  }

  /** A WFE wake-up event: ends a WFE sleep, or sets the event register. */
  private signalEvent(): void {
    const cpu = this.cpu;
    if (cpu.sleeping && cpu.waitingForEvent) this.wakeCpu();
    else cpu.eventRegister = 1;
  }

  private wakeCpu(): void {
    this.cpu.wake();
    this.onWake?.();
  }

  // ---- registers ----

  /**
   * The NVIC register table (for a RegisterBlock of size NVIC_BLOCK_SIZE). ISER/ICER/ISPR/ICPR
   * keep no stored value: `strobe` builds a register whose reads come from the live state and
   * whose writes pass on the bits written as 1 (see system-control-space.ts).
   */
  registers(strobe: StrobeFactory): RegisterDef[] {
    const defs: RegisterDef[] = [
      strobe(
        'ISER',
        0x000,
        () => this.enabled >>> 0,
        (bits) => this.writeEnable(bits, true),
      ),
      strobe(
        'ICER',
        0x080,
        () => this.enabled >>> 0,
        (bits) => this.writeEnable(bits, false),
      ),
      strobe(
        'ISPR',
        0x100,
        () => this.pendingIrqBits(),
        (bits) => this.writeSetPending(bits),
      ),
      strobe(
        'ICPR',
        0x180,
        () => this.pendingIrqBits(),
        (bits) => this.writeClearPending(bits),
      ),
    ];
    for (let i = 0; i < NUM_IRQS / 4; i++) {
      defs.push({
        name: `IPR${i}`,
        offset: 0x300 + i * 4,
        // Bits [5:0] of each field read as zero and ignore writes (writing 0xff stores 0xc0).
        readMask: 0xc0c0c0c0,
        onWrite: (value) => this.writePriorities(IRQ_BASE + i * 4, value),
      });
    }
    return defs;
  }

  /** Pending IRQs as a 32-bit mask (ISPR/ICPR read value). */
  pendingIrqBits(): number {
    let bits = 0;
    for (let i = 0; i < NUM_IRQS; i++) if (this.pending[IRQ_BASE + i] !== 0) bits |= 1 << i;
    return bits >>> 0;
  }

  /** Sets four consecutive priority fields from a register value (IPRn, SHPRn). */
  writePriorities(firstNum: number, value: number): void {
    for (let lane = 0; lane < 4; lane++) {
      const num = firstNum + lane;
      if (num < NUM_EXCEPTIONS) this.priority[num] = (value >>> (lane * 8)) & PRIORITY_MASK;
    }
    this.update();
  }

  private writeEnable(bits: number, enable: boolean): void {
    this.enabled = (enable ? this.enabled | bits : this.enabled & ~bits) >>> 0;
    if (enable) this.update();
  }

  private writeSetPending(bits: number): void {
    for (let i = 0; i < NUM_IRQS; i++) if (((bits >>> i) & 1) !== 0) this.setPending(IRQ_BASE + i);
  }

  private writeClearPending(bits: number): void {
    for (let i = 0; i < NUM_IRQS; i++) {
      // A level-sensitive interrupt whose line is still high stays pending.
      if (((bits >>> i) & 1) !== 0 && this.lineLevel[i] === 0) this.pending[IRQ_BASE + i] = 0;
    }
  }
}

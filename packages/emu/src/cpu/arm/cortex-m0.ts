/**
 * Cortex-M0 (ARMv6-M) CPU core: registers, the Thumb interpreter and a small exception interface.
 *
 * Architecture: ARMv6-M Architecture Reference Manual (DDI 0419). Timings: Cortex-M0 TRM
 * (DDI 0432) table 3-1, zero wait states.
 *
 * State: r0-r15 in an Int32Array (r[15] holds the address of the next instruction while not
 * executing; inside `execute` the PC is a local), APSR flags as four 0/1 number fields (N, Z, C,
 * V, stored eagerly; lazy flags and flags held in locals were not measured yet), EPSR.T, IPSR,
 * PRIMASK, CONTROL. SP is banked: r[13] is the SP in use
 * and `spOther` the other one (MSP/PSP by CONTROL.SPSEL; handler mode always uses MSP, and
 * exception entry clears SPSEL, so "PSP in use" is exactly CONTROL.SPSEL = 1).
 *
 * Decode: THUMB16_TABLE (thumb-decode.ts) maps every halfword to a handler index; the loop below
 * switches on it (an array of handler functions was not compared yet; the switch keeps PC, the
 * cycle count and the code window in locals). 32-bit instructions (BL, MSR, MRS, DMB, DSB, ISB,
 * UDF.W) take a second fetch.
 *
 * Fetch: a cached window of RAM/ROM bytes (`ramPointer`), valid while memory topology's
 * generation is unchanged; anything else goes to `fetchSlow`, which also enforces the default
 * memory map's execute-never regions (0x40000000-0x5FFFFFFF, 0xA0000000-0xFFFFFFFF), the EPSR.T
 * bit (INVSTATE) and bus errors.
 *
 * Faults (all HardFault on ARMv6-M), UNDEFINED and UNPREDICTABLE choices:
 * - UNDEFINED 16/32-bit encodings, UDF, UDF.W: HardFault ('undefined').
 * - UNPREDICTABLE encodings (see thumb-decode.ts; 32-bit: MSR/MRS with SP/PC or an unknown SYSm,
 *   any should-be bit of MSR/MRS/DMB/DSB/ISB wrong): HardFault ('unpredictable').
 * - BX/BLX/POP{pc} to an address with bit 0 = 0: EPSR.T = 0, and the *next* fetch faults
 *   ('invalid-state'), as on hardware. MOV/ADD PC (BranchWritePC) ignore bit 0.
 * - Word access not 4-aligned, halfword not 2-aligned (incl. LDM/STM/PUSH/POP): 'unaligned'.
 * - Bus errors on data (negative MemTx) and fetch: 'bus-error'; fetch from an XN region:
 *   'execute-never'.
 * - A faulting instruction leaves registers unchanged (LDM/POP load into a scratch array first);
 *   stores before a faulting store in STM/PUSH stay written (the architecture allows it).
 * - Writes of SP by MOV/ADD (high registers) clear bits[1:0] (SP is word-aligned on M profile).
 * - Invalid EXC_RETURN values (0xF... other than 0xFFFFFFF1/9/D): HardFault ('exc-return').
 *
 * Exceptions: `takeException` stacks the 8-word frame (8-byte aligned, xPSR bit 9 records the
 * padding), switches to handler mode on MSP and jumps to the vector; `exceptionReturn` unstacks.
 * Fault escalation: a fault or an SVC/BKPT that cannot be taken at the current execution
 * priority becomes a HardFault; a fault at priority -1 or lower (in HardFault or NMI) locks the
 * CPU up (halted, PC = 0xFFFFFFFE, one line in the machine log).
 * Asynchronous exceptions come from the NVIC (`nvic`, an `ExceptionController`; see nvic.ts and
 * system-control-space.ts), which owns pending state and priorities. It sets `exceptionCheck`
 * and requests an exit when something may be takeable; `execute` takes the highest-priority
 * pending exception at its start, so an exception pended during a slice (MMIO, CPSIE, MSR
 * PRIMASK) is taken at the next instruction boundary. On exception return a pending exception
 * that preempts the priority being returned to is tail-chained (no unstack and re-stack).
 * Late arrival is not modelled: stacking is atomic here, so an exception that arrives "during"
 * it is taken after the first one's entry instead, at the next boundary. Exception entry and
 * exit set the event register; SCR.SLEEPONEXIT sleeps after a return to thread mode (after the
 * unstacking, which hardware may skip). Without an NVIC configurable priorities are 0.
 *
 * Data accesses: a cached window of one RAM/ROM range (the last one accessed) is read and written
 * directly; anything else goes through `load*Slow`/`store*Slow`, which refresh the window from a
 * small per-generation cache of `ramPointer` results (nothing is allocated in steady state),
 * check watchpoints, and call the AddressSpace. Literal loads read the code window first.
 *
 * Debug hooks (for the GDB stub), free when unused because they live in the slow paths only:
 * - Breakpoints: the code window is clipped so that no breakpoint address lies inside it, so
 *   only a fetch at (or next to) a breakpoint reaches `fetchSlow`, which stops the CPU *before*
 *   the instruction. Resuming or stepping from a breakpoint address executes that instruction
 *   first (GDB's expectation): the breakpoint at the resume PC is ignored for the first
 *   instruction of the next `execute` only.
 * - Watchpoints (read/write/access, address + length, any overlap of the access triggers): while
 *   any exists the data window stays empty, so every access takes the slow path and is checked;
 *   a hit stops the CPU *after* the accessing instruction completes (M-profile DWT behaviour, as
 *   GDB expects). Exception stacking/unstacking is not watched.
 * - Single step: `step()`; the next `execute` runs exactly one instruction, then stops. A step
 *   that enters an exception (SVC, a fault) stops at the first instruction of the handler, with
 *   the exception entry done (the handler's instruction is not executed yet).
 * - Halt: `halt()` stops at the next instruction boundary (immediately when not executing).
 * A stop sets `halted` and `debugStopped`, records `lastDebugStop`, and calls `onDebugStop`;
 * `execute` then returns 0 until `resume()` or `step()` (the Runner idles meanwhile).
 * Debugger register access: `readRegister`/`writeRegister` (GDB numbering: r0-r15, xPSR = 16,
 * MSP = 17, PSP = 18, PRIMASK = 19, CONTROL = 20); memory via AddressSpace.readDebug/writeDebug.
 *
 * Cycles (Cortex-M0 TRM): 1 per instruction, loads/stores 2, LDM/STM/PUSH/POP 1+N, POP with PC
 * 3+N, taken branches (B, B<cond>, BX, BLX, MOV/ADD PC) 3, B<cond> not taken 1, BL 4, MULS 1
 * (fast multiplier), MRS/MSR/DMB/DSB/ISB 4, WFI/WFE 2, exception entry 16 and return 16 (a
 * tail-chained entry counts 16, its skipped return nothing). Approximations: no wait states;
 * faulting instructions are not modelled exactly.
 */
import type { AddressSpace, RamPointer } from '../../core/address-space.js';
import { isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { memoryTopology } from '../../core/memory.js';
import type { Executor } from '../../core/runner.js';
import { THUMB16_TABLE } from './thumb-decode.js';

export type FaultKind =
  | 'undefined'
  | 'unpredictable'
  | 'invalid-state'
  | 'unaligned'
  | 'bus-error'
  | 'execute-never'
  | 'exc-return'
  | 'bkpt'
  | 'escalation';

/** Exception numbers (ARMv6-M B1.5.2). */
export const Exc = { Reset: 1, NMI: 2, HardFault: 3, SVCall: 11, PendSV: 14, SysTick: 15 } as const;

/**
 * What the core needs from its interrupt controller (the NVIC/SCB of cpu/arm/nvic.ts). The core
 * keeps the active state, IPSR and PRIMASK; the controller keeps pending state and priorities.
 */
export interface ExceptionController {
  /** Priority of a configurable exception (SVCall, PendSV, SysTick, IRQs). */
  priorityOf(num: number): number;
  /** The pending (and enabled) exception to take next, or 0: highest priority, then lowest number. */
  highestPending(): number;
  /** Exception entry of `num`: its pending state is cleared. */
  entered(num: number): void;
  /** Exception return deactivated `num` (a level IRQ whose line is still high pends again). */
  deactivated(num: number): void;
  /** SCR.SLEEPONEXIT. */
  readonly sleepOnExit: boolean;
  /** A pending exception would preempt if PRIMASK were clear (WFI must not sleep). */
  wfiWakeCondition(): boolean;
  /** PRIMASK was cleared: a pending exception may now be taken. */
  primaskCleared(): void;
}

/** Special register numbers (SYSm) of MRS/MSR. */
export const SysReg = {
  APSR: 0,
  IAPSR: 1,
  EAPSR: 2,
  XPSR: 3,
  IPSR: 5,
  EPSR: 6,
  IEPSR: 7,
  MSP: 8,
  PSP: 9,
  PRIMASK: 16,
  CONTROL: 20,
} as const;

/** Execution priority when no exception is active and PRIMASK is clear. */
const NO_PRIORITY = 256;

/** Cycles of exception entry and of exception return (Cortex-M0 TRM, zero wait states). */
const EXCEPTION_CYCLES = 16;

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** Returned by fetchSlow instead of a halfword (halfwords are 0..0xffff). */
const FETCH_BUS_ERROR = -1;
const FETCH_XN = -2;
const FETCH_INVSTATE = -3;
/** Returned by fetchSlow for an instruction at a breakpoint (the CPU stops before it). */
const FETCH_BREAKPOINT = -4;

/** Watchpoint kinds as bits: a read watch is bit 0, a write watch bit 1. */
const WATCH_READ = 1;
const WATCH_WRITE = 2;

/** Pending debug stops (resolved when `execute` returns), in order of precedence. */
const STOP_NONE = 0;
const STOP_HALT = 1;
const STOP_STEP = 2;
const STOP_WATCH = 3;
const STOP_BREAKPOINT = 4;

/** How many RAM/ROM ranges the per-generation cache keeps (a board has a handful). */
const RANGE_CACHE_SIZE = 8;

export type WatchKind = 'read' | 'write' | 'access';
export type DebugStopReason = 'breakpoint' | 'watchpoint' | 'step' | 'halt';

export interface DebugStopEvent {
  reason: DebugStopReason;
  /** Breakpoint: its address (= PC). Watchpoint: the watched address that was hit. */
  addr?: number;
  /** Watchpoint: the kind of the watchpoint that was hit. */
  watchKind?: WatchKind;
  /** Watchpoint: the access that hit it (first byte, size in bytes, direction). */
  accessAddr?: number;
  accessSize?: number;
  accessWrite?: boolean;
}

/** Register numbers of `readRegister`/`writeRegister` (GDB's M-profile order after r0-r15). */
export const DebugReg = { XPSR: 16, MSP: 17, PSP: 18, PRIMASK: 19, CONTROL: 20 } as const;

function isExecutable(addr: number): boolean {
  return addr < 0x4000_0000 || (addr >= 0x6000_0000 && addr < 0xa000_0000);
}

export interface CpuStateJson {
  r: number[];
  xpsr: number;
  primask: number;
  control: number;
  msp: number;
  psp: number;
}

export class CortexM0 implements Executor {
  readonly name: string;
  readonly bus: AddressSpace;

  /** r0-r15. r[13] is the SP in use; r[15] the next instruction's address outside `execute`. */
  readonly r = new Int32Array(16);
  /** The SP not in use (PSP while MSP is active, MSP while PSP is). */
  spOther = 0;
  n = 0;
  z = 0;
  c = 0;
  v = 0;
  /** EPSR.T: 0 makes the next instruction fetch fault (INVSTATE). */
  tbit = 1;
  ipsr = 0;
  primask = 0;
  /** CONTROL: bit 1 SPSEL (bit 0 nPRIV is not implemented on Cortex-M0: reads 0). */
  control = 0;
  /** The event register of WFE/SEV. */
  eventRegister = 0;
  sleeping = false;
  halted = false;
  lockup = false;
  /** Cycles executed since reset (Cortex-M0 timings, see header). */
  cycles = 0;
  /** Instructions completed so far in the current `execute` call (read by the clock). */
  sliceInstructions = 0;
  /** Vector table base (fixed at 0 on Cortex-M0; a VTOR may move it on other cores). */
  vectorBase = 0;
  /** Exceptions currently active, by exception number. */
  readonly active = new Uint8Array(48);
  /** Debugger hook: return true to halt on BKPT (PC stays at the BKPT); else it escalates. */
  onBreakpoint: ((imm: number) => boolean) | null = null;
  /** The last fault raised (for tests and `info registers`-style dumps). */
  lastFault: FaultKind | null = null;
  /** The NVIC (set by the SCS); null on a bare core. */
  nvic: ExceptionController | null = null;
  /** Set by the NVIC when a pending exception may be takeable; checked when `execute` starts. */
  exceptionCheck = false;
  /** True while sleeping in WFE (wakes on events), false for WFI and sleep-on-exit. */
  waitingForEvent = false;

  /** Called when the CPU stops for the debugger (breakpoint, watchpoint, step, halt). */
  onDebugStop: ((event: DebugStopEvent) => void) | null = null;
  /** True while stopped for the debugger (also sets `halted`); cleared by resume/step. */
  debugStopped = false;
  /** The last debugger stop. */
  lastDebugStop: DebugStopEvent | null = null;

  private exitRequested = false;
  private executing = false;
  // Debug state (see header). Breakpoints are few: a plain array, scanned only in slow paths.
  private readonly breakpointList: number[] = [];
  private readonly watchAddr: number[] = [];
  private readonly watchLength: number[] = [];
  private readonly watchBits: number[] = [];
  private watchCount = 0;
  private stepPending = false;
  /** A breakpoint address ignored for the first instruction of the next execute (-1: none). */
  private skipBreakpointAt = -1;
  private pendingStop = STOP_NONE;
  private pendingAddr = 0;
  private pendingWatchBits = 0;
  private pendingAccessAddr = 0;
  private pendingAccessSize = 0;
  private pendingAccessWrite = false;
  // The data window: [dataLo, dataEnd) readable at dataBytes[a - dataBase]; writes allowed below
  // dataWriteEnd (0 for ROM). Empty (dataLo > dataEnd) while invalid or while watchpoints exist.
  private dataBytes: Uint8Array = new Uint8Array(0);
  private dataBase = 0;
  private dataLo = 1;
  private dataEnd = 0;
  private dataWriteEnd = 0;
  // RAM/ROM ranges seen at topology generation `rangeGen`, and a 4 KiB page known to hold none.
  private readonly rangeCache: RamPointer[] = [];
  private rangeNext = 0;
  private rangeGen = -1;
  private noRamPage = -1;
  /** Scratch for LDM/POP, so a faulting load leaves the registers unchanged. */
  private readonly loaded = new Int32Array(16);
  // The cached code window (see fetchSlow): bytes, guest address of data[0], [lo, hi) where a
  // 2-byte fetch fits, and the topology generation it belongs to (-1: invalid).
  private codeData: Uint8Array = new Uint8Array(0);
  private codeBase = 0;
  private codeLo = 0;
  private codeHi = 0;
  private codeGen = -1;

  constructor(name: string, bus: AddressSpace) {
    this.name = name;
    this.bus = bus;
  }

  // ---- state ----

  get pc(): number {
    return this.r[15]! >>> 0;
  }

  set pc(value: number) {
    this.r[15] = value & ~1;
  }

  get sp(): number {
    return this.r[13]! >>> 0;
  }

  get msp(): number {
    return ((this.control & 2) !== 0 ? this.spOther : this.r[13]!) >>> 0;
  }

  set msp(value: number) {
    if ((this.control & 2) !== 0) this.spOther = (value & ~3) >>> 0;
    else this.r[13] = value & ~3;
  }

  get psp(): number {
    return ((this.control & 2) !== 0 ? this.r[13]! : this.spOther) >>> 0;
  }

  set psp(value: number) {
    if ((this.control & 2) !== 0) this.r[13] = value & ~3;
    else this.spOther = (value & ~3) >>> 0;
  }

  /** APSR flags in bits 31:28. */
  get apsr(): number {
    return ((this.n << 31) | (this.z << 30) | (this.c << 29) | (this.v << 28)) >>> 0;
  }

  set apsr(value: number) {
    this.n = (value >>> 31) & 1;
    this.z = (value >>> 30) & 1;
    this.c = (value >>> 29) & 1;
    this.v = (value >>> 28) & 1;
  }

  /** The combined xPSR (APSR | EPSR.T | IPSR). */
  get xpsr(): number {
    return (this.apsr | (this.tbit << 24) | this.ipsr) >>> 0;
  }

  set xpsr(value: number) {
    this.apsr = value;
    this.setTbit((value >>> 24) & 1);
    this.ipsr = value & 0x3f;
  }

  setTbit(t: number): void {
    this.tbit = t;
    // Forces the next fetch through fetchSlow, which checks T.
    if (t === 0) this.codeGen = -1;
  }

  /** Selects the thread-mode stack (CONTROL.SPSEL), swapping the banked SPs when it changes. */
  setSpsel(psp: number): void {
    const now = (this.control >>> 1) & 1;
    if (now === psp) return;
    const sp = this.r[13]!;
    this.r[13] = this.spOther;
    this.spOther = sp >>> 0;
    this.control = (this.control & ~2) | (psp << 1);
  }

  /** Handler mode when an exception is being handled (IPSR != 0). */
  get handlerMode(): boolean {
    return this.ipsr !== 0;
  }

  /** Plain-data snapshot of the architectural registers (tests, golden vectors, debuggers). */
  state(): CpuStateJson {
    const r: number[] = [];
    for (let i = 0; i < 16; i++) r.push(this.r[i]! >>> 0);
    r[13] = this.sp;
    return {
      r,
      xpsr: this.xpsr,
      primask: this.primask,
      control: this.control,
      msp: this.msp,
      psp: this.psp,
    };
  }

  /** The core's complete state as plain data (machine snapshots). */
  saveState(): StateData {
    return {
      r: Array.from(this.r),
      spOther: this.spOther,
      flags: [this.n, this.z, this.c, this.v, this.tbit],
      ipsr: this.ipsr,
      primask: this.primask,
      control: this.control,
      eventRegister: this.eventRegister,
      sleeping: this.sleeping,
      waitingForEvent: this.waitingForEvent,
      halted: this.halted,
      lockup: this.lockup,
      cycles: this.cycles,
      active: Array.from(this.active),
    };
  }

  loadState(state: StateData): void {
    this.r.set(stateField(state, 'r', isNumArray));
    this.spOther = stateField(state, 'spOther', isNum);
    const [n, z, c, v, t] = stateField(state, 'flags', isNumArray);
    this.n = n ?? 0;
    this.z = z ?? 0;
    this.c = c ?? 0;
    this.v = v ?? 0;
    this.tbit = t ?? 1;
    this.ipsr = stateField(state, 'ipsr', isNum);
    this.primask = stateField(state, 'primask', isNum);
    this.control = stateField(state, 'control', isNum);
    this.eventRegister = stateField(state, 'eventRegister', isNum);
    this.sleeping = stateField(state, 'sleeping', isBool);
    this.waitingForEvent = stateField(state, 'waitingForEvent', isBool);
    this.halted = stateField(state, 'halted', isBool);
    this.lockup = stateField(state, 'lockup', isBool);
    this.cycles = stateField(state, 'cycles', isNum);
    this.active.set(stateField(state, 'active', isNumArray));
    // Cached code and data windows are rebuilt on the next access.
    this.codeGen = -1;
    this.exceptionCheck = true;
  }

  /** Cold reset: registers cleared, SP and PC from the vector table (words 0 and 1). */
  reset(): void {
    this.r.fill(0);
    this.r[14] = -1;
    this.spOther = 0;
    this.control = 0;
    this.apsr = 0;
    this.ipsr = 0;
    this.primask = 0;
    this.eventRegister = 0;
    this.active.fill(0);
    this.sleeping = false;
    // A debugger's stop survives a reset (GDB resets a stopped target and expects it stopped).
    this.halted = this.debugStopped;
    this.lockup = false;
    this.lastFault = null;
    this.codeGen = -1;
    this.clearDataWindow();
    const sp = this.bus.read32(this.vectorBase);
    const pc = this.bus.read32(this.vectorBase + 4);
    if (sp < 0 || pc < 0) {
      // A bus error while fetching the reset vector locks up (ARMv6-M B1.5.15).
      this.enterLockup(`bus error reading the reset vector at 0x${hex8(this.vectorBase)}`);
      return;
    }
    this.r[13] = sp & ~3;
    this.r[15] = pc & ~1;
    this.setTbit(pc & 1);
  }

  requestExit(): void {
    this.exitRequested = true;
  }

  // ---- debugger interface (see header) ----

  /** Breakpoint addresses (bit 0 cleared), in insertion order. */
  get breakpoints(): readonly number[] {
    return this.breakpointList;
  }

  /** Inserts a breakpoint at `addr` (bit 0 ignored); inserting one twice is harmless. */
  addBreakpoint(addr: number): void {
    const a = (addr & ~1) >>> 0;
    if (this.breakpointList.includes(a)) return;
    this.breakpointList.push(a);
    // Re-clip the code window around the new breakpoint.
    this.codeGen = -1;
  }

  /** Removes the breakpoint at `addr`; false when there was none. */
  removeBreakpoint(addr: number): boolean {
    const i = this.breakpointList.indexOf((addr & ~1) >>> 0);
    if (i < 0) return false;
    this.breakpointList.splice(i, 1);
    this.codeGen = -1;
    return true;
  }

  /** Watches [addr, addr + length) for reads, writes or both; any overlapping access hits. */
  addWatchpoint(addr: number, length: number, kind: WatchKind): void {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`watchpoint length ${length}`);
    this.watchAddr.push(addr >>> 0);
    this.watchLength.push(length);
    this.watchBits.push(watchBitsOf(kind));
    this.watchCount = this.watchAddr.length;
    // Every data access must now take the slow path, which checks watchpoints.
    this.clearDataWindow();
  }

  /** Removes a watchpoint given exactly as it was added; false when there was none. */
  removeWatchpoint(addr: number, length: number, kind: WatchKind): boolean {
    const a = addr >>> 0;
    const bits = watchBitsOf(kind);
    for (let i = 0; i < this.watchCount; i++) {
      if (this.watchAddr[i] === a && this.watchLength[i] === length && this.watchBits[i] === bits) {
        this.watchAddr.splice(i, 1);
        this.watchLength.splice(i, 1);
        this.watchBits.splice(i, 1);
        this.watchCount = this.watchAddr.length;
        return true;
      }
    }
    return false;
  }

  /** Removes every breakpoint and watchpoint (a debugger detaching). */
  clearDebugPoints(): void {
    this.breakpointList.length = 0;
    this.watchAddr.length = 0;
    this.watchLength.length = 0;
    this.watchBits.length = 0;
    this.watchCount = 0;
    this.codeGen = -1;
  }

  /** Stops for the debugger: at the next instruction boundary, or now when not executing. */
  halt(): void {
    if (this.debugStopped) return;
    if (this.executing) {
      if (this.pendingStop < STOP_HALT) this.pendingStop = STOP_HALT;
      this.exitRequested = true;
      return;
    }
    this.pendingStop = STOP_HALT;
    this.finishDebugStop();
  }

  /** Leaves a debugger stop (or a BKPT halt); an instruction at a breakpoint PC runs first. */
  resume(): void {
    this.stepPending = false;
    this.leaveDebugStop();
  }

  /** Leaves a debugger stop for exactly one instruction, then stops again ('step'). */
  step(): void {
    this.stepPending = true;
    this.leaveDebugStop();
  }

  /**
   * Reads a core register for a debugger: r0-r15 (r13 = the SP in use), then DebugReg.XPSR,
   * MSP, PSP, PRIMASK, CONTROL. Unsigned.
   */
  readRegister(reg: number): number {
    if (reg >= 0 && reg < 16) return reg === 15 ? this.pc : this.r[reg]! >>> 0;
    switch (reg) {
      case DebugReg.XPSR:
        return this.xpsr;
      case DebugReg.MSP:
        return this.msp;
      case DebugReg.PSP:
        return this.psp;
      case DebugReg.PRIMASK:
        return this.primask;
      case DebugReg.CONTROL:
        return this.control & 2;
      default:
        throw new RangeError(`no register ${reg}`);
    }
  }

  /**
   * Writes a core register for a debugger. PC: bit 0 is dropped (the T bit stays as it is);
   * SP/MSP/PSP are word-aligned; r13 writes the SP in use. xPSR writes APSR, EPSR.T and IPSR.
   */
  writeRegister(reg: number, value: number): void {
    if (reg >= 0 && reg < 13) {
      this.r[reg] = value;
      return;
    }
    switch (reg) {
      case 13:
        this.r[13] = value & ~3;
        return;
      case 14:
        this.r[14] = value;
        return;
      case 15:
        this.pc = value;
        // A new PC may be outside the code window's clipped area; a stale skip must not apply.
        this.skipBreakpointAt = -1;
        return;
      case DebugReg.XPSR:
        this.xpsr = value;
        return;
      case DebugReg.MSP:
        this.msp = value;
        return;
      case DebugReg.PSP:
        this.psp = value;
        return;
      case DebugReg.PRIMASK:
        this.setPrimask(value & 1); // clearing it lets a pending interrupt be taken
        return;
      case DebugReg.CONTROL:
        // SPSEL only (nPRIV is not implemented); in handler mode the MSP stays in use.
        if (this.ipsr === 0) this.setSpsel((value >>> 1) & 1);
        else this.control = (this.control & ~2) | (value & 2);
        return;
      default:
        throw new RangeError(`no register ${reg}`);
    }
  }

  private leaveDebugStop(): void {
    this.debugStopped = false;
    if (!this.lockup) this.halted = false;
    this.skipBreakpointAt = this.r[15]! >>> 0;
  }

  /** Enters the debugger stop recorded in `pending*` and tells the listener. */
  private finishDebugStop(): void {
    const reason = this.pendingStop;
    this.pendingStop = STOP_NONE;
    this.stepPending = false;
    let event: DebugStopEvent;
    if (reason === STOP_BREAKPOINT) {
      event = { reason: 'breakpoint', addr: this.pendingAddr };
    } else if (reason === STOP_WATCH) {
      event = {
        reason: 'watchpoint',
        addr: this.pendingAddr,
        watchKind: watchKindOf(this.pendingWatchBits),
        accessAddr: this.pendingAccessAddr,
        accessSize: this.pendingAccessSize,
        accessWrite: this.pendingAccessWrite,
      };
    } else {
      event = { reason: reason === STOP_STEP ? 'step' : 'halt' };
    }
    this.debugStopped = true;
    this.halted = true;
    this.lastDebugStop = event;
    this.onDebugStop?.(event);
  }

  /** Records a hit of any watchpoint overlapping the access; the CPU stops after the instruction. */
  private checkWatchpoints(addr: number, size: number, bit: number): void {
    if (this.pendingStop >= STOP_WATCH) return;
    for (let i = 0; i < this.watchCount; i++) {
      const w = this.watchAddr[i]!;
      if ((this.watchBits[i]! & bit) !== 0 && addr < w + this.watchLength[i]! && w < addr + size) {
        this.pendingStop = STOP_WATCH;
        this.pendingAddr = w;
        this.pendingWatchBits = this.watchBits[i]!;
        this.pendingAccessAddr = addr;
        this.pendingAccessSize = size;
        this.pendingAccessWrite = bit === WATCH_WRITE;
        this.exitRequested = true;
        return;
      }
    }
  }

  // ---- hooks called by the instruction core (override or extend for NVIC/debug) ----

  /** A synchronous fault: HardFault on ARMv6-M, or lockup when it cannot be taken. */
  raiseFault(kind: FaultKind): void {
    this.lastFault = kind;
    if (this.executionPriority() < 0) {
      this.enterLockup(
        `HardFault while in ${this.active[Exc.NMI] !== 0 ? 'NMI' : 'HardFault'} (PC 0x${hex8(this.r[15]!)}, ${kind})`,
      );
      return;
    }
    this.takeException(Exc.HardFault, this.r[15]! >>> 0);
  }

  /**
   * SVC: r[15] already holds the address of the next instruction (the return address). When it
   * escalates, the HardFault's stacked return address is the SVC itself (our choice, as for
   * other synchronous faults).
   */
  svc(_imm: number): void {
    if (this.executionPriority() <= this.exceptionPriority(Exc.SVCall)) {
      // An SVC that cannot preempt escalates to HardFault. The stacked return address is the
      // instruction after the SVC, as for SVCall itself (QEMU and silicon agree; see the golden
      // vectors `svc-imm8-with-primask-set-*`).
      this.raiseFault('escalation');
      return;
    }
    this.takeException(Exc.SVCall, this.r[15]! >>> 0);
  }

  /** BKPT: r[15] holds the BKPT's own address. Without a debugger it escalates to HardFault. */
  bkpt(imm: number): void {
    if (this.onBreakpoint?.(imm)) {
      this.halted = true;
      this.exitRequested = true;
      return;
    }
    this.raiseFault('bkpt');
  }

  /** WFI: sleeps until an interrupt would preempt if PRIMASK were clear (woken by `wake()`). */
  wfi(): void {
    if (this.nvic?.wfiWakeCondition()) return;
    this.sleeping = true;
    this.waitingForEvent = false;
    this.exitRequested = true;
  }

  /** WFE: consumes a set event register, else sleeps until an event. */
  wfe(): void {
    if (this.eventRegister !== 0) {
      this.eventRegister = 0;
      return;
    }
    this.sleeping = true;
    this.waitingForEvent = true;
    this.exitRequested = true;
  }

  /** SEV: on a single core, sets the own event register. */
  sev(): void {
    this.eventRegister = 1;
  }

  /** Ends a WFI/WFE sleep (interrupt or event); `event` also sets the event register. */
  wake(event = false): void {
    if (event && !this.sleeping) this.eventRegister = 1;
    this.sleeping = false;
  }

  /** Priority of an exception: fixed for Reset/NMI/HardFault, else from the NVIC/SCB (or 0). */
  exceptionPriority(num: number): number {
    if (num === Exc.Reset) return -3;
    if (num === Exc.NMI) return -2;
    if (num === Exc.HardFault) return -1;
    return this.nvic !== null ? this.nvic.priorityOf(num) : 0;
  }

  /** PRIMASK write (CPS, MSR): clearing it lets a pending exception in at the next boundary. */
  setPrimask(value: number): void {
    this.primask = value & 1;
    if (this.primask === 0 && this.nvic !== null) this.nvic.primaskCleared();
  }

  /** Takes the highest-priority pending exception if it preempts (called when `execute` starts). */
  private takePendingException(): void {
    this.exceptionCheck = false;
    const nvic = this.nvic;
    if (nvic === null) return;
    const num = nvic.highestPending();
    if (num !== 0 && this.exceptionPriority(num) < this.executionPriority()) {
      this.takeException(num, this.r[15]! >>> 0);
    }
  }

  /** Bookkeeping common to every exception entry (after the vector was loaded). */
  private exceptionEntered(num: number): void {
    this.nvic?.entered(num);
    this.cycles += EXCEPTION_CYCLES;
    this.eventRegister = 1;
    this.sleeping = false;
  }

  /**
   * Tail-chaining (ARMv6-M B1.5.8): on return, `num` is entered without unstacking the frame
   * that is still on the stack; LR keeps the EXC_RETURN that will eventually unstack it.
   */
  private tailChain(num: number, excReturn: number): void {
    this.ipsr = num;
    this.active[num] = 1;
    this.r[14] = excReturn | 0;
    const vector = this.bus.read32(this.vectorBase + num * 4);
    if (vector < 0) {
      this.lastFault = 'bus-error';
      if (num === Exc.HardFault || num === Exc.NMI) {
        this.enterLockup(`bus error reading the ${num === Exc.NMI ? 'NMI' : 'HardFault'} vector`);
      } else {
        this.active[num] = 0;
        this.tailChain(Exc.HardFault, excReturn);
      }
      return;
    }
    this.r[15] = vector & ~1;
    this.setTbit(vector & 1);
    this.exceptionEntered(num);
  }

  /** The current execution priority: the highest active exception's, boosted by PRIMASK. */
  executionPriority(): number {
    let p = NO_PRIORITY;
    const active = this.active;
    for (let i = 1; i < active.length; i++) {
      if (active[i] !== 0) {
        const q = this.exceptionPriority(i);
        if (q < p) p = q;
      }
    }
    if (this.primask !== 0 && p > 0) p = 0;
    return p;
  }

  /** Exception entry (ARMv6-M B1.5.6): stack the frame, switch to handler mode, jump to the vector. */
  takeException(num: number, returnAddress: number): void {
    const r = this.r;
    const bus = this.bus;
    const sp = r[13]! >>> 0;
    const pad = (sp >>> 2) & 1;
    const frame = ((sp - 0x20) & ~7) >>> 0;
    const xpsr = (this.xpsr & ~(1 << 9)) | (pad << 9);
    const ok =
      bus.write32(frame, r[0]! >>> 0) |
      bus.write32(frame + 4, r[1]! >>> 0) |
      bus.write32(frame + 8, r[2]! >>> 0) |
      bus.write32(frame + 12, r[3]! >>> 0) |
      bus.write32(frame + 16, r[12]! >>> 0) |
      bus.write32(frame + 20, r[14]! >>> 0) |
      bus.write32(frame + 24, returnAddress & ~1) |
      bus.write32(frame + 28, xpsr >>> 0);
    r[13] = frame;
    r[14] = this.ipsr !== 0 ? 0xfffffff1 : (this.control & 2) !== 0 ? 0xfffffffd : 0xfffffff9;
    this.setSpsel(0);
    this.ipsr = num;
    this.active[num] = 1;
    const vector = bus.read32(this.vectorBase + num * 4);
    if (ok < 0 || vector < 0) {
      // A bus error while stacking or reading the vector: HardFault, or lockup if already there.
      this.lastFault = 'bus-error';
      if (num === Exc.HardFault || num === Exc.NMI) {
        this.enterLockup(
          `bus error entering ${num === Exc.NMI ? 'NMI' : 'HardFault'} (stacking at 0x${hex8(frame)})`,
        );
      } else {
        this.takeException(Exc.HardFault, returnAddress);
      }
      return;
    }
    r[15] = vector & ~1;
    this.setTbit(vector & 1);
    this.exceptionEntered(num);
  }

  /** Exception return (ARMv6-M B1.5.8), for BX/POP of an EXC_RETURN value in handler mode. */
  exceptionReturn(excReturn: number): void {
    const mode = excReturn & 0xf;
    if (excReturn >>> 4 !== 0x0fff_ffff || (mode !== 1 && mode !== 9 && mode !== 0xd)) {
      this.raiseFault('exc-return');
      return;
    }
    const returning = this.ipsr;
    this.active[returning] = 0;
    this.eventRegister = 1;
    const nvic = this.nvic;
    if (nvic !== null) {
      nvic.deactivated(returning);
      const next = nvic.highestPending();
      if (next !== 0 && this.exceptionPriority(next) < this.executionPriority()) {
        this.tailChain(next, excReturn);
        return;
      }
    }
    this.cycles += EXCEPTION_CYCLES;
    if (mode === 0xd) this.setSpsel(1);
    const r = this.r;
    const bus = this.bus;
    const frame = r[13]! >>> 0;
    const r0 = bus.read32(frame);
    const r1 = bus.read32(frame + 4);
    const r2 = bus.read32(frame + 8);
    const r3 = bus.read32(frame + 12);
    const r12 = bus.read32(frame + 16);
    const lr = bus.read32(frame + 20);
    const pc = bus.read32(frame + 24);
    const xpsr = bus.read32(frame + 28);
    // (Reads return unsigned values or negative MemTx codes, so test each one.)
    if (
      r0 < 0 ||
      r1 < 0 ||
      r2 < 0 ||
      r3 < 0 ||
      r12 < 0 ||
      lr < 0 ||
      pc < 0 ||
      xpsr < 0 ||
      (frame & 3) !== 0
    ) {
      this.raiseFault('bus-error');
      return;
    }
    r[0] = r0;
    r[1] = r1;
    r[2] = r2;
    r[3] = r3;
    r[12] = r12;
    r[14] = lr;
    r[15] = pc & ~1;
    r[13] = frame + 0x20 + (((xpsr >>> 9) & 1) << 2);
    this.apsr = xpsr;
    this.ipsr = mode === 1 ? xpsr & 0x3f : 0;
    this.setTbit((xpsr >>> 24) & 1);
    if (mode !== 1 && nvic !== null && nvic.sleepOnExit) {
      // SCR.SLEEPONEXIT: back in thread mode with nothing to do, sleep as WFI would.
      this.sleeping = true;
      this.waitingForEvent = false;
      this.exitRequested = true;
    }
  }

  /** Lockup (ARMv6-M B1.5.15): the CPU stops; a guest error of fatal kind, always logged. */
  private enterLockup(reason: string): void {
    this.lockup = true;
    this.halted = true;
    this.exitRequested = true;
    this.r[15] = 0xfffffffe | 0;
    this.bus.log.write(`tsemu: ${this.name} locked up: ${reason}`);
  }

  /** Raises `kind` for the instruction at `pc`; returns where execution continues. */
  private fault(pc: number, kind: FaultKind): number {
    this.r[15] = pc;
    this.raiseFault(kind);
    return this.r[15]! >>> 0;
  }

  /** BXWritePC / LoadWritePC: interworking branch, or exception return in handler mode. */
  private branchExchange(target: number): number {
    if (this.ipsr !== 0 && target >>> 28 === 0xf) {
      this.exceptionReturn(target);
      return this.r[15]! >>> 0;
    }
    this.setTbit(target & 1);
    return (target & ~1) >>> 0;
  }

  // ---- fetch ----

  /**
   * Fetch outside the cached window: checks T, XN, breakpoints (when `insnStart`) and bus errors,
   * and refreshes the window, clipped to the executable part of the map and to exclude every
   * breakpoint address.
   */
  private fetchSlow(pc: number, insnStart: boolean): number {
    if (this.tbit === 0) return FETCH_INVSTATE;
    if (!isExecutable(pc)) return FETCH_XN;
    const bps = this.breakpointList;
    if (
      insnStart &&
      bps.length !== 0 &&
      bps.includes(pc) &&
      // Resuming from a breakpoint runs its instruction (first instruction of the slice only).
      !(pc === this.skipBreakpointAt && this.sliceInstructions === 0)
    ) {
      return FETCH_BREAKPOINT;
    }
    const p = this.rangeFor(pc);
    if (p === null) {
      // No window here (MMIO or unmapped): leave none cached, so nothing reads a stale one.
      this.codeLo = 1;
      this.codeHi = 0;
      const v = this.bus.read16(pc);
      return v < 0 ? FETCH_BUS_ERROR : v;
    }
    let lo = p.start;
    let hi = Math.min(p.end, pc < 0x4000_0000 ? 0x4000_0000 : 0xa000_0000);
    for (let i = 0; i < bps.length; i++) {
      // A fetch at b must miss the window: b < lo, or b >= hi - 1 (the window's last fetch start).
      const b = bps[i]!;
      if (b <= pc) {
        if (b + 1 > lo) lo = b + 1;
      } else if (b + 1 < hi) {
        hi = b + 1;
      }
    }
    this.codeData = p.data;
    this.codeBase = p.base;
    this.codeLo = lo;
    this.codeHi = hi - 1;
    this.codeGen = memoryTopology.generation;
    if (pc + 2 > p.end) {
      const v = this.bus.read16(pc);
      return v < 0 ? FETCH_BUS_ERROR : v;
    }
    const o = pc - p.base;
    return p.data[o]! | (p.data[o + 1]! << 8);
  }

  /**
   * The RAM/ROM range holding `addr`, from a cache valid for the current topology generation
   * (so refreshing a window allocates nothing in steady state), or null for anything else.
   */
  private rangeFor(addr: number): RamPointer | null {
    const gen = memoryTopology.generation;
    if (this.rangeGen !== gen) {
      this.rangeCache.length = 0;
      this.rangeNext = 0;
      this.noRamPage = -1;
      this.rangeGen = gen;
      this.clearDataWindow();
    }
    const cache = this.rangeCache;
    for (let i = 0; i < cache.length; i++) {
      const p = cache[i]!;
      if (addr >= p.start && addr < p.end) return p;
    }
    if (addr >>> 12 === this.noRamPage) return null;
    const p = this.bus.ramPointer(addr);
    if (p === null) {
      this.noRamPage = addr >>> 12;
      return null;
    }
    if (cache.length < RANGE_CACHE_SIZE) cache.push(p);
    else cache[this.rangeNext++ % RANGE_CACHE_SIZE] = p;
    return p;
  }

  // ---- data accesses ----
  // Fast path: inside the data window. Slow path: watchpoints, window refresh, the AddressSpace.
  // Results as the AddressSpace gives them: unsigned values or MemTx codes (negative).

  private clearDataWindow(): void {
    this.dataLo = 1;
    this.dataEnd = 0;
    this.dataWriteEnd = 0;
  }

  /** Points the data window at the range holding `addr` if it is RAM/ROM and `size` bytes fit. */
  private refreshDataWindow(addr: number, size: number): boolean {
    const p = this.rangeFor(addr);
    if (p === null || addr + size > p.end || this.watchCount !== 0) return false;
    this.dataBytes = p.data;
    this.dataBase = p.base;
    this.dataLo = p.start;
    this.dataEnd = p.end;
    this.dataWriteEnd = p.writable ? p.end : 0;
    return true;
  }

  private load8(addr: number): number {
    if (addr >= this.dataLo && addr < this.dataEnd) return this.dataBytes[addr - this.dataBase]!;
    return this.loadSlow(addr, 1);
  }

  private load16(addr: number): number {
    if (addr >= this.dataLo && addr + 2 <= this.dataEnd) {
      const d = this.dataBytes;
      const o = addr - this.dataBase;
      return d[o]! | (d[o + 1]! << 8);
    }
    return this.loadSlow(addr, 2);
  }

  private load32(addr: number): number {
    if (addr >= this.dataLo && addr + 4 <= this.dataEnd) {
      const d = this.dataBytes;
      const o = addr - this.dataBase;
      return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
    }
    return this.loadSlow(addr, 4);
  }

  private store8(addr: number, value: number): number {
    if (addr >= this.dataLo && addr < this.dataWriteEnd) {
      this.dataBytes[addr - this.dataBase] = value;
      return 0;
    }
    return this.storeSlow(addr, value, 1);
  }

  private store16(addr: number, value: number): number {
    if (addr >= this.dataLo && addr + 2 <= this.dataWriteEnd) {
      const d = this.dataBytes;
      const o = addr - this.dataBase;
      d[o] = value;
      d[o + 1] = value >>> 8;
      return 0;
    }
    return this.storeSlow(addr, value, 2);
  }

  private store32(addr: number, value: number): number {
    if (addr >= this.dataLo && addr + 4 <= this.dataWriteEnd) {
      const d = this.dataBytes;
      const o = addr - this.dataBase;
      d[o] = value;
      d[o + 1] = value >>> 8;
      d[o + 2] = value >>> 16;
      d[o + 3] = value >>> 24;
      return 0;
    }
    return this.storeSlow(addr, value, 4);
  }

  private loadSlow(addr: number, size: number): number {
    if (this.watchCount !== 0) this.checkWatchpoints(addr, size, WATCH_READ);
    if (this.refreshDataWindow(addr, size)) {
      if (size === 4) return this.load32(addr);
      return size === 2 ? this.load16(addr) : this.load8(addr);
    }
    return size === 4 ? this.bus.read32(addr) : size === 2 ? this.bus.read16(addr) : this.bus.read8(addr);
  }

  private storeSlow(addr: number, value: number, size: number): number {
    if (this.watchCount !== 0) this.checkWatchpoints(addr, size, WATCH_WRITE);
    if (this.refreshDataWindow(addr, size) && addr + size <= this.dataWriteEnd) {
      if (size === 4) return this.store32(addr, value);
      return size === 2 ? this.store16(addr, value) : this.store8(addr, value);
    }
    const rc =
      size === 4
        ? this.bus.write32(addr, value)
        : size === 2
          ? this.bus.write16(addr, value)
          : this.bus.write8(addr, value);
    // A device register write may remap memory; the window must not outlive the old map.
    if (memoryTopology.generation !== this.rangeGen) this.clearDataWindow();
    return rc;
  }

  private fetchFault(pc: number, code: number): number {
    return this.fault(
      pc,
      code === FETCH_INVSTATE ? 'invalid-state' : code === FETCH_XN ? 'execute-never' : 'bus-error',
    );
  }

  // ---- the interpreter ----

  execute(maxInstructions: number): number {
    if (this.halted || this.sleeping) return 0;
    this.exitRequested = false;
    // Pending exceptions are taken at an instruction boundary: the start of a slice (see header).
    if (this.exceptionCheck) this.takePendingException();
    this.executing = true;
    // A pending single step runs exactly one instruction.
    const limit = this.stepPending ? 1 : maxInstructions;
    const r = this.r;
    const table = THUMB16_TABLE;
    const topology = memoryTopology;
    let pc = r[15]! >>> 0;
    let count = 0;
    let cycles = 0;
    let code = this.codeData;
    let codeBase = this.codeBase;
    let codeLo = this.codeLo;
    let codeHi = this.codeHi;

    loop: while (count < limit && !this.exitRequested) {
      this.sliceInstructions = count;
      let insn: number;
      if (pc >= codeLo && pc < codeHi && this.codeGen === topology.generation) {
        const o = pc - codeBase;
        insn = code[o]! | (code[o + 1]! << 8);
      } else {
        insn = this.fetchSlow(pc, true);
        code = this.codeData;
        codeBase = this.codeBase;
        codeLo = this.codeLo;
        codeHi = this.codeHi;
        if (insn < 0) {
          if (insn === FETCH_BREAKPOINT) {
            this.pendingStop = STOP_BREAKPOINT;
            this.pendingAddr = pc;
            break;
          }
          count++;
          cycles++;
          pc = this.fetchFault(pc, insn);
          continue;
        }
      }
      count++;
      cycles++;

      switch (table[insn]) {
        case 1: {
          // LSL_IMM: LSLS Rd, Rm, #1..31
          const x = r[(insn >>> 3) & 7]!;
          const s = (insn >>> 6) & 31;
          const res = x << s;
          this.c = (x >>> (32 - s)) & 1;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 2: {
          // MOVS_REG: MOVS Rd, Rm (LSLS #0): C unchanged
          const res = r[(insn >>> 3) & 7]!;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 3: {
          // LSR_IMM: LSRS Rd, Rm, #1..32 (imm5 = 0 means 32)
          const x = r[(insn >>> 3) & 7]!;
          const s = (insn >>> 6) & 31;
          let res: number;
          if (s === 0) {
            this.c = x >>> 31;
            res = 0;
          } else {
            this.c = (x >>> (s - 1)) & 1;
            res = (x >>> s) | 0;
          }
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 4: {
          // ASR_IMM: ASRS Rd, Rm, #1..32 (imm5 = 0 means 32)
          const x = r[(insn >>> 3) & 7]!;
          const s = (insn >>> 6) & 31;
          let res: number;
          if (s === 0) {
            this.c = x >>> 31;
            res = x >> 31;
          } else {
            this.c = (x >> (s - 1)) & 1;
            res = x >> s;
          }
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 5: {
          // ADDS_REG: ADDS Rd, Rn, Rm
          const a = r[(insn >>> 3) & 7]!;
          const b = r[(insn >>> 6) & 7]!;
          const res = (a + b) | 0;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = (a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0;
          this.v = ((a ^ res) & (b ^ res)) >>> 31;
          break;
        }
        case 6: {
          // SUBS_REG: SUBS Rd, Rn, Rm
          const a = r[(insn >>> 3) & 7]!;
          const b = r[(insn >>> 6) & 7]!;
          const res = (a - b) | 0;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b >>> 0 ? 1 : 0;
          this.v = ((a ^ b) & (a ^ res)) >>> 31;
          break;
        }
        case 7: {
          // ADDS_IMM3: ADDS Rd, Rn, #imm3
          const a = r[(insn >>> 3) & 7]!;
          const b = (insn >>> 6) & 7;
          const res = (a + b) | 0;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = (a >>> 0) + b > 0xffffffff ? 1 : 0;
          this.v = (~a & res) >>> 31;
          break;
        }
        case 8: {
          // SUBS_IMM3: SUBS Rd, Rn, #imm3
          const a = r[(insn >>> 3) & 7]!;
          const b = (insn >>> 6) & 7;
          const res = (a - b) | 0;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b ? 1 : 0;
          this.v = (a & ~res) >>> 31;
          break;
        }
        case 9: {
          // MOVS_IMM: MOVS Rd, #imm8 (C unchanged)
          const res = insn & 0xff;
          r[(insn >>> 8) & 7] = res;
          this.n = 0;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 10: {
          // CMP_IMM: CMP Rn, #imm8
          const a = r[(insn >>> 8) & 7]!;
          const b = insn & 0xff;
          const res = (a - b) | 0;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b ? 1 : 0;
          this.v = (a & ~res) >>> 31;
          break;
        }
        case 11: {
          // ADDS_IMM8: ADDS Rdn, #imm8
          const d = (insn >>> 8) & 7;
          const a = r[d]!;
          const b = insn & 0xff;
          const res = (a + b) | 0;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = (a >>> 0) + b > 0xffffffff ? 1 : 0;
          this.v = (~a & res) >>> 31;
          break;
        }
        case 12: {
          // SUBS_IMM8: SUBS Rdn, #imm8
          const d = (insn >>> 8) & 7;
          const a = r[d]!;
          const b = insn & 0xff;
          const res = (a - b) | 0;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b ? 1 : 0;
          this.v = (a & ~res) >>> 31;
          break;
        }
        case 13: {
          // AND: ANDS Rdn, Rm
          const d = insn & 7;
          const res = r[d]! & r[(insn >>> 3) & 7]!;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 14: {
          // EOR: EORS Rdn, Rm
          const d = insn & 7;
          const res = r[d]! ^ r[(insn >>> 3) & 7]!;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 15: {
          // LSL_REG: LSLS Rdn, Rm (amount = Rm[7:0])
          const d = insn & 7;
          const x = r[d]!;
          const s = r[(insn >>> 3) & 7]! & 0xff;
          let res = x;
          if (s !== 0) {
            if (s < 32) {
              this.c = (x >>> (32 - s)) & 1;
              res = x << s;
            } else {
              this.c = s === 32 ? x & 1 : 0;
              res = 0;
            }
          }
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 16: {
          // LSR_REG: LSRS Rdn, Rm
          const d = insn & 7;
          const x = r[d]!;
          const s = r[(insn >>> 3) & 7]! & 0xff;
          let res = x;
          if (s !== 0) {
            if (s < 32) {
              this.c = (x >>> (s - 1)) & 1;
              res = (x >>> s) | 0;
            } else {
              this.c = s === 32 ? x >>> 31 : 0;
              res = 0;
            }
          }
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 17: {
          // ASR_REG: ASRS Rdn, Rm
          const d = insn & 7;
          const x = r[d]!;
          const s = r[(insn >>> 3) & 7]! & 0xff;
          let res = x;
          if (s !== 0) {
            if (s < 32) {
              this.c = (x >> (s - 1)) & 1;
              res = x >> s;
            } else {
              this.c = x >>> 31;
              res = x >> 31;
            }
          }
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 18: {
          // ADC: ADCS Rdn, Rm
          const d = insn & 7;
          const a = r[d]!;
          const b = r[(insn >>> 3) & 7]!;
          const sum = (a >>> 0) + (b >>> 0) + this.c;
          const res = sum | 0;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = sum > 0xffffffff ? 1 : 0;
          this.v = ((a ^ res) & (b ^ res)) >>> 31;
          break;
        }
        case 19: {
          // SBC: SBCS Rdn, Rm (Rdn + NOT(Rm) + C)
          const d = insn & 7;
          const a = r[d]!;
          const b = r[(insn >>> 3) & 7]!;
          const sum = (a >>> 0) + (~b >>> 0) + this.c;
          const res = sum | 0;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = sum > 0xffffffff ? 1 : 0;
          this.v = ((a ^ b) & (a ^ res)) >>> 31;
          break;
        }
        case 20: {
          // ROR: RORS Rdn, Rm
          const d = insn & 7;
          const x = r[d]!;
          const s = r[(insn >>> 3) & 7]! & 0xff;
          let res = x;
          if (s !== 0) {
            const k = s & 31;
            if (k !== 0) res = (x >>> k) | (x << (32 - k));
            this.c = res >>> 31;
          }
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 21: {
          // TST: TST Rn, Rm
          const res = r[insn & 7]! & r[(insn >>> 3) & 7]!;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 22: {
          // RSB: RSBS Rd, Rn, #0 (NEGS)
          const a = r[(insn >>> 3) & 7]!;
          const res = -a | 0;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a === 0 ? 1 : 0;
          this.v = (a & res) >>> 31;
          break;
        }
        case 23: {
          // CMP_REG: CMP Rn, Rm (low registers)
          const a = r[insn & 7]!;
          const b = r[(insn >>> 3) & 7]!;
          const res = (a - b) | 0;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b >>> 0 ? 1 : 0;
          this.v = ((a ^ b) & (a ^ res)) >>> 31;
          break;
        }
        case 24: {
          // CMN: CMN Rn, Rm
          const a = r[insn & 7]!;
          const b = r[(insn >>> 3) & 7]!;
          const res = (a + b) | 0;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = (a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0;
          this.v = ((a ^ res) & (b ^ res)) >>> 31;
          break;
        }
        case 25: {
          // ORR: ORRS Rdn, Rm
          const d = insn & 7;
          const res = r[d]! | r[(insn >>> 3) & 7]!;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 26: {
          // MUL: MULS Rdm, Rn, Rdm (C and V unchanged on ARMv6-M)
          const d = insn & 7;
          const res = Math.imul(r[d]!, r[(insn >>> 3) & 7]!);
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 27: {
          // BIC: BICS Rdn, Rm
          const d = insn & 7;
          const res = r[d]! & ~r[(insn >>> 3) & 7]!;
          r[d] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 28: {
          // MVN: MVNS Rd, Rm
          const res = ~r[(insn >>> 3) & 7]!;
          r[insn & 7] = res;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          break;
        }
        case 29: {
          // ADD_HI: ADD Rdn, Rm (any registers, no flags; Rdn = PC branches)
          const d = (insn & 7) | ((insn >>> 4) & 8);
          const m = (insn >>> 3) & 15;
          const a = d === 15 ? pc + 4 : r[d]!;
          const b = m === 15 ? pc + 4 : r[m]!;
          const res = (a + b) | 0;
          if (d === 15) {
            pc = (res & ~1) >>> 0;
            cycles += 2;
            continue;
          }
          r[d] = d === 13 ? res & ~3 : res;
          break;
        }
        case 30: {
          // CMP_HI: CMP Rn, Rm (at least one high register, neither PC)
          const a = r[(insn & 7) | ((insn >>> 4) & 8)]!;
          const b = r[(insn >>> 3) & 15]!;
          const res = (a - b) | 0;
          this.n = res >>> 31;
          this.z = res === 0 ? 1 : 0;
          this.c = a >>> 0 >= b >>> 0 ? 1 : 0;
          this.v = ((a ^ b) & (a ^ res)) >>> 31;
          break;
        }
        case 31: {
          // MOV_HI: MOV Rd, Rm (any registers, no flags; Rd = PC branches)
          const d = (insn & 7) | ((insn >>> 4) & 8);
          const m = (insn >>> 3) & 15;
          const value = m === 15 ? pc + 4 : r[m]!;
          if (d === 15) {
            pc = (value & ~1) >>> 0;
            cycles += 2;
            continue;
          }
          r[d] = d === 13 ? value & ~3 : value;
          break;
        }
        case 32: {
          // BX: BX Rm
          const m = (insn >>> 3) & 15;
          const target = m === 15 ? pc + 4 : r[m]! >>> 0;
          cycles += 2;
          pc = this.branchExchange(target);
          continue;
        }
        case 33: {
          // BLX: BLX Rm
          const target = r[(insn >>> 3) & 15]! >>> 0;
          r[14] = (pc + 2) | 1;
          cycles += 2;
          pc = this.branchExchange(target);
          continue;
        }
        case 34: {
          // LDR_LIT: LDR Rt, [PC, #imm8*4]
          const addr = (((pc + 4) & ~3) >>> 0) + ((insn & 0xff) << 2);
          // Literal pools sit next to the code: read them from the code window (not while
          // watchpoints exist: they need the checked path) so RAM data keeps the data window.
          if (addr >= codeLo && addr + 2 < codeHi && this.watchCount === 0) {
            const o = addr - codeBase;
            r[(insn >>> 8) & 7] =
              code[o]! | (code[o + 1]! << 8) | (code[o + 2]! << 16) | (code[o + 3]! << 24);
          } else {
            const value = this.load32(addr);
            if (value < 0) {
              pc = this.fault(pc, 'bus-error');
              continue;
            }
            r[(insn >>> 8) & 7] = value;
          }
          cycles++;
          break;
        }
        case 35: {
          // STR_REG: STR Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          if (this.store32(addr, r[insn & 7]! >>> 0) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 36: {
          // STRH_REG: STRH Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if ((addr & 1) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          if (this.store16(addr, r[insn & 7]! & 0xffff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 37: {
          // STRB_REG: STRB Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if (this.store8(addr, r[insn & 7]! & 0xff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 38: {
          // LDRSB_REG: LDRSB Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          const value = this.load8(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = (value << 24) >> 24;
          cycles++;
          break;
        }
        case 39: {
          // LDR_REG: LDR Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load32(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 40: {
          // LDRH_REG: LDRH Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if ((addr & 1) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load16(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 41: {
          // LDRB_REG: LDRB Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          const value = this.load8(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 42: {
          // LDRSH_REG: LDRSH Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if ((addr & 1) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load16(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = (value << 16) >> 16;
          cycles++;
          break;
        }
        case 43: {
          // STR_IMM: STR Rt, [Rn, #imm5*4]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 4) & 0x7c)) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          if (this.store32(addr, r[insn & 7]! >>> 0) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 44: {
          // LDR_IMM: LDR Rt, [Rn, #imm5*4]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 4) & 0x7c)) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load32(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 45: {
          // STRB_IMM: STRB Rt, [Rn, #imm5]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 6) & 31)) >>> 0;
          if (this.store8(addr, r[insn & 7]! & 0xff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 46: {
          // LDRB_IMM: LDRB Rt, [Rn, #imm5]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 6) & 31)) >>> 0;
          const value = this.load8(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 47: {
          // STRH_IMM: STRH Rt, [Rn, #imm5*2]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 5) & 0x3e)) >>> 0;
          if ((addr & 1) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          if (this.store16(addr, r[insn & 7]! & 0xffff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 48: {
          // LDRH_IMM: LDRH Rt, [Rn, #imm5*2]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 5) & 0x3e)) >>> 0;
          if ((addr & 1) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load16(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[insn & 7] = value;
          cycles++;
          break;
        }
        case 49: {
          // STR_SP: STR Rt, [SP, #imm8*4]
          const addr = (r[13]! + ((insn & 0xff) << 2)) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          if (this.store32(addr, r[(insn >>> 8) & 7]! >>> 0) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 50: {
          // LDR_SP: LDR Rt, [SP, #imm8*4]
          const addr = (r[13]! + ((insn & 0xff) << 2)) >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const value = this.load32(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[(insn >>> 8) & 7] = value;
          cycles++;
          break;
        }
        case 51:
          // ADR: ADR Rd, label (Align(PC, 4) + imm8*4)
          r[(insn >>> 8) & 7] = ((pc + 4) & ~3) + ((insn & 0xff) << 2);
          break;
        case 52:
          // ADD_RD_SP: ADD Rd, SP, #imm8*4
          r[(insn >>> 8) & 7] = r[13]! + ((insn & 0xff) << 2);
          break;
        case 53:
          // ADD_SP_IMM: ADD SP, SP, #imm7*4
          r[13] = r[13]! + ((insn & 0x7f) << 2);
          break;
        case 54:
          // SUB_SP_IMM: SUB SP, SP, #imm7*4
          r[13] = r[13]! - ((insn & 0x7f) << 2);
          break;
        case 55:
          // SXTH: SXTH Rd, Rm
          r[insn & 7] = (r[(insn >>> 3) & 7]! << 16) >> 16;
          break;
        case 56:
          // SXTB: SXTB Rd, Rm
          r[insn & 7] = (r[(insn >>> 3) & 7]! << 24) >> 24;
          break;
        case 57:
          // UXTH: UXTH Rd, Rm
          r[insn & 7] = r[(insn >>> 3) & 7]! & 0xffff;
          break;
        case 58:
          // UXTB: UXTB Rd, Rm
          r[insn & 7] = r[(insn >>> 3) & 7]! & 0xff;
          break;
        case 59: {
          // PUSH: PUSH {reglist[, lr]}: stores ascending from SP - 4*N, then SP = that.
          const list = (insn & 0xff) | ((insn & 0x100) << 6);
          let addr = (r[13]! >>> 0) - 4 * bitCount(list);
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          addr >>>= 0;
          const start = addr;
          for (let i = 0; i < 15; i++) {
            if ((list & (1 << i)) !== 0) {
              if (this.store32(addr, r[i]! >>> 0) < 0) {
                pc = this.fault(pc, 'bus-error');
                continue loop;
              }
              addr += 4;
              cycles++;
            }
          }
          r[13] = start;
          break;
        }
        case 60:
          // CPS: CPSIE i / CPSID i
          this.setPrimask((insn >>> 4) & 1);
          break;
        case 61: {
          // REV: REV Rd, Rm
          const x = r[(insn >>> 3) & 7]!;
          r[insn & 7] = (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
          break;
        }
        case 62: {
          // REV16: REV16 Rd, Rm
          const x = r[(insn >>> 3) & 7]!;
          r[insn & 7] = ((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff);
          break;
        }
        case 63: {
          // REVSH: REVSH Rd, Rm
          const x = r[(insn >>> 3) & 7]!;
          r[insn & 7] = ((x << 24) >> 16) | ((x >>> 8) & 0xff);
          break;
        }
        case 64: {
          // POP: POP {reglist[, pc]}; into PC interworks (and may be an exception return).
          const list = insn & 0xff;
          let addr = r[13]! >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const loaded = this.loaded;
          for (let i = 0; i < 8; i++) {
            if ((list & (1 << i)) !== 0) {
              const value = this.load32(addr);
              if (value < 0) {
                pc = this.fault(pc, 'bus-error');
                continue loop;
              }
              loaded[i] = value;
              addr += 4;
              cycles++;
            }
          }
          let target = 0;
          if ((insn & 0x100) !== 0) {
            target = this.load32(addr);
            if (target < 0) {
              pc = this.fault(pc, 'bus-error');
              continue;
            }
            addr += 4;
            cycles++;
          }
          for (let i = 0; i < 8; i++) if ((list & (1 << i)) !== 0) r[i] = loaded[i]!;
          r[13] = addr;
          if ((insn & 0x100) !== 0) {
            cycles += 2;
            pc = this.branchExchange(target);
            continue;
          }
          break;
        }
        case 65:
          // BKPT: BKPT #imm8 (the hook sees PC = the BKPT itself)
          r[15] = pc;
          this.bkpt(insn & 0xff);
          pc = r[15]! >>> 0;
          continue;
        case 66:
          // NOP (also YIELD and the unallocated hints)
          break;
        case 67:
          // WFE
          cycles++;
          this.wfe();
          break;
        case 68:
          // WFI
          cycles++;
          this.wfi();
          break;
        case 69:
          // SEV
          this.sev();
          break;
        case 70: {
          // STM: STM Rn!, {reglist} (always writes back; base, if listed, is the lowest)
          const n = (insn >>> 8) & 7;
          const list = insn & 0xff;
          let addr = r[n]! >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          for (let i = 0; i < 8; i++) {
            if ((list & (1 << i)) !== 0) {
              if (this.store32(addr, r[i]! >>> 0) < 0) {
                pc = this.fault(pc, 'bus-error');
                continue loop;
              }
              addr += 4;
              cycles++;
            }
          }
          r[n] = addr;
          break;
        }
        case 71: {
          // LDM: LDM Rn{!}, {reglist} (write-back only when Rn is not in the list)
          const n = (insn >>> 8) & 7;
          const list = insn & 0xff;
          let addr = r[n]! >>> 0;
          if ((addr & 3) !== 0) {
            pc = this.fault(pc, 'unaligned');
            continue;
          }
          const loaded = this.loaded;
          for (let i = 0; i < 8; i++) {
            if ((list & (1 << i)) !== 0) {
              const value = this.load32(addr);
              if (value < 0) {
                pc = this.fault(pc, 'bus-error');
                continue loop;
              }
              loaded[i] = value;
              addr += 4;
              cycles++;
            }
          }
          r[n] = addr;
          for (let i = 0; i < 8; i++) if ((list & (1 << i)) !== 0) r[i] = loaded[i]!;
          break;
        }
        case 72: {
          // BCOND: B<cond> label
          let taken: boolean;
          switch ((insn >>> 8) & 15) {
            case 0:
              taken = this.z !== 0;
              break;
            case 1:
              taken = this.z === 0;
              break;
            case 2:
              taken = this.c !== 0;
              break;
            case 3:
              taken = this.c === 0;
              break;
            case 4:
              taken = this.n !== 0;
              break;
            case 5:
              taken = this.n === 0;
              break;
            case 6:
              taken = this.v !== 0;
              break;
            case 7:
              taken = this.v === 0;
              break;
            case 8:
              taken = this.c !== 0 && this.z === 0;
              break;
            case 9:
              taken = this.c === 0 || this.z !== 0;
              break;
            case 10:
              taken = this.n === this.v;
              break;
            case 11:
              taken = this.n !== this.v;
              break;
            case 12:
              taken = this.z === 0 && this.n === this.v;
              break;
            default:
              taken = this.z !== 0 || this.n !== this.v;
              break;
          }
          if (taken) {
            pc = (pc + 4 + ((insn << 24) >> 23)) >>> 0;
            cycles += 2;
            continue;
          }
          break;
        }
        case 74:
          // SVC: SVC #imm8 (the hook sees PC = the next instruction, the return address)
          r[15] = pc + 2;
          this.svc(insn & 0xff);
          pc = r[15]! >>> 0;
          continue;
        case 75:
          // B: B label
          pc = (pc + 4 + ((insn << 21) >> 20)) >>> 0;
          cycles += 2;
          continue;
        case 76: {
          // THUMB32: BL, MSR, MRS, DMB, DSB, ISB, UDF.W
          const next = pc + 2;
          let hw2: number;
          if (next >= codeLo && next < codeHi && this.codeGen === topology.generation) {
            const o = next - codeBase;
            hw2 = code[o]! | (code[o + 1]! << 8);
          } else {
            hw2 = this.fetchSlow(next, false);
            code = this.codeData;
            codeBase = this.codeBase;
            codeLo = this.codeLo;
            codeHi = this.codeHi;
            if (hw2 < 0) {
              pc = this.fetchFault(pc, hw2);
              continue;
            }
          }
          if ((insn & 0xf800) === 0xf000 && (hw2 & 0xd000) === 0xd000) {
            // BL: imm32 = SignExtend(S:I1:I2:imm10:imm11:0), I1 = NOT(J1 ^ S), I2 = NOT(J2 ^ S)
            const s = (insn >>> 10) & 1;
            const i1 = ~((hw2 >>> 13) ^ s) & 1;
            const i2 = ~((hw2 >>> 11) ^ s) & 1;
            const offset =
              (((s << 24) | (i1 << 23) | (i2 << 22) | ((insn & 0x3ff) << 12) | ((hw2 & 0x7ff) << 1)) << 7) >>
              7;
            r[14] = (pc + 4) | 1;
            pc = (pc + 4 + offset) >>> 0;
            cycles += 3;
            continue;
          }
          cycles += 3;
          pc = this.system32(insn, hw2, pc);
          continue;
        }
        default:
          // UNDEF (0), UDF (73), UNPRED (77)
          pc = this.fault(pc, table[insn] === 77 ? 'unpredictable' : 'undefined');
          continue;
      }
      pc += 2;
    }

    r[15] = pc;
    this.cycles += cycles;
    this.sliceInstructions = count;
    this.executing = false;
    if (count !== 0) {
      this.skipBreakpointAt = -1;
      if (this.stepPending && this.pendingStop < STOP_STEP) this.pendingStop = STOP_STEP;
    }
    if (this.pendingStop !== STOP_NONE) this.finishDebugStop();
    return count;
  }

  /** 32-bit instructions other than BL (ARMv6-M A5.3); returns the next PC. */
  private system32(hw1: number, hw2: number, pc: number): number {
    // Branch and miscellaneous control: hw1 = 11110xxx xxxxxxxx, hw2 bit 15 = 1.
    if ((hw1 & 0xf800) !== 0xf000 || (hw2 & 0x8000) === 0) return this.fault(pc, 'undefined');
    const op1 = (hw1 >>> 4) & 0x7f;
    const op2 = (hw2 >>> 12) & 7;
    if (op2 === 0b010 && op1 === 0x7f) return this.fault(pc, 'undefined'); // UDF.W
    // op2 = 0x0 (bit 13 is a should-be-zero bit, checked below); BL (1x1) was handled before.
    if ((op2 & 0b101) !== 0) return this.fault(pc, 'undefined');
    if ((op1 & 0x7e) === 0x38) {
      // MSR: 11110011 100(0) Rn | 10(0)0 (1)(0)(0)(0) SYSm
      const n = hw1 & 15;
      const sysm = hw2 & 0xff;
      if ((hw1 & 0x10) !== 0 || (hw2 & 0x2f00) !== 0x0800 || n === 13 || n === 15 || !validSysm(sysm)) {
        return this.fault(pc, 'unpredictable');
      }
      this.writeSpecial(sysm, this.r[n]! >>> 0);
      return pc + 4;
    }
    if (op1 === 0x3b) {
      // DSB/DMB/ISB: 11110011 1011(1)(1)(1)(1) | 10(0)0 (1)(1)(1)(1) 0 1 xx option
      const op = (hw2 >>> 4) & 15;
      if (op !== 4 && op !== 5 && op !== 6) return this.fault(pc, 'undefined');
      if ((hw1 & 0xf) !== 0xf || (hw2 & 0x2f00) !== 0x0f00) return this.fault(pc, 'unpredictable');
      // No caches, buffers or prefetch to synchronise in this model.
      return pc + 4;
    }
    if ((op1 & 0x7e) === 0x3e) {
      // MRS: 11110011 111(0) (1)(1)(1)(1) | 10(0)0 Rd SYSm
      const d = (hw2 >>> 8) & 15;
      const sysm = hw2 & 0xff;
      if ((hw1 & 0x1f) !== 0xf || (hw2 & 0x2000) !== 0 || d === 13 || d === 15 || !validSysm(sysm)) {
        return this.fault(pc, 'unpredictable');
      }
      this.r[d] = this.readSpecial(sysm);
      return pc + 4;
    }
    return this.fault(pc, 'undefined');
  }

  /** MRS (ARMv6-M B5.2.2); Cortex-M0 is always privileged. */
  readSpecial(sysm: number): number {
    if (sysm < 8) {
      let value = 0;
      if ((sysm & 1) !== 0) value |= this.ipsr;
      // EPSR (sysm bit 1) reads as zero.
      if ((sysm & 4) === 0) value |= this.apsr;
      return value;
    }
    switch (sysm) {
      case SysReg.MSP:
        return this.msp;
      case SysReg.PSP:
        return this.psp;
      case SysReg.PRIMASK:
        return this.primask;
      case SysReg.CONTROL:
        return this.control & 2;
      default:
        return 0;
    }
  }

  /** MSR (ARMv6-M B5.2.3). */
  writeSpecial(sysm: number, value: number): void {
    if (sysm < 8) {
      if ((sysm & 4) === 0) this.apsr = value;
      return;
    }
    switch (sysm) {
      case SysReg.MSP:
        this.msp = value;
        break;
      case SysReg.PSP:
        this.psp = value;
        break;
      case SysReg.PRIMASK:
        this.setPrimask(value);
        break;
      case SysReg.CONTROL:
        // SPSEL is writable in thread mode only (handler mode always uses MSP).
        if (this.ipsr === 0) this.setSpsel((value >>> 1) & 1);
        break;
    }
  }
}

function validSysm(sysm: number): boolean {
  return sysm <= 3 || (sysm >= 5 && sysm <= 9) || sysm === 16 || sysm === 20;
}

function bitCount(x: number): number {
  let v = x;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}

function watchBitsOf(kind: WatchKind): number {
  return kind === 'read' ? WATCH_READ : kind === 'write' ? WATCH_WRITE : WATCH_READ | WATCH_WRITE;
}

function watchKindOf(bits: number): WatchKind {
  return bits === WATCH_READ ? 'read' : bits === WATCH_WRITE ? 'write' : 'access';
}

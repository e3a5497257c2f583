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
 * Exceptions (basic, to be extended with NVIC/SCB): `takeException` stacks the 8-word frame
 * (8-byte aligned, xPSR bit 9 records the padding), switches to handler mode on MSP and jumps
 * to the vector; `exceptionReturn` unstacks. Fault escalation: a fault or an SVC/BKPT that
 * cannot be taken at the current execution priority becomes a HardFault; a fault at priority
 * -1 or lower (in HardFault or NMI) locks the CPU up (halted, PC = 0xFFFFFFFE).
 * Priorities of configurable exceptions come from `exceptionPriority` (0 until an SCB exists).
 *
 * Cycles (Cortex-M0 TRM): 1 per instruction, loads/stores 2, LDM/STM/PUSH/POP 1+N, POP with PC
 * 3+N, taken branches (B, B<cond>, BX, BLX, MOV/ADD PC) 3, B<cond> not taken 1, BL 4, MULS 1
 * (fast multiplier), MRS/MSR/DMB/DSB/ISB 4, WFI/WFE 2. Approximations: no wait states, exception
 * entry/return cycles (16 each on hardware) and faulting instructions are not modelled exactly.
 */
import type { AddressSpace } from '../../core/address-space.js';
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

/** Returned by fetchSlow instead of a halfword (halfwords are 0..0xffff). */
const FETCH_BUS_ERROR = -1;
const FETCH_XN = -2;
const FETCH_INVSTATE = -3;

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

  private exitRequested = false;
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
    this.halted = false;
    this.lockup = false;
    this.lastFault = null;
    this.codeGen = -1;
    const sp = this.bus.read32(this.vectorBase);
    const pc = this.bus.read32(this.vectorBase + 4);
    if (sp < 0 || pc < 0) {
      // A bus error while fetching the reset vector locks up (ARMv6-M B1.5.15).
      this.enterLockup();
      return;
    }
    this.r[13] = sp & ~3;
    this.r[15] = pc & ~1;
    this.setTbit(pc & 1);
  }

  requestExit(): void {
    this.exitRequested = true;
  }

  // ---- hooks called by the instruction core (override or extend for NVIC/debug) ----

  /** A synchronous fault: HardFault on ARMv6-M, or lockup when it cannot be taken. */
  raiseFault(kind: FaultKind): void {
    this.lastFault = kind;
    if (this.executionPriority() < 0) {
      this.enterLockup();
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
      // SVC that cannot preempt escalates to HardFault, returning to the SVC itself.
      this.r[15] = this.r[15]! - 2;
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

  /** WFI: sleeps until an interrupt (woken by `wake()`). */
  wfi(): void {
    this.sleeping = true;
    this.exitRequested = true;
  }

  /** WFE: consumes a set event register, else sleeps until an event. */
  wfe(): void {
    if (this.eventRegister !== 0) {
      this.eventRegister = 0;
      return;
    }
    this.sleeping = true;
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

  /** Priority of an exception: fixed for Reset/NMI/HardFault, else from the SCB (0 for now). */
  exceptionPriority(num: number): number {
    if (num === Exc.Reset) return -3;
    if (num === Exc.NMI) return -2;
    if (num === Exc.HardFault) return -1;
    return 0;
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
      if (num === Exc.HardFault || num === Exc.NMI) this.enterLockup();
      else this.takeException(Exc.HardFault, returnAddress);
      return;
    }
    r[15] = vector & ~1;
    this.setTbit(vector & 1);
    this.sleeping = false;
  }

  /** Exception return (ARMv6-M B1.5.8), for BX/POP of an EXC_RETURN value in handler mode. */
  exceptionReturn(excReturn: number): void {
    const mode = excReturn & 0xf;
    if (excReturn >>> 4 !== 0x0fff_ffff || (mode !== 1 && mode !== 9 && mode !== 0xd)) {
      this.raiseFault('exc-return');
      return;
    }
    this.active[this.ipsr] = 0;
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
  }

  private enterLockup(): void {
    this.lockup = true;
    this.halted = true;
    this.exitRequested = true;
    this.r[15] = 0xfffffffe | 0;
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

  /** Fetch outside the cached window: checks T, XN and bus errors, refreshes the window. */
  private fetchSlow(pc: number): number {
    if (this.tbit === 0) return FETCH_INVSTATE;
    if (!isExecutable(pc)) return FETCH_XN;
    const p = this.bus.ramPointer(pc);
    if (p === null) {
      const v = this.bus.read16(pc);
      return v < 0 ? FETCH_BUS_ERROR : v;
    }
    // Clip the window to the executable part of the map it lies in.
    const lo = p.start;
    const hi = Math.min(p.end, pc < 0x4000_0000 ? 0x4000_0000 : 0xa000_0000);
    this.codeData = p.data;
    this.codeBase = p.base;
    this.codeLo = lo;
    this.codeHi = hi - 1;
    this.codeGen = memoryTopology.generation;
    if (pc + 2 > hi) {
      const v = this.bus.read16(pc);
      return v < 0 ? FETCH_BUS_ERROR : v;
    }
    const o = pc - p.base;
    return p.data[o]! | (p.data[o + 1]! << 8);
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
    const r = this.r;
    const bus = this.bus;
    const table = THUMB16_TABLE;
    const topology = memoryTopology;
    let pc = r[15]! >>> 0;
    let count = 0;
    let cycles = 0;
    let code = this.codeData;
    let codeBase = this.codeBase;
    let codeLo = this.codeLo;
    let codeHi = this.codeHi;

    loop: while (count < maxInstructions && !this.exitRequested) {
      this.sliceInstructions = count;
      let insn: number;
      if (pc >= codeLo && pc < codeHi && this.codeGen === topology.generation) {
        const o = pc - codeBase;
        insn = code[o]! | (code[o + 1]! << 8);
      } else {
        insn = this.fetchSlow(pc);
        code = this.codeData;
        codeBase = this.codeBase;
        codeLo = this.codeLo;
        codeHi = this.codeHi;
        if (insn < 0) {
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
          const value = bus.read32(addr);
          if (value < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          r[(insn >>> 8) & 7] = value;
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
          if (bus.write32(addr, r[insn & 7]! >>> 0) < 0) {
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
          if (bus.write16(addr, r[insn & 7]! & 0xffff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 37: {
          // STRB_REG: STRB Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          if (bus.write8(addr, r[insn & 7]! & 0xff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 38: {
          // LDRSB_REG: LDRSB Rt, [Rn, Rm]
          const addr = (r[(insn >>> 3) & 7]! + r[(insn >>> 6) & 7]!) >>> 0;
          const value = bus.read8(addr);
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
          const value = bus.read32(addr);
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
          const value = bus.read16(addr);
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
          const value = bus.read8(addr);
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
          const value = bus.read16(addr);
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
          if (bus.write32(addr, r[insn & 7]! >>> 0) < 0) {
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
          const value = bus.read32(addr);
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
          if (bus.write8(addr, r[insn & 7]! & 0xff) < 0) {
            pc = this.fault(pc, 'bus-error');
            continue;
          }
          cycles++;
          break;
        }
        case 46: {
          // LDRB_IMM: LDRB Rt, [Rn, #imm5]
          const addr = (r[(insn >>> 3) & 7]! + ((insn >>> 6) & 31)) >>> 0;
          const value = bus.read8(addr);
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
          if (bus.write16(addr, r[insn & 7]! & 0xffff) < 0) {
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
          const value = bus.read16(addr);
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
          if (bus.write32(addr, r[(insn >>> 8) & 7]! >>> 0) < 0) {
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
          const value = bus.read32(addr);
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
              if (bus.write32(addr, r[i]! >>> 0) < 0) {
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
          this.primask = (insn >>> 4) & 1;
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
              const value = bus.read32(addr);
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
            target = bus.read32(addr);
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
              if (bus.write32(addr, r[i]! >>> 0) < 0) {
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
              const value = bus.read32(addr);
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
            hw2 = this.fetchSlow(next);
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
        this.primask = value & 1;
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

/**
 * ARMv6-M System Control Block (ARMv6-M ARM DDI 0419 B3.2; Cortex-M0 TRM DDI 0432 4.1), part of
 * the System Control Space at 0xE000ED00.
 *
 * Registers (offsets from 0xE000ED00):
 *   0x00 CPUID  RO 0x410CC200 (ARM, Cortex-M0 r0p0)
 *   0x04 ICSR   NMIPENDSET (31), PENDSVSET (28), PENDSVCLR (27, WO), PENDSTSET (26),
 *               PENDSTCLR (25, WO), ISRPREEMPT (23, debug only: reads 0 here), ISRPENDING (22: an
 *               external interrupt is pending, enabled or not), VECTPENDING [17:12] (highest
 *               priority pending enabled exception, PRIMASK not considered), VECTACTIVE [5:0] (IPSR).
 *               Writing a SET and its CLR bit together is UNPREDICTABLE; here CLR wins.
 *   0x08 VTOR   not implemented on the Cortex-M0 (the vector table is fixed at 0): RAZ/WI, writes
 *               logged under `-d unimp`
 *   0x0C AIRCR  reads 0xFA050000 (VECTKEYSTAT, little-endian); a write takes effect only with
 *               VECTKEY = 0x05FA: SYSRESETREQ (2) calls the reset-request hook, VECTCLRACTIVE (1)
 *               clears the active exceptions while the CPU is halted by a debugger (outside
 *               debug state it is UNPREDICTABLE: logged under guest_errors and ignored)
 *   0x10 SCR    SLEEPONEXIT (1), SLEEPDEEP (2; stored only, no power model), SEVONPEND (4)
 *   0x14 CCR    RO 0x208: STKALIGN and UNALIGN_TRP are fixed at 1 on ARMv6-M
 *   0x1C SHPR2  SVCall priority [31:30]
 *   0x20 SHPR3  PendSV priority [23:22], SysTick priority [31:30]
 *   0x24 SHCSR  only with the debug extension: RAZ/WI, logged under `-d unimp`
 * The debug registers (DFSR 0xED30, DHCSR 0xEDF0, ...) are not modelled (RAZ/WI, `-d unimp`).
 */
import { type Log, LogCat } from '../../core/log.js';
import type { RegisterDef } from '../../core/registers.js';
import { Exc } from './cortex-m0.js';
import type { Nvic, StrobeFactory } from './nvic.js';

export const CPUID_CORTEX_M0 = 0x410c_c200;
export const CCR_ARMV6M = (1 << 9) | (1 << 3);
export const AIRCR_VECTKEY = 0x05fa;
export const AIRCR_READ = 0xfa05_0000;
export const AIRCR_SYSRESETREQ = 1 << 2;
export const AIRCR_VECTCLRACTIVE = 1 << 1;
export const SCR_SLEEPONEXIT = 1 << 1;
export const SCR_SLEEPDEEP = 1 << 2;
export const SCR_SEVONPEND = 1 << 4;
export const ICSR_NMIPENDSET = 1 << 31;
export const ICSR_PENDSVSET = 1 << 28;
export const ICSR_PENDSVCLR = 1 << 27;
export const ICSR_PENDSTSET = 1 << 26;
export const ICSR_PENDSTCLR = 1 << 25;
export const ICSR_ISRPENDING = 1 << 22;
/** Size of the SCB register window (0xE000ED00-0xE000ED2F). */
export const SCB_BLOCK_SIZE = 0x30;

export class Scb {
  private readonly nvic: Nvic;
  private readonly log: () => Log;
  private readonly name: () => string;
  /** AIRCR.SYSRESETREQ with a valid key (the SCS defers it to the end of the instruction). */
  onSystemResetRequest: (() => void) | null = null;

  constructor(nvic: Nvic, name: () => string, log: () => Log) {
    this.nvic = nvic;
    this.name = name;
    this.log = log;
  }

  registers(strobe: StrobeFactory): RegisterDef[] {
    return [
      { name: 'CPUID', offset: 0x00, reset: CPUID_CORTEX_M0, writeMask: 0 },
      strobe(
        'ICSR',
        0x04,
        () => this.readIcsr(),
        (bits) => this.writeIcsr(bits),
      ),
      {
        name: 'VTOR',
        offset: 0x08,
        readMask: 0,
        onWrite: () => this.unimplemented('VTOR (the Cortex-M0 vector table is fixed at 0)'),
      },
      strobe(
        'AIRCR',
        0x0c,
        () => AIRCR_READ,
        (bits) => this.writeAircr(bits),
      ),
      {
        name: 'SCR',
        offset: 0x10,
        writeMask: SCR_SLEEPONEXIT | SCR_SLEEPDEEP | SCR_SEVONPEND,
        onWrite: (value) => this.applyScr(value),
      },
      { name: 'CCR', offset: 0x14, reset: CCR_ARMV6M, writeMask: 0 },
      {
        name: 'SHPR2',
        offset: 0x1c,
        readMask: 0xc000_0000,
        onWrite: (value) => this.nvic.writePriorities(8, value & 0xff00_0000),
      },
      {
        name: 'SHPR3',
        offset: 0x20,
        readMask: 0xc0c0_0000,
        onWrite: (value) => this.nvic.writePriorities(12, value & 0xffff_0000),
      },
      {
        name: 'SHCSR',
        offset: 0x24,
        readMask: 0,
        onWrite: () => this.unimplemented('SHCSR (debug extension only)'),
      },
    ];
  }

  /** Mirrors SCR into the NVIC (also used after a snapshot restore). */
  applyScr(value: number): void {
    this.nvic.sleepOnExit = (value & SCR_SLEEPONEXIT) !== 0;
    this.nvic.sevOnPend = (value & SCR_SEVONPEND) !== 0;
  }

  private readIcsr(): number {
    const nvic = this.nvic;
    let v = nvic.cpu.ipsr & 0x3f;
    v |= (nvic.highestPending() & 0x3f) << 12;
    if (nvic.pendingIrqBits() !== 0) v |= ICSR_ISRPENDING;
    if (nvic.pending[Exc.NMI] !== 0) v |= ICSR_NMIPENDSET;
    if (nvic.pending[Exc.PendSV] !== 0) v |= ICSR_PENDSVSET;
    if (nvic.pending[Exc.SysTick] !== 0) v |= ICSR_PENDSTSET;
    return v >>> 0;
  }

  private writeIcsr(bits: number): void {
    const nvic = this.nvic;
    if ((bits & ICSR_NMIPENDSET) !== 0) nvic.setPending(Exc.NMI);
    if ((bits & ICSR_PENDSVSET) !== 0 && (bits & ICSR_PENDSVCLR) === 0) nvic.setPending(Exc.PendSV);
    if ((bits & ICSR_PENDSVCLR) !== 0) nvic.clearPending(Exc.PendSV);
    if ((bits & ICSR_PENDSTSET) !== 0 && (bits & ICSR_PENDSTCLR) === 0) nvic.setPending(Exc.SysTick);
    if ((bits & ICSR_PENDSTCLR) !== 0) nvic.clearPending(Exc.SysTick);
  }

  private writeAircr(bits: number): void {
    const log = this.log();
    if (bits >>> 16 !== AIRCR_VECTKEY) {
      if (log.on(LogCat.GuestErrors)) {
        log.write(`${this.name()}: AIRCR write 0x${hex8(bits)} without VECTKEY 0x05FA ignored`);
      }
      return;
    }
    if ((bits & AIRCR_VECTCLRACTIVE) !== 0) {
      const cpu = this.nvic.cpu;
      if (cpu.halted && !cpu.lockup) {
        cpu.active.fill(0);
      } else if (log.on(LogCat.GuestErrors)) {
        log.write(`${this.name()}: AIRCR.VECTCLRACTIVE outside debug state is UNPREDICTABLE; ignored`);
      }
    }
    if ((bits & AIRCR_SYSRESETREQ) !== 0) this.onSystemResetRequest?.();
  }

  private unimplemented(what: string): void {
    const log = this.log();
    if (log.on(LogCat.Unimp)) log.write(`${this.name()}: write to ${what} ignored (RAZ/WI)`);
  }
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/**
 * Where QEMU's result disagrees with the ARMv6-M Architecture Reference Manual (DDI 0419), the
 * manual wins: `applyManual` marks such vectors with a "manual: ..." note and the state the
 * manual requires (the replay test asserts that one). Rules found with QEMU 7.2:
 *
 * - MSR to APSR/IAPSR/EAPSR/XPSR sets xPSR bit 27 (the ARMv7-M Q flag). ARMv6-M's APSR has only
 *   N, Z, C, V (B1.4.2: bits 27:0 reserved), and MSR writes APSR<31:28> only (B5.2.3).
 * - CBZ, CBNZ, IT and SETEND BE execute on QEMU's Cortex-M0; they are not ARMv6-M instructions
 *   (A5.2.5: those encodings are UNDEFINED), so they take a HardFault.
 * - Instruction fetches from the Peripheral region (0x40000000-0x5FFFFFFF) succeed on QEMU;
 *   the default memory map makes it Execute Never (B3.1), and a fetch there is a HardFault.
 *
 * The HardFault state is built by `takeHardFault`, written from the manual's exception entry
 * pseudocode (B1.5.6 PushStack/ExceptionTaken); it is checked against QEMU on every fault vector
 * where QEMU is right (UDF, unaligned access, ...), see golden.test.ts.
 */
import type { GoldenMemory, GoldenState, GoldenVector } from './format.js';
import { HARDFAULT_HANDLER } from './layout.js';

/** The architectural state at the point a fault is taken (before exception entry). */
export interface FaultPoint {
  state: GoldenState;
  memory: GoldenMemory[];
  /** ReturnAddress(): the faulting instruction (or the fetch address). */
  returnAddress: number;
}

/** Exception entry to HardFault (thread mode, as in all vectors), per ARMv6-M B1.5.6. */
export function takeHardFault(p: FaultPoint): { after: GoldenState; memAfter: GoldenMemory[] } {
  const s = p.state;
  const control = s.control ?? 0;
  const usePsp = (control & 2) !== 0;
  const sp = s.r[13]! >>> 0;
  const align = (sp >>> 2) & 1;
  const frame = ((sp - 0x20) & ~4) >>> 0;
  const xpsr = s.xpsr >>> 0;
  const stacked = [
    s.r[0]!,
    s.r[1]!,
    s.r[2]!,
    s.r[3]!,
    s.r[12]!,
    s.r[14]!,
    p.returnAddress & ~1,
    ((xpsr & ~(1 << 9)) | (align << 9)) >>> 0,
  ];
  const memAfter = p.memory.map((m) => {
    const bytes = Buffer.from(m.hex, 'hex');
    stacked.forEach((value, i) => {
      for (let b = 0; b < 4; b++) {
        const o = frame + i * 4 + b - m.addr;
        if (o >= 0 && o < bytes.length) bytes[o] = (value >>> (8 * b)) & 0xff;
      }
    });
    return { addr: m.addr, hex: bytes.toString('hex') };
  });
  // Exception entry selects MSP (CONTROL.SPSEL = 0); the frame went to the stack in use before.
  const msp = usePsp ? (s.msp ?? 0) : frame;
  const r = s.r.slice();
  r[13] = msp;
  r[14] = usePsp ? 0xffff_fffd : 0xffff_fff9;
  r[15] = HARDFAULT_HANDLER;
  const after: GoldenState = { r, xpsr: ((xpsr & 0xf000_0000) | 0x0100_0000 | 3) >>> 0 };
  if (s.primask !== undefined) {
    after.primask = s.primask;
    after.control = control & ~2;
    after.msp = msp;
    after.psp = usePsp ? frame : (s.psp ?? 0);
  }
  return { after, memAfter };
}

function sameState(a: GoldenState, b: GoldenState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function setManual(
  v: GoldenVector,
  expected: { after: GoldenState; memAfter: GoldenMemory[] },
  why: string,
): void {
  if (sameState(v.after, expected.after) && JSON.stringify(v.memAfter) === JSON.stringify(expected.memAfter))
    return;
  v.note = v.note ? `manual: ${why} (${v.note})` : `manual: ${why}`;
  v.manual = { after: expected.after, memAfter: expected.memAfter };
}

const APSR_WRITES = new Set(['MSR APSR, Rn', 'MSR IAPSR, Rn', 'MSR EAPSR, Rn', 'MSR XPSR, Rn']);

/** Encodings QEMU's Cortex-M0 executes though ARMv6-M lacks them: CBZ/CBNZ, IT, SETEND. */
function isNonArmv6mEncoding(hw: number): boolean {
  return (
    (hw & 0xf500) === 0xb100 || ((hw & 0xff00) === 0xbf00 && (hw & 0xf) !== 0) || (hw & 0xfff7) === 0xb650
  );
}

export function applyManual(v: GoldenVector): void {
  if (APSR_WRITES.has(v.form) && (v.after.xpsr & 0x0800_0000) !== 0) {
    const after = { ...v.after, xpsr: (v.after.xpsr & ~0x0800_0000) >>> 0 };
    setManual(
      v,
      { after, memAfter: v.memAfter },
      'ARMv6-M APSR has no Q flag (B1.4.2: bits 27:0 reserved; MSR writes APSR<31:28>); QEMU 7.2 sets xPSR bit 27',
    );
    return;
  }
  if (v.form === 'Undefined 16-bit (not in ARMv6-M)' && isNonArmv6mEncoding(v.code[0]!)) {
    setManual(
      v,
      takeHardFault({ state: v.before, memory: v.memBefore, returnAddress: v.before.r[15]! }),
      'CBZ/CBNZ/IT/SETEND are UNDEFINED in ARMv6-M (A5.2.5) and take a HardFault; QEMU 7.2 executes them on Cortex-M0',
    );
    return;
  }
  if (v.form === 'BX Rm to the peripheral region (XN)') {
    // The BX completes; the fetch at its target faults (ReturnAddress = the target).
    const m = (v.code[0]! >>> 3) & 15;
    const target = v.before.r[m]! >>> 0;
    const r = v.before.r.slice();
    r[15] = (target & ~1) >>> 0;
    setManual(
      v,
      takeHardFault({ state: { ...v.before, r }, memory: v.memBefore, returnAddress: target & ~1 }),
      'the Peripheral region 0x40000000-0x5FFFFFFF is Execute Never in the default memory map (B3.1): the fetch takes a HardFault; QEMU 7.2 fetches from it',
    );
  }
}

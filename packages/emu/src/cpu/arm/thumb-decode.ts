/**
 * ARMv6-M 16-bit Thumb decode (ARMv6-M ARM, DDI 0419, A5.2): a table of 65536 handler indices,
 * one per halfword, built once at module load. The interpreter (cortex-m0.ts) switches on the
 * index; operand fields are extracted by the handler itself, so decode and execute stay separable
 * (a block cache can later reuse `decodeThumb16` to translate a run of instructions).
 *
 * The CPU's `switch` uses the same numbers as literals (module-level constants are not always
 * folded into jump tables by V8), each case labelled with the name below.
 *
 * UNPREDICTABLE encodings get their own index (`UNPRED`) and raise a HardFault, as UNDEFINED ones
 * do. The 16-bit cases (ARMv6-M ARM pseudocode "then UNPREDICTABLE"):
 * - ADD Rdn, Rm (high registers) with both PC (n == 15 && m == 15);
 * - CMP Rn, Rm (high registers) with both low registers, or either one PC;
 * - BX/BLX with bits[2:0] != 0 (should-be-zero), BLX PC;
 * - PUSH/POP/LDM/STM with an empty register list;
 * - STM with the base in the list but not the lowest register (stored value unknown);
 * - CPS with its should-be bits (bits[3:0] = 0010) different.
 */

/** Handler indices of the 16-bit decode table. */
export const Op = {
  UNDEF: 0,
  LSL_IMM: 1,
  MOVS_REG: 2,
  LSR_IMM: 3,
  ASR_IMM: 4,
  ADDS_REG: 5,
  SUBS_REG: 6,
  ADDS_IMM3: 7,
  SUBS_IMM3: 8,
  MOVS_IMM: 9,
  CMP_IMM: 10,
  ADDS_IMM8: 11,
  SUBS_IMM8: 12,
  AND: 13,
  EOR: 14,
  LSL_REG: 15,
  LSR_REG: 16,
  ASR_REG: 17,
  ADC: 18,
  SBC: 19,
  ROR: 20,
  TST: 21,
  RSB: 22,
  CMP_REG: 23,
  CMN: 24,
  ORR: 25,
  MUL: 26,
  BIC: 27,
  MVN: 28,
  ADD_HI: 29,
  CMP_HI: 30,
  MOV_HI: 31,
  BX: 32,
  BLX: 33,
  LDR_LIT: 34,
  STR_REG: 35,
  STRH_REG: 36,
  STRB_REG: 37,
  LDRSB_REG: 38,
  LDR_REG: 39,
  LDRH_REG: 40,
  LDRB_REG: 41,
  LDRSH_REG: 42,
  STR_IMM: 43,
  LDR_IMM: 44,
  STRB_IMM: 45,
  LDRB_IMM: 46,
  STRH_IMM: 47,
  LDRH_IMM: 48,
  STR_SP: 49,
  LDR_SP: 50,
  ADR: 51,
  ADD_RD_SP: 52,
  ADD_SP_IMM: 53,
  SUB_SP_IMM: 54,
  SXTH: 55,
  SXTB: 56,
  UXTH: 57,
  UXTB: 58,
  PUSH: 59,
  CPS: 60,
  REV: 61,
  REV16: 62,
  REVSH: 63,
  POP: 64,
  BKPT: 65,
  NOP: 66,
  WFE: 67,
  WFI: 68,
  SEV: 69,
  STM: 70,
  LDM: 71,
  BCOND: 72,
  UDF: 73,
  SVC: 74,
  B: 75,
  THUMB32: 76,
  UNPRED: 77,
} as const;

export const OP_COUNT = 78;

/** Names by index, for disassembly-style debugging and tests. */
export const OP_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, index] of Object.entries(Op)) names[index] = name;
  return names;
})();

/** Number of set bits in the low 16 bits. */
export function bitCount16(x: number): number {
  let v = x & 0xffff;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}

/** The handler index for one 16-bit halfword (also used to build the table). */
export function decodeThumb16(insn: number): number {
  const top5 = insn >>> 11;
  switch (top5) {
    case 0b00000:
      return ((insn >>> 6) & 31) === 0 ? Op.MOVS_REG : Op.LSL_IMM;
    case 0b00001:
      return Op.LSR_IMM;
    case 0b00010:
      return Op.ASR_IMM;
    case 0b00011: {
      const opc = (insn >>> 9) & 3;
      return opc === 0 ? Op.ADDS_REG : opc === 1 ? Op.SUBS_REG : opc === 2 ? Op.ADDS_IMM3 : Op.SUBS_IMM3;
    }
    case 0b00100:
      return Op.MOVS_IMM;
    case 0b00101:
      return Op.CMP_IMM;
    case 0b00110:
      return Op.ADDS_IMM8;
    case 0b00111:
      return Op.SUBS_IMM8;
    case 0b01000:
      return decodeDataOrSpecial(insn);
    case 0b01001:
      return Op.LDR_LIT;
    case 0b01010:
    case 0b01011:
      return Op.STR_REG + ((insn >>> 9) & 7);
    case 0b01100:
      return Op.STR_IMM;
    case 0b01101:
      return Op.LDR_IMM;
    case 0b01110:
      return Op.STRB_IMM;
    case 0b01111:
      return Op.LDRB_IMM;
    case 0b10000:
      return Op.STRH_IMM;
    case 0b10001:
      return Op.LDRH_IMM;
    case 0b10010:
      return Op.STR_SP;
    case 0b10011:
      return Op.LDR_SP;
    case 0b10100:
      return Op.ADR;
    case 0b10101:
      return Op.ADD_RD_SP;
    case 0b10110:
    case 0b10111:
      return decodeMisc(insn);
    case 0b11000:
      return decodeStm(insn);
    case 0b11001:
      return (insn & 0xff) === 0 ? Op.UNPRED : Op.LDM;
    case 0b11010:
    case 0b11011: {
      const cond = (insn >>> 8) & 15;
      return cond === 14 ? Op.UDF : cond === 15 ? Op.SVC : Op.BCOND;
    }
    case 0b11100:
      return Op.B;
    default:
      // 0b11101, 0b11110, 0b11111: first halfword of a 32-bit instruction.
      return Op.THUMB32;
  }
}

function decodeDataOrSpecial(insn: number): number {
  if ((insn & 0x0400) === 0) return Op.AND + ((insn >>> 6) & 15);
  const m = (insn >>> 3) & 15;
  const dn = (insn & 7) | ((insn >>> 4) & 8);
  switch ((insn >>> 8) & 3) {
    case 0:
      return dn === 15 && m === 15 ? Op.UNPRED : Op.ADD_HI;
    case 1:
      return (dn < 8 && m < 8) || dn === 15 || m === 15 ? Op.UNPRED : Op.CMP_HI;
    case 2:
      return Op.MOV_HI;
    default:
      if ((insn & 7) !== 0) return Op.UNPRED;
      if ((insn & 0x80) === 0) return Op.BX;
      return m === 15 ? Op.UNPRED : Op.BLX;
  }
}

function decodeMisc(insn: number): number {
  switch ((insn >>> 8) & 15) {
    case 0b0000:
      return (insn & 0x80) === 0 ? Op.ADD_SP_IMM : Op.SUB_SP_IMM;
    case 0b0010:
      return Op.SXTH + ((insn >>> 6) & 3);
    case 0b0100:
    case 0b0101:
      return (insn & 0x1ff) === 0 ? Op.UNPRED : Op.PUSH;
    case 0b0110:
      if (((insn >>> 5) & 7) !== 0b011) return Op.UNDEF;
      return (insn & 0xf) === 0b0010 ? Op.CPS : Op.UNPRED;
    case 0b1010: {
      const opc = (insn >>> 6) & 3;
      return opc === 0 ? Op.REV : opc === 1 ? Op.REV16 : opc === 3 ? Op.REVSH : Op.UNDEF;
    }
    case 0b1100:
    case 0b1101:
      return (insn & 0x1ff) === 0 ? Op.UNPRED : Op.POP;
    case 0b1110:
      return Op.BKPT;
    case 0b1111: {
      // Hints; a non-zero low nibble is IT (ARMv7-M only): UNDEFINED here.
      if ((insn & 0xf) !== 0) return Op.UNDEF;
      const hint = (insn >>> 4) & 15;
      // Unallocated hints (5..15) execute as NOP (ARMv6-M A6.7.47 note).
      return hint === 2 ? Op.WFE : hint === 3 ? Op.WFI : hint === 4 ? Op.SEV : Op.NOP;
    }
    default:
      // CBZ/CBNZ (0001, 0011, 1001, 1011), 0111, 1000: not in ARMv6-M.
      return Op.UNDEF;
  }
}

function decodeStm(insn: number): number {
  const list = insn & 0xff;
  if (list === 0) return Op.UNPRED;
  const n = (insn >>> 8) & 7;
  // Base in the list: defined only when it is the lowest register (its original value is stored).
  if ((list & (1 << n)) !== 0 && (list & ((1 << n) - 1)) !== 0) return Op.UNPRED;
  return Op.STM;
}

/** The 64K-entry decode table: handler index per 16-bit halfword. */
export const THUMB16_TABLE: Uint8Array = (() => {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = decodeThumb16(i);
  return table;
})();

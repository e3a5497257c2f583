/**
 * The catalogue of ARMv6-M instruction forms for golden vectors: for each form, a function that
 * draws a random initial state (registers, flags, memory windows) and the code to run. Encodings
 * are built here from the ARMv6-M ARM's encoding diagrams (DDI 0419, A5/A6), independently of our
 * assembler and decoder, so the vectors check those too.
 *
 * Random values lean on edge cases (0, 1, 0x7fffffff, 0x80000000, 0xffffffff, shift amounts
 * 0/1/31/32/33/255/256). Memory accesses stay inside the micro:bit's RAM with the alignment the
 * access needs, except in the `fault` class.
 */
import { CODE_MAX, CODE_MIN, FLASH_SIZE, HARDFAULT_HANDLER, RAM_BASE, RAM_END } from './layout.js';
import type { Rng } from './prng.js';

export type FixtureClass = 'alu' | 'shift' | 'loadstore' | 'ldmstm' | 'branch' | 'misc' | 'system' | 'fault';

export const FIXTURE_CLASSES: readonly FixtureClass[] = [
  'alu',
  'shift',
  'loadstore',
  'ldmstm',
  'branch',
  'misc',
  'system',
  'fault',
];

export interface SpecialRegs {
  primask: number;
  control: number;
  msp: number;
  psp: number;
}

export interface VectorSpec {
  code: number[];
  /** r0-r15; r13 is the SP in use, r15 the code address. */
  r: number[];
  xpsr: number;
  /** Non-default PRIMASK/CONTROL/MSP/PSP (default: 0, 0, r13, 0). */
  special?: SpecialRegs;
  /** Memory read/written by the vector: filled with random bytes, then `pokes` applied. */
  windows: Array<{ addr: number; len: number }>;
  pokes: Array<{ addr: number; bytes: Uint8Array }>;
  steps: number;
  note?: string;
}

export interface Form {
  name: string;
  slug: string;
  file: FixtureClass;
  /** Relative share of the vector count. */
  weight: number;
  /** Reads PRIMASK/CONTROL/MSP/PSP after the vector (system instructions and exceptions). */
  special: boolean;
  make(rng: Rng): VectorSpec;
}

const T_BIT = 0x0100_0000;

const EDGE_VALUES = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0x7fff_fffe, 0x7fff_ffff, 0x8000_0000,
  0x8000_0001, 0xffff_fffe, 0xffff_ffff, 0xffff_ff80, 0xffff_8000,
];
const SHIFT_EDGES = [0, 1, 2, 31, 32, 33, 255, 256, 257, 0xffff_ff1f, 0x8000_0020, 7, 8, 16, 24];

/** A register value: edge cases a third of the time, small numbers sometimes, else uniform. */
export function value(rng: Rng): number {
  const roll = rng.int(0, 99);
  if (roll < 30) return rng.pick(EDGE_VALUES);
  if (roll < 40) return rng.int(0, 255);
  if (roll < 45) return -rng.int(1, 255) >>> 0;
  return rng.u32();
}

function shiftAmountValue(rng: Rng): number {
  const roll = rng.int(0, 99);
  if (roll < 45) return rng.pick(SHIFT_EDGES);
  if (roll < 75) return rng.int(0, 40);
  return rng.u32();
}

function low(rng: Rng): number {
  return rng.int(0, 7);
}

/** r0-r12 or lr (not SP, not PC). */
function general(rng: Rng): number {
  const n = rng.int(0, 13);
  return n === 13 ? 14 : n;
}

function distinctLow(rng: Rng, count: number): number[] {
  const out: number[] = [];
  while (out.length < count) {
    const n = low(rng);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

function codeAddress(rng: Rng): number {
  return rng.int(CODE_MIN / 2, CODE_MAX / 2) * 2;
}

/** Word-aligned SP values leave room for a 40-byte exception frame and 1 KiB above. */
function stackAddress(rng: Rng): number {
  return rng.int((RAM_BASE + 0x1000) / 4, (RAM_END - 0x400) / 4) * 4;
}

/** A data address aligned to `size`, away from the RAM edges. */
function dataAddress(rng: Rng, size: number): number {
  return rng.int((RAM_BASE + 0x40) / size, (RAM_END - 0x40) / size) * size;
}

/** A Thumb (odd) branch target in flash, away from the vector table. */
function flashTarget(rng: Rng): number {
  return (rng.int(0x400 / 2, (FLASH_SIZE - 0x400) / 2) * 2) | 1;
}

function base(rng: Rng, code: number[]): VectorSpec {
  const r: number[] = [];
  for (let i = 0; i < 13; i++) r.push(value(rng));
  r.push(stackAddress(rng), value(rng), codeAddress(rng));
  return { code, r, xpsr: ((rng.u32() & 0xf000_0000) | T_BIT) >>> 0, windows: [], pokes: [], steps: 1 };
}

/** The 4-aligned window covering [addr, addr + len) plus a guard word each side. */
function around(addr: number, len: number): { addr: number; len: number } {
  const lo = Math.max(RAM_BASE, ((addr & ~3) >>> 0) - 4);
  const hi = Math.min(RAM_END, ((addr + len + 3) & ~3) + 4);
  return { addr: lo, len: hi - lo };
}

function form(
  name: string,
  file: FixtureClass,
  make: (rng: Rng) => VectorSpec,
  options: { weight?: number; special?: boolean } = {},
): Form {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return {
    name,
    slug,
    file,
    weight: options.weight ?? 1,
    special: options.special ?? (file === 'system' || file === 'fault'),
    make,
  };
}

// ---- encodings (ARMv6-M ARM A5.2, A5.3) ----

const DP = {
  AND: 0,
  EOR: 1,
  LSL: 2,
  LSR: 3,
  ASR: 4,
  ADC: 5,
  SBC: 6,
  ROR: 7,
  TST: 8,
  RSB: 9,
  CMP: 10,
  CMN: 11,
  ORR: 12,
  MUL: 13,
  BIC: 14,
  MVN: 15,
};

function dataProcessing(op: number, rm: number, rdn: number): number {
  return 0x4000 | (op << 6) | (rm << 3) | rdn;
}

function special(op: number, d: number, m: number): number {
  return 0x4400 | (op << 8) | ((d & 8) << 4) | (m << 3) | (d & 7);
}

/** BL: S:I1:I2:imm10:imm11:'0', J1 = NOT(I1 XOR S), J2 = NOT(I2 XOR S). */
export function encodeBl(offset: number): number[] {
  const v = offset >>> 1;
  const s = (offset >>> 31) & 1;
  const i1 = (v >>> 22) & 1;
  const i2 = (v >>> 21) & 1;
  const j1 = (~(i1 ^ s) & 1) >>> 0;
  const j2 = (~(i2 ^ s) & 1) >>> 0;
  return [0xf000 | (s << 10) | ((v >>> 11) & 0x3ff), 0xd000 | (j1 << 13) | (j2 << 11) | (v & 0x7ff)];
}

export const CONDITION_NAMES = [
  'EQ',
  'NE',
  'CS',
  'CC',
  'MI',
  'PL',
  'VS',
  'VC',
  'HI',
  'LS',
  'GE',
  'LT',
  'GT',
  'LE',
];

export const SYSM_NAMES: Record<number, string> = {
  0: 'APSR',
  1: 'IAPSR',
  2: 'EAPSR',
  3: 'XPSR',
  5: 'IPSR',
  6: 'EPSR',
  7: 'IEPSR',
  8: 'MSP',
  9: 'PSP',
  16: 'PRIMASK',
  20: 'CONTROL',
};

// ---- forms ----

function shifts(): Form[] {
  const imm = (name: string, opc: number, min: number): Form =>
    form(`${name} Rd, Rm, #imm5`, 'shift', (rng) => {
      const amount = rng.chance(0.3) ? rng.pick([min, 1, 31].filter((a) => a >= min)) : rng.int(min, 31);
      return base(rng, [(opc << 11) | (amount << 6) | (low(rng) << 3) | low(rng)]);
    });
  const reg = (name: string, op: number): Form =>
    form(`${name} Rdn, Rm`, 'shift', (rng) => {
      const rdn = low(rng);
      const rm = low(rng);
      const s = base(rng, [dataProcessing(op, rm, rdn)]);
      s.r[rm] = shiftAmountValue(rng);
      if (rm !== rdn) s.r[rdn] = value(rng);
      return s;
    });
  return [
    imm('LSLS', 0, 1),
    imm('LSRS', 1, 0),
    imm('ASRS', 2, 0),
    reg('LSLS', DP.LSL),
    reg('LSRS', DP.LSR),
    reg('ASRS', DP.ASR),
    reg('RORS', DP.ROR),
  ];
}

function alu(): Form[] {
  const threeReg = (name: string, opc: number): Form =>
    form(`${name} Rd, Rn, Rm`, 'alu', (rng) =>
      base(rng, [0x1800 | (opc << 9) | (low(rng) << 6) | (low(rng) << 3) | low(rng)]),
    );
  const imm3 = (name: string, opc: number): Form =>
    form(`${name} Rd, Rn, #imm3`, 'alu', (rng) =>
      base(rng, [0x1c00 | (opc << 9) | (rng.int(0, 7) << 6) | (low(rng) << 3) | low(rng)]),
    );
  const imm8 = (name: string, opc: number, operands: string): Form =>
    form(`${name} ${operands}`, 'alu', (rng) => {
      const i = rng.chance(0.3) ? rng.pick([0, 1, 0x7f, 0x80, 0xff]) : rng.int(0, 255);
      return base(rng, [0x2000 | (opc << 11) | (low(rng) << 8) | i]);
    });
  const dp = (name: string, op: number, operands = 'Rdn, Rm'): Form =>
    form(`${name} ${operands}`, 'alu', (rng) => base(rng, [dataProcessing(op, low(rng), low(rng))]));
  return [
    threeReg('ADDS', 0),
    threeReg('SUBS', 1),
    imm3('ADDS', 0),
    imm3('SUBS', 1),
    imm8('MOVS', 0, 'Rd, #imm8'),
    imm8('CMP', 1, 'Rn, #imm8'),
    imm8('ADDS', 2, 'Rdn, #imm8'),
    imm8('SUBS', 3, 'Rdn, #imm8'),
    dp('ANDS', DP.AND),
    dp('EORS', DP.EOR),
    dp('ADCS', DP.ADC),
    dp('SBCS', DP.SBC),
    dp('TST', DP.TST, 'Rn, Rm'),
    dp('RSBS', DP.RSB, 'Rd, Rn, #0'),
    dp('CMP', DP.CMP, 'Rn, Rm'),
    dp('CMN', DP.CMN, 'Rn, Rm'),
    dp('ORRS', DP.ORR),
    dp('MULS', DP.MUL, 'Rdm, Rn, Rdm'),
    dp('BICS', DP.BIC),
    dp('MVNS', DP.MVN, 'Rd, Rm'),
    form('MOVS Rd, Rm', 'alu', (rng) => base(rng, [(low(rng) << 3) | low(rng)])),
    form('ADD Rdn, Rm', 'alu', (rng) => base(rng, [special(0, general(rng), general(rng))])),
    form('ADD Rdn, PC', 'alu', (rng) => base(rng, [special(0, general(rng), 15)])),
    form('ADD Rdm, SP, Rdm', 'alu', (rng) => base(rng, [special(0, general(rng), 13)])),
    form('ADD SP, Rm', 'alu', (rng) => {
      const m = general(rng);
      const s = base(rng, [special(0, 13, m)]);
      // SP stays word-aligned (writing SP bits[1:0] != 0 is UNPREDICTABLE): a small multiple of 4.
      s.r[m] = (rng.int(-64, 64) * 4) >>> 0;
      return s;
    }),
    form('CMP Rn, Rm (high)', 'alu', (rng) => {
      let n: number;
      let m: number;
      do {
        n = rng.int(0, 14);
        m = rng.int(0, 14);
      } while (n < 8 && m < 8);
      const s = base(rng, [special(1, n, m)]);
      if (rng.chance(0.2) && n !== 13 && m !== 13) s.r[n] = s.r[m]!;
      return s;
    }),
    form('MOV Rd, Rm', 'alu', (rng) => base(rng, [special(2, general(rng), rng.int(0, 13))])),
    form('MOV Rd, PC', 'alu', (rng) => base(rng, [special(2, general(rng), 15)])),
    form('MOV SP, Rm', 'alu', (rng) => {
      const m = general(rng);
      const s = base(rng, [special(2, 13, m)]);
      s.r[m] = stackAddress(rng);
      return s;
    }),
    form('ADR Rd, label', 'alu', (rng) => base(rng, [0xa000 | (low(rng) << 8) | rng.int(0, 255)])),
    form('ADD Rd, SP, #imm8', 'alu', (rng) => base(rng, [0xa800 | (low(rng) << 8) | rng.int(0, 255)])),
    form('ADD SP, SP, #imm7', 'alu', (rng) => base(rng, [0xb000 | rng.int(0, 127)])),
    form('SUB SP, SP, #imm7', 'alu', (rng) => base(rng, [0xb080 | rng.int(0, 127)])),
  ];
}

function misc(): Form[] {
  const unary = (name: string, hw: number): Form =>
    form(`${name} Rd, Rm`, 'misc', (rng) => base(rng, [hw | (low(rng) << 3) | low(rng)]));
  const hint = (name: string, hw: number): Form => form(name, 'misc', (rng) => base(rng, [hw]));
  return [
    unary('SXTH', 0xb200),
    unary('SXTB', 0xb240),
    unary('UXTH', 0xb280),
    unary('UXTB', 0xb2c0),
    unary('REV', 0xba00),
    unary('REV16', 0xba40),
    unary('REVSH', 0xbac0),
    hint('NOP', 0xbf00),
    form('YIELD', 'misc', (rng) => {
      const s = base(rng, [0xbf10, 0xe7fe]);
      s.note =
        'QEMU single-steps one more instruction after YIELD; the b . after it makes that step change nothing';
      return s;
    }),
    hint('SEV', 0xbf40),
    form('Unallocated hint (NOP)', 'misc', (rng) => base(rng, [0xbf00 | (rng.int(5, 15) << 4)]), {
      weight: 0.3,
    }),
  ];
}

type MemOp = { name: string; size: number; load: boolean };

function loadStore(): Form[] {
  const forms: Form[] = [];
  const regOps: MemOp[] = [
    { name: 'STR', size: 4, load: false },
    { name: 'STRH', size: 2, load: false },
    { name: 'STRB', size: 1, load: false },
    { name: 'LDRSB', size: 1, load: true },
    { name: 'LDR', size: 4, load: true },
    { name: 'LDRH', size: 2, load: true },
    { name: 'LDRB', size: 1, load: true },
    { name: 'LDRSH', size: 2, load: true },
  ];
  regOps.forEach((op, opB) => {
    forms.push(
      form(`${op.name} Rt, [Rn, Rm]`, 'loadstore', (rng) => {
        const t = low(rng);
        const n = low(rng);
        const m = rng.chance(0.1) ? n : low(rng);
        const s = base(rng, [0x5000 | (opB << 9) | (m << 6) | (n << 3) | t]);
        const addr = dataAddress(rng, Math.max(op.size, 2));
        if (m === n) {
          // address = 2 * Rn (mod 2^32): two solutions.
          s.r[n] = ((addr >>> 1) + (rng.chance(0.5) ? 0x8000_0000 : 0)) >>> 0;
        } else {
          s.r[m] = rng.chance(0.5) ? rng.int(0, 64) : value(rng);
          s.r[n] = (addr - s.r[m]!) >>> 0;
        }
        s.windows.push(around(addr, op.size));
        return s;
      }),
    );
  });
  const immOps: Array<MemOp & { opc: number }> = [
    { name: 'STR', size: 4, load: false, opc: 0x6000 },
    { name: 'LDR', size: 4, load: true, opc: 0x6800 },
    { name: 'STRB', size: 1, load: false, opc: 0x7000 },
    { name: 'LDRB', size: 1, load: true, opc: 0x7800 },
    { name: 'STRH', size: 2, load: false, opc: 0x8000 },
    { name: 'LDRH', size: 2, load: true, opc: 0x8800 },
  ];
  for (const op of immOps) {
    forms.push(
      form(`${op.name} Rt, [Rn, #imm5]`, 'loadstore', (rng) => {
        const t = low(rng);
        const n = low(rng);
        const imm = rng.chance(0.2) ? rng.pick([0, 31]) : rng.int(0, 31);
        const s = base(rng, [op.opc | (imm << 6) | (n << 3) | t]);
        const addr = dataAddress(rng, op.size);
        s.r[n] = (addr - imm * op.size) >>> 0;
        s.windows.push(around(addr, op.size));
        return s;
      }),
    );
  }
  for (const [name, opc] of [
    ['STR', 0x9000],
    ['LDR', 0x9800],
  ] as const) {
    forms.push(
      form(`${name} Rt, [SP, #imm8]`, 'loadstore', (rng) => {
        const imm = rng.int(0, 255);
        const s = base(rng, [opc | (low(rng) << 8) | imm]);
        s.windows.push(around(s.r[13]! + imm * 4, 4));
        return s;
      }),
    );
  }
  forms.push(
    form('LDR Rt, [PC, #imm8]', 'loadstore', (rng) => {
      const imm = rng.int(0, 255);
      const s = base(rng, [0x4800 | (low(rng) << 8) | imm]);
      const literal = ((s.r[15]! + 4) & ~3) + imm * 4;
      // The literal lives in flash: a window of exactly the word (the code is just before it).
      s.windows.push({ addr: literal, len: 4 });
      return s;
    }),
  );
  return forms;
}

function registerList(rng: Rng, allowed: number): number {
  let list = 0;
  const mode = rng.int(0, 9);
  if (mode === 0)
    list = allowed; // all of them
  else if (mode === 1)
    list = 1 << rng.pick(bitsOf(allowed)); // one
  else list = rng.u32() & allowed;
  return list === 0 ? 1 << rng.pick(bitsOf(allowed)) : list;
}

function bitsOf(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 16; i++) if ((mask >>> i) & 1) out.push(i);
  return out;
}

function popcount(x: number): number {
  return bitsOf(x).length;
}

function ldmStm(): Form[] {
  return [
    form('LDM Rn!, {list}', 'ldmstm', (rng) => {
      const n = low(rng);
      const list = registerList(rng, 0xff & ~(1 << n));
      const s = base(rng, [0xc800 | (n << 8) | list]);
      const addr = dataAddress(rng, 4) - (rng.chance(0.5) ? 32 : 0);
      s.r[n] = addr;
      s.windows.push(around(addr, popcount(list) * 4));
      return s;
    }),
    form('LDM Rn, {list} (Rn in list)', 'ldmstm', (rng) => {
      const n = low(rng);
      const list = registerList(rng, 0xff) | (1 << n);
      const s = base(rng, [0xc800 | (n << 8) | list]);
      const addr = dataAddress(rng, 4) - 32;
      s.r[n] = addr;
      s.windows.push(around(addr, popcount(list) * 4));
      return s;
    }),
    form('STM Rn!, {list}', 'ldmstm', (rng) => {
      const n = low(rng);
      const list = registerList(rng, 0xff & ~(1 << n));
      const s = base(rng, [0xc000 | (n << 8) | list]);
      const addr = dataAddress(rng, 4) - 32;
      s.r[n] = addr;
      s.windows.push(around(addr, popcount(list) * 4));
      return s;
    }),
    form('STM Rn!, {list} (Rn lowest in list)', 'ldmstm', (rng) => {
      const n = rng.int(0, 6);
      // Registers above n only, plus n itself: the stored base is its original value.
      const list = (registerList(rng, 0xff & ~((2 << n) - 1)) & 0xff) | (1 << n);
      const s = base(rng, [0xc000 | (n << 8) | list]);
      const addr = dataAddress(rng, 4) - 32;
      s.r[n] = addr;
      s.windows.push(around(addr, popcount(list) * 4));
      return s;
    }),
    form('PUSH {list}', 'ldmstm', (rng) => {
      const list = registerList(rng, 0xff);
      const s = base(rng, [0xb400 | list]);
      const bytes = popcount(list) * 4;
      s.windows.push(around(s.r[13]! - bytes, bytes));
      return s;
    }),
    form('PUSH {list, LR}', 'ldmstm', (rng) => {
      const list = rng.chance(0.15) ? 0 : registerList(rng, 0xff);
      const s = base(rng, [0xb500 | list]);
      const bytes = (popcount(list) + 1) * 4;
      s.windows.push(around(s.r[13]! - bytes, bytes));
      return s;
    }),
    form('POP {list}', 'ldmstm', (rng) => {
      const list = registerList(rng, 0xff);
      const s = base(rng, [0xbc00 | list]);
      s.windows.push(around(s.r[13]!, popcount(list) * 4));
      return s;
    }),
    form('POP {list, PC}', 'ldmstm', (rng) => {
      const list = rng.chance(0.2) ? 0 : registerList(rng, 0xff);
      const s = base(rng, [0xbd00 | list]);
      const count = popcount(list);
      s.windows.push(around(s.r[13]!, (count + 1) * 4));
      s.pokes.push({ addr: s.r[13]! + count * 4, bytes: le32(flashTarget(rng)) });
      return s;
    }),
  ];
}

function le32(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function branches(): Form[] {
  const forms: Form[] = [
    form('B label', 'branch', (rng) => base(rng, [0xe000 | rng.int(0, 0x7ff)]), { weight: 2 }),
    form(
      'BL label',
      'branch',
      (rng) => {
        const s = base(rng, []);
        const target = rng.chance(0.3)
          ? s.r[15]! + 4 + rng.int(-2048, 2047) * 2
          : (flashTarget(rng) & ~1) >>> 0;
        s.code = encodeBl(((target - (s.r[15]! + 4)) >>> 0) | 0);
        return s;
      },
      { weight: 2 },
    ),
    form('BX Rm', 'branch', (rng) => {
      const m = general(rng);
      const s = base(rng, [0x4700 | (m << 3)]);
      s.r[m] = flashTarget(rng);
      return s;
    }),
    form('BLX Rm', 'branch', (rng) => {
      const m = general(rng);
      const s = base(rng, [0x4780 | (m << 3)]);
      s.r[m] = flashTarget(rng);
      return s;
    }),
    form('MOV PC, Rm', 'branch', (rng) => {
      const m = general(rng);
      const s = base(rng, [special(2, 15, m)]);
      // BranchWritePC ignores bit 0: both odd and even targets are defined.
      s.r[m] = (flashTarget(rng) & ~rng.int(0, 1)) >>> 0;
      return s;
    }),
    form('ADD PC, Rm', 'branch', (rng) => {
      const m = general(rng);
      const s = base(rng, [special(0, 15, m)]);
      s.r[m] = (flashTarget(rng) - (s.r[15]! + 4) - rng.int(0, 1)) >>> 0;
      return s;
    }),
  ];
  CONDITION_NAMES.forEach((name, cond) => {
    forms.push(
      form(`B${name} label`, 'branch', (rng) => base(rng, [0xd000 | (cond << 8) | rng.int(0, 255)])),
    );
  });
  forms.push(
    form(
      'CMP Rn, Rm; B<cond>',
      'branch',
      (rng) => {
        const [n, m] = distinctLow(rng, 2) as [number, number];
        const s = base(rng, [dataProcessing(DP.CMP, m, n), 0xd000 | (rng.int(0, 13) << 8) | rng.int(0, 255)]);
        if (rng.chance(0.25)) s.r[n] = s.r[m]!;
        s.steps = 2;
        return s;
      },
      { weight: 2 },
    ),
    form('SUBS Rdn, #1; BNE', 'branch', (rng) => {
      const d = low(rng);
      const s = base(rng, [0x3800 | (d << 8) | 1, 0xd100 | rng.int(0x80, 0xff)]);
      if (rng.chance(0.5)) s.r[d] = rng.pick([0, 1, 2]);
      s.steps = 2;
      return s;
    }),
  );
  return forms;
}

function randomSpecial(rng: Rng, s: VectorSpec): void {
  const control = rng.chance(0.3) ? 2 : 0;
  const msp = stackAddress(rng);
  const psp = stackAddress(rng);
  s.special = { primask: rng.int(0, 1), control, msp, psp };
  s.r[13] = control !== 0 ? psp : msp;
}

function system(): Form[] {
  const forms: Form[] = [
    form('CPSIE i', 'system', (rng) => {
      const s = base(rng, [0xb662]);
      randomSpecial(rng, s);
      return s;
    }),
    form('CPSID i', 'system', (rng) => {
      const s = base(rng, [0xb672]);
      randomSpecial(rng, s);
      return s;
    }),
  ];
  for (const [sysm, name] of Object.entries(SYSM_NAMES)) {
    const sm = Number(sysm);
    forms.push(
      form(`MSR ${name}, Rn`, 'system', (rng) => {
        const n = rng.int(0, 12) === 12 ? 14 : rng.int(0, 12);
        const s = base(rng, [0xf380 | n, 0x8800 | sm]);
        randomSpecial(rng, s);
        if (sm === 8 || sm === 9) s.r[n] = rng.chance(0.7) ? stackAddress(rng) + rng.int(0, 3) : value(rng);
        if (sm === 16 || sm === 20) s.r[n] = rng.chance(0.6) ? rng.int(0, 3) : value(rng);
        return s;
      }),
      form(`MRS Rd, ${name}`, 'system', (rng) => {
        const d = rng.int(0, 12) === 12 ? 14 : rng.int(0, 12);
        const s = base(rng, [0xf3ef, 0x8000 | (d << 8) | sm]);
        randomSpecial(rng, s);
        return s;
      }),
    );
  }
  for (const [name, op] of [
    ['DSB', 4],
    ['DMB', 5],
    ['ISB', 6],
  ] as const) {
    forms.push(
      form(`${name} SY`, 'system', (rng) => base(rng, [0xf3bf, 0x8f0f | (op << 4)]), { weight: 0.5 }),
    );
  }
  forms.push(
    form('SVC #imm8', 'system', (rng) => {
      const s = base(rng, [0xdf00 | rng.int(0, 255)]);
      randomSpecial(rng, s);
      s.windows.push(around(s.r[13]! - 0x24, 0x2c));
      return s;
    }),
  );
  return forms;
}

/** The exception frame window (8-byte-aligned frame of 8 words below SP) for fault vectors. */
function frameWindow(s: VectorSpec): void {
  s.windows.push(around(s.r[13]! - 0x24, 0x2c));
}

/**
 * Addresses that are unmapped on QEMU's micro:bit as on ours (bus error). Not 0xE0100000 and
 * above: the vendor system region answers on QEMU's nRF51.
 */
const UNMAPPED = [RAM_END, RAM_END + 0x100, 0x3000_0000, 0x8000_0000, 0xa000_0000];

function faults(): Form[] {
  const forms: Form[] = [];
  const unaligned = (
    name: string,
    size: number,
    build: (rng: Rng, s: VectorSpec, addr: number) => number,
  ): Form =>
    form(`${name} unaligned`, 'fault', (rng) => {
      const s = base(rng, []);
      const addr = dataAddress(rng, 4) + (size === 2 ? 1 : rng.int(1, 3));
      s.code = [build(rng, s, addr)];
      s.windows.push(around(addr, size));
      frameWindow(s);
      return s;
    });
  /** Rn = addr for `[Rn, #0]` forms. */
  const atBase =
    (opc: number) =>
    (rng: Rng, s: VectorSpec, addr: number): number => {
      const n = low(rng);
      s.r[n] = addr;
      return opc | (n << 3) | low(rng);
    };
  forms.push(
    unaligned('LDR Rt, [Rn]', 4, atBase(0x6800)),
    unaligned('STR Rt, [Rn]', 4, atBase(0x6000)),
    unaligned('LDRH Rt, [Rn]', 2, atBase(0x8800)),
    unaligned('STRH Rt, [Rn]', 2, atBase(0x8000)),
    unaligned('LDRSH Rt, [Rn, Rm]', 2, (rng, s, addr) => {
      const [n, m] = distinctLow(rng, 2) as [number, number];
      s.r[m] = rng.int(0, 8) * 2;
      s.r[n] = (addr - s.r[m]!) >>> 0;
      return 0x5e00 | (m << 6) | (n << 3) | low(rng);
    }),
    unaligned('LDM Rn!, {list}', 8, (rng, s, addr) => {
      const n = low(rng);
      s.r[n] = addr;
      return 0xc800 | (n << 8) | registerList(rng, 0xff & ~(1 << n));
    }),
    unaligned('STM Rn!, {list}', 8, (rng, s, addr) => {
      const n = low(rng);
      s.r[n] = addr;
      return 0xc000 | (n << 8) | registerList(rng, 0xff & ~(1 << n));
    }),
  );
  const unmapped = (name: string, hw: (t: number, n: number) => number): Form =>
    form(`${name} unmapped`, 'fault', (rng) => {
      const t = low(rng);
      const n = low(rng);
      const s = base(rng, [hw(t, n)]);
      s.r[n] = (rng.pick(UNMAPPED) + rng.int(0, 63) * 4) >>> 0;
      frameWindow(s);
      return s;
    });
  forms.push(
    unmapped('LDR Rt, [Rn]', (t, n) => 0x6800 | (n << 3) | t),
    unmapped('STR Rt, [Rn]', (t, n) => 0x6000 | (n << 3) | t),
    unmapped('LDRB Rt, [Rn]', (t, n) => 0x7800 | (n << 3) | t),
    unmapped('STRH Rt, [Rn]', (t, n) => 0x8000 | (n << 3) | t),
  );
  const simple = (name: string, code: (rng: Rng) => number[], weight = 1): Form =>
    form(
      name,
      'fault',
      (rng) => {
        const s = base(rng, code(rng));
        frameWindow(s);
        return s;
      },
      { weight },
    );
  forms.push(
    simple('UDF #imm8', (rng) => [0xde00 | rng.int(0, 255)]),
    simple('UDF.W #imm16', (rng) => [0xf7f0 | rng.int(0, 15), 0xa000 | rng.int(0, 0xfff)]),
    simple('BKPT #imm8', (rng) => [0xbe00 | rng.int(0, 255)]),
    simple('Undefined 16-bit (not in ARMv6-M)', (rng) => [
      rng.pick([
        rng.pick([0xb100, 0xb300, 0xb900, 0xbb00]) | rng.int(0, 255), // CBZ/CBNZ
        0xbf00 | (rng.int(0, 15) << 4) | rng.int(1, 15), // IT
        0xb650 | rng.int(0, 15), // SETEND space
        0xba80 | rng.int(0, 63), // HLT (ARMv8-M)
        0xb800 | rng.int(0, 255), // unallocated misc
      ]),
    ]),
    simple('Undefined 32-bit (Thumb-2 only)', (rng) =>
      rng.pick([
        [0xf100 | rng.int(0, 15), rng.int(0, 0x7fff)], // ADD.W imm
        [0xeb00 | rng.int(0, 15), rng.int(0, 0x7fff)], // ADD.W reg
        [0xf8d0 | rng.int(0, 15), rng.int(0, 0xffff)], // LDR.W
        [0xe92d, 0x4000 | rng.int(1, 0xfff)], // PUSH.W
        [0xf000 | rng.int(0, 0x3ff), 0x8000 | rng.int(0, 0x7ff)], // B<cond>.W
        [0xfb00 | rng.int(0, 15), rng.int(0, 0xffff)], // MUL/MLA.W
        [0xe800 | rng.int(0, 0x7ff), rng.int(0, 0xffff)], // load/store multiple/dual space
      ]),
    ),
  );
  const interworkingFault = (name: string, make: (rng: Rng, s: VectorSpec) => void, note: string): Form =>
    form(name, 'fault', (rng) => {
      const s = base(rng, []);
      make(rng, s);
      s.steps = 2;
      s.note = note;
      frameWindow(s);
      return s;
    });
  forms.push(
    interworkingFault(
      'BX Rm to an even address',
      (rng, s) => {
        const m = general(rng);
        s.code = [0x4700 | (m << 3)];
        s.r[m] = (flashTarget(rng) & ~1) >>> 0;
      },
      'two steps: BX clears EPSR.T, the next instruction faults (INVSTATE)',
    ),
    interworkingFault(
      'BX Rm to an unmapped address',
      (rng, s) => {
        const m = general(rng);
        s.code = [0x4700 | (m << 3)];
        s.r[m] = (rng.pick([0x3000_0000, 0x8000_0000, RAM_END]) + rng.int(0, 255) * 4 + 1) >>> 0;
      },
      'two steps: the branch, then a fetch that takes a bus error',
    ),
    interworkingFault(
      'BX Rm to the peripheral region (XN)',
      (rng, s) => {
        const m = general(rng);
        s.code = [0x4700 | (m << 3)];
        s.r[m] = (rng.pick([0x4000_0000, 0x5000_0000]) + rng.int(0, 255) * 4 + 1) >>> 0;
      },
      'two steps: the branch, then a fetch from an Execute Never region',
    ),
    interworkingFault(
      'POP {PC} to an even address',
      (rng, s) => {
        s.code = [0xbd00];
        s.windows.push(around(s.r[13]!, 4));
        s.pokes.push({ addr: s.r[13]!, bytes: le32((flashTarget(rng) & ~1) >>> 0) });
      },
      'two steps: POP clears EPSR.T, the next instruction faults (INVSTATE)',
    ),
  );
  forms.push(
    form(
      'SVC #imm8 with PRIMASK set',
      'fault',
      (rng) => {
        const s = base(rng, [0xdf00 | rng.int(0, 255)]);
        randomSpecial(rng, s);
        s.special!.primask = 1;
        s.note = 'SVC cannot preempt at priority 0 (PRIMASK): escalates to HardFault';
        s.windows.push(around(s.r[13]! - 0x24, 0x2c));
        return s;
      },
      { weight: 0.5 },
    ),
  );
  return forms;
}

/** Every form, in catalogue order (ids are stable for a given seed as long as this order is). */
export function allForms(): Form[] {
  return [
    ...alu(),
    ...shifts(),
    ...misc(),
    ...loadStore(),
    ...ldmStm(),
    ...branches(),
    ...system(),
    ...faults(),
  ];
}

/** The handler address a fault vector ends at (for the README and tests). */
export const FAULT_END_PC = HARDFAULT_HANDLER;

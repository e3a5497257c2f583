/**
 * A small Thumb (ARMv6-M) assembler for tests and test-firmware snippets.
 *
 * Input: UAL text, one statement per line: `label:`, instructions, `.word`/`.hword`/`.align`.
 * Comments start with `@`, `//` or `;`. Immediates are `#n` (decimal, 0x hex, 0b binary,
 * negative); branch and literal targets are labels or numbers (absolute addresses).
 *
 * Covers every ARMv6-M instruction: the 16-bit encodings (with the usual UAL choices: `adds rd,
 * rn, #i` picks the 3-bit form when rd is given and i < 8, `add` with registers picks the
 * high-register form, `ldr rt, label` the PC-relative literal), BL, MSR, MRS, DMB, DSB, ISB,
 * UDF.W. Suffixes `.n`/`.w` are accepted where they match the encoding size.
 *
 * Two passes: sizes are fixed per statement (2 or 4 bytes), so labels are known after pass 1.
 * Mistakes throw UserError naming the line.
 */
import { UserError } from '../../core/errors.js';

export interface AssembledThumb {
  /** Little-endian bytes, to be loaded at `base`. */
  bytes: Uint8Array;
  /** The same, as 16-bit units (a 32-bit instruction is two: first halfword first). */
  halfwords: number[];
  /** Label addresses (base included). */
  labels: Record<string, number>;
}

const CONDITIONS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le'];
const CONDITION_ALIASES: Record<string, number> = { hs: 2, lo: 3 };

const SPECIAL_REGS: Record<string, number> = {
  apsr: 0,
  iapsr: 1,
  eapsr: 2,
  xpsr: 3,
  ipsr: 5,
  epsr: 6,
  iepsr: 7,
  msp: 8,
  psp: 9,
  primask: 16,
  control: 20,
};

const BARRIERS: Record<string, number> = { dsb: 4, dmb: 5, isb: 6 };

/** Data-processing opcodes of encoding 010000 oooo mmm ddd. */
const DP_OPS: Record<string, number> = {
  ands: 0,
  eors: 1,
  adcs: 5,
  sbcs: 6,
  tst: 8,
  cmn: 11,
  orrs: 12,
  bics: 14,
  mvns: 15,
};

const COMMUTATIVE = new Set(['ands', 'eors', 'orrs', 'adcs']);

/** Load/store register-offset opcodes (0101 ooo). */
const LS_REG: Record<string, number> = {
  str: 0,
  strh: 1,
  strb: 2,
  ldrsb: 3,
  ldr: 4,
  ldrh: 5,
  ldrb: 6,
  ldrsh: 7,
};

/** Immediate-offset forms: [first 5 bits, scale]. */
const LS_IMM: Record<string, [number, number]> = {
  str: [0b01100, 4],
  ldr: [0b01101, 4],
  strb: [0b01110, 1],
  ldrb: [0b01111, 1],
  strh: [0b10000, 2],
  ldrh: [0b10001, 2],
};

const EXTEND_REV: Record<string, number> = {
  sxth: 0xb200,
  sxtb: 0xb240,
  uxth: 0xb280,
  uxtb: 0xb2c0,
  rev: 0xba00,
  rev16: 0xba40,
  revsh: 0xbac0,
};

const HINTS: Record<string, number> = { nop: 0xbf00, yield: 0xbf10, wfe: 0xbf20, wfi: 0xbf30, sev: 0xbf40 };

class AsmError extends Error {}

interface Statement {
  line: number;
  text: string;
  address: number;
  size: number;
}

/** Assembles `source` for address `base`; throws UserError naming the line on a mistake. */
export function assembleThumb(source: string, base = 0): AssembledThumb {
  const labels: Record<string, number> = {};
  const statements: Statement[] = [];
  let address = base;
  const lines = source.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let text = stripComment(lines[i]!).trim();
    for (;;) {
      const m = /^([A-Za-z_.$][\w.$]*):\s*/.exec(text);
      if (!m) break;
      const name = m[1]!;
      if (name in labels) throw new UserError(`thumb-asm line ${i + 1}: label '${name}' defined twice`);
      labels[name] = address;
      text = text.slice(m[0].length);
    }
    if (text === '') continue;
    let size: number;
    try {
      size = sizeOf(text, address);
    } catch (e) {
      throw wrap(e, i + 1, text);
    }
    statements.push({ line: i + 1, text, address, size });
    address += size;
  }
  const bytes = new Uint8Array(address - base);
  for (const st of statements) {
    let units: number[];
    try {
      units = encode(st.text, st.address, labels);
    } catch (e) {
      throw wrap(e, st.line, st.text);
    }
    if (units.length * 2 > st.size) throw new Error(`thumb-asm: size mismatch for '${st.text}'`);
    let o = st.address - base;
    for (const u of units) {
      bytes[o] = u & 0xff;
      bytes[o + 1] = (u >>> 8) & 0xff;
      o += 2;
    }
  }
  const halfwords: number[] = [];
  for (let o = 0; o + 1 < bytes.length; o += 2) halfwords.push(bytes[o]! | (bytes[o + 1]! << 8));
  return { bytes, halfwords, labels };
}

function wrap(e: unknown, line: number, text: string): Error {
  if (e instanceof AsmError) return new UserError(`thumb-asm line ${line}: ${e.message} in '${text}'`);
  return e as Error;
}

function stripComment(line: string): string {
  let end = line.length;
  for (const marker of ['@', '//', ';']) {
    const i = line.indexOf(marker);
    if (i >= 0 && i < end) end = i;
  }
  return line.slice(0, end);
}

function splitStatement(text: string): { mnemonic: string; operands: string[] } {
  const m = /^(\S+)\s*(.*)$/.exec(text)!;
  const mnemonic = m[1]!.toLowerCase();
  const rest = m[2]!.trim();
  const operands: string[] = [];
  if (rest !== '') {
    let depth = 0;
    let cur = '';
    for (const ch of rest) {
      if (ch === '[' || ch === '{') depth++;
      if (ch === ']' || ch === '}') depth--;
      if (ch === ',' && depth === 0) {
        operands.push(cur.trim());
        cur = '';
      } else {
        cur += ch;
      }
    }
    operands.push(cur.trim());
  }
  return { mnemonic, operands };
}

function sizeOf(text: string, address: number): number {
  const { mnemonic, operands } = splitStatement(text);
  if (mnemonic === '.word') return 4 * operands.length;
  if (mnemonic === '.hword' || mnemonic === '.short') return 2 * operands.length;
  if (mnemonic === '.align') {
    const align = operands.length === 0 ? 4 : 1 << parseNumber(operands[0]!);
    return (align - (address % align)) % align;
  }
  const base = mnemonic.replace(/\.(n|w)$/, '');
  if (base === 'bl' || base === 'msr' || base === 'mrs' || base in BARRIERS) return 4;
  if (mnemonic === 'udf.w') return 4;
  return 2;
}

function parseNumber(text: string): number {
  const t = text.trim().toLowerCase();
  const neg = t.startsWith('-');
  const body = neg ? t.slice(1) : t;
  let v: number;
  if (/^0x[0-9a-f]+$/.test(body)) v = Number.parseInt(body.slice(2), 16);
  else if (/^0b[01]+$/.test(body)) v = Number.parseInt(body.slice(2), 2);
  else if (/^\d+$/.test(body)) v = Number.parseInt(body, 10);
  else throw new AsmError(`bad number '${text}'`);
  return neg ? -v : v;
}

function imm(text: string | undefined): number {
  if (text === undefined || !text.startsWith('#'))
    throw new AsmError(`expected an immediate (#n), got '${text ?? ''}'`);
  return parseNumber(text.slice(1));
}

function isImm(text: string | undefined): boolean {
  return text?.startsWith('#') ?? false;
}

function reg(text: string | undefined): number {
  const r = regOrNull(text);
  if (r === null) throw new AsmError(`expected a register, got '${text ?? ''}'`);
  return r;
}

function regOrNull(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim().toLowerCase();
  if (t === 'sp') return 13;
  if (t === 'lr') return 14;
  if (t === 'pc') return 15;
  if (t === 'ip') return 12;
  const m = /^r(\d+)$/.exec(t);
  if (!m) return null;
  const n = Number(m[1]);
  return n <= 15 ? n : null;
}

function low(text: string | undefined): number {
  const r = reg(text);
  if (r > 7) throw new AsmError(`'${text}' must be a low register (r0-r7)`);
  return r;
}

function checkRange(value: number, min: number, max: number, what: string, multiple = 1): number {
  if (value < min || value > max || value % multiple !== 0) {
    const m = multiple > 1 ? `, a multiple of ${multiple}` : '';
    throw new AsmError(`${what} ${value} out of range (${min}..${max}${m})`);
  }
  return value;
}

function target(text: string | undefined, labels: Record<string, number>): number {
  if (text === undefined) throw new AsmError('missing target');
  const t = text.trim();
  if (t in labels) return labels[t]!;
  if (/^-?(0x[0-9a-f]+|0b[01]+|\d+)$/i.test(t)) return parseNumber(t);
  throw new AsmError(`unknown label '${t}'`);
}

function regList(text: string | undefined): number {
  if (text === undefined || !text.startsWith('{') || !text.endsWith('}')) {
    throw new AsmError(`expected a register list {..}, got '${text ?? ''}'`);
  }
  let mask = 0;
  for (const part of text.slice(1, -1).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const range = p.split('-');
    if (range.length === 2) {
      const a = reg(range[0]);
      const b = reg(range[1]);
      if (b < a) throw new AsmError(`bad register range '${p}'`);
      for (let i = a; i <= b; i++) mask |= 1 << i;
    } else {
      mask |= 1 << reg(p);
    }
  }
  return mask;
}

/** Parses `[rn]`, `[rn, #imm]` or `[rn, rm]`. */
function memOperand(text: string | undefined): { rn: number; rm: number | null; offset: number } {
  if (text === undefined || !text.startsWith('[') || !text.endsWith(']')) {
    throw new AsmError(`expected a memory operand [..], got '${text ?? ''}'`);
  }
  const parts = text
    .slice(1, -1)
    .split(',')
    .map((p) => p.trim());
  const rn = reg(parts[0]);
  if (parts.length === 1) return { rn, rm: null, offset: 0 };
  if (parts.length !== 2) throw new AsmError(`bad memory operand '${text}'`);
  if (isImm(parts[1])) return { rn, rm: null, offset: imm(parts[1]) };
  return { rn, rm: reg(parts[1]), offset: 0 };
}

function expectCount(operands: string[], ...counts: number[]): void {
  if (!counts.includes(operands.length)) {
    throw new AsmError(`expected ${counts.join(' or ')} operands, got ${operands.length}`);
  }
}

function encode(text: string, address: number, labels: Record<string, number>): number[] {
  const { mnemonic: full, operands: ops } = splitStatement(text);
  if (full === '.word') {
    const out: number[] = [];
    for (const o of ops) {
      const v = target(o, labels) >>> 0;
      out.push(v & 0xffff, v >>> 16);
    }
    return out;
  }
  if (full === '.hword' || full === '.short') return ops.map((o) => parseNumber(o) & 0xffff);
  if (full === '.align') return new Array(sizeOf(text, address) / 2).fill(0xbf00);
  const wide = full.endsWith('.w');
  const mnemonic = full.replace(/\.(n|w)$/, '');
  if (
    wide &&
    !(
      mnemonic === 'bl' ||
      mnemonic === 'udf' ||
      mnemonic in BARRIERS ||
      mnemonic === 'msr' ||
      mnemonic === 'mrs'
    )
  ) {
    throw new AsmError(`no 32-bit encoding of '${mnemonic}' on ARMv6-M`);
  }
  const pc4 = address + 4;

  // Branches.
  if (
    mnemonic === 'b' ||
    (mnemonic.length === 3 && mnemonic[0] === 'b' && condCode(mnemonic.slice(1)) >= 0)
  ) {
    expectCount(ops, 1);
    const offset = target(ops[0], labels) - pc4;
    if (mnemonic === 'b') {
      checkRange(offset, -2048, 2046, 'branch offset', 2);
      return [0xe000 | ((offset >> 1) & 0x7ff)];
    }
    checkRange(offset, -256, 254, 'branch offset', 2);
    return [0xd000 | (condCode(mnemonic.slice(1)) << 8) | ((offset >> 1) & 0xff)];
  }
  switch (mnemonic) {
    case 'bl': {
      expectCount(ops, 1);
      const offset = checkRange(target(ops[0], labels) - pc4, -(1 << 24), (1 << 24) - 2, 'BL offset', 2);
      const s = (offset >>> 24) & 1;
      const i1 = (offset >>> 23) & 1;
      const i2 = (offset >>> 22) & 1;
      const j1 = (~i1 ^ s) & 1;
      const j2 = (~i2 ^ s) & 1;
      return [
        0xf000 | (s << 10) | ((offset >>> 12) & 0x3ff),
        0xd000 | (j1 << 13) | (j2 << 11) | ((offset >>> 1) & 0x7ff),
      ];
    }
    case 'bx':
    case 'blx':
      expectCount(ops, 1);
      return [(mnemonic === 'bx' ? 0x4700 : 0x4780) | (reg(ops[0]) << 3)];
    case 'movs':
      expectCount(ops, 2);
      if (isImm(ops[1])) return [0x2000 | (low(ops[0]) << 8) | checkRange(imm(ops[1]), 0, 255, 'immediate')];
      return [0x0000 | (low(ops[1]) << 3) | low(ops[0])];
    case 'mov': {
      expectCount(ops, 2);
      const d = reg(ops[0]);
      return [0x4600 | ((d & 8) << 4) | (reg(ops[1]) << 3) | (d & 7)];
    }
    case 'adds':
    case 'subs':
      return encodeAddSubS(mnemonic === 'adds', ops);
    case 'add':
    case 'sub':
      return encodeAddSubPlain(mnemonic === 'add', ops);
    case 'adr': {
      expectCount(ops, 2);
      const offset = target(ops[1], labels) - (pc4 & ~3);
      return [0xa000 | (low(ops[0]) << 8) | (checkRange(offset, 0, 1020, 'ADR offset', 4) >> 2)];
    }
    case 'rsbs':
    case 'negs': {
      expectCount(ops, mnemonic === 'rsbs' ? 3 : 2);
      if (mnemonic === 'rsbs' && imm(ops[2]) !== 0) throw new AsmError('RSBS takes only #0');
      return [0x4240 | (low(ops[1]) << 3) | low(ops[0])];
    }
    case 'muls': {
      expectCount(ops, 2, 3);
      const d = low(ops[0]);
      let n = low(ops[1]);
      if (ops.length === 3) {
        const m = low(ops[2]);
        if (m !== d) {
          if (n !== d) throw new AsmError('MULS needs Rd equal to one source register');
          n = m;
        }
      }
      return [0x4340 | (n << 3) | d];
    }
    case 'cmp': {
      expectCount(ops, 2);
      const n = reg(ops[0]);
      if (isImm(ops[1])) return [0x2800 | (low(ops[0]) << 8) | checkRange(imm(ops[1]), 0, 255, 'immediate')];
      const m = reg(ops[1]);
      if (n < 8 && m < 8) return [0x4280 | (m << 3) | n];
      return [0x4500 | ((n & 8) << 4) | (m << 3) | (n & 7)];
    }
    case 'lsls':
    case 'lsrs':
    case 'asrs':
    case 'rors':
      return encodeShift(mnemonic, ops);
    case 'ldr':
    case 'str':
    case 'ldrb':
    case 'strb':
    case 'ldrh':
    case 'strh':
    case 'ldrsb':
    case 'ldrsh':
      return encodeLoadStore(mnemonic, ops, address, labels);
    case 'ldm':
    case 'ldmia':
    case 'ldmfd':
    case 'stm':
    case 'stmia':
    case 'stmea': {
      expectCount(ops, 2);
      const wb = ops[0]!.endsWith('!');
      const n = low(wb ? ops[0]!.slice(0, -1) : ops[0]);
      const list = regList(ops[1]);
      if (list === 0 || list > 0xff) throw new AsmError('LDM/STM list must hold low registers only');
      const load = mnemonic.startsWith('ldm');
      // ARMv6-M: LDM writes back iff the base is not in the list; STM always writes back.
      if (load && wb === ((list & (1 << n)) !== 0)) {
        throw new AsmError(
          wb ? 'LDM with the base in the list has no write-back' : 'LDM without the base needs !',
        );
      }
      if (!load && !wb) throw new AsmError('STM needs write-back (!)');
      return [(load ? 0xc800 : 0xc000) | (n << 8) | list];
    }
    case 'push':
    case 'pop': {
      expectCount(ops, 1);
      const list = regList(ops[0]);
      const extra = mnemonic === 'push' ? 1 << 14 : 1 << 15;
      if ((list & ~(0xff | extra)) !== 0 || list === 0) {
        throw new AsmError(
          `${mnemonic.toUpperCase()} list may hold r0-r7 and ${mnemonic === 'push' ? 'lr' : 'pc'}`,
        );
      }
      return [(mnemonic === 'push' ? 0xb400 : 0xbc00) | ((list & extra) !== 0 ? 0x100 : 0) | (list & 0xff)];
    }
    case 'cpsie':
    case 'cpsid':
      expectCount(ops, 1);
      if (ops[0]!.toLowerCase() !== 'i') throw new AsmError('CPS takes only i on ARMv6-M');
      return [mnemonic === 'cpsie' ? 0xb662 : 0xb672];
    case 'svc':
      expectCount(ops, 1);
      return [0xdf00 | checkRange(imm(ops[0]), 0, 255, 'immediate')];
    case 'bkpt':
      expectCount(ops, 1);
      return [0xbe00 | checkRange(imm(ops[0]), 0, 255, 'immediate')];
    case 'udf': {
      expectCount(ops, 1);
      const v = imm(ops[0]);
      if (!wide) return [0xde00 | checkRange(v, 0, 255, 'immediate')];
      checkRange(v, 0, 0xffff, 'immediate');
      return [0xf7f0 | (v >>> 12), 0xa000 | (v & 0xfff)];
    }
    case 'msr': {
      expectCount(ops, 2);
      const sysm = special(ops[0]);
      return [0xf380 | reg(ops[1]), 0x8800 | sysm];
    }
    case 'mrs': {
      expectCount(ops, 2);
      const sysm = special(ops[1]);
      return [0xf3ef, 0x8000 | (reg(ops[0]) << 8) | sysm];
    }
  }
  if (mnemonic in BARRIERS) {
    expectCount(ops, 0, 1);
    const option = ops.length === 0 || ops[0]!.toLowerCase() === 'sy' ? 15 : imm(ops[0]);
    return [0xf3bf, 0x8f00 | (BARRIERS[mnemonic]! << 4) | checkRange(option, 0, 15, 'option')];
  }
  if (mnemonic in HINTS) {
    expectCount(ops, 0);
    return [HINTS[mnemonic]!];
  }
  if (mnemonic in EXTEND_REV) {
    expectCount(ops, 2);
    return [EXTEND_REV[mnemonic]! | (low(ops[1]) << 3) | low(ops[0])];
  }
  if (mnemonic in DP_OPS) {
    const op = DP_OPS[mnemonic]!;
    const twoOnly = mnemonic === 'tst' || mnemonic === 'cmn' || mnemonic === 'mvns';
    expectCount(ops, ...(twoOnly ? [2] : [2, 3]));
    let d = low(ops[0]);
    let m = low(ops[1]);
    if (ops.length === 3) {
      const m3 = low(ops[2]);
      if (m === d) m = m3;
      else if (m3 === d && COMMUTATIVE.has(mnemonic)) d = m3;
      else throw new AsmError(`${mnemonic.toUpperCase()} needs Rd equal to Rn`);
    }
    return [0x4000 | (op << 6) | (m << 3) | d];
  }
  throw new AsmError(`unknown instruction '${full}'`);
}

function condCode(name: string): number {
  const i = CONDITIONS.indexOf(name);
  if (i >= 0) return i;
  return CONDITION_ALIASES[name] ?? -1;
}

function special(text: string | undefined): number {
  const sysm = SPECIAL_REGS[(text ?? '').toLowerCase()];
  if (sysm === undefined) throw new AsmError(`unknown special register '${text ?? ''}'`);
  return sysm;
}

function encodeAddSubS(add: boolean, ops: string[]): number[] {
  expectCount(ops, 2, 3);
  const d = low(ops[0]);
  if (ops.length === 2) {
    // adds rdn, #imm8 | adds rdn, rm
    if (isImm(ops[1]))
      return [(add ? 0x3000 : 0x3800) | (d << 8) | checkRange(imm(ops[1]), 0, 255, 'immediate')];
    return [(add ? 0x1800 : 0x1a00) | (low(ops[1]) << 6) | (d << 3) | d];
  }
  const n = low(ops[1]);
  if (isImm(ops[2])) {
    const v = imm(ops[2]);
    if (v <= 7 && v >= 0) return [(add ? 0x1c00 : 0x1e00) | (v << 6) | (n << 3) | d];
    if (n !== d) throw new AsmError('immediate above 7 needs Rd equal to Rn');
    return [(add ? 0x3000 : 0x3800) | (d << 8) | checkRange(v, 0, 255, 'immediate')];
  }
  return [(add ? 0x1800 : 0x1a00) | (low(ops[2]) << 6) | (n << 3) | d];
}

function encodeAddSubPlain(add: boolean, ops: string[]): number[] {
  expectCount(ops, 2, 3);
  const d = reg(ops[0]);
  const srcText = ops.length === 3 ? ops[1] : ops[0];
  const last = ops[ops.length - 1];
  const n = reg(srcText);
  if (isImm(last)) {
    const v = imm(last);
    if (d === 13 && n === 13) {
      return [(add ? 0xb000 : 0xb080) | (checkRange(v, 0, 508, 'SP offset', 4) >> 2)];
    }
    if (!add) throw new AsmError('SUB without S takes only SP');
    if (n === 13) return [0xa800 | (low(ops[0]) << 8) | (checkRange(v, 0, 1020, 'SP offset', 4) >> 2)];
    if (n === 15) return [0xa000 | (low(ops[0]) << 8) | (checkRange(v, 0, 1020, 'PC offset', 4) >> 2)];
    throw new AsmError('ADD without S takes an immediate only with SP or PC');
  }
  if (!add) throw new AsmError('SUB without S has no register form on ARMv6-M');
  // High-register form: ADD Rdn, Rm (Rdn must be one of the sources).
  let m = reg(last);
  if (ops.length === 3 && n !== d) {
    if (m !== d) throw new AsmError('ADD (register) needs Rd equal to one source register');
    m = n;
  }
  return [0x4400 | ((d & 8) << 4) | (m << 3) | (d & 7)];
}

function encodeShift(mnemonic: string, ops: string[]): number[] {
  expectCount(ops, 2, 3);
  const d = low(ops[0]);
  const regOps: Record<string, number> = { lsls: 2, lsrs: 3, asrs: 4, rors: 7 };
  if (ops.length === 3 && isImm(ops[2])) {
    const m = low(ops[1]);
    const v = imm(ops[2]);
    if (mnemonic === 'lsls') return [(checkRange(v, 0, 31, 'shift') << 6) | (m << 3) | d];
    if (mnemonic === 'rors') throw new AsmError('RORS has no immediate form on ARMv6-M');
    checkRange(v, 1, 32, 'shift');
    return [(mnemonic === 'lsrs' ? 0x0800 : 0x1000) | ((v & 31) << 6) | (m << 3) | d];
  }
  let m: number;
  if (ops.length === 3) {
    if (low(ops[1]) !== d) throw new AsmError('shift by register needs Rd equal to Rn');
    m = low(ops[2]);
  } else {
    m = low(ops[1]);
  }
  return [0x4000 | (regOps[mnemonic]! << 6) | (m << 3) | d];
}

function encodeLoadStore(
  mnemonic: string,
  ops: string[],
  address: number,
  labels: Record<string, number>,
): number[] {
  expectCount(ops, 2);
  const t = low(ops[0]);
  if (!ops[1]!.startsWith('[')) {
    // ldr rt, label: PC-relative literal.
    if (mnemonic !== 'ldr') throw new AsmError(`${mnemonic.toUpperCase()} has no PC-relative form`);
    const offset = target(ops[1], labels) - ((address + 4) & ~3);
    return [0x4800 | (t << 8) | (checkRange(offset, 0, 1020, 'literal offset', 4) >> 2)];
  }
  const { rn, rm, offset } = memOperand(ops[1]);
  if (rm !== null) {
    if (rn > 7 || rm > 7) throw new AsmError('register offset needs low registers');
    return [0x5000 | (LS_REG[mnemonic]! << 9) | (rm << 6) | (rn << 3) | t];
  }
  if (rn === 13 || rn === 15) {
    if (mnemonic !== 'ldr' && !(mnemonic === 'str' && rn === 13)) {
      throw new AsmError(`${mnemonic.toUpperCase()} has no ${rn === 13 ? 'SP' : 'PC'}-relative form`);
    }
    const base = rn === 13 ? (mnemonic === 'ldr' ? 0x9800 : 0x9000) : 0x4800;
    return [base | (t << 8) | (checkRange(offset, 0, 1020, 'offset', 4) >> 2)];
  }
  const form = LS_IMM[mnemonic];
  if (form === undefined) throw new AsmError(`${mnemonic.toUpperCase()} has only a register-offset form`);
  const [op, scale] = form;
  if (rn > 7) throw new AsmError('immediate offset needs a low base register');
  const imm5 = checkRange(offset, 0, 31 * scale, 'offset', scale) / scale;
  return [(op << 11) | (imm5 << 6) | (rn << 3) | t];
}

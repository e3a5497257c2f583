import { describe, expect, it } from 'vitest';
import { Exc } from './cortex-m0.js';
import {
  createBareMachine,
  DATA_BASE,
  HARDFAULT_HANDLER,
  runSnippet,
  SNIPPET_ENTRY,
  type SnippetInput,
  type SnippetResult,
} from './snippet.js';
import { assembleThumb } from './thumb-asm.js';
import { Op, THUMB16_TABLE } from './thumb-decode.js';

const N = 1 << 31;
const Z = 1 << 30;
const C = 1 << 29;
const V = 1 << 28;

/** Flags as a string like 'nZCv' (upper case = set). */
function flags(res: SnippetResult): string {
  const x = res.xpsr;
  return ['n', 'z', 'c', 'v'].map((f, i) => ((x >>> (31 - i)) & 1 ? f.toUpperCase() : f)).join('');
}

function run(code: string, regs: Partial<Record<number, number>> = {}, extra: Partial<SnippetInput> = {}) {
  return runSnippet({ code, regs, ...extra });
}

/** Runs one instruction with r0/r1 (and apsr) set, returns [r0, flags]. */
function op1(code: string, r0: number, r1: number, apsr = 0): [number, string] {
  const res = run(code, { 0: r0, 1: r1 }, { apsr, steps: 1 });
  expect(res.fault).toBeNull();
  return [res.r[0]!, flags(res)];
}

describe('reset', () => {
  it('loads SP from word 0 and PC from word 1 of the vector table', () => {
    const { cpu } = createBareMachine();
    expect(cpu.sp).toBe(0x2001_0000);
    expect(cpu.pc).toBe(SNIPPET_ENTRY);
    expect(cpu.tbit).toBe(1);
    expect(cpu.handlerMode).toBe(false);
    expect(cpu.r[14]! >>> 0).toBe(0xffffffff);
  });

  it('locks up when the reset vector cannot be read', () => {
    const m = createBareMachine();
    m.cpu.vectorBase = 0x1000_0000; // unmapped
    m.cpu.reset();
    expect(m.cpu.lockup).toBe(true);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.execute(10)).toBe(0);
  });
});

describe('add and subtract flags', () => {
  it.each([
    // [a, b, result, flags]
    [1, 2, 3, 'nzcv'],
    [0xffffffff, 1, 0, 'nZCv'],
    [0x7fffffff, 1, 0x80000000, 'NzcV'],
    [0x80000000, 0x80000000, 0, 'nZCV'],
    [0xffffffff, 0xffffffff, 0xfffffffe, 'NzCv'],
    [0, 0, 0, 'nZcv'],
  ])('ADDS %i + %i', (a, b, result, f) => {
    expect(op1('adds r0, r0, r1', a, b)).toEqual([result, f]);
    expect(op1('cmn r0, r1', a, b)).toEqual([a, f]);
  });

  it.each([
    [3, 2, 1, 'nzCv'],
    [2, 3, 0xffffffff, 'Nzcv'],
    [5, 5, 0, 'nZCv'],
    [0x80000000, 1, 0x7fffffff, 'nzCV'],
    [0x7fffffff, 0xffffffff, 0x80000000, 'NzcV'],
    [0, 0, 0, 'nZCv'],
    [0, 1, 0xffffffff, 'Nzcv'],
  ])('SUBS %i - %i', (a, b, result, f) => {
    expect(op1('subs r0, r0, r1', a, b)).toEqual([result, f]);
    expect(op1('cmp r0, r1', a, b)).toEqual([a, f]);
  });

  it.each([
    // [a, b, carry in, result, flags]
    [1, 2, 1, 4, 'nzcv'],
    [0xffffffff, 0, 1, 0, 'nZCv'],
    [0xfffffffe, 0, 1, 0xffffffff, 'Nzcv'],
    [0x7fffffff, 0, 1, 0x80000000, 'NzcV'],
    [0x7ffffffe, 1, 1, 0x80000000, 'NzcV'],
    [0x80000000, 0x7fffffff, 1, 0, 'nZCv'],
    [0xffffffff, 0xffffffff, 1, 0xffffffff, 'NzCv'],
  ])('ADCS %i + %i + %i', (a, b, cin, result, f) => {
    expect(op1('adcs r0, r1', a, b, cin ? C : 0)).toEqual([result, f]);
  });

  it.each([
    // [a, b, carry in (NOT borrow), result, flags]
    [5, 3, 1, 2, 'nzCv'],
    [5, 3, 0, 1, 'nzCv'],
    [3, 3, 0, 0xffffffff, 'Nzcv'],
    [0, 0, 1, 0, 'nZCv'],
    [0, 0, 0, 0xffffffff, 'Nzcv'],
    [0x80000000, 0, 0, 0x7fffffff, 'nzCV'],
    [0x7fffffff, 0xffffffff, 1, 0x80000000, 'NzcV'],
  ])('SBCS %i - %i with C=%i', (a, b, cin, result, f) => {
    expect(op1('sbcs r0, r1', a, b, cin ? C : 0)).toEqual([result, f]);
  });

  it.each([
    [0, 0, 'nZCv'],
    [1, 0xffffffff, 'Nzcv'],
    [0x80000000, 0x80000000, 'NzcV'],
    [0xffffffff, 1, 'nzcv'],
  ])('NEGS/RSBS of %i', (a, result, f) => {
    expect(op1('negs r0, r1', 0, a)).toEqual([result, f]);
    expect(op1('rsbs r0, r1, #0', 0, a)).toEqual([result, f]);
  });

  it('ADDS/SUBS immediate forms', () => {
    expect(op1('adds r0, r1, #7', 0, 0xfffffffa)).toEqual([1, 'nzCv']);
    expect(op1('subs r0, r1, #1', 0, 0)).toEqual([0xffffffff, 'Nzcv']);
    expect(op1('adds r0, #255', 0x7fffff01, 0)).toEqual([0x80000000, 'NzcV']);
    expect(op1('subs r0, #1', 0x80000000, 0)).toEqual([0x7fffffff, 'nzCV']);
    expect(op1('cmp r0, #5', 5, 0)).toEqual([5, 'nZCv']);
    expect(op1('cmp r0, #6', 5, 0)).toEqual([5, 'Nzcv']);
    expect(op1('adds r0, r1, r0', 2, 3)).toEqual([5, 'nzcv']);
    expect(op1('subs r0, r1, r0', 2, 3)).toEqual([1, 'nzCv']);
  });

  it('MOVS immediate sets N and Z only; MOVS register keeps C and V', () => {
    expect(op1('movs r0, #0', 5, 0, C | V | N)).toEqual([0, 'nZCV']);
    expect(op1('movs r0, r1', 0, 0x80000000, C | V)).toEqual([0x80000000, 'NzCV']);
  });
});

describe('high registers, SP and PC arithmetic', () => {
  it('ADD and MOV with high registers set no flags', () => {
    const res = run(
      'mov r8, r0\nadd r8, r1\nmov r2, r8\nadd r2, r2',
      { 0: 0xffffffff, 1: 1 },
      { apsr: N | V },
    );
    expect(res.r[8]).toBe(0);
    expect(res.r[2]).toBe(0);
    expect(flags(res)).toBe('NzcV');
  });

  it('CMP with a high register sets flags', () => {
    const res = run('cmp r9, r1', { 9: 5, 1: 5 }, { steps: 1 });
    expect(flags(res)).toBe('nZCv');
  });

  it('ADD Rd, PC and MOV Rd, PC read the instruction address + 4', () => {
    const res = run('add r0, pc\nmov r1, pc', { 0: 0 }, { steps: 2 });
    expect(res.r[0]).toBe(SNIPPET_ENTRY + 4);
    expect(res.r[1]).toBe(SNIPPET_ENTRY + 2 + 4);
  });

  it('MOV PC and ADD PC branch without interworking (bit 0 ignored)', () => {
    const res = run('mov pc, r0\nnop\nnop\ntarget: movs r3, #7', { 0: SNIPPET_ENTRY + 6 }, { steps: 2 });
    expect(res.r[3]).toBe(7);
    expect(res.fault).toBeNull();
    const res2 = run('add pc, r0\nnop\nnop\nmovs r3, #9', { 0: 2 }, { steps: 2 });
    // PC + 4 + 2 = entry + 6.
    expect(res2.r[3]).toBe(9);
    expect(res2.cycles).toBe(4);
  });

  it('ADD/SUB SP immediate, ADD Rd, SP, ADR', () => {
    const res = run(
      'sub sp, #16\nadd r0, sp, #8\nadd sp, sp, #4\nadr r1, lit\nnop\n.align 2\nlit: .word 0',
      {},
    );
    expect(res.r[13]).toBe(0x2001_0000 - 12);
    expect(res.r[0]).toBe(0x2001_0000 - 8);
    // adr at entry+6: Align(entry+10, 4) = entry+8 = lit (nop at 8, .align pads none).
    expect(res.r[1]).toBe(SNIPPET_ENTRY + 12);
  });

  it('writing SP through MOV clears bits [1:0]', () => {
    const res = run('mov sp, r0', { 0: 0x2000_0103 }, { steps: 1 });
    expect(res.r[13]).toBe(0x2000_0100);
  });
});

describe('logical operations and MULS', () => {
  it('AND, EOR, ORR, BIC, MVN, TST set N and Z, keep C and V', () => {
    expect(op1('ands r0, r1', 0xf0f0, 0x0ff0, C | V)).toEqual([0x00f0, 'nzCV']);
    expect(op1('eors r0, r1', 0xffffffff, 0x7fffffff, 0)).toEqual([0x80000000, 'Nzcv']);
    expect(op1('orrs r0, r1', 0, 0, C)).toEqual([0, 'nZCv']);
    expect(op1('bics r0, r1', 0xff, 0x0f, 0)).toEqual([0xf0, 'nzcv']);
    expect(op1('mvns r0, r1', 0, 0xffffffff, V)).toEqual([0, 'nZcV']);
    expect(op1('tst r0, r1', 0x80000000, 0x80000001, 0)).toEqual([0x80000000, 'Nzcv']);
  });

  it('MULS keeps the low 32 bits, sets N and Z, keeps C and V', () => {
    expect(op1('muls r0, r1, r0', 0x10000, 0x10000, C | V)).toEqual([0, 'nZCV']);
    expect(op1('muls r0, r1, r0', 0xffffffff, 3, 0)).toEqual([0xfffffffd, 'Nzcv']);
    expect(op1('muls r0, r1, r0', 0x12345678, 0x9abcdef, 0)).toEqual([
      Math.imul(0x12345678, 0x9abcdef) >>> 0,
      'Nzcv',
    ]);
  });
});

describe('shifts', () => {
  const x = 0x80000001;
  it.each([
    // [op, amount, result, carry ('keep' = unchanged)]
    ['lsls', 0, x, 'keep'],
    ['lsls', 1, 2, 1],
    ['lsls', 31, 0x80000000, 0],
    ['lsls', 32, 0, 1],
    ['lsls', 33, 0, 0],
    ['lsls', 255, 0, 0],
    ['lsls', 256, x, 'keep'],
    ['lsrs', 0, x, 'keep'],
    ['lsrs', 1, 0x40000000, 1],
    ['lsrs', 31, 1, 0],
    ['lsrs', 32, 0, 1],
    ['lsrs', 33, 0, 0],
    ['lsrs', 255, 0, 0],
    ['lsrs', 256, x, 'keep'],
    ['asrs', 0, x, 'keep'],
    ['asrs', 1, 0xc0000000, 1],
    ['asrs', 31, 0xffffffff, 0],
    ['asrs', 32, 0xffffffff, 1],
    ['asrs', 33, 0xffffffff, 1],
    ['asrs', 255, 0xffffffff, 1],
    ['asrs', 256, x, 'keep'],
    ['rors', 0, x, 'keep'],
    ['rors', 1, 0xc0000000, 1],
    ['rors', 31, 3, 0],
    ['rors', 32, x, 1],
    ['rors', 33, 0xc0000000, 1],
    ['rors', 255, 3, 0],
    ['rors', 256, x, 'keep'],
  ] as const)('%s by register %i', (op, amount, result, carry) => {
    for (const cin of [0, C]) {
      const [r0, f] = op1(`${op} r0, r1`, x, amount, cin | V);
      expect(r0).toBe(result);
      const expectC = carry === 'keep' ? cin !== 0 : carry === 1;
      expect(f[2]).toBe(expectC ? 'C' : 'c');
      expect(f[3]).toBe('V');
      expect(f[0]).toBe(result >>> 31 ? 'N' : 'n');
      expect(f[1]).toBe(result === 0 ? 'Z' : 'z');
    }
  });

  it('shift amount uses only the bottom byte of Rm', () => {
    expect(op1('lsls r0, r1', 1, 0x101)).toEqual([2, 'nzcv']);
  });

  it.each([
    ['lsls r0, r1, #1', 0x80000001, 2, 'nzCv'],
    ['lsls r0, r1, #31', 3, 0x80000000, 'NzCv'],
    ['lsrs r0, r1, #1', 3, 1, 'nzCv'],
    ['lsrs r0, r1, #32', 0x80000000, 0, 'nZCv'],
    ['lsrs r0, r1, #32', 0x7fffffff, 0, 'nZcv'],
    ['asrs r0, r1, #32', 0x80000000, 0xffffffff, 'NzCv'],
    ['asrs r0, r1, #32', 0x7fffffff, 0, 'nZcv'],
    ['asrs r0, r1, #4', 0x80000008, 0xf8000000, 'NzCv'],
  ])('%s of %i', (code, input, result, f) => {
    expect(op1(code, 0, input)).toEqual([result, f]);
  });
});

describe('extend and reverse', () => {
  it.each([
    ['sxtb r0, r1', 0x1234_5680, 0xffffff80],
    ['sxth r0, r1', 0x1234_8001, 0xffff8001],
    ['uxtb r0, r1', 0x1234_5680, 0x80],
    ['uxth r0, r1', 0x1234_8001, 0x8001],
    ['rev r0, r1', 0x1234_5678, 0x7856_3412],
    ['rev16 r0, r1', 0x1234_5678, 0x3412_7856],
    ['revsh r0, r1', 0x1234_5680, 0xffff8056],
    ['revsh r0, r1', 0x1234_1234, 0x3412],
  ])('%s of %i', (code, input, result) => {
    expect(op1(code, 0, input, C)).toEqual([result, 'nzCv']);
  });
});

describe('loads and stores', () => {
  const D = DATA_BASE;
  const mem = [{ addr: D, bytes: [0x81, 0x82, 0x83, 0x84, 0xf5, 0x86, 0x07, 0x08] }];

  it('LDR/LDRH/LDRB immediate and register forms, with sign extension', () => {
    const res = run(
      `
      ldr r2, [r0]
      ldr r3, [r0, #4]
      ldrh r4, [r0, #2]
      ldrb r5, [r0, #4]
      ldrsb r6, [r0, r1]
      movs r1, #2
      ldrsh r7, [r0, r1]
      movs r1, #6
      ldrh r1, [r0, r1]
    `,
      { 0: D, 1: 4 },
      { memory: mem },
    );
    expect(res.r.slice(1, 8)).toEqual([0x0807, 0x84838281, 0x080786f5, 0x8483, 0xf5, 0xfffffff5, 0xffff8483]);
    const res2 = run(
      'ldr r2, [r0, r1]\nldrb r3, [r0, r1]\nldrh r4, [r0, r1]',
      { 0: D, 1: 4 },
      { memory: mem },
    );
    expect(res2.r.slice(2, 5)).toEqual([0x080786f5, 0xf5, 0x86f5]);
  });

  it('STR/STRH/STRB immediate and register forms', () => {
    const res = run(
      `
      str r1, [r0]
      strh r1, [r0, #4]
      strb r1, [r0, #7]
      movs r2, #8
      str r1, [r0, r2]
      movs r2, #14
      strh r1, [r0, r2]
      movs r2, #16
      strb r1, [r0, r2]
    `,
      { 0: D, 1: 0x11223344 },
      { dump: [{ addr: D, length: 20 }] },
    );
    expect(res.memory[0]!.bytes).toEqual([
      0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0, 0x44, 0x44, 0x33, 0x22, 0x11, 0, 0, 0x44, 0x33, 0x44, 0, 0, 0,
    ]);
  });

  it('SP-relative and PC-relative (literal) forms', () => {
    const res = run(
      `
      sub sp, #16
      str r1, [sp, #8]
      ldr r2, [sp, #8]
      ldr r3, value
      ldr r4, [pc, #4]
      b done
      .align 2
      value: .word 0xcafef00d
      .word 0x12345678
      done: nop
    `,
      { 1: 0xabcdef01 },
      { memory: [], dump: [] },
    );
    expect(res.r[2]).toBe(0xabcdef01);
    expect(res.r[3]).toBe(0xcafef00d);
    expect(res.r[4]).toBe(0x12345678);
  });

  it.each([
    ['ldr r2, [r0, #0]', 2],
    ['str r2, [r0, #0]', 1],
    ['ldrh r2, [r0, #0]', 1],
    ['strh r2, [r0, #0]', 3],
    ['ldrsh r2, [r0, r1]', 1],
    ['ldm r0!, {r1, r2}', 2],
    ['stm r0!, {r1, r2}', 2],
  ])('%s at an unaligned address raises HardFault', (code, offset) => {
    const res = run(code, { 0: D + offset, 1: 0 }, { steps: 1 });
    expect(res.fault).toBe('unaligned');
    expect(res.r[15]).toBe(HARDFAULT_HANDLER);
    // The faulting instruction changed nothing.
    expect(res.r[0]).toBe(D + offset);
  });

  it('byte accesses at odd addresses are fine', () => {
    const res = run('strb r1, [r0]\nldrb r2, [r0]', { 0: D + 3, 1: 0x1ff });
    expect(res.r[2]).toBe(0xff);
    expect(res.fault).toBeNull();
  });

  it('a bus error on a load or store raises HardFault', () => {
    expect(run('ldr r1, [r0]', { 0: 0x3000_0000 }, { steps: 1 }).fault).toBe('bus-error');
    expect(run('strb r1, [r0]', { 0: 0x3000_0001 }, { steps: 1 }).fault).toBe('bus-error');
    expect(run('pop {r1}', {}, { steps: 1 }).fault).toBe('bus-error'); // SP at the top of RAM
  });
});

describe('LDM, STM, PUSH, POP', () => {
  const D = DATA_BASE;

  it('STM writes ascending and writes back', () => {
    const res = run('stm r0!, {r1, r2, r4}', { 0: D, 1: 1, 2: 2, 4: 4 }, { dump: [{ addr: D, length: 12 }] });
    expect(res.r[0]).toBe(D + 12);
    expect(res.memory[0]!.bytes).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0]);
    expect(res.cycles).toBe(4);
  });

  it('STM with the base as lowest register stores its original value', () => {
    const res = run('stm r0!, {r0, r1}', { 0: D, 1: 7 }, { dump: [{ addr: D, length: 8 }] });
    expect(res.memory[0]!.bytes).toEqual([0, 0, 0, 0x20, 7, 0, 0, 0]);
    expect(res.r[0]).toBe(D + 8);
  });

  it('STM with the base in the list but not lowest is UNPREDICTABLE: HardFault', () => {
    // stm r1!, {r0, r1}
    const res = run('.hword 0xc103', { 1: D }, { steps: 1 });
    expect(res.fault).toBe('unpredictable');
  });

  it('LDM without the base in the list writes back; with it, does not', () => {
    const memory = [{ addr: D, bytes: [1, 0, 0, 0, 2, 0, 0, 0] }];
    const wb = run('ldm r0!, {r1, r2}', { 0: D }, { memory });
    expect([wb.r[0], wb.r[1], wb.r[2]]).toEqual([D + 8, 1, 2]);
    const noWb = run('ldm r0, {r0, r1}', { 0: D }, { memory });
    expect([noWb.r[0], noWb.r[1]]).toEqual([1, 2]);
    const noWb2 = run('ldm r1, {r0, r1}', { 1: D }, { memory });
    expect([noWb2.r[0], noWb2.r[1]]).toEqual([1, 2]);
  });

  it('empty register lists are UNPREDICTABLE: HardFault', () => {
    for (const hw of [0xc000, 0xc800, 0xb400, 0xbc00]) {
      expect(run(`.hword ${hw}`, {}, { steps: 1 }).fault).toBe('unpredictable');
    }
  });

  it('PUSH stores lowest register at lowest address; POP restores', () => {
    const res = run('push {r0, r2, lr}\npop {r3, r4, r5}', { 0: 10, 2: 12, 14: 0x1234 });
    expect(res.r.slice(3, 6)).toEqual([10, 12, 0x1234]);
    expect(res.r[13]).toBe(0x2001_0000);
    expect(res.cycles).toBe(4 + 4);
  });

  it('POP {pc} interworks: bit 0 set continues in Thumb state', () => {
    const res = run(
      'push {r0}\npop {pc}\nnop\ntarget: movs r1, #1',
      { 0: (SNIPPET_ENTRY + 6) | 1 },
      { steps: 3 },
    );
    expect(res.r[1]).toBe(1);
    expect(res.fault).toBeNull();
    expect(res.cycles).toBe(2 + 4 + 1);
  });

  it('POP {pc} with bit 0 clear faults (INVSTATE) at the next instruction', () => {
    const res = run('push {r0}\npop {pc}\nnop\ntarget: movs r1, #1', { 0: SNIPPET_ENTRY + 6 }, { steps: 3 });
    expect(res.fault).toBe('invalid-state');
    expect(res.r[1]).toBe(0);
    expect(res.r[15]).toBe(HARDFAULT_HANDLER);
  });
});

describe('branches', () => {
  const conditions: Array<[string, number, boolean]> = [
    ['eq', Z, true],
    ['eq', 0, false],
    ['ne', 0, true],
    ['ne', Z, false],
    ['cs', C, true],
    ['cs', 0, false],
    ['cc', 0, true],
    ['cc', C, false],
    ['mi', N, true],
    ['mi', 0, false],
    ['pl', 0, true],
    ['pl', N, false],
    ['vs', V, true],
    ['vs', 0, false],
    ['vc', 0, true],
    ['vc', V, false],
    ['hi', C, true],
    ['hi', C | Z, false],
    ['hi', 0, false],
    ['ls', Z, true],
    ['ls', 0, true],
    ['ls', C, false],
    ['ge', N | V, true],
    ['ge', 0, true],
    ['ge', N, false],
    ['lt', N, true],
    ['lt', V, true],
    ['lt', N | V, false],
    ['gt', 0, true],
    ['gt', N | V, true],
    ['gt', Z, false],
    ['gt', N, false],
    ['le', Z, true],
    ['le', V, true],
    ['le', 0, false],
    ['le', N | V, false],
  ];
  it.each(conditions)('b%s with flags %i taken=%s', (cond, apsr, taken) => {
    const res = run(`b${cond} skip\nmovs r0, #1\nskip: movs r1, #1`, {}, { apsr, steps: 2 });
    expect(res.r[0]).toBe(taken ? 0 : 1);
    expect(res.cycles).toBe(taken ? 3 + 1 : 1 + 1);
  });

  it('B and B<cond> go backwards', () => {
    const res = run('movs r0, #3\nloop: subs r0, #1\nbne loop\nb end\nmovs r1, #1\nend: nop');
    expect(res.r[0]).toBe(0);
    expect(res.r[1]).toBe(0);
  });

  it('BL sets LR to the return address with bit 0 and BX LR returns', () => {
    const res = run('bl fn\nmovs r1, #2\nb end\nfn: movs r0, #1\nbx lr\nend: nop', {});
    expect(res.r[0]).toBe(1);
    expect(res.r[1]).toBe(2);
    expect(res.r[14]).toBe((SNIPPET_ENTRY + 4) | 1);
  });

  it('BL reaches far targets in both directions', () => {
    const m = createBareMachine();
    const code = assembleThumb('bl 0x8000\n', 0x200).halfwords;
    m.bus.writeDebug(0x200, Uint8Array.from(new Uint8Array(new Uint16Array(code).buffer)));
    const back = assembleThumb('bl 0x200', 0x8000).halfwords;
    m.bus.writeDebug(0x8000, Uint8Array.from(new Uint8Array(new Uint16Array(back).buffer)));
    m.cpu.pc = 0x200;
    m.cpu.execute(1);
    expect(m.cpu.pc).toBe(0x8000);
    expect(m.cpu.r[14]).toBe(0x205);
    m.cpu.execute(1);
    expect(m.cpu.pc).toBe(0x200);
    expect(m.cpu.cycles).toBe(8);
  });

  it('BLX Rm links and interworks', () => {
    const res = run('blx r2\nb end\nfn: movs r0, #5\nbx lr\nend: nop', { 2: (SNIPPET_ENTRY + 4) | 1 });
    expect(res.r[0]).toBe(5);
    expect(res.r[14]).toBe((SNIPPET_ENTRY + 2) | 1);
    expect(res.fault).toBeNull();
  });

  it('BX to an address with bit 0 clear faults with INVSTATE on the next instruction', () => {
    const res = run('bx r0\nnop', { 0: SNIPPET_ENTRY + 2 }, { steps: 1 });
    expect(res.fault).toBeNull();
    expect(res.xpsr & (1 << 24)).toBe(0);
    const after = run('bx r0\nnop', { 0: SNIPPET_ENTRY + 2 }, { steps: 2 });
    expect(after.fault).toBe('invalid-state');
    expect(after.r[15]).toBe(HARDFAULT_HANDLER);
  });
});

describe('system instructions', () => {
  it('CPSID/CPSIE and MSR/MRS PRIMASK', () => {
    const res = run('cpsid i\nmrs r0, primask\ncpsie i\nmrs r1, primask\nmovs r2, #1\nmsr primask, r2');
    expect([res.r[0], res.r[1], res.primask]).toEqual([1, 0, 1]);
    expect(res.cycles).toBe(1 + 4 + 1 + 4 + 1 + 4);
  });

  it('MRS/MSR APSR, xPSR and IPSR', () => {
    const res = run('msr apsr, r0\nmrs r1, apsr\nmrs r2, xpsr\nmrs r3, ipsr\nmrs r4, epsr', {
      0: 0xf000_00ff,
    });
    expect(res.r[1]).toBe(0xf000_0000);
    expect(res.r[2]).toBe(0xf000_0000); // EPSR.T reads as zero
    expect(res.r[3]).toBe(0);
    expect(res.r[4]).toBe(0);
    expect(flags(res)).toBe('NZCV');
  });

  it('CONTROL.SPSEL banks SP between MSP and PSP in thread mode', () => {
    const res = run(
      `
      msr psp, r0
      movs r1, #2
      msr control, r1
      isb
      mov r2, sp
      mrs r3, msp
      mrs r4, control
      movs r1, #0
      msr control, r1
      mov r5, sp
    `,
      { 0: 0x2000_8003 },
    );
    expect(res.r[2]).toBe(0x2000_8000);
    expect(res.r[3]).toBe(0x2001_0000);
    expect(res.r[4]).toBe(2);
    expect(res.r[5]).toBe(0x2001_0000);
    expect(res.psp).toBe(0x2000_8000);
  });

  it('MSR/MRS with SP, PC or an unknown SYSm are UNPREDICTABLE: HardFault', () => {
    expect(run('.hword 0xf38d, 0x8808', {}, { steps: 1 }).fault).toBe('unpredictable'); // msr msp, sp
    expect(run('.hword 0xf3ef, 0x8d08', {}, { steps: 1 }).fault).toBe('unpredictable'); // mrs sp, msp
    expect(run('.hword 0xf3ef, 0x8004', {}, { steps: 1 }).fault).toBe('unpredictable'); // sysm 4
    expect(run('.hword 0xf380, 0x8811', {}, { steps: 1 }).fault).toBe('unpredictable'); // sysm 17
  });

  it('DMB, DSB, ISB, NOP, YIELD, SEV are no-ops taking the documented cycles', () => {
    const res = run('dmb\ndsb\nisb\nnop\nyield\nsev\n.hword 0xbf70');
    expect(res.fault).toBeNull();
    expect(res.executed).toBe(7);
    expect(res.cycles).toBe(4 + 4 + 4 + 1 + 1 + 1 + 1);
  });

  it('WFI sleeps; WFE consumes the event set by SEV, then sleeps', () => {
    const m = createBareMachine();
    const code = assembleThumb('wfi\nsev\nwfe\nwfe\nnop', SNIPPET_ENTRY).bytes;
    m.bus.writeDebug(SNIPPET_ENTRY, code);
    expect(m.cpu.execute(100)).toBe(1);
    expect(m.cpu.sleeping).toBe(true);
    expect(m.cpu.execute(100)).toBe(0);
    m.cpu.wake();
    expect(m.cpu.execute(100)).toBe(3);
    expect(m.cpu.sleeping).toBe(true);
    expect(m.cpu.pc).toBe(SNIPPET_ENTRY + 8);
  });

  it('SVC takes the SVCall exception with the next instruction as return address', () => {
    const m = createBareMachine();
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('movs r0, #1\nsvc #3\nmovs r0, #2', SNIPPET_ENTRY).bytes);
    m.cpu.execute(2);
    expect(m.cpu.ipsr).toBe(Exc.SVCall);
    expect(m.cpu.pc).toBe(0xf10);
    expect(m.cpu.r[14]! >>> 0).toBe(0xfffffff9);
    const frame = m.cpu.sp;
    expect(frame).toBe(0x2001_0000 - 32);
    expect(m.bus.read32(frame)).toBe(1); // r0
    expect(m.bus.read32(frame + 24)).toBe(SNIPPET_ENTRY + 4); // return address
    expect(m.bus.read32(frame + 28)).toBe(0x0100_0000); // xPSR with T
  });

  it('SVC with PRIMASK set escalates to HardFault', () => {
    const res = run('cpsid i\nsvc #0', {}, { steps: 2 });
    expect(res.fault).toBe('escalation');
    expect(res.r[15]).toBe(HARDFAULT_HANDLER);
  });

  it('BKPT without a debugger escalates to HardFault; a debugger hook halts at it', () => {
    const res = run('bkpt #1', {}, { steps: 1 });
    expect(res.fault).toBe('bkpt');
    const m = createBareMachine();
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('nop\nbkpt #0x42\nnop', SNIPPET_ENTRY).bytes);
    const seen: number[] = [];
    m.cpu.onBreakpoint = (imm) => {
      seen.push(imm);
      return true;
    };
    m.cpu.execute(10);
    expect(seen).toEqual([0x42]);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.pc).toBe(SNIPPET_ENTRY + 2);
  });
});

describe('exceptions', () => {
  it('exception entry stacks the frame 8-byte aligned and return restores everything', () => {
    const m = createBareMachine();
    // Handler: modify r0-r3 and flags, then return.
    m.bus.writeDebug(0xf10, assembleThumb('movs r0, #0\nmovs r1, #0\nbx lr', 0xf10).bytes);
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('sub sp, #4\nsvc #0\nmovs r7, #1', SNIPPET_ENTRY).bytes);
    m.cpu.r[0] = 10;
    m.cpu.r[1] = 11;
    m.cpu.apsr = (N | C) >>> 0;
    m.cpu.execute(2);
    // SP was 0x2000fffc: frame at 0x2000ffd8 with the padding bit in the stacked xPSR.
    expect(m.cpu.sp).toBe(0x2000_ffd8);
    expect(m.bus.read32(0x2000_ffd8 + 28)).toBe((N | C | (1 << 24) | (1 << 9)) >>> 0);
    m.cpu.execute(3);
    expect(m.cpu.ipsr).toBe(0);
    expect(m.cpu.sp).toBe(0x2000_fffc);
    expect([m.cpu.r[0], m.cpu.r[1]]).toEqual([10, 11]);
    expect(m.cpu.apsr >>> 0).toBe((N | C) >>> 0);
    expect(m.cpu.pc).toBe(SNIPPET_ENTRY + 4);
    m.cpu.execute(1);
    expect(m.cpu.r[7]).toBe(1);
  });

  it('exception from thread mode on PSP returns to PSP', () => {
    const m = createBareMachine();
    m.bus.writeDebug(0xf10, assembleThumb('mov r4, sp\nbx lr', 0xf10).bytes);
    m.bus.writeDebug(
      SNIPPET_ENTRY,
      assembleThumb('msr psp, r0\nmovs r1, #2\nmsr control, r1\nsvc #0\nmov r3, sp', SNIPPET_ENTRY).bytes,
    );
    m.cpu.r[0] = 0x2000_8000;
    m.cpu.execute(4);
    expect(m.cpu.r[14]! >>> 0).toBe(0xfffffffd);
    expect(m.cpu.psp).toBe(0x2000_8000 - 32);
    m.cpu.execute(3);
    expect(m.cpu.r[4]).toBe(0x2001_0000); // handler ran on MSP
    expect(m.cpu.r[3]).toBe(0x2000_8000);
    expect(m.cpu.control).toBe(2);
  });

  it('a fault inside the HardFault handler locks up', () => {
    const m = createBareMachine();
    m.bus.writeDebug(HARDFAULT_HANDLER, assembleThumb('udf #1', HARDFAULT_HANDLER).bytes);
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('udf #0', SNIPPET_ENTRY).bytes);
    m.cpu.execute(10);
    expect(m.cpu.lockup).toBe(true);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.pc).toBe(0xfffffffe);
  });

  it('an invalid EXC_RETURN raises HardFault', () => {
    const m = createBareMachine();
    m.bus.writeDebug(0xf10, assembleThumb('bx r0', 0xf10).bytes);
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('svc #0', SNIPPET_ENTRY).bytes);
    m.cpu.r[0] = 0xfffffff5 | 0;
    m.cpu.execute(2);
    expect(m.cpu.lastFault).toBe('exc-return');
    expect(m.cpu.ipsr).toBe(Exc.HardFault);
  });
});

describe('undefined and unpredictable encodings', () => {
  it.each([
    ['udf #0', 0xde00, 'undefined'],
    ['cbz (ARMv7-M only)', 0xb100, 'undefined'],
    ['it eq (ARMv7-M only)', 0xbf08, 'undefined'],
    ['setend', 0xb650, 'undefined'],
    ['1011 1010 10xx', 0xba80, 'undefined'],
    ['add pc, pc', 0x44ff, 'unpredictable'],
    ['cmp low, low (high form)', 0x4508, 'unpredictable'],
    ['cmp r8, pc', 0x45f8, 'unpredictable'],
    ['bx with bits 2:0 set', 0x4701, 'unpredictable'],
    ['blx pc', 0x47f8, 'unpredictable'],
    ['cps with wrong bits', 0xb663, 'unpredictable'],
  ])('%s raises HardFault', (_name, hw, kind) => {
    const res = run(`.hword ${hw}`, {}, { steps: 1 });
    expect(res.fault).toBe(kind);
    expect(res.r[15]).toBe(HARDFAULT_HANDLER);
    expect(res.r[13]).toBe(0x2001_0000 - 32);
  });

  it.each([
    ['udf.w', [0xf7f0, 0xa000]],
    ['32-bit prefix 11101', [0xe800, 0x0000]],
    ['32-bit prefix 11111', [0xf800, 0x8000]],
    ['hw2 bit 15 clear', [0xf000, 0x0000]],
    ['B.W (ARMv7-M only)', [0xf000, 0x9000]],
    ['CLREX-like misc control', [0xf3bf, 0x8f2f]],
  ])('%s raises HardFault', (_name, hws) => {
    const res = run(`.hword ${hws.join(', ')}`, {}, { steps: 1 });
    expect(res.fault).toBe('undefined');
  });

  it('every table entry of the 16-bit space is classified', () => {
    let undef = 0;
    for (let i = 0; i < 65536; i++) if (THUMB16_TABLE[i] === Op.UNDEF) undef++;
    // CBZ/CBNZ (4 x 256), 0111/1000 (512), 0110 other than CPS (224), REV 10 (64), IT (15 x 16 = 240).
    expect(undef).toBe(4 * 256 + 512 + 224 + 64 + 240);
  });
});

describe('fetch', () => {
  it('fetching from an unmapped address raises HardFault (bus error)', () => {
    const res = run('bx r0', { 0: 0x1000_0001 }, { steps: 2 });
    expect(res.fault).toBe('bus-error');
  });

  it('fetching from an execute-never region raises HardFault', () => {
    const res = run('bx r0', { 0: 0x4000_0001 }, { steps: 2 });
    expect(res.fault).toBe('execute-never');
  });

  it('code modified in RAM is seen on the next fetch', () => {
    const m = createBareMachine();
    m.bus.writeDebug(
      SNIPPET_ENTRY,
      assembleThumb('movs r0, #1\nstrh r2, [r1]\nmovs r0, #2', SNIPPET_ENTRY).bytes,
    );
    m.cpu.r[1] = SNIPPET_ENTRY + 4;
    m.cpu.r[2] = assembleThumb('movs r0, #3').halfwords[0]!;
    m.cpu.execute(3);
    expect(m.cpu.r[0]).toBe(3);
  });

  it('execute counts instructions, stops at the limit and on requestExit', () => {
    const m = createBareMachine();
    m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb('loop: adds r0, #1\nb loop', SNIPPET_ENTRY).bytes);
    expect(m.cpu.execute(101)).toBe(101);
    expect(m.cpu.r[0]).toBe(51);
    expect(m.cpu.sliceInstructions).toBe(101);
    m.cpu.requestExit();
    expect(m.cpu.execute(10)).toBe(10); // a request before execute does not carry over
  });
});

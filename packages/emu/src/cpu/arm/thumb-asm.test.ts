import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { assembleThumb } from './thumb-asm.js';

function enc(line: string, base = 0): number[] {
  return assembleThumb(line, base).halfwords;
}

describe('thumb assembler', () => {
  // Encodings checked by hand against the ARMv6-M ARM encoding diagrams.
  it.each([
    ['movs r0, #0', [0x2000]],
    ['movs r2, r3', [0x001a]],
    ['mov r8, r1', [0x4688]],
    ['mov sp, r0', [0x4685]],
    ['adds r1, r1, #3', [0x1cc9]],
    ['adds r1, #3', [0x3103]],
    ['adds r0, r1, r2', [0x1888]],
    ['subs r3, r3, #5', [0x1f5b]],
    ['subs r3, #5', [0x3b05]],
    ['subs r0, r1, r2', [0x1a88]],
    ['add r0, r8', [0x4440]],
    ['add sp, r0', [0x4485]],
    ['add r4, sp, r4', [0x446c]],
    ['add sp, sp, #32', [0xb008]],
    ['sub sp, #16', [0xb084]],
    ['add r5, sp, #1016', [0xadfe]],
    ['ands r0, r1', [0x4008]],
    ['eors r2, r2, r3', [0x405a]],
    ['lsls r0, r1', [0x4088]],
    ['lsls r0, r1, #2', [0x0088]],
    ['lsrs r0, r1, #32', [0x0808]],
    ['asrs r0, r1, #1', [0x1048]],
    ['rors r0, r1', [0x41c8]],
    ['adcs r0, r1', [0x4148]],
    ['sbcs r0, r1', [0x4188]],
    ['tst r0, r1', [0x4208]],
    ['negs r0, r1', [0x4248]],
    ['rsbs r0, r1, #0', [0x4248]],
    ['cmp r0, r1', [0x4288]],
    ['cmp r0, #255', [0x28ff]],
    ['cmp r8, r1', [0x4588]],
    ['cmn r0, r1', [0x42c8]],
    ['orrs r0, r1', [0x4308]],
    ['muls r0, r1, r0', [0x4348]],
    ['bics r0, r1', [0x4388]],
    ['mvns r0, r1', [0x43c8]],
    ['bx lr', [0x4770]],
    ['blx r3', [0x4798]],
    ['ldr r0, [r1, #4]', [0x6848]],
    ['str r0, [r1]', [0x6008]],
    ['ldrb r2, [r3, #31]', [0x7fda]],
    ['strh r2, [r3, #62]', [0x87da]],
    ['ldrh r2, [r3, #2]', [0x885a]],
    ['ldr r0, [r1, r2]', [0x5888]],
    ['ldrsb r0, [r1, r2]', [0x5688]],
    ['ldrsh r0, [r1, r2]', [0x5e88]],
    ['str r0, [sp, #4]', [0x9001]],
    ['ldr r7, [sp, #1020]', [0x9fff]],
    ['ldr r0, [pc, #8]', [0x4802]],
    ['push {r4-r7, lr}', [0xb5f0]],
    ['pop {r4-r7, pc}', [0xbdf0]],
    ['stm r0!, {r1, r2}', [0xc006]],
    ['ldm r0!, {r1, r2}', [0xc806]],
    ['ldm r0, {r0, r1}', [0xc803]],
    ['sxth r0, r1', [0xb208]],
    ['sxtb r0, r1', [0xb248]],
    ['uxth r0, r1', [0xb288]],
    ['uxtb r0, r1', [0xb2c8]],
    ['rev r0, r1', [0xba08]],
    ['rev16 r0, r1', [0xba48]],
    ['revsh r0, r1', [0xbac8]],
    ['cpsie i', [0xb662]],
    ['cpsid i', [0xb672]],
    ['svc #0x12', [0xdf12]],
    ['bkpt #0xab', [0xbeab]],
    ['udf #0', [0xde00]],
    ['nop', [0xbf00]],
    ['yield', [0xbf10]],
    ['wfe', [0xbf20]],
    ['wfi', [0xbf30]],
    ['sev', [0xbf40]],
    ['msr primask, r0', [0xf380, 0x8810]],
    ['mrs r0, primask', [0xf3ef, 0x8010]],
    ['msr control, r1', [0xf381, 0x8814]],
    ['mrs r2, psp', [0xf3ef, 0x8209]],
    ['dsb sy', [0xf3bf, 0x8f4f]],
    ['dmb', [0xf3bf, 0x8f5f]],
    ['isb sy', [0xf3bf, 0x8f6f]],
    ['udf.w #0x1234', [0xf7f1, 0xa234]],
    ['b.n 0', [0xe7fe]],
    ['beq 0', [0xd0fe]],
    ['bl 4', [0xf000, 0xf800]],
    ['bl 0', [0xf7ff, 0xfffe]],
  ])('%s', (line, expected) => {
    expect(enc(line)).toEqual(expected);
  });

  it('resolves labels forwards and backwards', () => {
    const out = assembleThumb(
      `
      start:  movs r0, #1
              b end      @ forward
      back:   bne start  // backward
      end:    bl back
              .word end, 0x12345678
    `,
      0x100,
    );
    expect(out.labels).toEqual({ start: 0x100, back: 0x104, end: 0x106 });
    // b end: 0x106 - (0x102 + 4) = 0 → 0xe000; bne start: 0x100 - 0x108 = -8 → 0xd1fc.
    expect(out.halfwords.slice(0, 3)).toEqual([0x2001, 0xe000, 0xd1fc]);
    // bl back: 0x104 - 0x10a = -6.
    expect(out.halfwords.slice(3, 5)).toEqual([0xf7ff, 0xfffd]);
    expect(out.halfwords.slice(5)).toEqual([0x0106, 0x0000, 0x5678, 0x1234]);
  });

  it('encodes a PC-relative literal load against Align(PC, 4)', () => {
    const out = assembleThumb(
      `
        nop
        ldr r1, value   @ at 2: Align(6, 4) = 4, offset 4
        nop
        nop
      value: .word 0xdeadbeef
    `,
    );
    expect(out.halfwords[1]).toBe(0x4901);
  });

  it('pads .align with NOPs', () => {
    expect(assembleThumb('nop\n.align 2\n.word 1').halfwords).toEqual([0xbf00, 0xbf00, 1, 0]);
  });

  it('reports mistakes with the line number', () => {
    expect(() => assembleThumb('nop\nfrob r0')).toThrow(UserError);
    expect(() => assembleThumb('nop\nfrob r0')).toThrow(/line 2: unknown instruction 'frob'/);
    expect(() => assembleThumb('movs r8, #1')).toThrow(/low register/);
    expect(() => assembleThumb('b nowhere')).toThrow(/unknown label 'nowhere'/);
    expect(() => assembleThumb('movs r0, #256')).toThrow(/out of range/);
    expect(() => assembleThumb('ldm r0!, {r0, r1}')).toThrow(/no write-back/);
  });
});

/**
 * Benchmarks of the Cortex-M0 interpreter: a bitwise CRC-32 over a 256-byte buffer in RAM
 * (loads, ALU ops, flag-setting shifts, taken and not-taken conditional branches), run forever
 * in a loop from code in RAM at 0. Rates are guest instructions per second (M/s = MIPS).
 *
 * The reference is the same CRC written directly in JavaScript, run for the same amount of
 * work: each of its "operations" is one guest-instruction equivalent (the guest's measured
 * instructions per CRC byte), so the ratio is the interpreter's speed relative to native JS.
 *
 * Run with `npm run bench -- cpu` (or `node bench/run.js cpu` after `npx tsc -b packages/emu`).
 */
import { createBareMachine, DATA_BASE, SNIPPET_ENTRY } from '../packages/emu/dist/cpu/arm/snippet.js';
import { assembleThumb } from '../packages/emu/dist/cpu/arm/thumb-asm.js';

/** Results are folded into this so the JIT cannot drop the measured work. */
export let sink = 0;

const BUFFER_LENGTH = 256;

const CRC_PROGRAM = `
start:
    ldr r0, buffer      @ r0 = buffer
    movs r1, #1
    lsls r1, r1, #8     @ r1 = 256 bytes
    movs r2, #0
    mvns r2, r2         @ crc = 0xffffffff
    ldr r3, poly
outer:
    ldrb r4, [r0]
    eors r2, r4
    movs r5, #8
inner:
    lsrs r2, r2, #1
    bcc skip
    eors r2, r3
skip:
    subs r5, #1
    bne inner
    adds r0, #1
    subs r1, #1
    bne outer
    mvns r2, r2
    ldr r6, result
    str r2, [r6]
    b start
    .align 2
buffer: .word ${DATA_BASE}
poly:   .word 0xedb88320
result: .word ${DATA_BASE + 0x1000}
`;

function fillBuffer(bytes) {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** A machine with the program loaded; also measures instructions per CRC byte and checks the result. */
function setupGuest() {
  const m = createBareMachine();
  m.bus.writeDebug(SNIPPET_ENTRY, assembleThumb(CRC_PROGRAM, SNIPPET_ENTRY).bytes);
  fillBuffer(m.data.data.subarray(0, BUFFER_LENGTH));
  m.cpu.reset();
  // One full pass: run until the result word is written, counting instructions.
  let executed = 0;
  while (m.bus.read32(DATA_BASE + 0x1000) === 0 && executed < 10_000_000) executed += m.cpu.execute(1);
  const expected = crc32(m.data.data.subarray(0, BUFFER_LENGTH));
  const got = m.bus.read32(DATA_BASE + 0x1000);
  if (got !== expected) throw new Error(`guest CRC 0x${got.toString(16)} != 0x${expected.toString(16)}`);
  return { m, instructionsPerByte: executed / BUFFER_LENGTH };
}

const cpuGroup = {
  name: 'cpu cortex-m0 (guest instructions/s)',
  reference: 'JS CRC-32, same work',
  cases: [
    {
      name: 'JS CRC-32, same work',
      setup() {
        const { instructionsPerByte } = setupGuest();
        const bytes = new Uint8Array(BUFFER_LENGTH);
        fillBuffer(bytes);
        let carry = 0;
        return (n) => {
          // n guest-instruction equivalents of work.
          carry += n / instructionsPerByte;
          let todo = Math.floor(carry);
          carry -= todo;
          let crc = 0xffffffff;
          let i = 0;
          while (todo-- > 0) {
            crc ^= bytes[i];
            for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
            i = (i + 1) & (BUFFER_LENGTH - 1);
          }
          sink ^= crc;
        };
      },
    },
    {
      name: 'interpreter, CRC-32 loop in RAM',
      setup() {
        const { m } = setupGuest();
        const cpu = m.cpu;
        return (n) => {
          let left = n;
          while (left > 0) left -= cpu.execute(left);
          sink ^= cpu.r[2];
        };
      },
    },
    {
      name: 'interpreter, 1000-instruction slices',
      setup() {
        const { m } = setupGuest();
        const cpu = m.cpu;
        return (n) => {
          let left = n;
          while (left > 0) left -= cpu.execute(Math.min(left, 1000));
          sink ^= cpu.r[2];
        };
      },
    },
  ],
};

export function groups() {
  return [cpuGroup];
}

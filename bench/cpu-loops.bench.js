/**
 * Cortex-M0 interpreter speed on two tight loops, against QEMU's JIT on the same code (issue 3,
 * Performance). Rates are guest instructions per second (M/s = MIPS).
 *
 * (a) 10 instructions per iteration mixing ALU, load and store:
 *       ldr r4,[r1]; adds r4,r4,r2; eors r4,r3; lsls r5,r4,#3; str r4,[r1]; str r5,[r1,#4];
 *       adds r2,#3; subs r0,#1; cmp r0,#0; bne
 * (b) 2 instructions per iteration: subs r0,#1; bne
 *
 * Each loop runs from flash (0x0) or from RAM (copied to 0x20000000 by the image's start-up code
 * and branched to). The same raw image (micro:bit map: flash 256 KiB at 0, RAM 16 KiB at
 * 0x20000000) runs on our CPU and under `qemu-system-arm -M microbit`. After N iterations it
 * enables the nRF51 UART, writes one byte and spins.
 *
 * Ours: CortexM0 over an AddressSpace with that map, `execute(n)` called directly.
 * QEMU: wall time from launch until the byte arrives on stdout, for a small and a large N (best
 * of a few launches each); the difference cancels start-up, so MIPS = ΔN × insns/iteration / Δt.
 * QEMU runs in a child process (this file with `--qemu`) so the harness stays synchronous; the
 * QEMU case is skipped with a message when qemu-system-arm is not installed.
 *
 * Correctness: before measuring, every variant runs 1000 iterations on our CPU to the end label
 * and checks the instruction count, r0 = 0 and the two data words against a JavaScript model.
 *
 * Also here: the cost of the debug hooks (no breakpoint, one breakpoint that is never hit, one
 * watchpoint that is never hit) on loop (a).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { AddressSpace } from '../packages/emu/dist/core/address-space.js';
import { Log } from '../packages/emu/dist/core/log.js';
import { MemoryRegion } from '../packages/emu/dist/core/memory.js';
import { CortexM0 } from '../packages/emu/dist/cpu/arm/cortex-m0.js';
import { assembleThumb } from '../packages/emu/dist/cpu/arm/thumb-asm.js';

/** Results are folded into this so the JIT cannot drop the measured work. */
export let sink = 0;

const FLASH_SIZE = 256 * 1024;
const RAM_BASE = 0x2000_0000;
const RAM_SIZE = 16 * 1024;
/** Where the loop runs in the RAM variants; data words sit at DATA. */
const RAM_CODE = RAM_BASE;
const DATA = RAM_BASE + 0x1000;
const CODE_START = 0xc0;
const KEY = 0x5a5a_1234;

const LOOPS = {
  a: {
    label: '(a) 10-insn ALU/LDR/STR loop',
    perIteration: 10,
    body: `
loop:
    ldr r4, [r1, #0]
    adds r4, r4, r2
    eors r4, r3
    lsls r5, r4, #3
    str r4, [r1, #0]
    str r5, [r1, #4]
    adds r2, #3
    subs r0, #1
    cmp r0, #0
    bne loop
    bx lr`,
  },
  b: {
    label: '(b) 2-insn countdown loop',
    perIteration: 2,
    body: `
loop:
    subs r0, #1
    bne loop
    bx lr`,
  },
};

/** JavaScript model of loop (a): the two data words after n iterations. */
function modelA(n) {
  let w0 = 0;
  let w1 = 0;
  let r2 = 0;
  for (let i = 0; i < n; i++) {
    const r4 = ((w0 + r2) ^ KEY) | 0;
    w0 = r4 >>> 0;
    w1 = (r4 << 3) >>> 0;
    r2 = (r2 + 3) | 0;
  }
  return [w0, w1];
}

function source(loop, where, iterations, labels) {
  const L = (name) => labels?.[name] ?? 0;
  const loopAddr = where === 'ram' ? RAM_CODE : L('loop');
  return `
entry:
    ldr r5, p_src
    ldr r6, p_dst
    movs r7, #${L('loop_end') - L('loop')}
copy:                   @ copy the loop (position-independent) to RAM
    subs r7, #2
    ldrh r4, [r5, r7]
    strh r4, [r6, r7]
    bne copy
    ldr r0, p_iters
    ldr r1, p_data
    movs r2, #0
    str r2, [r1, #0]
    str r2, [r1, #4]
    ldr r3, p_key
    ldr r4, p_target
    ldr r6, p_done
    mov lr, r6
    bx r4
    .align 2
${LOOPS[loop].body}
loop_end:
done:
    ldr r6, p_enable
    movs r7, #4
    str r7, [r6]        @ UART0 ENABLE = 4
    ldr r6, p_starttx
    movs r7, #1
    str r7, [r6]        @ TASKS_STARTTX = 1
    ldr r6, p_txd
    ldr r7, [r1, #0]
    adds r7, r7, r0
    str r7, [r6]        @ TXD = low byte of data word 0 + r0 (checked by the QEMU runner)
hang:
    b hang
    .align 2
p_src:     .word ${L('loop')}
p_dst:     .word ${RAM_CODE}
p_iters:   .word ${iterations >>> 0}
p_data:    .word ${DATA}
p_key:     .word ${KEY}
p_target:  .word ${(loopAddr + 1) >>> 0}
p_done:    .word ${L('done') + 1}
p_enable:  .word 0x40002500
p_starttx: .word 0x40002008
p_txd:     .word 0x4000251c
`;
}

/** The flash image (vector table + code) and the addresses of interest. */
function buildImage(loop, where, iterations) {
  const first = assembleThumb(source(loop, where, iterations, null), CODE_START);
  const { bytes, labels } = assembleThumb(source(loop, where, iterations, first.labels), CODE_START);
  const image = new Uint8Array(CODE_START + bytes.length);
  const view = new DataView(image.buffer);
  view.setUint32(0, RAM_BASE + RAM_SIZE, true);
  view.setUint32(4, labels.entry + 1, true);
  for (let i = 2; i < CODE_START / 4; i++) view.setUint32(i * 4, labels.hang + 1, true);
  image.set(bytes, CODE_START);
  const loopAddr = where === 'ram' ? RAM_CODE : labels.loop;
  return { image, loopAddr, done: labels.done };
}

/** Our CPU over the micro:bit memory map with the image in flash, reset. */
function createMachine(image) {
  const root = MemoryRegion.container('system', 0x1_0000_0000);
  root.addSubregion(0, MemoryRegion.rom('flash', FLASH_SIZE));
  root.addSubregion(RAM_BASE, MemoryRegion.ram('sram', RAM_SIZE));
  const bus = new AddressSpace('cpu-memory', root, new Log());
  bus.writeDebug(0, image);
  const cpu = new CortexM0('cpu0', bus);
  cpu.reset();
  return { cpu, bus };
}

/** Runs to `pc`; returns the instructions executed. */
function runTo(cpu, pc, limit) {
  let executed = 0;
  while (cpu.pc !== pc && executed < limit) executed += cpu.execute(1);
  if (cpu.pc !== pc) throw new Error(`did not reach 0x${pc.toString(16)} (pc 0x${cpu.pc.toString(16)})`);
  return executed;
}

/** Runs 1000 iterations and checks the result against the model. */
function check(loop, where) {
  const n = 1000;
  const { image, loopAddr, done } = buildImage(loop, where, n);
  const { cpu, bus } = createMachine(image);
  runTo(cpu, loopAddr, 10_000);
  const executed = runTo(cpu, done, 100 * n);
  const expectedCount = n * LOOPS[loop].perIteration + 1; // + the final bx lr
  if (executed !== expectedCount) throw new Error(`loop ${loop}/${where}: ${executed} != ${expectedCount}`);
  if (cpu.r[0] !== 0) throw new Error(`loop ${loop}/${where}: r0 = ${cpu.r[0]}`);
  if (loop === 'a') {
    const [w0, w1] = modelA(n);
    if (bus.read32(DATA) !== w0 || bus.read32(DATA + 4) !== w1) {
      throw new Error(`loop a/${where}: data words differ from the model`);
    }
  }
}

/** A measuring function for the harness: the CPU sits in the loop with ~4e9 iterations to go. */
function interpreterCase(loop, where, debug) {
  const { image, loopAddr, done } = buildImage(loop, where, 0xffff_ffff);
  const { cpu } = createMachine(image);
  runTo(cpu, loopAddr, 10_000);
  if (debug === 'breakpoint') cpu.addBreakpoint(0x3_0000); // flash-free address, never reached
  if (debug === 'watchpoint') cpu.addWatchpoint(RAM_BASE + 0x2000, 4, 'write');
  return (n) => {
    let left = n;
    while (left > 0) {
      const ran = cpu.execute(left);
      if (ran === 0 || cpu.pc === done) throw new Error('the loop stopped');
      left -= ran;
    }
    sink ^= cpu.r[2];
  };
}

// ---- QEMU ----

const QEMU = 'qemu-system-arm';

function qemuAvailable() {
  try {
    execFileSync(QEMU, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Seconds from launch until the first byte on stdout, which must be `expectedByte`. */
function timeQemuOnce(imagePath, expectedByte) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(
      QEMU,
      ['-M', 'microbit', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-kernel', imagePath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let done = false;
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d) => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - start) / 1000;
      child.kill('SIGKILL');
      if (d[0] !== expectedByte)
        reject(new Error(`qemu printed 0x${d[0].toString(16)}, expected 0x${expectedByte.toString(16)}`));
      resolve(seconds);
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`qemu exited (${code}) before printing: ${stderr.trim()}`));
    });
  });
}

/** Child-process side: times QEMU on loop/where, prints { ops, seconds } as JSON. */
async function qemuMain(loop, where) {
  const dir = mkdtempSync(join(tmpdir(), 'tsemu-bench-'));
  try {
    const perIteration = LOOPS[loop].perIteration;
    // About 2e9 guest instructions for the large run; 1000 iterations for the small one.
    const small = 1000;
    const large = Math.min(0xffff_fff0, Math.round(2e9 / perIteration));
    const best = async (n) => {
      const path = join(dir, `${loop}-${where}-${n}.bin`);
      writeFileSync(path, buildImage(loop, where, n).image);
      const expectedByte = loop === 'a' ? modelA(n)[0] & 0xff : 0;
      let t = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) t = Math.min(t, await timeQemuOnce(path, expectedByte));
      return t;
    };
    const tSmall = await best(small);
    const tLarge = await best(large);
    const ops = (large - small) * perIteration;
    process.stdout.write(`${JSON.stringify({ ops, seconds: tLarge - tSmall, startup: tSmall })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function qemuCase(loop, where) {
  return () => {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--qemu', loop, where], {
      encoding: 'utf8',
    });
    const { ops, seconds } = JSON.parse(out);
    return { ops, seconds, opsPerSec: ops / seconds };
  };
}

const QEMU_CASE = 'QEMU -M microbit (TCG JIT)';

export function groups() {
  const haveQemu = qemuAvailable();
  const out = [];
  for (const loop of ['a', 'b']) {
    for (const where of ['flash', 'ram']) {
      out.push({
        name: `cpu loop ${LOOPS[loop].label}, code in ${where}`,
        reference: QEMU_CASE,
        cases: [
          haveQemu
            ? { name: QEMU_CASE, measured: qemuCase(loop, where) }
            : { name: QEMU_CASE, skip: `${QEMU} is not installed` },
          {
            name: 'interpreter',
            setup() {
              check(loop, where);
              return interpreterCase(loop, where, null);
            },
          },
        ],
      });
    }
  }
  for (const where of ['flash', 'ram']) {
    out.push({
      name: `cpu debug hooks, loop (a) in ${where}`,
      reference: 'no breakpoint',
      cases: [
        { name: 'no breakpoint', setup: () => interpreterCase('a', where, null) },
        { name: 'one breakpoint, never hit', setup: () => interpreterCase('a', where, 'breakpoint') },
        { name: 'one watchpoint, never hit', setup: () => interpreterCase('a', where, 'watchpoint') },
      ],
    });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--qemu') {
  await qemuMain(process.argv[3], process.argv[4]);
}

/**
 * micro:bit benchmarks (issue 4), each against QEMU 7.2 (`qemu-system-arm -M microbit`) run in
 * the same invocation when it is installed:
 *
 * (a) MicroPython `while i < n: i += 1` with n = 200000: host time of the loop alone (a run
 *     with n = 0 is subtracted from each side, cancelling boot and start-up).
 * (b) `display.scroll("Hello World!")` from power-on until the REPL prompt returns: host wall
 *     time in fast mode (goal: under 1 s), the guest-visible (virtual) time at which the prompt
 *     appears in fast and in realtime mode (they must be identical), and QEMU's wall time.
 *
 * The programs are built with Debian's `uflash` (python3-uflash) from the MicroPython runtime
 * in firmware-microbit-micropython, so both emulators load the very same hex file.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createMachine } from '../packages/emu/dist/index.js';

const RUNTIME = '/usr/share/firmware-microbit-micropython/firmware.hex';

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Builds a MicroPython hex for `script` with uflash; returns its path. */
function buildHex(name, script) {
  const dir = mkdtempSync(join(tmpdir(), `tsemu-bench-${name}-`));
  writeFileSync(join(dir, 'main.py'), script);
  execFileSync('uflash', [join(dir, 'main.py'), dir], { stdio: 'ignore' });
  return join(dir, 'micropython.hex');
}

/** Runs the hex on tsemu until `marker` appears on serial; returns host ms and virtual ns. */
function runOurs(hex, marker, mode = 'fast') {
  const m = createMachine('microbit', { mode, devices: [{ driver: 'loader', props: { file: hex } }] });
  const t0 = performance.now();
  const serial = m.serialStream;
  // The guest time at which the marker arrived, not the end of the chunk that contained it.
  let seenAt = -1;
  serial.onData(() => {
    if (seenAt < 0 && serial.text().includes(marker)) seenAt = m.clock.now;
  });
  for (let i = 0; i < 100_000 && seenAt < 0; i++) m.runFor(5_000_000);
  const hostMs = performance.now() - t0;
  if (seenAt < 0) throw new Error(`tsemu: '${marker}' never appeared`);
  return { hostMs, virtualNs: seenAt };
}

/** Realtime mode needs the asynchronous runner: resolves when `marker` appears on serial. */
function runOursRealtime(hex, marker) {
  const m = createMachine('microbit', {
    mode: 'realtime',
    devices: [{ driver: 'loader', props: { file: hex } }],
  });
  const serial = m.serialStream;
  const t0 = performance.now();
  return new Promise((resolve) => {
    serial.onData(() => {
      if (serial.text().includes(marker)) {
        const virtualNs = m.clock.now;
        m.stop();
        resolve({ hostMs: performance.now() - t0, virtualNs });
      }
    });
    m.start();
  });
}

/** Runs QEMU until `marker` appears on its serial port; returns host ms from launch. */
function runQemu(hex, marker) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const q = spawn(
      'qemu-system-arm',
      [
        '-M',
        'microbit',
        '-display',
        'none',
        '-monitor',
        'none',
        '-serial',
        'stdio',
        '-device',
        `loader,file=${hex}`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    const timer = setTimeout(() => {
      q.kill('SIGKILL');
      reject(new Error(`qemu: '${marker}' did not appear in 60 s`));
    }, 60_000);
    q.stdout.on('data', (d) => {
      out += d.toString('latin1');
      if (out.includes(marker)) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        q.kill('SIGKILL');
        resolve(ms);
      }
    });
  });
}

const loopScript = (n) => `i = 0\nwhile i < ${n}:\n    i += 1\nprint('loop done')\n`;
const scrollScript = 'from microbit import *\ndisplay.scroll("Hello World!")\n';

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run() {
  if (!existsSync(RUNTIME) || !which('uflash')) {
    console.log('\n## micro:bit: skipped (needs firmware-microbit-micropython and python3-uflash)');
    return [];
  }
  const qemu = which('qemu-system-arm');
  const results = [];

  console.log('\n## micro:bit (a): MicroPython while i < 200000: i += 1');
  const loopHex = buildHex('loop', loopScript(200000));
  const emptyHex = buildHex('loop0', loopScript(0));
  const ours = [];
  const oursVirtual = [];
  for (let k = 0; k < 3; k++) {
    const full = runOurs(loopHex, 'loop done');
    const empty = runOurs(emptyHex, 'loop done');
    ours.push(full.hostMs - empty.hostMs);
    oursVirtual.push(full.virtualNs - empty.virtualNs);
  }
  const oursMs = median(ours);
  // At 62.5 ns per instruction, the loop's virtual time counts its instructions.
  const instructions = median(oursVirtual) / 62.5;
  console.log(
    `  tsemu (fast mode)      ${oursMs.toFixed(0).padStart(6)} ms host  (${(instructions / 1e6).toFixed(1)} M instructions, ${(instructions / oursMs / 1000).toFixed(0)} MIPS)`,
  );
  results.push({ group: 'microbit-a', case: 'tsemu', ms: oursMs, instructions });
  if (qemu) {
    const q = [];
    for (let k = 0; k < 3; k++)
      q.push((await runQemu(loopHex, 'loop done')) - (await runQemu(emptyHex, 'loop done')));
    const qemuMs = median(q);
    console.log(`  QEMU 7.2 (JIT)         ${qemuMs.toFixed(0).padStart(6)} ms host`);
    console.log(`  ratio tsemu/QEMU time  ${(oursMs / qemuMs).toFixed(2)}x`);
    results.push({ group: 'microbit-a', case: 'qemu', ms: qemuMs, ratio: oursMs / qemuMs });
  } else console.log('  QEMU: skipped (qemu-system-arm not installed)');

  console.log('\n## micro:bit (b): display.scroll("Hello World!") from power-on to the REPL prompt');
  const scrollHex = buildHex('scroll', scrollScript);
  const fast = runOurs(scrollHex, '>>> ');
  console.log(
    `  tsemu fast mode        ${fast.hostMs.toFixed(0).padStart(6)} ms host, prompt at ${(fast.virtualNs / 1e9).toFixed(4)} s guest time`,
  );
  const realtime = await runOursRealtime(scrollHex, '>>> ');
  console.log(
    `  tsemu realtime mode    ${realtime.hostMs.toFixed(0).padStart(6)} ms host, prompt at ${(realtime.virtualNs / 1e9).toFixed(4)} s guest time`,
  );
  console.log(
    `  guest time fast vs realtime: ${fast.virtualNs === realtime.virtualNs ? 'identical' : `differs by ${Math.abs(fast.virtualNs - realtime.virtualNs)} ns`}`,
  );
  results.push({ group: 'microbit-b', case: 'tsemu-fast', ms: fast.hostMs, virtualNs: fast.virtualNs });
  results.push({
    group: 'microbit-b',
    case: 'tsemu-realtime',
    ms: realtime.hostMs,
    virtualNs: realtime.virtualNs,
  });
  if (qemu) {
    const qemuMs = await runQemu(scrollHex, '>>> ');
    console.log(`  QEMU 7.2               ${qemuMs.toFixed(0).padStart(6)} ms host`);
    console.log(`  ratio QEMU/tsemu-fast  ${(qemuMs / fast.hostMs).toFixed(1)}x faster with tsemu`);
    results.push({ group: 'microbit-b', case: 'qemu', ms: qemuMs });
  }
  return results;
}

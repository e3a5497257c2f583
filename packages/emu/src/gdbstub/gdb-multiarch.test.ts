/**
 * Acceptance tests of the GDB stub with the real `gdb-multiarch` (Debian's GDB 13.1 in CI), in
 * batch mode, against the built `tsemu-system-arm`: firmware/gdb-test.c on the micro:bit and
 * firmware/dual-m0.c on the two-cluster test machine. The expected texts are what GDB prints
 * for QEMU 7.2 with the same programs (`-M microbit`), and for the two clusters what it prints
 * for QEMU's mps2-an521 (docs: /work/shared/reference/qemu-interfaces.md §6.3).
 *
 * Each test starts tsemu with `-gdb tcp:127.0.0.1:PORT -S` and runs one GDB script (GDB itself
 * retries the connection until the stub listens). Script sections are delimited with
 * `echo @@name` so that each assertion looks at the output of its own commands.
 *
 * gdb-multiarch is required: without it the tests fail with a message saying how to install it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_DIR, requireFirmware } from '../loader/test-firmware.js';

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The emulator under test. TSEMU_GDB_TEST_BINARY=qemu-system-arm runs the micro:bit tests against
 * QEMU, to compare (tsemu's additions, such as the system registers and the flash memory map
 * for `load`, fail there).
 */
const BIN = process.env.TSEMU_GDB_TEST_BINARY ?? join(here, '../../bin/tsemu-system-arm');
const DIST = join(here, '../../dist/cli/system-arm.js');
const GDB = 'gdb-multiarch';
/** Host-time limit of one GDB run or one wait; a hang fails the test with what was printed. */
const LIMIT_MS = 45_000;
const TEST_TIMEOUT = { timeout: 120_000 };

let gdbTestElf = '';
let dualElf = '';

beforeAll(() => {
  const probe = spawnSync(GDB, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${GDB} not found: the GDB acceptance tests need it (apt-get install gdb-multiarch; scripts/install-deps installs it)`,
    );
  }
  if (!existsSync(DIST)) throw new Error('packages/emu is not built: run `npm run build` (npm test does)');
  gdbTestElf = requireFirmware('gdb-test.elf');
  dualElf = requireFirmware('dual-m0.elf');
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A free TCP port on 127.0.0.1 (closed again before tsemu binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Emulator {
  child: ChildProcess;
  port: number;
  /** What the guest printed (`-serial stdio`) so far. */
  serial(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the guest's serial output contains `text`. */
  waitForSerial(text: string): Promise<void>;
}

/** Starts tsemu-system-arm halted (-S) with its GDB stub on a free port; serial on stdout. */
async function startEmulator(args: string[]): Promise<Emulator> {
  const port = await freePort();
  const child = spawn(
    BIN,
    [
      ...args,
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      'stdio',
      '-gdb',
      `tcp:127.0.0.1:${port}`,
      '-S',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (out.includes(waiters[i]!.text)) waiters.splice(i, 1)[0]!.resolve();
    }
  });
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    port,
    serial: () => out,
    stderr: () => err,
    exited,
    waitForSerial: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        const timer = setTimeout(
          () =>
            reject(new Error(`guest never printed ${JSON.stringify(text)}; serial: ${JSON.stringify(out)}`)),
          LIMIT_MS,
        );
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}

interface GdbRun {
  /** stdout and stderr, as GDB wrote them. */
  output: string;
  code: number | null;
}

/**
 * Runs `gdb-multiarch -nx -batch` with one `-ex` per command. `whileRunning` gets the process
 * (to send it SIGINT, as a user's Ctrl-C does).
 */
function runGdb(commands: string[], whileRunning?: (gdb: ChildProcess) => void): Promise<GdbRun> {
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off', '-ex', 'set width 0'];
  for (const c of commands) args.push('-ex', c);
  // One pipe for stdout and stderr (GDB prints `monitor` output on stderr): two pipes would
  // let the two streams arrive in either order. `exec` makes the shell become GDB, so that
  // signals reach GDB itself.
  const gdb = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', GDB, ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
    cwd: FIRMWARE_DIR,
  });
  cleanups.push(() => {
    if (gdb.exitCode === null && gdb.signalCode === null) gdb.kill('SIGKILL');
  });
  let output = '';
  gdb.stdout!.setEncoding('utf8');
  gdb.stdout!.on('data', (d: string) => {
    output += d;
  });
  whileRunning?.(gdb);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      gdb.kill('SIGKILL');
      reject(new Error(`${GDB} did not finish in ${LIMIT_MS} ms; its output:\n${output}`));
    }, LIMIT_MS);
    gdb.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ output, code });
    });
  });
}

/** The output of the commands after `echo @@name` up to the next section mark. */
function section(output: string, name: string): string {
  const mark = `@@${name}\n`;
  const start = output.indexOf(mark);
  if (start < 0) throw new Error(`no section ${name} in GDB output:\n${output}`);
  const rest = output.slice(start + mark.length);
  const end = rest.indexOf('@@');
  return end < 0 ? rest : rest.slice(0, end);
}

const mark = (name: string): string => `echo @@${name}\\n`;

/** Line number of the `LINE:name` marker in a firmware source file. */
function lineOf(name: string, file = 'gdb-test.c'): number {
  const lines = readFileSync(join(FIRMWARE_DIR, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(`LINE:${name} `) || l.endsWith(`LINE:${name}`));
  if (i < 0) throw new Error(`no LINE:${name} marker in ${file}`);
  return i + 1;
}

/** `info registers` text as a map register → value. */
function registers(text: string): Map<string, bigint> {
  const regs = new Map<string, bigint>();
  for (const m of text.matchAll(/^(\w+)\s+(0x[0-9a-f]+)\s/gm)) regs.set(m[1]!, BigInt(m[2]!));
  return regs;
}

/** Fails with the stub's message when tsemu cannot serve GDB yet, instead of a GDB timeout. */
function checkServed(emu: Emulator, run: GdbRun): void {
  if (emu.stderr().includes('not served yet')) {
    throw new Error(`tsemu-system-arm does not serve GDB: ${emu.stderr().trim()}\nGDB said:\n${run.output}`);
  }
}

const target = (emu: Emulator, extended = false): string =>
  `target ${extended ? 'extended-remote' : 'remote'} 127.0.0.1:${emu.port}`;

describe('gdb-multiarch with the micro:bit (firmware/gdb-test.c)', TEST_TIMEOUT, () => {
  it('breaks at a function, steps with next, finish and step, and shows the registers and stack', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const run = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      mark('break'),
      'break add',
      'continue',
      mark('next'),
      'next',
      mark('finish'),
      'finish',
      mark('step'),
      'next',
      'step',
      mark('regs'),
      'info registers',
      mark('system-regs'),
      'info registers msp psp primask control',
      mark('bt'),
      'bt',
      mark('end'),
      'kill',
    ]);
    checkServed(emu, run);
    const out = run.output;
    const addLine = lineOf('add-body');
    expect(section(out, 'break')).toMatch(
      new RegExp(`Breakpoint 1 at 0x[0-9a-f]+: file gdb-test\\.c, line ${addLine}\\.`),
    );
    expect(section(out, 'break')).toContain(`Breakpoint 1, add (a=2, b=3) at gdb-test.c:${addLine}\n`);
    expect(section(out, 'next')).toBe(`${addLine + 1}\t  return sum;\n`);
    const finish = section(out, 'finish');
    expect(finish).toMatch(
      new RegExp(`0x[0-9a-f]{8} in main \\(\\) at gdb-test\\.c:${lineOf('main-add')}\n`),
    );
    expect(finish).toContain('Value returned is $1 = 5\n');
    const step = section(out, 'step');
    expect(step).toContain(`${lineOf('main-count')}\t  count_to(3);`);
    expect(step).toContain(`count_to (n=3) at gdb-test.c:${lineOf('count-loop')}\n`);

    const regText = section(out, 'regs');
    const regs = registers(regText);
    const names = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10', 'r11', 'r12'];
    for (const n of [...names, 'sp', 'lr', 'pc', 'xpsr']) expect(regs.has(n), `register ${n}`).toBe(true);
    expect(regs.get('r0')).toBe(3n); // n, still in r0 after the prologue (as QEMU shows)
    expect(regText).toMatch(/^pc\s+0x([0-9a-f]+)\s+0x\1 <count_to\+\d+>$/m);
    const sp = regs.get('sp')!;
    expect(sp >= 0x2000_0000n && sp < 0x2000_4000n).toBe(true);
    expect((regs.get('xpsr')! >> 24n) & 1n).toBe(1n); // Thumb state
    // tsemu's target description adds the M-profile system registers (QEMU 7.2's M0 lacks them).
    const sys = registers(section(out, 'system-regs'));
    expect(sys.get('msp')).toBe(sp);
    expect(sys.get('psp')).toBe(0n);
    expect(sys.get('primask')).toBe(0n);
    expect(sys.get('control')).toBe(0n);

    const bt = section(out, 'bt');
    expect(bt).toContain(`#0  count_to (n=3) at gdb-test.c:${lineOf('count-loop')}\n`);
    expect(bt).toMatch(
      new RegExp(`#1  0x[0-9a-f]{8} in main \\(\\) at gdb-test\\.c:${lineOf('main-count')}\n`),
    );
    // `kill` ends tsemu, as it ends QEMU ("Terminated via GDBstub").
    expect(section(out, 'end')).toContain('[Inferior 1 (process 1) killed]');
    await emu.exited;
  });

  it('reads and writes variables, and the program sees the written values', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const run = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      'break count_to',
      'continue',
      mark('read'),
      'print counter',
      'print g_point',
      'print g_point.name',
      'print/x g_reported',
      mark('write'),
      'set var counter = 5',
      'set var g_point.y = 40',
      'print counter',
      'break report',
      'continue',
      mark('effect'),
      'print counter',
      'print g_point',
      'break spin',
      'continue',
      'print g_reported',
      mark('end'),
      'kill',
    ]);
    checkServed(emu, run);
    const out = run.output;
    expect(section(out, 'read')).toMatch(
      /^\$1 = 0\n\$2 = \{x = 3, y = 4, name = 0x[0-9a-f]+ "origin"\}\n\$3 = 0x[0-9a-f]+ "origin"\n\$4 = 0xffffffff\n$/,
    );
    expect(section(out, 'write')).toContain('$5 = 5\n');
    expect(section(out, 'write')).toContain(
      `Breakpoint 2, report (value=8) at gdb-test.c:${lineOf('report-body')}\n`,
    );
    // counter = 5 + 3 increments; g_point.x = 3 + add(2, 3); y as written.
    expect(section(out, 'effect')).toMatch(
      /^\$6 = 8\n\$7 = \{x = 8, y = 40, name = 0x[0-9a-f]+ "origin"\}\n/,
    );
    expect(section(out, 'effect')).toContain('$8 = 8\n');
    expect(emu.serial()).toBe('gdb-test start\ncounter=8\n');
    await emu.exited;
  });

  it('stops on the store to a watched variable with its old and new value', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const run = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      'break main',
      'continue',
      mark('watch'),
      'watch g_watched',
      'continue',
      mark('after'),
      'print g_neighbor',
      'print g_watched',
      'bt',
      mark('awatch'),
      'delete',
      'awatch g_point.x',
      'continue',
      mark('end'),
      'kill',
    ]);
    checkServed(emu, run);
    const out = run.output;
    const watch = section(out, 'watch');
    expect(watch).toMatch(/^Hardware watchpoint 2: g_watched\n/);
    // The stop comes after the store (the next line is the closing brace), as with QEMU.
    expect(watch).toContain(
      `\nOld value = 0\nNew value = 5\ntouch_watched (value=5) at gdb-test.c:${lineOf('watch-store') + 1}\n`,
    );
    // The store to the neighbouring variable just before did not stop the program.
    expect(section(out, 'after')).toMatch(/^\$1 = 105\n\$2 = 5\n#0 {2}touch_watched \(value=5\)/);
    // An access watchpoint: main reads g_point.x first (g_point.x += result).
    const awatch = section(out, 'awatch');
    expect(awatch).toContain('Hardware access (read/write) watchpoint 3: g_point.x\n');
    expect(awatch).toContain('\nValue = 3\n');
    expect(awatch).toMatch(/ in main \(\) at gdb-test\.c:\d+\n|main \(\) at gdb-test\.c:\d+\n/);
    await emu.exited;
  });

  it('programs the flash with load, resets with monitor system_reset and runs the loaded program', async () => {
    // No -kernel: the flash is blank until GDB loads the program through the memory map.
    const emu = await startEmulator(['-M', 'microbit']);
    const run = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      mark('load'),
      'load',
      mark('compare'),
      'compare-sections',
      mark('reset'),
      'monitor system_reset',
      'info registers pc',
      mark('run'),
      'break report',
      'continue',
      mark('end'),
      'kill',
    ]);
    checkServed(emu, run);
    const out = run.output;
    const load = section(out, 'load');
    expect(load).toMatch(/^Loading section \.text, size 0x[0-9a-f]+ lma 0x0\n/);
    expect(load).toMatch(/Loading section \.data, size 0x[0-9a-f]+ lma 0x[0-9a-f]+\n/);
    expect(load).toMatch(/Start address 0x0*[0-9a-f]+, load size \d+\n/);
    expect(section(out, 'compare')).toMatch(/^Section \.text, range 0x0 -- 0x[0-9a-f]+: matched\.\n/);
    expect(section(out, 'compare')).toMatch(/Section \.data, range 0x[0-9a-f]+ -- 0x[0-9a-f]+: matched\.\n/);
    expect(section(out, 'reset')).toMatch(/^pc\s+0x([0-9a-f]+)\s+0x\1 <Reset_Handler>\n/);
    expect(section(out, 'run')).toContain(
      `Breakpoint 1, report (value=3) at gdb-test.c:${lineOf('report-body')}\n`,
    );
    await emu.exited;
    expect(emu.serial()).toBe('gdb-test start\n');
  });

  it('passes monitor commands to the human monitor', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const run = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      'break report',
      'continue',
      mark('regs'),
      'monitor info registers',
      mark('mtree'),
      'monitor info mtree',
      mark('end'),
      'kill',
    ]);
    checkServed(emu, run);
    const out = run.output;
    const pc = /Breakpoint 1 at 0x([0-9a-f]+):/.exec(out)?.[1];
    expect(pc).toBeDefined();
    // The monitor's lines end in \r\n (a terminal's), and GDB passes them on as they are.
    const regs = section(out, 'regs').replaceAll('\r', '');
    // QEMU's layout: CPU#0, R00..R15 four per line, then XPSR with flags, T and the mode.
    expect(regs).toMatch(/CPU#0\n/);
    expect(regs).toMatch(/^R00=00000003 R01=[0-9a-f]{8} R02=[0-9a-f]{8} R03=[0-9a-f]{8}$/m);
    expect(regs).toMatch(
      new RegExp(`^R12=[0-9a-f]{8} R13=[0-9a-f]{8} R14=[0-9a-f]{8} R15=${pc!.padStart(8, '0')}$`, 'm'),
    );
    expect(regs).toMatch(/^XPSR=[0-9a-f]{8} [-N][-Z][-C][-V] T priv-thread$/m);
    const mtree = section(out, 'mtree').replaceAll('\r', '');
    expect(mtree).toContain('address-space: memory');
    expect(mtree).toMatch(/0000000020000000-0000000020003fff \(prio 0, ram\): nrf51\.sram/);
    await emu.exited;
  });

  it('interrupts a running guest on Ctrl-C (SIGINT to GDB)', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const run = await runGdb(
      [
        `file ${gdbTestElf}`,
        target(emu),
        'continue',
        mark('stopped'),
        'print spin_count > 0',
        'bt',
        mark('end'),
        'kill',
      ],
      (gdb) => {
        // The guest prints its last line just before it spins: then it surely runs.
        void emu.waitForSerial('counter=3\n').then(
          () => setTimeout(() => gdb.kill('SIGINT'), 100),
          () => gdb.kill('SIGKILL'),
        );
      },
    );
    checkServed(emu, run);
    const out = run.output;
    expect(out).toContain('\nProgram received signal SIGINT, Interrupt.\n');
    expect(out).toContain(`spin () at gdb-test.c:${lineOf('spin-body')}\n`);
    expect(section(out, 'stopped')).toMatch(
      /^\$1 = 1\n#0 {2}spin \(\) at gdb-test\.c:\d+\n#1 {2}0x[0-9a-f]{8} in main \(\)/,
    );
    await emu.exited;
  });

  it('detaches leaving the guest running, and a second GDB attaches again', async () => {
    const emu = await startEmulator(['-M', 'microbit', '-kernel', gdbTestElf]);
    const first = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      'break spin',
      'continue',
      mark('first'),
      'print spin_count',
      'detach',
      mark('end'),
    ]);
    checkServed(emu, first);
    expect(section(first.output, 'first')).toBe('$1 = 0\n[Inferior 1 (process 1) detached]\n');
    // tsemu is still there, and the guest runs on without a debugger.
    expect(emu.child.exitCode).toBeNull();
    const second = await runGdb([
      `file ${gdbTestElf}`,
      target(emu),
      mark('second'),
      'print spin_count > 0',
      'info breakpoints',
      'bt 1',
      mark('end'),
      'kill',
    ]);
    const out = second.output;
    expect(section(out, 'second')).toMatch(
      /^\$1 = 1\nNo breakpoints or watchpoints\.\n#0 {2}(0x[0-9a-f]{8} in )?spin \(\)/,
    );
    expect(section(out, 'end')).toContain('[Inferior 1 (process 1) killed]');
    expect((await emu.exited).code).not.toBeNull();
  });
});

describe('gdb-multiarch with two CPU clusters (tsemu-dual-m0, firmware/dual-m0.c)', TEST_TIMEOUT, () => {
  it('shows each cluster as an inferior, attaches the second, and steps one leaving the other as it was', async () => {
    const emu = await startEmulator(['-M', 'tsemu-dual-m0', '-kernel', dualElf]);
    const run = await runGdb([
      `file ${dualElf}`,
      target(emu, true),
      mark('threads1'),
      'info threads',
      mark('attach'),
      'add-inferior',
      'inferior 2',
      `file ${dualElf}`,
      'attach 2',
      mark('inferiors'),
      'info inferiors',
      mark('threads2'),
      'info threads',
      // Run both clusters until CPU 0 has released CPU 1 and counted for a while.
      mark('run'),
      'set schedule-multiple on',
      'inferior 1',
      'break core0_milestone',
      'continue',
      'delete',
      'set schedule-multiple off',
      'print core1_started',
      'print core1_ticks > 0',
      mark('c1-start'),
      'info registers pc',
      // Step cluster 1 (process 1): cluster 2 must not move.
      'inferior 2',
      mark('c2-before'),
      'info registers',
      'inferior 1',
      'stepi',
      mark('c1-stepped'),
      'info registers pc',
      'inferior 2',
      mark('c2-after'),
      'info registers',
      // Step cluster 2: cluster 1 must not move.
      'inferior 1',
      mark('c1-before'),
      'info registers',
      'inferior 2',
      'stepi',
      mark('c2-stepped'),
      'info registers pc',
      'inferior 1',
      mark('c1-after'),
      'info registers',
      mark('detach'),
      'detach inferiors 1 2',
      mark('end'),
    ]);
    checkServed(emu, run);
    const out = run.output;
    // Only process 1 is attached at first (QEMU attaches the first cluster on connection).
    const threads1 = section(out, 'threads1');
    expect(threads1).toMatch(
      /^\* 1 +Thread 1\.1 \(cortex-m0-arm-cpu cpu \[running\]\) (0x[0-9a-f]+ in )?Reset_Handler0 \(\) at dual-m0\.c:\d+\n/m,
    );
    expect(threads1).not.toContain('Thread 2.2');
    const inferiors = section(out, 'inferiors');
    expect(inferiors).toMatch(/^ {2}1 +process 1 +1 \(extended-remote 127\.0\.0\.1:\d+\) +\S*dual-m0\.elf/m);
    expect(inferiors).toMatch(/^\* 2 +process 2 +1 \(extended-remote 127\.0\.0\.1:\d+\) +\S*dual-m0\.elf/m);
    // Thread ids are global (cpu-index + 1), so cluster 2's thread is 2.2, as on the an521.
    const threads2 = section(out, 'threads2');
    expect(threads2).toMatch(
      /^ {2}1\.1 +Thread 1\.1 \(cortex-m0-arm-cpu cpu \[running\]\) (0x[0-9a-f]+ in )?Reset_Handler0 \(\)/m,
    );
    expect(threads2).toMatch(
      /^\* 2\.1 +Thread 2\.2 \(cortex-m0-arm-cpu cpu \[halted \]\) (0x[0-9a-f]+ in )?Reset_Handler1 \(\)/m,
    );

    const runText = section(out, 'run');
    expect(runText).toMatch(/hit Breakpoint 1(\.1)?, core0_milestone \(\) at dual-m0\.c:\d+\n/);
    expect(runText).toMatch(/\$1 = 1\n\$2 = 1\n/);

    const c2Before = registers(section(out, 'c2-before'));
    const c2After = registers(section(out, 'c2-after'));
    expect(c2Before.size).toBeGreaterThanOrEqual(17);
    expect(c2After).toEqual(c2Before);
    const c1Before = registers(section(out, 'c1-before'));
    const c1After = registers(section(out, 'c1-after'));
    expect(c1Before.size).toBeGreaterThanOrEqual(17);
    expect(c1After).toEqual(c1Before);
    // Each step moved the stepped core.
    const pc1 = registers(section(out, 'c1-start')).get('pc');
    expect(pc1).toBeDefined();
    expect(registers(section(out, 'c1-stepped')).get('pc')).not.toBe(pc1);
    expect(registers(section(out, 'c1-stepped')).get('pc')).toBe(c1Before.get('pc'));
    const pc2 = registers(section(out, 'c2-stepped')).get('pc');
    expect(pc2).toBeDefined();
    expect(pc2).not.toBe(c2After.get('pc'));
    expect(section(out, 'detach')).toContain('[Inferior 1 (process 1) detached]');
    expect(section(out, 'detach')).toContain('[Inferior 2 (process 2) detached]');
  });
});

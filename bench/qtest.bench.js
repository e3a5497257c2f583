/**
 * qtest round trips over a Unix socket (issue 5): a readl/writel ping-pong against a micro:bit
 * under `-accel qtest`, measured the way libqtest talks to QEMU: this process listens on
 * `qtest-PID.sock` and `qtest-PID.qmp`, the emulator connects to both as a client, and each
 * request waits for its reply before the next is sent.
 *
 * The emulator is `packages/emu/bin/tsemu-system-arm` started with libqtest's launch line, when
 * it serves qtest (tried first: it must answer `endianness` within a few seconds). Otherwise a
 * child Node process serves qtest with the library (`startQtestServer` on a socket chardev), so
 * the figure still crosses a real socket between two processes.
 *
 * QEMU 7.2 cannot be measured here: Debian removes its qtest accelerator. The reference is the
 * figure in the issue: 16 to 36 µs per round trip on this machine class.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const binary = join(root, 'packages', 'emu', 'bin', 'tsemu-system-arm');
const dist = join(root, 'packages', 'emu', 'dist');
const QEMU_US = '16 to 36';
const WARMUP = 2000;
const ROUND_TRIPS = 40000;
const ADDR = '0x20000000';

/** Listens on a Unix socket; resolves with the first connection (or null after `ms`). */
function listenOnce(path) {
  let resolveConn;
  const conn = new Promise((r) => {
    resolveConn = r;
  });
  const server = createServer((s) => resolveConn(s));
  server.listen(path);
  return {
    server,
    accept: (ms) => Promise.race([conn, new Promise((r) => setTimeout(() => r(null), ms))]),
  };
}

/** A line reader on a socket: `next()` resolves with the next line that is not an IRQ line. */
function lineReader(sock) {
  let buf = '';
  let waiting = null;
  const lines = [];
  sock.setEncoding('latin1');
  sock.on('data', (chunk) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('IRQ ')) lines.push(line);
      nl = buf.indexOf('\n');
    }
    if (waiting && lines.length > 0) {
      const w = waiting;
      waiting = null;
      w(lines.shift());
    }
  });
  return {
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((r) => (waiting = r))),
  };
}

async function request(sock, reader, line) {
  sock.write(`${line}\n`);
  return reader.next();
}

/** Starts an emulator connected to the two sockets; returns { child, qtest, reader } or null. */
async function launch(kind, sockPath, qmpPath) {
  const qtestListen = listenOnce(sockPath);
  const qmpListen = listenOnce(qmpPath);
  let child;
  if (kind === 'binary') {
    const args = [
      '-qtest',
      `unix:${sockPath}`,
      '-qtest-log',
      '/dev/null',
      '-chardev',
      `socket,path=${qmpPath},id=char0`,
      '-mon',
      'chardev=char0,mode=control',
      '-display',
      'none',
      '-M',
      'microbit',
      '-accel',
      'qtest',
    ];
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    const script = `
      import { createMachine } from ${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)};
      import { SocketChardev } from ${JSON.stringify(pathToFileURL(join(dist, 'chardev', 'socket.js')).href)};
      import { startQtestServer } from ${JSON.stringify(pathToFileURL(join(dist, 'qtest', 'server.js')).href)};
      const chardev = new SocketChardev('qtest', { address: { type: 'unix', path: ${JSON.stringify(sockPath)} } });
      await chardev.open();
      const machine = createMachine('microbit', { mode: 'qtest' });
      startQtestServer({ machine, chardev, log: '/dev/null', accelQtest: true });
      process.on('SIGTERM', () => process.exit(0));
    `;
    child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => child.once('exit', () => r(null)));
  const cleanup = () => {
    child.kill('SIGTERM');
    qtestListen.server.close();
    qmpListen.server.close();
  };
  const qtest = await Promise.race([qtestListen.accept(10000), exited]);
  if (!qtest) {
    cleanup();
    return { error: `no qtest connection${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}` };
  }
  if (kind === 'binary') {
    // libqtest accepts QMP second; the connection is kept open and ignored here.
    const qmp = await qmpListen.accept(5000);
    if (qmp) qmp.on('data', () => {});
  }
  const reader = lineReader(qtest);
  const answer = await Promise.race([
    request(qtest, reader, 'endianness'),
    new Promise((r) => setTimeout(() => r(null), 5000)),
  ]);
  if (answer !== 'OK little') {
    qtest.destroy();
    cleanup();
    return {
      error: answer === null ? 'qtest is not served (no answer to endianness)' : `answered ${answer}`,
    };
  }
  return { child, qtest, reader, cleanup };
}

async function pingPong(sock, reader, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 2) {
    const w = await request(sock, reader, `writel ${ADDR} 0x${i.toString(16)}`);
    const r = await request(sock, reader, `readl ${ADDR}`);
    if (w !== 'OK' || r !== `OK 0x${i.toString(16).padStart(16, '0')}`) {
      throw new Error(`unexpected replies '${w}' / '${r}' at round trip ${i}`);
    }
  }
  return performance.now() - t0;
}

export async function run() {
  console.log('\n## qtest: readl/writel round trips over a Unix socket (micro:bit, -accel qtest)');
  const dir = mkdtempSync(join(tmpdir(), 'tsemu-bench-qtest-'));
  const sockPath = join(dir, `qtest-${process.pid}.sock`);
  const qmpPath = join(dir, `qtest-${process.pid}.qmp`);
  const results = [];
  try {
    let how = 'tsemu-system-arm (libqtest launch line)';
    let session = await launch('binary', sockPath, qmpPath);
    if (session.error) {
      console.log(`  tsemu-system-arm: ${session.error}; using the library in a child process`);
      rmSync(sockPath, { force: true });
      rmSync(qmpPath, { force: true });
      how = 'library server in a child process';
      session = await launch('library', sockPath, qmpPath);
      if (session.error) throw new Error(`library server: ${session.error}`);
    }
    const { qtest, reader, cleanup } = session;
    await pingPong(qtest, reader, WARMUP);
    // The median of three runs: the figure is mostly socket and event-loop latency, which
    // other load on the host disturbs.
    const runs = [];
    for (let k = 0; k < 3; k++) runs.push(await pingPong(qtest, reader, ROUND_TRIPS));
    const ms = runs.sort((a, b) => a - b)[1];
    qtest.destroy();
    cleanup();
    const us = (ms * 1000) / ROUND_TRIPS;
    const perSec = ROUND_TRIPS / (ms / 1000);
    console.log(`  ${how}`);
    console.log(
      `  tsemu   ${us.toFixed(1).padStart(6)} µs per round trip   ${perSec.toFixed(0).padStart(7)} round trips/s  (${ROUND_TRIPS} requests)`,
    );
    console.log(
      `  QEMU 7.2 (figure from the issue; its qtest accel is not in Debian): ${QEMU_US} µs per round trip`,
    );
    results.push({ group: 'qtest', case: 'round-trip', how, usPerRoundTrip: us, roundTripsPerSec: perSec });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

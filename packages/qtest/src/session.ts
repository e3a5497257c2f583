/**
 * Launching an emulator for a test, exactly as QEMU's libqtest does (qtest_init and
 * qtest_init_with_serial in QEMU 7.2), so that any QEMU-compatible binary can be driven:
 *
 * 1. listen on $TMPDIR/qtest-PID.sock (qtest) and $TMPDIR/qtest-PID.qmp (QMP), and for serial
 *    on $TMPDIR/qtest-serial-XXXXXX/sock;
 * 2. run `/bin/sh -c "exec BIN -qtest unix:SOCK -qtest-log /dev/null -chardev
 *    socket,path=QMP,id=char0 -mon chardev=char0,mode=control -display none
 *    [-chardev socket,id=s0,path=SERIAL -serial chardev:s0] ARGS -accel qtest"` with
 *    QEMU_AUDIO_DRV=none (the emulator connects to the sockets as a client);
 * 3. accept the connections, send `endianness` on qtest, read the QMP greeting and negotiate
 *    capabilities with `qmp_capabilities`;
 * 4. `quit()`: SIGTERM, then the exit status must be 0.
 *
 * Environment, as libqtest: QTEST_LOG (the qtest log goes to the emulator's stderr, /dev/fd/2,
 * passed through to ours), QTEST_TRACE (adds `-trace VALUE`), QTEST_STOP (SIGSTOP after
 * connecting). PID is this process's: launches from one process are serialised so that
 * concurrent sessions never share the socket names.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBinary } from './binary.js';
import { QTestConnectionError } from './errors.js';
import { QmpClient } from './qmp.js';
import { QTestClient } from './qtest.js';
import { SerialPort } from './serial.js';

export interface QTestSessionOptions {
  /** The emulator; default $QTEST_QEMU_BINARY, else tsemu's tsemu-system-arm. */
  binary?: string;
  /** The machine type (`-M`). */
  machine: string;
  /** More command-line arguments, placed after `-M MACHINE` (each shell-quoted). */
  args?: string[];
  /** Connect a serial socket as the first serial port (`session.serial`). */
  serial?: boolean;
  /** Environment of the emulator (added to ours; undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /**
   * How long to wait for the emulator to connect and answer the handshake, in ms (default 50 s,
   * libqtest's accept timeout). Only a bound on a hang.
   */
  connectTimeoutMs?: number;
}

/** How the emulator ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Output kept for error messages. */
const OUTPUT_TAIL_CHARS = 8192;
/** How long a lost connection waits for the emulator's exit status, to report it. */
const EXIT_GRACE_MS = 2000;
/** How long `quit()` waits after SIGTERM before SIGKILL (newer libqtest's WAITPID_TIMEOUT). */
const QUIT_TIMEOUT_MS = 30_000;

/** Children still running, killed if this process exits first (libqtest's PR_SET_PDEATHSIG). */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Serialises launches (the socket names depend only on our PID). */
let launchQueue: Promise<void> = Promise.resolve();
async function launchLock(): Promise<() => void> {
  let release!: () => void;
  const previous = launchQueue;
  launchQueue = new Promise<void>((r) => {
    release = r;
  });
  await previous;
  return release;
}

/** Quotes one word for `sh -c`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there: fine.
  }
}

function listen(path: string): Promise<Server> {
  removeQuietly(path);
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ path, backlog: 1 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function accept(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

export class QTestSession {
  /** The qtest handle: memory, IRQs, clock. */
  readonly qtest: QTestClient;
  /** The QMP handle (capabilities already negotiated). */
  readonly qmp: QmpClient;
  /** The emulator process (the shell `exec`s it, so this is the emulator itself). */
  readonly child: ChildProcess;
  /** The command line given to `sh -c`. */
  readonly commandLine: string;
  /** The target's byte order, from the `endianness` handshake. */
  readonly endianness: 'little' | 'big';
  private readonly serialPort: SerialPort | null;
  private readonly output: { text: string };
  private readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | null = null;

  private constructor(parts: {
    qtest: QTestClient;
    qmp: QmpClient;
    serial: SerialPort | null;
    child: ChildProcess;
    commandLine: string;
    endianness: 'little' | 'big';
    output: { text: string };
    exited: Promise<ExitStatus>;
  }) {
    this.qtest = parts.qtest;
    this.qmp = parts.qmp;
    this.serialPort = parts.serial;
    this.child = parts.child;
    this.commandLine = parts.commandLine;
    this.endianness = parts.endianness;
    this.output = parts.output;
    this.exited = parts.exited;
    void this.exited.then((status) => {
      this.exitStatus = status;
    });
  }

  /** The serial port (the session must have been started with `serial: true`). */
  get serial(): SerialPort {
    if (this.serialPort === null) throw new Error('this session was started without `serial: true`');
    return this.serialPort;
  }

  /** The last few KiB of the emulator's stdout and stderr. */
  get outputTail(): string {
    return this.output.text;
  }

  /** The exit status, once the emulator has exited (else null). */
  get status(): ExitStatus | null {
    return this.exitStatus;
  }

  /** Launches the emulator and completes the libqtest handshake. */
  static async start(options: QTestSessionOptions): Promise<QTestSession> {
    const binary = options.binary ?? defaultBinary();
    const timeoutMs = options.connectTimeoutMs ?? 50_000;
    const tmp = process.env.TMPDIR || tmpdir();
    const release = await launchLock();
    const socketPath = join(tmp, `qtest-${process.pid}.sock`);
    const qmpPath = join(tmp, `qtest-${process.pid}.qmp`);
    const serialDir = options.serial ? mkdtempSync(join(tmp, 'qtest-serial-')) : null;
    const serialPath = serialDir === null ? null : join(serialDir, 'sock');
    const servers: Server[] = [];
    let child: ChildProcess | null = null;
    const sockets: Socket[] = [];
    let released = false;
    // Frees the socket names for the next launch (libqtest unlinks them after accept).
    const releaseNames = (): void => {
      if (released) return;
      released = true;
      for (const s of servers) s.close();
      removeQuietly(socketPath);
      removeQuietly(qmpPath);
      if (serialDir !== null) rmSync(serialDir, { recursive: true, force: true });
      release();
    };
    try {
      const qtestServer = await listen(socketPath);
      servers.push(qtestServer);
      const qmpServer = await listen(qmpPath);
      servers.push(qmpServer);
      const serialServer = serialPath === null ? null : await listen(serialPath);
      if (serialServer) servers.push(serialServer);

      const words = ['exec', shellQuote(binary)];
      if (process.env.QTEST_TRACE) words.push('-trace', shellQuote(process.env.QTEST_TRACE));
      words.push(
        '-qtest',
        shellQuote(`unix:${socketPath}`),
        '-qtest-log',
        process.env.QTEST_LOG ? '/dev/fd/2' : '/dev/null',
        '-chardev',
        shellQuote(`socket,path=${qmpPath},id=char0`),
        '-mon',
        'chardev=char0,mode=control',
        '-display',
        'none',
      );
      if (serialPath !== null) {
        words.push('-chardev', shellQuote(`socket,id=s0,path=${serialPath}`), '-serial', 'chardev:s0');
      }
      words.push(
        '-M',
        shellQuote(options.machine),
        ...(options.args ?? []).map(shellQuote),
        '-accel',
        'qtest',
      );
      const commandLine = words.join(' ');

      const env: NodeJS.ProcessEnv = { ...process.env, QEMU_AUDIO_DRV: 'none' };
      for (const [k, v] of Object.entries(options.env ?? {})) {
        if (v === undefined) delete env[k];
        else env[k] = v;
      }
      const output = { text: '' };
      const spawned = spawn('/bin/sh', ['-c', commandLine], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = spawned;
      track(spawned);
      const keep = (chunk: Buffer, passThrough: boolean): void => {
        const text = chunk.toString('utf8');
        output.text = (output.text + text).slice(-OUTPUT_TAIL_CHARS);
        if (passThrough) process.stderr.write(chunk);
      };
      spawned.stdout?.on('data', (c: Buffer) => keep(c, false));
      spawned.stderr?.on('data', (c: Buffer) => keep(c, process.env.QTEST_LOG !== undefined));
      const exited = new Promise<ExitStatus>((resolve) => {
        spawned.once('exit', (code, signal) => resolve({ code, signal }));
        spawned.once('error', (e) => {
          output.text += `\n${e.message}`;
          resolve({ code: null, signal: null });
        });
      });
      const describe = (status: ExitStatus): string => {
        const how = status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
        const tail = output.text.trim();
        return `${binary} ${how}${tail ? `; its output:\n${tail}` : ' (no output)'}`;
      };

      // Accept all connections, handshake, all bounded by the emulator exiting and the timeout.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const tail = output.text.trim();
          reject(
            new QTestConnectionError(
              `${binary} did not complete the qtest handshake within ${timeoutMs} ms ` +
                `(does it serve -qtest and QMP?)${tail ? `; its output:\n${tail}` : ''}\ncommand: ${commandLine}`,
            ),
          );
        }, timeoutMs);
      });
      const died = exited.then((status): never => {
        throw new QTestConnectionError(`${describe(status)}\ncommand: ${commandLine}`);
      });
      const bounded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, deadline, died]);
      try {
        const [qtestSocket, qmpSocket, serialSocket] = await bounded(
          Promise.all([
            accept(qtestServer),
            accept(qmpServer),
            serialServer ? accept(serialServer) : Promise.resolve(null),
          ]),
        );
        sockets.push(qtestSocket, qmpSocket);
        if (serialSocket) sockets.push(serialSocket);
        releaseNames();
        // libqtest's QTEST_STOP: stop the emulator so that a debugger can attach (send SIGCONT).
        if (process.env.QTEST_STOP) spawned.kill('SIGSTOP');

        // A lost connection is explained by the emulator's exit, when it follows soon.
        const explain = async (): Promise<string | null> => {
          let timer: NodeJS.Timeout | undefined;
          const status = await Promise.race([
            exited,
            new Promise<null>((resolve) => {
              timer = setTimeout(() => resolve(null), EXIT_GRACE_MS);
            }),
          ]);
          clearTimeout(timer);
          return status === null ? null : describe(status);
        };
        const qtest = new QTestClient(qtestSocket, explain);
        const qmp = new QmpClient(qmpSocket, explain);
        const serial = serialSocket ? new SerialPort(serialSocket) : null;
        const endianness = await bounded(qtest.endianness());
        await bounded(qmp.greeting());
        await bounded(qmp.execute('qmp_capabilities'));
        return new QTestSession({
          qtest,
          qmp,
          serial,
          child: spawned,
          commandLine,
          endianness,
          output,
          exited,
        });
      } finally {
        clearTimeout(timer);
        // `died` rejects later when the session ends; that is not an unhandled error.
        died.catch(() => {});
      }
    } catch (e) {
      for (const s of sockets) s.destroy();
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw e;
    } finally {
      releaseNames();
    }
  }

  /**
   * libqtest's `qtest_quit`: SIGTERM, wait for the exit, and check that the status is
   * `expectedStatus` (default 0). Throws, with the emulator's output, when it is not (a death by
   * signal included). After 30 s the emulator is killed and that is an error too.
   */
  async quit(expectedStatus = 0): Promise<void> {
    if (this.exitStatus === null) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      this.exited,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), QUIT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.closeSockets();
    if (status === null) {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.commandLine}: still running ${QUIT_TIMEOUT_MS} ms after SIGTERM; killed`);
    }
    if (status.signal !== null || status.code !== expectedStatus) {
      const how = status.signal ? `was killed by ${status.signal}` : `exited with status ${status.code}`;
      const tail = this.output.text.trim();
      throw new Error(
        `the emulator ${how} on SIGTERM, expected exit status ${expectedStatus}` +
          `${tail ? `; its output:\n${tail}` : ''}`,
      );
    }
  }

  /** Kills the emulator (SIGKILL) if still running and closes the sockets; never throws. */
  async kill(): Promise<void> {
    if (this.exitStatus === null) this.child.kill('SIGKILL');
    await this.exited;
    this.closeSockets();
  }

  private closeSockets(): void {
    this.qtest.close();
    this.qmp.close();
    this.serialPort?.close();
  }
}

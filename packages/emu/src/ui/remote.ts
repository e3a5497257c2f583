/**
 * The emulator's side of the UI protocol `tsemu-ui/1` (docs/ui-protocol.md): a display backend
 * whose user interface runs in another process. That process (`tsemu-ui`, packages/ui) gets
 * everything it shows from here, and everything it may do goes through here: display frames,
 * the serial port in both directions, the human monitor, board inputs (buttons, sensors, pins,
 * gestures) and control (pause, resume, reset, speed, flashing a new image).
 *
 * Transports: newline-delimited JSON over a stream socket, either a Unix socket this side
 * listens on (`-display remote,socket=PATH`; `tsemu-ui --connect PATH` attaches, and UIs may
 * come and go) or one end of a socket pair handed to a UI process this side starts
 * (`-display web`, fd 3 of the child). Tests and embedders may pass a connected stream.
 *
 * Cost while the machine runs: the display listener compares each LED frame with the last one
 * in preallocated arrays and allocates only when the picture changed; serial output is copied
 * into a preallocated buffer and sent in batches; status goes out a few times a second of host
 * time. Nothing here runs per instruction.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Chardev } from '../chardev/chardev.js';
import type { Timer } from '../core/clock.js';
import { describeSystemError, UserError } from '../core/errors.js';
import type { Machine, RunMode } from '../core/machine.js';
import { declareType } from '../core/object.js';
import { findMachineType } from '../core/registry.js';
import { microPythonLevel } from '../hw/display/microbit-led-matrix.js';
import {
  detectFormat,
  type LoadedImage,
  loadImageFile,
  parseElf32,
  parseIntelHex,
  parseUniversalHex,
  placeImage,
} from '../loader/index.js';
import { withMicroPythonScript } from '../loader/micropython-script.js';
import { MicrobitMachine } from '../machine/microbit.js';

/** The protocol's name in `hello`, and the versions this side speaks. */
export const UI_PROTOCOL = 'tsemu-ui';
export const UI_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Longest line accepted from a UI (a flashed hex file travels base64-encoded in one line). */
export const UI_MAX_LINE = 16 * 1024 * 1024;

/** Where Debian's firmware-microbit-micropython installs the runtime (flashing a `.py`). */
export const DEFAULT_MICROPYTHON_RUNTIME = '/usr/share/firmware-microbit-micropython/firmware.hex';

/** Serial output kept for a UI that connects later (bytes). */
const SERIAL_HISTORY = 64 * 1024;
/** Serial output is sent in batches at most this often (host ms). */
const SERIAL_BATCH_MS = 8;

/** What a serial port looks like to the display: output to watch, input to send. */
export interface SerialPortLike {
  onData(fn: (data: Uint8Array) => void): () => void;
  send(input: Uint8Array | string): void;
}

/** The part of the human monitor the protocol uses (HumanMonitor has it). */
export interface MonitorLike {
  execute(cmdline: string): Promise<string>;
}

declareType('chardev-ui', 'chardev');

/**
 * The serial port's backend when a remote UI shows it (`-display web` without `-serial`):
 * output goes to the UIs, their typing comes back as input. Nothing is kept here beyond what
 * the listeners take.
 */
export class UiSerial extends Chardev implements SerialPortLike {
  private readonly listeners = new Set<(data: Uint8Array) => void>();

  constructor(id: string) {
    super('chardev-ui', id);
  }

  get filename(): string {
    return 'ui';
  }

  protected output(data: Uint8Array): void {
    for (const l of this.listeners) l(data);
  }

  onData(fn: (data: Uint8Array) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  send(input: Uint8Array | string): void {
    this.deliver(typeof input === 'string' ? new TextEncoder().encode(input) : input);
  }
}

// ---- options ------------------------------------------------------------------------------------

/** `-display web` and `-display remote` options, checked. */
export interface RemoteDisplayConfig {
  kind: 'web' | 'remote';
  /** remote: the Unix socket to listen on. */
  socket?: string;
  /** web: HTTP port for the UI process (undefined: its default). */
  port?: number;
  /** web: address the UI process listens on (default 127.0.0.1). */
  addr?: string;
  /** web: open a browser (default on). */
  open: boolean;
  /** Quit the emulator when the UI process exits (web: default on; remote: not applicable). */
  quitOnExit: boolean;
}

function onOff(option: string, value: string): boolean {
  if (value === 'on' || value === 'yes' || value === 'true') return true;
  if (value === 'off' || value === 'no' || value === 'false') return false;
  throw new UserError(`-display: option '${option}' expects 'on' or 'off', not '${value}'`);
}

/**
 * Checks the properties of `-display web[,port=N][,addr=A][,open=on|off][,quit-on-exit=on|off]`
 * or `-display remote,socket=PATH` (the parser's map without `type`).
 */
export function remoteDisplayConfig(
  kind: 'web' | 'remote',
  props: ReadonlyMap<string, string>,
): RemoteDisplayConfig {
  const allowed = kind === 'web' ? ['port', 'addr', 'open', 'quit-on-exit'] : ['socket'];
  for (const key of props.keys()) {
    if (!allowed.includes(key)) {
      throw new UserError(`-display ${kind}: unknown option '${key}' (accepted: ${allowed.join(', ')})`);
    }
  }
  if (kind === 'remote') {
    const socket = props.get('socket');
    if (!socket)
      throw new UserError('-display remote: needs socket=PATH (the Unix socket tsemu-ui connects to)');
    return { kind, socket, open: false, quitOnExit: false };
  }
  const config: RemoteDisplayConfig = {
    kind,
    open: onOff('open', props.get('open') ?? 'on'),
    quitOnExit: onOff('quit-on-exit', props.get('quit-on-exit') ?? 'on'),
  };
  const port = props.get('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n > 65535) {
      throw new UserError(`-display web: port must be a number from 0 to 65535, not '${port}'`);
    }
    config.port = n;
  }
  const addr = props.get('addr');
  if (addr !== undefined) {
    if (addr === '') throw new UserError('-display web: addr must not be empty');
    config.addr = addr;
  }
  return config;
}

/**
 * How to start the web UI process: `TSEMU_UI` (an executable) when set, else the `@tsemu/ui`
 * package's entry point run by this Node. Throws a UserError when neither is there.
 */
export function findWebUi(): { command: string; args: string[] } {
  const fromEnv = process.env.TSEMU_UI;
  if (fromEnv) return { command: fromEnv, args: [] };
  try {
    const pkg = createRequire(import.meta.url).resolve('@tsemu/ui/package.json');
    const main = join(dirname(pkg), 'dist', 'main.js');
    if (existsSync(main)) return { command: process.execPath, args: [main] };
  } catch {
    // Not installed: reported below.
  }
  throw new UserError(
    '-display web needs the tsemu-ui program: install @tsemu/ui (and build it), or set TSEMU_UI to its path',
  );
}

/** The UI process's command line for a `-display web` configuration. */
export function webUiArgs(config: RemoteDisplayConfig): string[] {
  const args = ['--fd', '3'];
  if (config.port !== undefined) args.push('--port', String(config.port));
  if (config.addr !== undefined) args.push('--addr', config.addr);
  args.push(config.open ? '--open' : '--no-open');
  return args;
}

export interface SpawnUiOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The child's stdout and stderr (default: inherited, so its URL shows in the terminal). */
  output?: 'inherit' | 'pipe' | 'ignore';
}

export interface RemoteDisplayOptions {
  machine: Machine;
  /** The serial port the UIs show (null or absent: none). */
  serial?: SerialPortLike | null;
  /** The human monitor behind the UIs' console (absent: the console answers that there is none). */
  monitor?: MonitorLike | null;
  /** Listen on this Unix socket for UIs (`-display remote,socket=PATH`). */
  listen?: string;
  /** Start this UI process with one end of a socket pair as its fd 3 (`-display web`). */
  spawnUi?: SpawnUiOptions;
  /** An already connected stream to serve (tests, embedders). */
  stream?: Duplex;
  /** Call `onQuit` when the spawned UI process exits (`quit-on-exit=on`). */
  quitOnExit?: boolean;
  /** The spawned UI process exited (code, or null with the signal). */
  onUiExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** Asked to end the emulator: the UI exited with quitOnExit. The embedder quits with status 0. */
  onQuit?: () => void;
  /** Fast mode: minimum host ms between two display frames sent (default 16; 0: every change). */
  frameIntervalMs?: number;
  /** Host ms between status updates while running (default 250). */
  statusIntervalMs?: number;
  /** The MicroPython runtime that a flashed `.py` file is appended to. */
  microPythonRuntime?: string;
  /** Warnings and notes for the user (default: none). */
  report?: (line: string) => void;
}

export interface RemoteDisplay {
  /** Connected UIs that completed the handshake. */
  readonly sessions: number;
  /** The spawned UI process, if any. */
  readonly uiProcess: ChildProcess | null;
  /** The URL the UI process announced (`ui-info`), once it has. */
  readonly url: Promise<string>;
  /** Stops serving: closes connections and the listening socket (the UI process then exits). */
  close(): Promise<void>;
}

// ---- messages -----------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Message = { [key: string]: Json };

/** A number field, checked: every mistake is a UserError naming the message and the field. */
function num(msg: Message, name: string): number {
  const v = msg[name];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new UserError(`'${String(msg.type)}' needs '${name}' (a number)`);
  return v;
}

function str(msg: Message, name: string): string {
  const v = msg[name];
  if (typeof v !== 'string') throw new UserError(`'${String(msg.type)}' needs '${name}' (a string)`);
  return v;
}

function optNum(msg: Message, name: string): number | undefined {
  return msg[name] === undefined ? undefined : num(msg, name);
}

/** Bytes of a `data` (base64) or `text` (UTF-8) field. */
function payload(msg: Message): Uint8Array {
  if (typeof msg.data === 'string') return Buffer.from(msg.data, 'base64');
  if (typeof msg.text === 'string') return Buffer.from(msg.text, 'utf8');
  throw new UserError(`'${String(msg.type)}' needs 'data' (base64) or 'text'`);
}

// ---- gestures -----------------------------------------------------------------------------------

/** One step of a gesture: hold this acceleration (MicroPython's axes, milli-g) for `ns`. */
interface GestureStep {
  x: number;
  y: number;
  z: number;
  ns: number;
}

const MS = 1_000_000;

/**
 * Gestures as accelerometer sequences, long enough for the DAL's detection (it samples at
 * 50 Hz and wants a posture in 6 successive samples; a shake is several swings past ±400 mg).
 * `hold` gestures keep their last value; the others go back to the value before them.
 */
export const GESTURES: Readonly<Record<string, { steps: GestureStep[]; hold: boolean }>> = {
  shake: {
    hold: false,
    steps: Array.from({ length: 12 }, (_, i) => ({
      x: i % 2 ? -1800 : 1800,
      y: i % 2 ? 600 : -600,
      z: -1024,
      ns: 60 * MS,
    })),
  },
  'face-up': { hold: true, steps: [{ x: 0, y: 0, z: -1024, ns: 0 }] },
  'face-down': { hold: true, steps: [{ x: 0, y: 0, z: 1024, ns: 0 }] },
  'free-fall': { hold: false, steps: [{ x: 0, y: 0, z: 0, ns: 400 * MS }] },
  'tilt-left': { hold: true, steps: [{ x: -600, y: 0, z: -800, ns: 0 }] },
  'tilt-right': { hold: true, steps: [{ x: 600, y: 0, z: -800, ns: 0 }] },
  'logo-up': { hold: true, steps: [{ x: 0, y: -1024, z: 0, ns: 0 }] },
  'logo-down': { hold: true, steps: [{ x: 0, y: 1024, z: 0, ns: 0 }] },
};

/**
 * The field a level, face-up board sees with its top edge pointing `heading` degrees clockwise
 * from magnetic north (horizontal 20 µT, 44 µT downwards, as in the UK), in the chip's axes.
 * An approximation for demonstrations: runtimes still want their compass calibrated.
 */
export function fieldForHeading(heading: number): [x: number, y: number, z: number] {
  const h = 20_000;
  const rad = (heading * Math.PI) / 180;
  return [Math.round(h * Math.sin(rad)), Math.round(h * Math.cos(rad)), -44_000];
}

// ---- the server ---------------------------------------------------------------------------------

/** One connected UI: framing, handshake and dispatch. */
class Session {
  version = 0;
  private buffer = '';
  private closed = false;

  constructor(
    private readonly server: RemoteDisplayServer,
    readonly socket: Duplex,
  ) {
    socket.setEncoding?.('utf8');
    socket.on('data', (chunk: string | Buffer) =>
      this.onData(typeof chunk === 'string' ? chunk : chunk.toString('utf8')),
    );
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.close());
    this.send({
      type: 'hello',
      protocol: UI_PROTOCOL,
      versions: [...UI_PROTOCOL_VERSIONS],
      emulator: 'tsemu',
    });
  }

  get ready(): boolean {
    return this.version > 0 && !this.closed;
  }

  send(msg: Message): void {
    if (this.closed) return;
    this.socket.write(`${JSON.stringify(msg)}\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.server.sessionClosed(this);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0 && !this.closed) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onLine(line);
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > UI_MAX_LINE) {
      this.send({ type: 'error', message: `line longer than ${UI_MAX_LINE} bytes` });
      this.close();
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.send({ type: 'error', message: 'not a JSON message' });
      return;
    }
    if (
      typeof msg !== 'object' ||
      msg === null ||
      Array.isArray(msg) ||
      typeof (msg as Message).type !== 'string'
    ) {
      this.send({ type: 'error', message: "a message is a JSON object with a 'type'" });
      return;
    }
    const m = msg as Message;
    const id = m.id;
    try {
      if (this.version === 0) {
        this.handshake(m);
        return;
      }
      const done = this.server.handle(this, m);
      // A monitor command's answer is its monitor-reply; everything else is acknowledged.
      const ack = m.type === 'monitor' ? undefined : id;
      if (done instanceof Promise) {
        done.then(
          () => this.acknowledge(ack),
          (e: unknown) => this.fail(id, e),
        );
      } else {
        this.acknowledge(ack);
      }
    } catch (e) {
      this.fail(id, e);
    }
  }

  private handshake(m: Message): void {
    if (m.type !== 'hello') throw new UserError(`'${String(m.type)}' before 'hello'`);
    const version = m.version;
    if (
      m.protocol !== UI_PROTOCOL ||
      typeof version !== 'number' ||
      !UI_PROTOCOL_VERSIONS.includes(version)
    ) {
      this.send({
        type: 'error',
        message: `unsupported protocol ${String(m.protocol)}/${String(version)} (this emulator speaks ${UI_PROTOCOL}/${UI_PROTOCOL_VERSIONS.join(', ')})`,
      });
      this.close();
      return;
    }
    this.version = version;
    this.server.sessionReady(this);
  }

  private acknowledge(id: Json | undefined): void {
    if (id !== undefined) this.send({ type: 'ok', id });
  }

  private fail(id: Json | undefined, e: unknown): void {
    const message =
      e instanceof UserError ? e.message : `internal error: ${(e as Error)?.message ?? String(e)}`;
    this.send(id === undefined ? { type: 'error', message } : { type: 'error', id, message });
  }
}

class RemoteDisplayServer implements RemoteDisplay {
  private readonly sessionSet = new Set<Session>();
  private readonly machine: Machine;
  private readonly board: MicrobitMachine | null;
  private readonly frameIntervalMs: number;
  private readonly statusIntervalMs: number;
  private listener: Server | null = null;
  private child: ChildProcess | null = null;
  private closed = false;
  private readonly cleanups: Array<() => void> = [];
  private urlResolve: (url: string) => void = () => {};
  readonly url: Promise<string>;

  // Display: scratch arrays compared per frame, the last picture sent, the pending one.
  private stopFrames: (() => void) | null = null;
  private readonly scratchLevels = new Array<number>(25).fill(0);
  private readonly scratchBrightness = new Array<number>(25).fill(0);
  private sentLevels: number[] | null = null;
  private sentBrightness: number[] | null = null;
  private pendingFrame: Message | null = null;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private frameTimer: NodeJS.Timeout | null = null;

  // Serial: a ring of recent output for late UIs, and the batch not yet sent.
  private readonly history = new Uint8Array(SERIAL_HISTORY);
  private historyStart = 0;
  private historyLength = 0;
  private batch = new Uint8Array(4096);
  private batchLength = 0;
  private batchTimer: NodeJS.Timeout | null = null;

  private statusTimer: NodeJS.Timeout | null = null;
  private gestureTimer: Timer | null = null;
  private gestureSteps: GestureStep[] = [];
  private gestureRestore: [number, number, number] | null = null;
  private lastStatus = '';

  constructor(private readonly options: RemoteDisplayOptions) {
    this.machine = options.machine;
    this.board = options.machine instanceof MicrobitMachine ? options.machine : null;
    this.frameIntervalMs = options.frameIntervalMs ?? 16;
    this.statusIntervalMs = options.statusIntervalMs ?? 250;
    this.url = new Promise((resolve) => {
      this.urlResolve = resolve;
    });
    // Keep a caller that never awaits the URL from an unhandled promise.
    this.url.catch(() => {});
    const serial = options.serial;
    if (serial) this.cleanups.push(serial.onData((data) => this.serialOutput(data)));
    const ev = this.machine.events;
    const onChange = (): void => this.sendStatus(true);
    const onReset = (_guest: boolean, reason: string): void => {
      this.broadcast({ type: 'event', event: 'reset', reason });
      this.sendStatus(true);
    };
    const onShutdown = (_guest: boolean, reason: string): void => {
      this.broadcast({ type: 'event', event: 'shutdown', reason });
      this.sendStatus(true);
    };
    ev.on('stop', onChange);
    ev.on('resume', onChange);
    ev.on('reset', onReset);
    ev.on('shutdown', onShutdown);
    this.cleanups.push(() => {
      ev.off('stop', onChange);
      ev.off('resume', onChange);
      ev.off('reset', onReset);
      ev.off('shutdown', onShutdown);
    });
  }

  get sessions(): number {
    let n = 0;
    for (const s of this.sessionSet) if (s.ready) n++;
    return n;
  }

  get uiProcess(): ChildProcess | null {
    return this.child;
  }

  // ---- transports -------------------------------------------------------------------------------

  serve(stream: Duplex): void {
    this.sessionSet.add(new Session(this, stream));
  }

  async listen(path: string): Promise<void> {
    // A socket file left by an earlier run would make listen fail with EADDRINUSE.
    if (existsSync(path)) rmSync(path, { force: true });
    const server = createServer((socket: Socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new UserError(`-display remote: cannot listen on '${path}': ${describeSystemError(e)}`)),
      );
      server.listen(path, () => resolve());
    });
    this.listener = server;
  }

  spawn(ui: SpawnUiOptions): void {
    const out = ui.output ?? 'inherit';
    let child: ChildProcess;
    try {
      child = spawn(ui.command, ui.args, { stdio: ['ignore', out, out, 'pipe'], env: ui.env ?? process.env });
    } catch (e) {
      throw new UserError(`cannot start the UI process '${ui.command}': ${describeSystemError(e)}`);
    }
    this.child = child;
    child.on('error', (e) => {
      this.options.report?.(`cannot start the UI process '${ui.command}': ${describeSystemError(e)}`);
    });
    child.on('exit', (code, signal) => {
      this.options.onUiExit?.(code, signal);
      if (this.closed) return;
      if (this.options.quitOnExit) this.options.onQuit?.();
      else
        this.options.report?.(
          `the UI process exited (${signal ?? `status ${code}`}); the machine keeps running`,
        );
    });
    const pipe = child.stdio[3] as Duplex | null;
    if (!pipe) throw new UserError('cannot start the UI process: no connection to hand it');
    this.serve(pipe);
  }

  // ---- sessions ---------------------------------------------------------------------------------

  sessionReady(s: Session): void {
    const m = this.machine;
    const typeName = m.typeName.replace(/-machine$/, '');
    const caps = ['serial', 'monitor', 'control', 'flash'];
    if (this.board)
      caps.push('display', 'buttons', 'accelerometer', 'gestures', 'compass', 'temperature', 'light', 'pins');
    s.send({
      type: 'machine',
      machine: typeName,
      description: findMachineType(typeName)?.description ?? typeName,
      board: this.board ? 'microbit-v1' : null,
      capabilities: caps,
      display: this.board ? { width: 5, height: 5, levels: 10 } : null,
      buttons: this.board ? ['A', 'B'] : [],
      pins: this.board ? ['P0', 'P1', 'P2'] : [],
      gestures: this.board ? Object.keys(GESTURES) : [],
    });
    s.send(this.statusMessage());
    if (this.board) this.watchDisplay();
    if (this.sentLevels && this.sentBrightness) {
      s.send({
        type: 'frame',
        levels: this.sentLevels,
        brightness: this.sentBrightness,
        time: this.machine.clock.now,
      });
    }
    if (this.historyLength > 0) s.send({ type: 'serial', data: this.historyBase64(), replay: true });
    this.ensureStatusTimer();
  }

  sessionClosed(s: Session): void {
    this.sessionSet.delete(s);
    if (this.sessions === 0) {
      this.stopFrames?.();
      this.stopFrames = null;
      this.sentLevels = null;
      this.sentBrightness = null;
      if (this.statusTimer) clearInterval(this.statusTimer);
      this.statusTimer = null;
    }
  }

  private broadcast(msg: Message): void {
    for (const s of this.sessionSet) if (s.ready) s.send(msg);
  }

  // ---- requests ---------------------------------------------------------------------------------

  handle(s: Session, m: Message): void | Promise<void> {
    switch (m.type) {
      case 'serial-in':
        if (!this.options.serial) throw new UserError('this machine has no serial port shown in the UI');
        this.options.serial.send(payload(m));
        return;
      case 'monitor':
        return this.monitor(s, m);
      case 'ui-info':
        if (typeof m.url === 'string') this.urlResolve(m.url);
        return;
      case 'control':
        return this.control(m);
      case 'flash':
        this.flash(m);
        return;
      case 'ping':
        s.send({ type: 'pong', ...(m.id !== undefined ? { id: m.id } : {}) });
        return;
      default:
        return this.boardInput(m);
    }
  }

  private async monitor(s: Session, m: Message): Promise<void> {
    const line = str(m, 'line');
    const monitor = this.options.monitor;
    const text = monitor ? await monitor.execute(line) : 'Error: this emulator has no monitor for the UI\r\n';
    s.send({ type: 'monitor-reply', ...(m.id !== undefined ? { id: m.id } : {}), text });
  }

  private control(m: Message): void {
    const machine = this.machine;
    const action = str(m, 'action');
    switch (action) {
      case 'pause':
        machine.stop();
        return;
      case 'resume':
        if (machine.runState === 'shutdown') throw new UserError('the machine has shut down');
        if (machine.runner.mode === 'qtest') throw new UserError('the machine runs under qtest');
        machine.start();
        return;
      case 'reset':
        machine.reset('host-ui');
        return;
      case 'speed': {
        const mode = str(m, 'mode');
        if (mode !== 'fast' && mode !== 'realtime')
          throw new UserError("'speed' mode is 'realtime' or 'fast'");
        setRunMode(machine, mode);
        this.sendStatus(true);
        return;
      }
      case 'status':
        this.sendStatus(true);
        return;
      default:
        throw new UserError(`unknown control action '${action}' (pause, resume, reset, speed, status)`);
    }
  }

  private boardInput(m: Message): void {
    const board = this.board;
    const known = ['button', 'accelerometer', 'gesture', 'compass', 'temperature', 'light', 'pin'];
    if (!known.includes(m.type as string)) throw new UserError(`unknown message type '${String(m.type)}'`);
    if (!board) throw new UserError(`'${String(m.type)}': this machine has no micro:bit board inputs`);
    switch (m.type) {
      case 'button': {
        const which = str(m, 'button').toUpperCase();
        const action = str(m, 'action');
        const buttons =
          which === 'A'
            ? [board.buttonA]
            : which === 'B'
              ? [board.buttonB]
              : which === 'AB'
                ? [board.buttonA, board.buttonB]
                : null;
        if (!buttons) throw new UserError(`'button' is 'A', 'B' or 'AB', not '${which}'`);
        if (action !== 'press' && action !== 'release' && action !== 'click') {
          throw new UserError(`'button' action is 'press', 'release' or 'click', not '${action}'`);
        }
        const holdMs = optNum(m, 'holdMs');
        for (const b of buttons) {
          if (action === 'press') b.press();
          else if (action === 'release') b.release();
          else b.click(holdMs !== undefined ? holdMs * MS : undefined);
        }
        return;
      }
      case 'accelerometer':
        this.cancelGesture(false);
        setAcceleration(board, num(m, 'x'), num(m, 'y'), num(m, 'z'));
        return;
      case 'gesture':
        this.gesture(board, str(m, 'name'));
        return;
      case 'compass': {
        if (m.heading !== undefined) {
          const [x, y, z] = fieldForHeading(num(m, 'heading'));
          board.compass.set(x, y, z);
        } else {
          board.compass.set(num(m, 'x'), num(m, 'y'), num(m, 'z'));
        }
        return;
      }
      case 'temperature':
        board.setTemperature(num(m, 'celsius'));
        return;
      case 'light': {
        const level = num(m, 'level');
        if (level < 0 || level > 255) throw new UserError("'light' level is 0..255");
        board.setLightLevel(level);
        return;
      }
      default:
        this.pin(board, m);
    }
  }

  private pin(board: MicrobitMachine, m: Message): void {
    const pin = str(m, 'pin');
    if (m.touch !== undefined) {
      // The v1 edge pads have 10 MΩ pull-ups; a finger (holding GND) pulls the pad low.
      board.pins.setDigital(pin, m.touch === true ? 0 : 1);
    } else if (m.digital !== undefined) {
      const v = num(m, 'digital');
      if (v !== 0 && v !== 1) throw new UserError("'pin' digital is 0 or 1");
      board.pins.setDigital(pin, v);
    } else if (m.analog !== undefined) {
      const v = num(m, 'analog');
      if (v < 0 || v > 1023) throw new UserError("'pin' analog is 0..1023 (what read_analog() reads)");
      board.pins.setAnalog(pin, (v / 1023) * 3.0);
    } else if (m.release === true) {
      board.pins.release(pin);
    } else {
      throw new UserError("'pin' needs one of 'touch', 'digital', 'analog' or 'release'");
    }
  }

  // ---- gestures ---------------------------------------------------------------------------------

  private gesture(board: MicrobitMachine, name: string): void {
    const g = GESTURES[name];
    if (!g) throw new UserError(`unknown gesture '${name}' (${Object.keys(GESTURES).join(', ')})`);
    this.cancelGesture(true);
    if (!g.hold) {
      const a = board.accelerometer;
      this.gestureRestore = [a.getInt('x'), a.getInt('y'), a.getInt('z')];
    }
    this.gestureSteps = [...g.steps];
    this.nextGestureStep(board);
  }

  /** Stops a running gesture; `restore` puts back the acceleration from before it. */
  private cancelGesture(restore: boolean): void {
    this.gestureTimer?.cancel();
    this.gestureSteps = [];
    if (restore && this.gestureRestore && this.board) {
      const [x, y, z] = this.gestureRestore;
      this.board.accelerometer.set(x, y, z);
    }
    this.gestureRestore = null;
  }

  private nextGestureStep(board: MicrobitMachine): void {
    const step = this.gestureSteps.shift();
    if (!step) {
      this.cancelGesture(true);
      return;
    }
    setAcceleration(board, step.x, step.y, step.z);
    if (step.ns <= 0 && this.gestureSteps.length === 0 && !this.gestureRestore) return;
    this.gestureTimer ??= this.machine.clock.createTimer('ui.gesture', () => this.nextGestureStep(board));
    this.gestureTimer.modRel(Math.max(step.ns, 1));
  }

  // ---- flashing ---------------------------------------------------------------------------------

  private flash(m: Message): void {
    const name = typeof m.name === 'string' && m.name !== '' ? m.name : 'image';
    const bytes = payload(m);
    const image = this.parseImage(name, bytes);
    const machine = this.machine;
    // A new image replaces the whole flash, as the micro:bit's interface chip erases it first.
    if (this.board) this.board.soc.nvmc.flash.data.fill(0xff);
    placeImage(machine.addressSpace, image);
    machine.loadedImages.length = 0;
    machine.loadedImages.push(image);
    machine.entryPoints.clear();
    if (image.entry !== undefined) machine.setEntryPoint(0, image.entry);
    this.broadcast({ type: 'event', event: 'flashed', name, bytes: bytes.length });
    machine.reset('host-ui');
  }

  private parseImage(name: string, bytes: Uint8Array): LoadedImage {
    if (name.toLowerCase().endsWith('.py')) {
      if (!this.board) throw new UserError(`${name}: a MicroPython script needs a micro:bit machine`);
      const runtime =
        this.options.microPythonRuntime ?? process.env.TSEMU_MICROPYTHON ?? DEFAULT_MICROPYTHON_RUNTIME;
      if (!existsSync(runtime)) {
        throw new UserError(
          `${name}: flashing a .py file needs the MicroPython runtime (${runtime} is missing)`,
        );
      }
      const boardIds = [...this.board.boardIds];
      return withMicroPythonScript(loadImageFile(runtime, { boardIds }), new TextDecoder().decode(bytes));
    }
    const format = detectFormat(bytes, name);
    const text = (): string => new TextDecoder().decode(bytes);
    switch (format) {
      case 'elf':
        return parseElf32(bytes, name);
      case 'ihex':
        return parseIntelHex(text(), name);
      case 'universal-hex': {
        const ids = this.machine.boardIds;
        if (!ids) throw new UserError(`${name}: a micro:bit Universal Hex needs a micro:bit machine`);
        return parseUniversalHex(text(), name, ids);
      }
      default:
        throw new UserError(
          `${name}: not a firmware file (Intel HEX, Universal Hex, ELF, or a MicroPython .py)`,
        );
    }
  }

  // ---- display ----------------------------------------------------------------------------------

  private watchDisplay(): void {
    if (this.stopFrames || !this.board) return;
    this.stopFrames = this.board.display.onFrame((frame) => this.onFrame(frame));
  }

  /** Called every frame window of virtual time: compares in place, allocates only on change. */
  private onFrame(frame: Float32Array): void {
    const levels = this.scratchLevels;
    const brightness = this.scratchBrightness;
    for (let i = 0; i < 25; i++) {
      const duty = frame[i] ?? 0;
      levels[i] = microPythonLevel(duty);
      brightness[i] = Math.round(duty * 255);
    }
    // The latest picture (sent, or waiting for the rate limit) is what a change is measured from.
    const sentL = this.sentLevels;
    const sentB = this.sentBrightness;
    if (sentL && sentB) {
      let same = true;
      for (let i = 0; i < 25 && same; i++) same = sentL[i] === levels[i] && sentB[i] === brightness[i];
      if (same) return;
    }
    this.sentLevels = levels.slice();
    this.sentBrightness = brightness.slice();
    this.pendingFrame = {
      type: 'frame',
      levels: this.sentLevels,
      brightness: this.sentBrightness,
      time: this.machine.clock.now,
    };
    if (this.frameTimer) return;
    // In realtime mode frames come one per window of virtual time, which is host time: each
    // change goes out, so no picture is lost (a catching-up burst stays short). Fast mode can
    // produce thousands a second: there the latest picture per interval wins.
    const interval = this.machine.runner.mode === 'fast' ? this.frameIntervalMs : 0;
    const wait = this.lastFrameAt + interval - performance.now();
    if (interval <= 0 || wait <= 0) {
      this.flushFrame();
      return;
    }
    this.frameTimer = setTimeout(() => {
      this.frameTimer = null;
      this.flushFrame();
    }, wait);
  }

  private flushFrame(): void {
    const f = this.pendingFrame;
    if (!f) return;
    this.pendingFrame = null;
    this.lastFrameAt = performance.now();
    this.broadcast(f);
  }

  // ---- serial -----------------------------------------------------------------------------------

  private serialOutput(data: Uint8Array): void {
    this.remember(data);
    if (this.sessions === 0) return;
    if (this.batchLength + data.length > this.batch.length) {
      const bigger = new Uint8Array(Math.max(this.batch.length * 2, this.batchLength + data.length));
      bigger.set(this.batch.subarray(0, this.batchLength));
      this.batch = bigger;
    }
    this.batch.set(data, this.batchLength);
    this.batchLength += data.length;
    this.batchTimer ??= setTimeout(() => this.flushSerial(), SERIAL_BATCH_MS);
  }

  private flushSerial(): void {
    this.batchTimer = null;
    if (this.batchLength === 0) return;
    const data = Buffer.from(this.batch.buffer, 0, this.batchLength).toString('base64');
    this.batchLength = 0;
    this.broadcast({ type: 'serial', data });
  }

  private remember(data: Uint8Array): void {
    const ring = this.history;
    for (let i = 0; i < data.length; i++) {
      ring[(this.historyStart + this.historyLength) % ring.length] = data[i]!;
      if (this.historyLength < ring.length) this.historyLength++;
      else this.historyStart = (this.historyStart + 1) % ring.length;
    }
  }

  private historyBase64(): string {
    const out = Buffer.alloc(this.historyLength);
    for (let i = 0; i < this.historyLength; i++)
      out[i] = this.history[(this.historyStart + i) % this.history.length]!;
    return out.toString('base64');
  }

  // ---- status -----------------------------------------------------------------------------------

  private statusMessage(): Message {
    const m = this.machine;
    const msg: Message = { type: 'status', state: m.runState, mode: m.runner.mode, time: m.clock.now };
    if (this.board) {
      const outputs: { [pin: string]: number } = {};
      for (const p of ['P0', 'P1', 'P2']) outputs[p] = this.board.pins.output(p);
      msg.outputs = outputs;
    }
    return msg;
  }

  /** Sends the status; unless `force`, only when more than the time changed. */
  private sendStatus(force: boolean): void {
    if (this.sessions === 0) return;
    const msg = this.statusMessage();
    const key = `${msg.state}/${msg.mode}/${JSON.stringify(msg.outputs ?? null)}`;
    if (!force && key === this.lastStatus && this.machine.runState !== 'running') return;
    this.lastStatus = key;
    this.broadcast(msg);
  }

  private ensureStatusTimer(): void {
    if (this.statusTimer || this.statusIntervalMs <= 0) return;
    this.statusTimer = setInterval(() => this.sendStatus(false), this.statusIntervalMs);
    // The status ticker alone must not keep the process alive.
    this.statusTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushSerial();
    for (const c of this.cleanups.splice(0)) c();
    this.cancelGesture(false);
    for (const s of [...this.sessionSet]) s.close();
    this.stopFrames?.();
    this.stopFrames = null;
    for (const t of [this.frameTimer, this.batchTimer]) if (t) clearTimeout(t);
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.child?.unref();
    const listener = this.listener;
    this.listener = null;
    if (listener) {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      if (this.options.listen) rmSync(this.options.listen, { force: true });
    }
  }
}

/** Sets the acceleration given in MicroPython's axes (the DAL negates the chip's X and Y). */
function setAcceleration(board: MicrobitMachine, x: number, y: number, z: number): void {
  const limit = 8192;
  for (const v of [x, y, z]) {
    if (Math.abs(v) > limit) throw new UserError(`acceleration ${v} mg is out of range (±${limit})`);
  }
  board.accelerometer.set(-x, -y, z);
}

/**
 * Switches between realtime and fast while keeping the run state. The runner anchors realtime
 * to the host clock when it starts, so a running machine is stopped and started around the
 * change (UIs see a pause and a resume).
 */
export function setRunMode(machine: Machine, mode: Exclude<RunMode, 'qtest'>): void {
  if (machine.runner.mode === 'qtest') {
    throw new UserError("the machine runs under qtest: its clock is the test's");
  }
  machine.runner.setMode(mode);
}

/**
 * Starts the remote display: serves the UI protocol on `listen`, to a spawned UI, and/or on a
 * given stream. Throws a UserError when the socket cannot be opened or the UI cannot start.
 */
export async function startRemoteDisplay(options: RemoteDisplayOptions): Promise<RemoteDisplay> {
  const server = new RemoteDisplayServer(options);
  try {
    if (options.listen !== undefined) await server.listen(options.listen);
    if (options.spawnUi) server.spawn(options.spawnUi);
    if (options.stream) server.serve(options.stream);
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}

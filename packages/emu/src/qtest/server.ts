/**
 * The qtest server (`-qtest CHARDEV`): QEMU's line protocol for device tests, with QEMU 7.2's
 * commands and reply formats (see docs: shared reference sheet, section 1).
 *
 * Framing: bytes are buffered and every complete `\n`-terminated line is one request; a final
 * `\r` is kept (so `readl 0x0\r` has a bad number, as in QEMU). A line is split on single
 * spaces, so two spaces make an empty word. Each request gets one reply line (`OK ...`,
 * `FAIL ...` or `ERR ...`); `IRQ raise N` / `IRQ lower N` lines for intercepted lines are
 * written the moment the level changes, so they come before the reply of the command that
 * caused them.
 *
 * Where QEMU aborts the whole process (a missing argument, a bad number, `read` of 0 bytes, an
 * I/O port above 0xffff, a line index a device does not have) this server answers `FAIL` with a
 * reason and carries on. Other deliberate differences, all for requests libqtest never sends:
 *  - `read`, `b64read`, `write`, `b64write` and `memset` refuse sizes above 16 MiB (QEMU
 *    allocates whatever it is told).
 *  - `b64write` with less data than SIZE zero-fills the rest (QEMU 7.2 writes SIZE bytes of
 *    whatever follows its decode buffer).
 *  - A NUL byte is an ordinary character (QEMU's `strchr` stops at it and never sees the line).
 *  - A partial line is dropped when the client disconnects (QEMU keeps it for the next client).
 *  - Requests longer than 64 MiB are discarded and answered with `FAIL`.
 *
 * `clock_step` without an argument and with no timer pending leaves the clock where it is and
 * answers `OK <now>`: that is 7.2's behaviour (newer QEMU answers FAIL). Moving the clock past
 * 2^53 ns (about 104 days), where tsemu's clock stops being exact, is refused with FAIL.
 *
 * Memory commands use the machine's address space (the CPU view, as QEMU's `first_cpu->as`).
 * Bus errors are ignored as QEMU ignores the MemTxResult: unmapped bytes read as 0 and writes to
 * them vanish. Multi-byte accesses are split as QEMU's `address_space_rw` splits them for
 * devices: naturally aligned pieces of at most 4 bytes; ram is copied directly.
 *
 * The I/O port space is empty (ARM has none): `inb`/`inw`/`inl` read all ones (QEMU observed:
 * `inb 0x0` → `OK 0x00ff`), `out*` are accepted and ignored.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Chardev, CharEvent, CharFrontend } from '../chardev/chardev.js';
import { Device } from '../core/device.js';
import { describeSystemError, isUserError, UserError } from '../core/errors.js';
import type { Machine } from '../core/machine.js';
import { MemTx } from '../core/memory.js';
import type { ObjectNode } from '../core/object.js';
import { type NumberError, parseI32, parseI64, parseU64, U64 } from './numbers.js';

export interface QtestServerOptions {
  machine: Machine;
  /** The chardev of `-qtest` (QEMU names it `qtest`). */
  chardev: Chardev;
  /**
   * `-qtest-log`: a file path (truncated), `none` for no log, or undefined for stderr (QEMU's
   * default when `-qtest-log` is not given).
   */
  log?: string;
  /**
   * True with `-accel qtest`: `clock_step`/`clock_set` move the virtual clock. Otherwise (the
   * CPU runs, `-accel tcg -qtest ...`) they answer `FAIL Unknown command`, as in QEMU.
   * Default: whether the machine's runner is in qtest mode.
   */
  accelQtest?: boolean;
  /** Receives the log text instead of stderr when `log` is undefined (tests, embedding). */
  logSink?: (text: string) => void;
  /** Host time in ms for the log's timestamps (default `performance.now`). */
  hostNow?: () => number;
}

/** Largest transfer of the bulk memory commands. */
export const QTEST_MAX_BULK = 16 * 1024 * 1024;
/** Longest request line kept; longer ones are discarded and answered with FAIL. */
export const QTEST_MAX_LINE = 64 * 1024 * 1024;
/** libqtest's `irq_level[]` size (and QEMU's `MAX_IRQ`). */
const MAX_IRQ = 256;
const SPACE_END = 0x1_0000_0000;
/** Longest piece of a request echoed in an error reply. */
const ECHO_MAX = 256;

function echo(word: string): string {
  return word.length > ECHO_MAX ? `${word.slice(0, ECHO_MAX)}...` : word;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** The value of one hex digit as QEMU's `hex2nib` gives it (-1 for anything else). */
function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Resolves a QOM path as `object_resolve_path` does: absolute from the root, or partial (a path
 * that ends a unique object's path, e.g. `nrf51` or `nrf51/gpio`); ambiguous → undefined.
 */
export function resolveQomPath(root: ObjectNode, path: string): ObjectNode | undefined {
  if (path.startsWith('/')) return root.resolve(path);
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  let found: ObjectNode | undefined;
  for (const node of root.walk()) {
    let n: ObjectNode | null = node;
    let ok = true;
    for (let i = parts.length - 1; i >= 0; i--) {
      if (n === null || n.name !== parts[i]) {
        ok = false;
        break;
      }
      n = n.parent;
    }
    if (!ok) continue;
    if (found !== undefined) return undefined;
    found = node;
  }
  return found;
}

/** A request the server refuses: answered `FAIL <message>`. */
class Failure extends Error {}

export class QtestServer implements CharFrontend {
  readonly machine: Machine;
  readonly chardev: Chardev;
  readonly accelQtest: boolean;
  /** Requests answered with `FAIL internal error` (a bug in tsemu, not in the request). */
  internalErrors = 0;

  private pending = '';
  private discarding = false;
  private busy = false;
  private opened = false;
  private closed = false;

  private logFd: number | null = null;
  private logToSink: ((text: string) => void) | null = null;
  private logBuffer = '';
  private readonly hostNow: () => number;
  private timerStart: number;

  private interceptDevice: Device | null = null;
  private readonly interceptRemovers: Array<() => void> = [];
  private irqLevels = new Int32Array(MAX_IRQ);

  private readonly num = new U64();
  private readonly num2 = new U64();
  private readonly scratch = new Uint8Array(8);

  constructor(options: QtestServerOptions) {
    this.machine = options.machine;
    this.chardev = options.chardev;
    this.accelQtest = options.accelQtest ?? options.machine.runner.mode === 'qtest';
    this.hostNow = options.hostNow ?? (() => performance.now());
    this.timerStart = this.hostNow();
    const log = options.log;
    if (log === undefined) {
      this.logToSink = options.logSink ?? ((text) => process.stderr.write(text));
    } else if (log !== 'none' && log !== '/dev/null') {
      // (libqtest passes /dev/null: skipping it saves a write per request and changes nothing.)
      try {
        this.logFd = openSync(log, 'w+');
      } catch (e) {
        throw new UserError(`-qtest-log: cannot open '${log}': ${describeSystemError(e)}`);
      }
    }
  }

  /** Starts serving: attaches to the chardev (queued input is processed at once). */
  start(): this {
    this.chardev.attach(this);
    return this;
  }

  /** Stops serving: detaches, removes IRQ interception and closes the log file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chardev.detach(this);
    for (const remove of this.interceptRemovers) remove();
    this.interceptRemovers.length = 0;
    this.interceptDevice = null;
    this.flushLog();
    if (this.logFd !== null) {
      closeSync(this.logFd);
      this.logFd = null;
    }
  }

  // ---- CharFrontend ------------------------------------------------------------------------

  canReceive(): number {
    return this.closed ? 0 : 0x10_0000;
  }

  receive(data: Uint8Array): void {
    // latin1: every byte is one character, so any input survives the round trip.
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
    // Only the new bytes are searched for newlines, so a long line arriving in many small
    // pieces costs linear time.
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) break;
      let line = text.slice(from, nl);
      from = nl + 1;
      if (this.pending.length > 0) {
        line = this.pending + line;
        this.pending = '';
      }
      if (this.discarding) {
        this.discarding = false;
        this.send(`FAIL request longer than ${QTEST_MAX_LINE} bytes; discarded`);
        continue;
      }
      this.processLine(line);
    }
    if (from < text.length && !this.discarding) {
      this.pending += from === 0 ? text : text.slice(from);
      if (this.pending.length > QTEST_MAX_LINE) {
        this.discarding = true;
        this.pending = '';
      }
    }
    this.flushLog();
  }

  event(event: CharEvent): void {
    if (event === 'opened') {
      this.irqLevels.fill(0);
      this.timerStart = this.hostNow();
      this.opened = true;
      this.log(`[I ${this.elapsed()}] OPENED\n`);
    } else if (event === 'closed') {
      this.opened = false;
      this.pending = '';
      this.discarding = false;
      this.log(`[I +${this.elapsed()}] CLOSED\n`);
    }
    this.flushLog();
  }

  // ---- requests ----------------------------------------------------------------------------

  private processLine(line: string): void {
    const words = line.split(' ');
    if (this.logFd !== null || this.logToSink !== null) {
      this.log(`[R +${this.elapsed()}] ${words.join(' ')}\n`);
    }
    let reply: string;
    this.busy = true;
    try {
      reply = this.execute(words);
    } catch (e) {
      if (e instanceof Failure) {
        reply = `FAIL ${e.message}`;
      } else if (isUserError(e)) {
        reply = `FAIL ${e.message}`;
      } else {
        this.internalErrors++;
        reply = `FAIL internal error: ${e instanceof Error ? e.message : String(e)}`;
      }
    } finally {
      this.busy = false;
    }
    // QEMU sends its two ERR replies without the log prefix.
    this.send(reply, !reply.startsWith('ERR '));
  }

  private execute(w: string[]): string {
    const cmd = w[0]!;
    switch (cmd) {
      case 'readb':
      case 'readw':
      case 'readl':
      case 'readq':
        return this.readN(cmd, w);
      case 'writeb':
      case 'writew':
      case 'writel':
      case 'writeq':
        return this.writeN(cmd, w);
      case 'read':
      case 'b64read':
        return this.readBulk(cmd, w);
      case 'write':
      case 'b64write':
        return this.writeBulk(cmd, w);
      case 'memset':
        return this.memset(w);
      case 'inb':
      case 'inw':
      case 'inl':
        return this.portIn(cmd, w);
      case 'outb':
      case 'outw':
      case 'outl':
        return this.portOut(cmd, w);
      case 'endianness':
        return 'OK little';
      case 'irq_intercept_in':
      case 'irq_intercept_out':
        return this.irqIntercept(cmd, w);
      case 'set_irq_in':
        return this.setIrqIn(w);
      case 'clock_step':
        if (!this.accelQtest) break;
        return this.clockStep(w);
      case 'clock_set':
        if (!this.accelQtest) break;
        return this.clockSet(w);
      case 'module_load':
        arg(cmd, w, 1, 'PREFIX');
        arg(cmd, w, 2, 'NAME');
        // tsemu has no loadable modules.
        return 'FAIL';
    }
    return `FAIL Unknown command '${echo(cmd)}'`;
  }

  /** Parses word `i` (an unsigned 64-bit number) into `out`. */
  private u64(cmd: string, w: string[], i: number, what: string, out: U64): U64 {
    const word = arg(cmd, w, i, what);
    numberCheck(cmd, what, word, parseU64(word, out));
    return out;
  }

  /** Word `i` as an address: a number, or SPACE_END or more when outside the 4 GiB space. */
  private address(cmd: string, w: string[], i: number): number {
    const n = this.u64(cmd, w, i, 'ADDR', this.num);
    return n.hi === 0 ? n.lo : SPACE_END + n.hi;
  }

  /** Word `i` as a bulk size (at most QTEST_MAX_BULK). */
  private size(cmd: string, w: string[], i: number): number {
    const n = this.u64(cmd, w, i, 'SIZE', this.num2);
    if (n.hi !== 0 || n.lo > QTEST_MAX_BULK) {
      throw new Failure(`${cmd}: SIZE ${echo(w[i]!)} is above tsemu's limit of ${QTEST_MAX_BULK} bytes`);
    }
    return n.lo;
  }

  private readN(cmd: string, w: string[]): string {
    const addr = this.address(cmd, w, 1);
    const as = this.machine.addressSpace;
    let hi = 0;
    let lo: number;
    const c = cmd.charCodeAt(4);
    if (c === 0x62 /* b */) {
      lo = addr < SPACE_END ? as.read8(addr) : -1;
      if (lo < 0) lo = 0;
    } else if (c === 0x77 /* w */ && (addr & 1) === 0 && addr + 2 <= SPACE_END) {
      lo = as.read16(addr);
      if (lo < 0) lo = lo === MemTx.DecodeError ? this.readSmall(addr, 2) : 0;
    } else if (c === 0x6c /* l */ && (addr & 3) === 0 && addr + 4 <= SPACE_END) {
      lo = as.read32(addr);
      if (lo < 0) lo = lo === MemTx.DecodeError ? this.readSmall(addr, 4) : 0;
    } else if (c === 0x71 /* q */) {
      const b = this.scratch;
      this.readBytes(addr, b, 8);
      lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
    } else {
      lo = this.readSmall(addr, c === 0x77 ? 2 : 4);
    }
    return `OK 0x${hex8(hi)}${hex8(lo)}`;
  }

  /** A little-endian value of `size` bytes through the bulk path (unaligned, partly unmapped). */
  private readSmall(addr: number, size: number): number {
    const b = this.scratch;
    this.readBytes(addr, b, size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + b[i]!;
    return v;
  }

  private writeN(cmd: string, w: string[]): string {
    const addr = this.address(cmd, w, 1);
    const value = this.u64(cmd, w, 2, 'VALUE', this.num2);
    const as = this.machine.addressSpace;
    const c = cmd.charCodeAt(5);
    const lo = value.lo;
    if (c === 0x62 /* b */) {
      if (addr < SPACE_END) as.write8(addr, lo & 0xff);
    } else if (c === 0x77 /* w */ && (addr & 1) === 0 && addr + 2 <= SPACE_END) {
      as.write16(addr, lo & 0xffff);
    } else if (c === 0x6c /* l */ && (addr & 3) === 0 && addr + 4 <= SPACE_END) {
      as.write32(addr, lo);
    } else {
      const b = this.scratch;
      const size = c === 0x77 ? 2 : c === 0x6c ? 4 : 8;
      for (let i = 0; i < 4; i++) b[i] = (lo >>> (i * 8)) & 0xff;
      for (let i = 0; i < 4; i++) b[4 + i] = (value.hi >>> (i * 8)) & 0xff;
      this.writeBytes(addr, b, size);
    }
    return 'OK';
  }

  private readBulk(cmd: string, w: string[]): string {
    const addr = this.address(cmd, w, 1);
    const len = this.size(cmd, w, 2);
    if (cmd === 'read' && len === 0) throw new Failure('read: SIZE must not be 0');
    const data = Buffer.alloc(len);
    this.readBytes(addr, data, len);
    return cmd === 'read' ? `OK 0x${data.toString('hex')}` : `OK ${data.toString('base64')}`;
  }

  private writeBulk(cmd: string, w: string[]): string {
    const addr = this.address(cmd, w, 1);
    const len = this.size(cmd, w, 2);
    const text = arg(cmd, w, 3, 'DATA');
    if (text.length < 3) return 'ERR invalid argument size';
    const data = new Uint8Array(len);
    if (cmd === 'write') {
      // Two hex digits per byte after the (unchecked) 0x prefix; missing digits give zeros.
      for (let i = 0; i < len && i * 2 + 4 <= text.length; i++) {
        const h = hexNibble(text.charCodeAt(i * 2 + 2));
        const l = hexNibble(text.charCodeAt(i * 2 + 3));
        data[i] = ((h << 4) | l) & 0xff;
      }
    } else {
      const decoded = Buffer.from(text, 'base64');
      if (decoded.length !== len) {
        this.logReply(`b64write: data length mismatch (told ${len}, found ${decoded.length})\n`);
      }
      data.set(decoded.subarray(0, Math.min(len, decoded.length)));
    }
    this.writeBytes(addr, data, len);
    return 'OK';
  }

  private memset(w: string[]): string {
    const addr = this.address('memset', w, 1);
    const len = this.size('memset', w, 2);
    const pattern = this.u64('memset', w, 3, 'VALUE', this.num2).lo & 0xff;
    if (len > 0) this.writeBytes(addr, new Uint8Array(len).fill(pattern), len);
    return 'OK';
  }

  private port(cmd: string, w: string[]): void {
    const n = this.u64(cmd, w, 1, 'ADDR', this.num);
    if (n.hi !== 0 || n.lo > 0xffff) {
      throw new Failure(`${cmd}: port ${echo(w[1]!)} is above 0xffff`);
    }
  }

  private portIn(cmd: string, w: string[]): string {
    this.port(cmd, w);
    // Nothing is mapped in the I/O space: reads float high, masked to the access width.
    const c = cmd.charCodeAt(2);
    return c === 0x62 ? 'OK 0x00ff' : c === 0x77 ? 'OK 0xffff' : 'OK 0xffffffff';
  }

  private portOut(cmd: string, w: string[]): string {
    this.port(cmd, w);
    this.u64(cmd, w, 2, 'VALUE', this.num2);
    return 'OK';
  }

  // ---- IRQs ----------------------------------------------------------------------------------

  private device(cmd: string, path: string): Device {
    const node = resolveQomPath(this.machine.root, path);
    if (node === undefined) throw new Failure('Unknown device');
    if (!(node instanceof Device)) throw new Failure(`${cmd}: '${echo(path)}' is not a device`);
    return node;
  }

  private irqIntercept(cmd: string, w: string[]): string {
    const dev = this.device(cmd, arg(cmd, w, 1, 'QOMPATH'));
    if (this.interceptDevice !== null) {
      // One device per run; asking again for the same one (either direction) is a no-op.
      return this.interceptDevice === dev ? 'OK' : 'FAIL IRQ intercept already enabled';
    }
    if (cmd === 'irq_intercept_out') {
      const lines = dev.lines.outputs.get('') ?? [];
      this.sizeIrqLevels(lines.length);
      for (const line of lines) {
        this.interceptRemovers.push(line.watch((level, l) => this.onIrq(l.index, level)));
      }
    } else {
      const lines = dev.lines.inputs.get('') ?? [];
      this.sizeIrqLevels(lines.length);
      for (const line of lines) {
        this.interceptRemovers.push(line.intercept((level, index) => this.onIrq(index, level)));
      }
    }
    this.interceptDevice = dev;
    return 'OK';
  }

  private sizeIrqLevels(count: number): void {
    if (count > this.irqLevels.length) {
      const bigger = new Int32Array(count);
      bigger.set(this.irqLevels);
      this.irqLevels = bigger;
    }
  }

  /** An intercepted line was set: report it when its level changed since the last report. */
  private onIrq(n: number, level: number): void {
    const l = level | 0;
    if (this.irqLevels[n] === l) return;
    this.irqLevels[n] = l;
    this.send(`IRQ ${l !== 0 ? 'raise' : 'lower'} ${n}`);
    if (!this.busy) this.flushLog();
  }

  private setIrqIn(w: string[]): string {
    const cmd = 'set_irq_in';
    const path = arg(cmd, w, 1, 'QOMPATH');
    const name = arg(cmd, w, 2, 'NAME');
    const numWord = arg(cmd, w, 3, 'NUM');
    const levelWord = arg(cmd, w, 4, 'LEVEL');
    const dev = this.device(cmd, path);
    const num = parseI32(numWord);
    if (typeof num === 'string') numberCheck(cmd, 'NUM', numWord, num);
    const level = parseI32(levelWord);
    if (typeof level === 'string') numberCheck(cmd, 'LEVEL', levelWord, level);
    const arrayName = name === 'unnamed-gpio-in' ? '' : name;
    const line = dev.lines.input(arrayName, num as number);
    if (line === undefined) {
      throw new Failure(`${cmd}: '${echo(path)}' has no input line ${echo(name)}[${echo(numWord)}]`);
    }
    line.set(level as number);
    return 'OK';
  }

  // ---- clock ---------------------------------------------------------------------------------

  private clockStep(w: string[]): string {
    const runner = this.machine.runner;
    const clock = this.machine.clock;
    if (w.length < 2) {
      // 7.2: jump to the next deadline; none pending leaves the clock alone.
      runner.stepClock();
      return `OK ${clock.now}`;
    }
    const ns = this.signed64('clock_step', w[1]!, 'NS');
    if (ns > 0) {
      if (clock.now + ns > Number.MAX_SAFE_INTEGER) {
        throw new Failure(`clock_step: ${echo(w[1]!)} ns would move the clock past 2^53 ns`);
      }
      runner.stepClock(ns);
    }
    return `OK ${clock.now}`;
  }

  private clockSet(w: string[]): string {
    const word = arg('clock_set', w, 1, 'NS');
    const ns = this.signed64('clock_set', word, 'NS');
    const clock = this.machine.clock;
    if (ns > clock.now) {
      if (ns > Number.MAX_SAFE_INTEGER) {
        throw new Failure(`clock_set: ${echo(word)} ns is past 2^53 ns`);
      }
      this.machine.runner.setClock(ns);
    }
    return `OK ${clock.now}`;
  }

  private signed64(cmd: string, word: string, what: string): number {
    const v = parseI64(word);
    if (typeof v === 'string') numberCheck(cmd, what, word, v);
    return v as number;
  }

  // ---- memory --------------------------------------------------------------------------------

  /** Reads `len` bytes from `addr` into `out`; unmapped bytes read as 0. */
  private readBytes(addr: number, out: Uint8Array, len: number): void {
    const as = this.machine.addressSpace;
    let i = 0;
    while (i < len) {
      const a = addr + i;
      if (a >= SPACE_END) {
        out.fill(0, i, len);
        return;
      }
      const ram = as.ramPointer(a);
      if (ram !== null) {
        const n = Math.min(len - i, ram.end - a);
        const o = a - ram.base;
        out.set(ram.data.subarray(o, o + n), i);
        i += n;
        continue;
      }
      const size = pieceSize(a, len - i);
      let v = as.read(a, size);
      if (v === MemTx.DecodeError) {
        // Part of the piece may be mapped: take what each byte gives.
        v = 0;
        for (let k = size - 1; k >= 0; k--) {
          const b = as.read8(a + k);
          v = v * 256 + Math.max(b, 0);
        }
      } else if (v < 0) {
        v = 0;
      }
      for (let k = 0; k < size; k++) {
        out[i + k] = v & 0xff;
        v = Math.floor(v / 256);
      }
      i += size;
    }
  }

  /** Writes `len` bytes of `data` at `addr`; bytes for unmapped addresses are dropped. */
  private writeBytes(addr: number, data: Uint8Array, len: number): void {
    const as = this.machine.addressSpace;
    let i = 0;
    while (i < len) {
      const a = addr + i;
      if (a >= SPACE_END) return;
      const ram = as.ramPointer(a);
      if (ram?.writable) {
        const n = Math.min(len - i, ram.end - a);
        ram.data.set(data.subarray(i, i + n), a - ram.base);
        i += n;
        continue;
      }
      const size = pieceSize(a, len - i);
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = v * 256 + data[i + k]!;
      if (as.write(a, v, size) === MemTx.DecodeError && size > 1) {
        // Part of the piece may be mapped: write what each byte reaches.
        for (let k = 0; k < size; k++) as.write8(a + k, data[i + k]!);
      }
      i += size;
    }
  }

  // ---- output and log ------------------------------------------------------------------------

  private send(text: string, logPrefixed = true): void {
    this.chardev.write(Buffer.from(`${text}\n`, 'latin1'));
    if (this.opened && (this.logFd !== null || this.logToSink !== null)) {
      this.log(logPrefixed ? `[S +${this.elapsed()}] ${text}\n` : `${text}\n`);
    }
  }

  /** A log-only line in the reply stream (QEMU's qtest_log_send). */
  private logReply(text: string): void {
    if (this.opened) this.log(`[S +${this.elapsed()}] ${text}`);
  }

  private elapsed(): string {
    return ((this.hostNow() - this.timerStart) / 1000).toFixed(6);
  }

  private log(text: string): void {
    if (this.logFd === null && this.logToSink === null) return;
    this.logBuffer += text;
  }

  private flushLog(): void {
    const text = this.logBuffer;
    if (text.length === 0) return;
    this.logBuffer = '';
    if (this.logFd !== null) {
      const bytes = Buffer.from(text, 'latin1');
      let done = 0;
      while (done < bytes.length) done += writeSync(this.logFd, bytes, done, bytes.length - done);
    } else if (this.logToSink !== null) {
      this.logToSink(text);
    }
  }
}

/** The QEMU alignment rule for device accesses: the largest aligned piece of 4, 2 or 1 bytes. */
function pieceSize(addr: number, remaining: number): 1 | 2 | 4 {
  if ((addr & 3) === 0 && remaining >= 4 && addr + 4 <= SPACE_END) return 4;
  if ((addr & 1) === 0 && remaining >= 2 && addr + 2 <= SPACE_END) return 2;
  return 1;
}

/** Word `i` of the request, or FAIL naming the missing argument. */
function arg(cmd: string, w: string[], i: number, what: string): string {
  const word = w[i];
  if (word === undefined) throw new Failure(`${cmd}: missing ${what}`);
  return word;
}

function numberCheck(cmd: string, what: string, word: string, err: NumberError | null): void {
  if (err === null) return;
  throw new Failure(
    err === 'range'
      ? `${cmd}: ${what} '${echo(word)}' is out of range`
      : `${cmd}: ${what} '${echo(word)}' is not a number`,
  );
}

/**
 * Serves qtest on `chardev` for `machine` until `close()`. The CLI calls it after creating the
 * machine, with the `-qtest` chardev, the `-qtest-log` value and whether `-accel qtest` is on.
 * Throws UserError when the log file cannot be opened.
 */
export function startQtestServer(options: QtestServerOptions): QtestServer {
  return new QtestServer(options).start();
}

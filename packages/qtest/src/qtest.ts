/**
 * The qtest text protocol, client side (what QEMU's libqtest does, as an async API).
 *
 * Requests are single lines; every request gets exactly one reply line (`OK ...`, `FAIL ...`,
 * `ERR ...`), in order, so requests may be pipelined. `IRQ raise N` / `IRQ lower N` lines are
 * unsolicited: the server sends them while a request runs, before its reply, so by the time a
 * request resolves the levels it caused are already recorded (`irqLevel`). Like libqtest, a
 * level is "raised" for any non-zero level and the table starts all-low on connection.
 */
import type { Socket } from 'node:net';
import { QTestConnectionError, QTestError } from './errors.js';

/** One `IRQ raise/lower N` line, as received. */
export interface IrqChange {
  line: number;
  raised: boolean;
}

/** Anything accepted as an address or a value: non-negative integers up to 2^64 - 1. */
export type Word = number | bigint;

interface PendingRequest {
  request: string;
  resolve: (reply: string) => void;
  reject: (error: Error) => void;
}

/** IRQ changes kept for `takeIrqChanges` before the oldest are dropped. */
const IRQ_HISTORY_LIMIT = 100_000;

function hex(value: Word, what: string): string {
  const big = typeof value === 'bigint' ? value : toBigInt(value, what);
  if (big < 0n || big > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`${what} ${value} is outside 0..2^64-1`);
  }
  return `0x${big.toString(16)}`;
}

function toBigInt(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} ${value} is not a safe integer`);
  return BigInt(value);
}

/** A word of a qtest request must not contain the separators of the protocol. */
function checkWord(word: string, what: string): string {
  if (word === '' || /[\s]/.test(word)) {
    throw new TypeError(`${what} '${word}' must be non-empty and contain no spaces or newlines`);
  }
  return word;
}

export class QTestClient {
  private input = '';
  private readonly pending: PendingRequest[] = [];
  private readonly levels = new Map<number, boolean>();
  private irqHistory: IrqChange[] = [];
  private readonly irqListeners = new Set<(change: IrqChange) => void>();
  private failure: Error | null = null;
  /** The connection is gone; `failure` follows once explained. */
  private lost = false;
  private readonly socket: Socket;

  /**
   * `explain`, when given, is asked why the connection was lost (the session answers with the
   * emulator's exit status and output) before pending requests are rejected.
   */
  constructor(socket: Socket, explain?: () => Promise<string | null>) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    const lost = (what: string): void => {
      if (this.failure || this.lost) return;
      this.lost = true;
      void (explain?.() ?? Promise.resolve(null)).then((why) =>
        this.fail(new QTestConnectionError(why === null ? what : `${what}: ${why}`)),
      );
    };
    socket.on('error', (e) => lost(`qtest connection error (${e.message})`));
    socket.on('close', () => lost('qtest connection closed by the emulator'));
  }

  // ---- raw protocol ---------------------------------------------------------------------------

  /**
   * Sends one request line and resolves with its reply line (`OK ...`, `FAIL ...`, `ERR ...`),
   * whatever it is. Use `command` to have failures thrown.
   */
  request(line: string): Promise<string> {
    if (line.includes('\n')) throw new TypeError(`a qtest request is one line: ${JSON.stringify(line)}`);
    if (this.failure) return Promise.reject(this.withRequest(this.failure, line));
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ request: line, resolve, reject });
      this.socket.write(`${line}\n`);
    });
  }

  /** Sends one request; resolves with the words after `OK`; throws QTestError on FAIL/ERR. */
  async command(line: string): Promise<string[]> {
    const reply = await this.request(line);
    const words = reply.split(' ');
    if (words[0] !== 'OK') throw new QTestError(line, reply);
    return words.slice(1);
  }

  /** `command` for requests whose reply carries one value word. */
  private async value(line: string): Promise<string> {
    const words = await this.command(line);
    const value = words[0];
    if (value === undefined) throw new QTestError(line, `OK without a value`);
    return value;
  }

  private onData(chunk: string): void {
    this.input += chunk;
    let newline = this.input.indexOf('\n');
    while (newline >= 0) {
      const line = this.input.slice(0, newline);
      this.input = this.input.slice(newline + 1);
      this.onLine(line);
      newline = this.input.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    if (line.startsWith('IRQ ')) {
      const [, action, number] = line.split(' ');
      const n = Number(number);
      if ((action === 'raise' || action === 'lower') && Number.isInteger(n) && n >= 0) {
        const change: IrqChange = { line: n, raised: action === 'raise' };
        this.levels.set(n, change.raised);
        if (this.irqHistory.length >= IRQ_HISTORY_LIMIT) this.irqHistory = this.irqHistory.slice(-1000);
        this.irqHistory.push(change);
        for (const listener of this.irqListeners) listener(change);
        return;
      }
    }
    const next = this.pending.shift();
    if (next) next.resolve(line);
    else this.fail(new QTestConnectionError(`qtest: unsolicited reply line from the emulator: '${line}'`));
  }

  /** Rejects every pending and future request with `error` (connection lost). */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const p of this.pending.splice(0)) p.reject(this.withRequest(error, p.request));
  }

  private withRequest(error: Error, request: string): Error {
    return new QTestConnectionError(`qtest request '${request}' not answered: ${error.message}`);
  }

  close(): void {
    this.socket.destroy();
  }

  // ---- IRQ tracking ---------------------------------------------------------------------------

  /**
   * The level of intercepted line `n` as last reported by `IRQ raise/lower` lines (false until
   * reported). Up to date after any request resolves; `getIrq` also flushes as libqtest does.
   */
  irqLevel(n: number): boolean {
    return this.levels.get(n) ?? false;
  }

  /** libqtest's `qtest_get_irq`: a dummy `inb 0x0` round trip, then the level of line `n`. */
  async getIrq(n: number): Promise<boolean> {
    await this.inb(0);
    return this.irqLevel(n);
  }

  /** The `IRQ` lines received since the last call, oldest first. */
  takeIrqChanges(): IrqChange[] {
    const changes = this.irqHistory;
    this.irqHistory = [];
    return changes;
  }

  /** Calls `listener` for every `IRQ` line; returns the function that unsubscribes. */
  onIrq(listener: (change: IrqChange) => void): () => void {
    this.irqListeners.add(listener);
    return () => this.irqListeners.delete(listener);
  }

  /** Intercepts the unnamed GPIO inputs of the device at `path` (`irq_intercept_in`). */
  async irqInterceptIn(path: string): Promise<void> {
    await this.command(`irq_intercept_in ${checkWord(path, 'QOM path')}`);
  }

  /**
   * Intercepts the unnamed GPIO outputs of the device at `path` (`irq_intercept_out`): their
   * changes arrive as `IRQ raise/lower N` lines. `name` (newer QEMU only) picks a named list.
   */
  async irqInterceptOut(path: string, name?: string): Promise<void> {
    const suffix = name === undefined ? '' : ` ${checkWord(name, 'GPIO name')}`;
    await this.command(`irq_intercept_out ${checkWord(path, 'QOM path')}${suffix}`);
  }

  /**
   * Drives GPIO input `n` of the list `name` of the device at `path` (`set_irq_in`): `name`
   * null means the unnamed list; level -1 means "not driven"; booleans are 1/0.
   */
  async setIrqIn(path: string, name: string | null, n: number, level: number | boolean): Promise<void> {
    const list = name === null || name === '' ? 'unnamed-gpio-in' : checkWord(name, 'GPIO name');
    const l = typeof level === 'boolean' ? (level ? 1 : 0) : level;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`GPIO number ${n} is not a non-negative integer`);
    if (!Number.isInteger(l)) throw new RangeError(`level ${l} is not an integer`);
    await this.command(`set_irq_in ${checkWord(path, 'QOM path')} ${list} ${n} ${l}`);
  }

  // ---- memory ---------------------------------------------------------------------------------

  async readb(addr: Word): Promise<number> {
    return Number(BigInt(await this.value(`readb ${hex(addr, 'address')}`)));
  }
  async readw(addr: Word): Promise<number> {
    return Number(BigInt(await this.value(`readw ${hex(addr, 'address')}`)));
  }
  async readl(addr: Word): Promise<number> {
    return Number(BigInt(await this.value(`readl ${hex(addr, 'address')}`)));
  }
  async readq(addr: Word): Promise<bigint> {
    return BigInt(await this.value(`readq ${hex(addr, 'address')}`));
  }

  /** The value is truncated to the access width, as the server does. */
  async writeb(addr: Word, value: Word): Promise<void> {
    await this.command(`writeb ${hex(addr, 'address')} ${hex(BigInt.asUintN(8, BigInt(value)), 'value')}`);
  }
  async writew(addr: Word, value: Word): Promise<void> {
    await this.command(`writew ${hex(addr, 'address')} ${hex(BigInt.asUintN(16, BigInt(value)), 'value')}`);
  }
  async writel(addr: Word, value: Word): Promise<void> {
    await this.command(`writel ${hex(addr, 'address')} ${hex(BigInt.asUintN(32, BigInt(value)), 'value')}`);
  }
  async writeq(addr: Word, value: Word): Promise<void> {
    await this.command(`writeq ${hex(addr, 'address')} ${hex(BigInt.asUintN(64, BigInt(value)), 'value')}`);
  }

  /** `read ADDR SIZE`: bytes in memory order. A zero size is answered locally (QEMU asserts). */
  async read(addr: Word, size: number): Promise<Uint8Array> {
    if (size === 0) return new Uint8Array(0);
    const data = await this.value(`read ${hex(addr, 'address')} ${hex(size, 'size')}`);
    return Uint8Array.from(Buffer.from(data.replace(/^0x/, ''), 'hex'));
  }

  /** `write ADDR SIZE 0xHEX`. A zero size is a local no-op (the server would answer ERR). */
  async write(addr: Word, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
    await this.command(`write ${hex(addr, 'address')} ${hex(data.length, 'size')} 0x${payload}`);
  }

  async b64read(addr: Word, size: number): Promise<Uint8Array> {
    if (size === 0) return new Uint8Array(0);
    const data = await this.value(`b64read ${hex(addr, 'address')} ${hex(size, 'size')}`);
    return Uint8Array.from(Buffer.from(data, 'base64'));
  }

  async b64write(addr: Word, data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    await this.command(`b64write ${hex(addr, 'address')} ${hex(data.length, 'size')} ${payload}`);
  }

  async memset(addr: Word, size: number, value: number): Promise<void> {
    const byte = (value & 0xff).toString(16).padStart(2, '0');
    await this.command(`memset ${hex(addr, 'address')} ${hex(size, 'size')} 0x${byte}`);
  }

  // ---- I/O ports (empty on ARM machines, but answered) ----------------------------------------

  async inb(port: number): Promise<number> {
    return Number(BigInt(await this.value(`inb ${hex(port, 'port')}`)));
  }
  async inw(port: number): Promise<number> {
    return Number(BigInt(await this.value(`inw ${hex(port, 'port')}`)));
  }
  async inl(port: number): Promise<number> {
    return Number(BigInt(await this.value(`inl ${hex(port, 'port')}`)));
  }
  async outb(port: number, value: number): Promise<void> {
    await this.command(`outb ${hex(port, 'port')} ${hex(value & 0xff, 'value')}`);
  }
  async outw(port: number, value: number): Promise<void> {
    await this.command(`outw ${hex(port, 'port')} ${hex(value & 0xffff, 'value')}`);
  }
  async outl(port: number, value: number): Promise<void> {
    await this.command(`outl ${hex(port, 'port')} ${hex(value >>> 0, 'value')}`);
  }

  // ---- clock and misc -------------------------------------------------------------------------

  /**
   * `clock_step [NS]`: advances the virtual clock by `ns`, or to the next timer deadline when
   * `ns` is omitted. Resolves with the new virtual time in ns.
   */
  async clockStep(ns?: number): Promise<number> {
    if (ns !== undefined && !Number.isSafeInteger(ns))
      throw new RangeError(`clock step ${ns} is not an integer`);
    return Number(await this.value(ns === undefined ? 'clock_step' : `clock_step ${ns}`));
  }

  /** `clock_set NS`: moves the virtual clock forward to `ns`; resolves with the new time. */
  async clockSet(ns: number): Promise<number> {
    if (!Number.isSafeInteger(ns)) throw new RangeError(`clock value ${ns} is not an integer`);
    return Number(await this.value(`clock_set ${ns}`));
  }

  /** `endianness`: the target's byte order. */
  async endianness(): Promise<'little' | 'big'> {
    const value = await this.value('endianness');
    if (value !== 'little' && value !== 'big') throw new QTestError('endianness', `OK ${value}`);
    return value;
  }

  /** `module_load PREFIX NAME`. */
  async moduleLoad(prefix: string, name: string): Promise<void> {
    await this.command(`module_load ${checkWord(prefix, 'module prefix')} ${checkWord(name, 'module name')}`);
  }
}

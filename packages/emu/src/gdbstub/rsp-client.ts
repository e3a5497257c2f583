/**
 * A small GDB Remote Serial Protocol client over TCP: drives QEMU's (or our own) GDB stub from
 * tests and tools. One request at a time; every request returns a promise of its reply.
 *
 * Wire format (GDB manual, "Remote Protocol"): packets are `$payload#cs` with `cs` the modulo-256
 * sum of the payload bytes as two hex digits. Each side acknowledges a packet with `+` (or `-`
 * for a bad checksum, which makes the sender resend) until `QStartNoAckMode` switches acks off.
 * Inside a payload, `}` escapes the next byte (XOR 0x20); `#`, `$`, `}` and `*` must be escaped
 * in binary data. Replies may be run-length encoded: `c*n` repeats `c` another `n - 29` times.
 * A raw 0x03 byte (not a packet) asks a running target to stop.
 */
import * as net from 'node:net';
import { UserError } from '../core/errors.js';

/** An error reply (`Exx`), an empty reply (unsupported packet) or a protocol violation. */
export class RspError extends Error {
  /** The stub's reply ('' for "unsupported"), or null for a transport/protocol failure. */
  readonly reply: string | null;
  constructor(message: string, reply: string | null = null) {
    super(message);
    this.name = 'RspError';
    this.reply = reply;
  }
}

/** A parsed stop reply (`S`, `T`, `W`, `X`). */
export interface StopReply {
  kind: 'signal' | 'exited' | 'terminated';
  /** Signal number for `S`/`T`/`X`, exit status for `W`. */
  code: number;
  /** `T` register values by register number: raw little-endian target bytes as hex. */
  registers: Map<number, string>;
  /** The other `T` pairs (thread, watch, swbreak, ...), verbatim. */
  info: Map<string, string>;
  raw: string;
}

export interface RspClientOptions {
  /** Rejects a request whose reply has not arrived after this many ms (default 10000). */
  timeoutMs?: number;
  /** Gives up after this many consecutive `-` for one packet (default 5). */
  maxResends?: number;
  /** Console output packets (`O hex`) received while waiting for a stop reply. */
  onConsoleOutput?: (text: string) => void;
}

const ESCAPED = new Set([0x23, 0x24, 0x7d, 0x2a]); // # $ } *

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Escapes binary data for `X` payloads (and any payload that may contain `#$}*`). */
export function escapeBinary(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of data) {
    if (ESCAPED.has(b)) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

/** Frames a payload as `$payload#cs`. */
export function framePacket(payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const cs = checksum(body).toString(16).padStart(2, '0');
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${cs}`)]);
}

/** Undoes `}` escapes and expands run-length encoding of a received payload (as framed). */
export function decodePayload(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x7d && i + 1 < raw.length) {
      out.push(raw[++i]! ^ 0x20);
    } else if (b === 0x2a && i + 1 < raw.length && out.length > 0) {
      const repeat = raw[++i]! - 29;
      const last = out[out.length - 1]!;
      for (let k = 0; k < repeat; k++) out.push(last);
    } else {
      out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/** Parses `S05`, `T05key:value;...`, `W00`, `X09`; null if `reply` is not a stop reply. */
export function parseStopReply(reply: string): StopReply | null {
  const type = reply[0];
  const code = Number.parseInt(reply.slice(1, 3), 16);
  if (!/^[STWX][0-9a-fA-F]{2}/.test(reply)) return null;
  const registers = new Map<number, string>();
  const info = new Map<string, string>();
  if (type === 'T') {
    for (const pair of reply.slice(3).split(';')) {
      if (pair === '') continue;
      const colon = pair.indexOf(':');
      const key = colon < 0 ? pair : pair.slice(0, colon);
      const value = colon < 0 ? '' : pair.slice(colon + 1);
      if (/^[0-9a-fA-F]+$/.test(key)) registers.set(Number.parseInt(key, 16), value);
      else info.set(key, value);
    }
  }
  const kind = type === 'W' ? 'exited' : type === 'X' ? 'terminated' : 'signal';
  return { kind, code, registers, info, raw: reply };
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RspError(`malformed hex data from the stub: "${hex.slice(0, 40)}"`, hex);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** A 32-bit value as 4 little-endian bytes in hex (register format of 32-bit ARM targets). */
export function u32le(value: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b.toString('hex');
}

/** Reads a little-endian unsigned value from register hex (up to 4 bytes). */
export function readU32le(hex: string): number {
  const b = fromHex(hex);
  let v = 0;
  for (let i = Math.min(b.length, 4) - 1; i >= 0; i--) v = (v * 256 + b[i]!) >>> 0;
  return v;
}

interface Pending {
  resolve: (reply: string) => void;
  reject: (err: Error) => void;
  /**
   * Console output (`O hex`) is not the reply: 'forward' passes it to onConsoleOutput (step,
   * continue), 'collect' gathers it for the caller (qRcmd), 'none' takes any packet as the reply.
   */
  console: 'none' | 'forward' | 'collect';
  collected: string;
  timer: NodeJS.Timeout | null;
}

export class RspClient {
  private readonly socket: net.Socket;
  private readonly options: Required<Omit<RspClientOptions, 'onConsoleOutput'>> &
    Pick<RspClientOptions, 'onConsoleOutput'>;
  private rx: Buffer = Buffer.alloc(0);
  private noAck = false;
  private lastPacket: Uint8Array | null = null;
  private resends = 0;
  private pending: Pending | null = null;
  /** Requests are chained so only one is on the wire at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closedError: Error | null = null;

  private constructor(socket: net.Socket, options: RspClientOptions) {
    this.socket = socket;
    this.options = {
      timeoutMs: options.timeoutMs ?? 10000,
      maxResends: options.maxResends ?? 5,
      onConsoleOutput: options.onConsoleOutput,
    };
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.fail(new RspError('connection to the GDB stub closed')));
    socket.on('error', (err) => this.fail(new RspError(`GDB stub connection error: ${err.message}`)));
  }

  /** Connects to a stub at host:port. A refused connection is a UserError naming the address. */
  static connect(host: string, port: number, options: RspClientOptions = {}): Promise<RspClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host, port });
      socket.setNoDelay(true);
      const onError = (err: Error): void => {
        reject(new UserError(`cannot connect to GDB stub at ${host}:${port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new RspClient(socket, options));
      });
    });
  }

  /** Whether acknowledgements are off (after `startNoAckMode`). */
  get ackMode(): boolean {
    return !this.noAck;
  }

  /** Sends one packet and resolves with the reply payload (escapes and RLE undone). */
  request(payload: string | Uint8Array): Promise<string> {
    return this.enqueue(payload, 'none').then((p) => p.reply);
  }

  /** `qRcmd`: runs a monitor command (QEMU: an HMP command); resolves with its output. */
  async monitor(command: string): Promise<string> {
    const { reply, output } = await this.enqueue(
      `qRcmd,${Buffer.from(command, 'utf8').toString('hex')}`,
      'collect',
    );
    if (reply === '') throw new RspError('the stub does not support monitor commands (qRcmd)', reply);
    if (reply !== 'OK') {
      // Some stubs answer with the output hex-encoded as the reply itself.
      if (/^E[0-9a-fA-F]{2}$/.test(reply)) {
        throw new RspError(`monitor command "${command}" failed: ${reply}`, reply);
      }
      return output + Buffer.from(reply, 'hex').toString('utf8');
    }
    return output;
  }

  /** Like request, for `s`/`c`: waits for the stop reply, passing console output aside. */
  private requestStop(payload: string): Promise<StopReply> {
    return this.enqueue(payload, 'forward', 0).then(({ reply }) => {
      const stop = parseStopReply(reply);
      if (!stop) throw new RspError(`expected a stop reply to "${payload}", got "${reply}"`, reply);
      return stop;
    });
  }

  private enqueue(
    payload: string | Uint8Array,
    console: Pending['console'],
    timeoutMs?: number,
  ): Promise<{ reply: string; output: string }> {
    const run = (): Promise<{ reply: string; output: string }> =>
      new Promise((resolve, reject) => {
        if (this.closedError) {
          reject(this.closedError);
          return;
        }
        const limit = timeoutMs ?? this.options.timeoutMs;
        const timer =
          limit > 0
            ? setTimeout(() => {
                this.pending = null;
                reject(new RspError(`no reply from the GDB stub to "${describe(payload)}"`));
              }, limit)
            : null;
        const pending: Pending = {
          resolve: (reply) => resolve({ reply, output: pending.collected }),
          reject,
          console,
          collected: '',
          timer,
        };
        this.pending = pending;
        this.lastPacket = framePacket(payload);
        this.resends = 0;
        this.socket.write(this.lastPacket);
      });
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Sends the interrupt byte (0x03): a running `continue` then resolves with the stop reply. */
  interrupt(): void {
    this.socket.write(Buffer.from([0x03]));
  }

  /** Turns acknowledgements off if the stub supports it; returns whether it did. */
  async startNoAckMode(): Promise<boolean> {
    const reply = await this.request('QStartNoAckMode');
    // The stub stops acking after its OK; our ack of that OK (sent on receipt) is the last one.
    if (reply === 'OK') this.noAck = true;
    return this.noAck;
  }

  /** `qSupported`: features offered by us; returns the stub's as name -> value (true for `+`). */
  async qSupported(features: string[] = []): Promise<Map<string, string | boolean>> {
    const reply = await this.request(features.length ? `qSupported:${features.join(';')}` : 'qSupported');
    const out = new Map<string, string | boolean>();
    for (const item of reply.split(';')) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      if (eq >= 0) out.set(item.slice(0, eq), item.slice(eq + 1));
      else if (item.endsWith('+')) out.set(item.slice(0, -1), true);
      else if (item.endsWith('-')) out.set(item.slice(0, -1), false);
      else out.set(item, true);
    }
    return out;
  }

  /** `?`: why the target is stopped. */
  async haltReason(): Promise<StopReply> {
    const reply = await this.request('?');
    const stop = parseStopReply(reply);
    if (!stop) throw new RspError(`expected a stop reply to "?", got "${reply}"`, reply);
    return stop;
  }

  /** `g`: all general registers as raw target bytes. */
  async readRegisters(): Promise<Uint8Array> {
    return fromHex(await this.checked('g'));
  }

  /** `G`: writes all general registers (raw target bytes, as `g` returned them). */
  async writeRegisters(data: Uint8Array): Promise<void> {
    await this.expectOk(`G${toHex(data)}`);
  }

  /** `p n`: one register's raw bytes. */
  async readRegister(n: number): Promise<Uint8Array> {
    return fromHex(await this.checked(`p${n.toString(16)}`));
  }

  /** `P n=v`: writes one register (raw target bytes). */
  async writeRegister(n: number, data: Uint8Array): Promise<void> {
    await this.expectOk(`P${n.toString(16)}=${toHex(data)}`);
  }

  /** `m addr,len`: reads memory; throws RspError (reply `Exx`) if it is not accessible. */
  async readMemory(addr: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    // A stub may return fewer bytes than asked for; ask again for the rest.
    while (done < length) {
      const data = fromHex(await this.checked(`m${hexAddr(addr + done)},${(length - done).toString(16)}`));
      if (data.length === 0) throw new RspError(`empty memory reply at 0x${hexAddr(addr + done)}`, '');
      out.set(data.subarray(0, length - done), done);
      done += data.length;
    }
    return out;
  }

  /** `M addr,len:hex`: writes memory. */
  async writeMemory(addr: number, data: Uint8Array): Promise<void> {
    await this.expectOk(`M${hexAddr(addr)},${data.length.toString(16)}:${toHex(data)}`);
  }

  /** `X addr,len:bin`: writes memory with binary (escaped) data. */
  async writeMemoryBinary(addr: number, data: Uint8Array): Promise<void> {
    const head = Buffer.from(`X${hexAddr(addr)},${data.length.toString(16)}:`, 'latin1');
    await this.expectOk(Buffer.concat([head, escapeBinary(data)]));
  }

  /** `s [addr]`: single step; resolves with the stop reply. */
  step(addr?: number): Promise<StopReply> {
    return this.requestStop(addr === undefined ? 's' : `s${hexAddr(addr)}`);
  }

  /** `c [addr]`: continue until the target stops (breakpoint, interrupt, exit). */
  continue(addr?: number): Promise<StopReply> {
    return this.requestStop(addr === undefined ? 'c' : `c${hexAddr(addr)}`);
  }

  /** `Z0,addr,kind`: software breakpoint (kind: 2 for Thumb, 4 for ARM/Thumb-2). */
  async insertBreakpoint(addr: number, kind = 2): Promise<void> {
    await this.expectOk(`Z0,${hexAddr(addr)},${kind}`);
  }

  /** `z0,addr,kind`. */
  async removeBreakpoint(addr: number, kind = 2): Promise<void> {
    await this.expectOk(`z0,${hexAddr(addr)},${kind}`);
  }

  /** `qXfer:features:read`: the whole annex (e.g. 'target.xml'), read in chunks. */
  async readFeatures(annex = 'target.xml'): Promise<string> {
    let text = '';
    for (;;) {
      const reply = await this.request(`qXfer:features:read:${annex}:${text.length.toString(16)},ffb`);
      if (reply === '' || reply[0] === 'E') {
        throw new RspError(`qXfer:features:read of ${annex} failed: "${reply}"`, reply);
      }
      text += reply.slice(1);
      if (reply[0] === 'l') return text;
      if (reply[0] !== 'm' || reply.length === 1) {
        throw new RspError(`bad qXfer reply for ${annex}: "${reply.slice(0, 40)}"`, reply);
      }
    }
  }

  /** Closes the connection (rejecting a request still waiting). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      this.socket.once('close', () => resolve());
      this.socket.end();
      this.socket.destroy();
    });
  }

  private async checked(payload: string | Uint8Array): Promise<string> {
    const reply = await this.request(payload);
    if (reply === '') throw new RspError(`the stub does not support "${describe(payload)}"`, reply);
    if (/^E[0-9a-fA-F]{2}$/.test(reply)) {
      throw new RspError(`the stub answered ${reply} to "${describe(payload)}"`, reply);
    }
    return reply;
  }

  private async expectOk(payload: string | Uint8Array): Promise<void> {
    const reply = await this.checked(payload);
    if (reply !== 'OK') throw new RspError(`expected OK to "${describe(payload)}", got "${reply}"`, reply);
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    const p = this.pending;
    this.pending = null;
    if (p) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    for (;;) {
      if (this.rx.length === 0) return;
      const first = this.rx[0]!;
      if (first === 0x2b /* + */) {
        this.rx = this.rx.subarray(1);
        continue;
      }
      if (first === 0x2d /* - */) {
        this.rx = this.rx.subarray(1);
        this.resendLast();
        continue;
      }
      if (first !== 0x24 /* $ */ && first !== 0x25 /* % notification */) {
        // Noise between packets (e.g. a stray byte): skip it.
        this.rx = this.rx.subarray(1);
        continue;
      }
      const hash = this.rx.indexOf(0x23, 1);
      if (hash < 0 || this.rx.length < hash + 3) return;
      const body = this.rx.subarray(1, hash);
      const given = Number.parseInt(this.rx.subarray(hash + 1, hash + 3).toString('latin1'), 16);
      const isNotification = first === 0x25;
      this.rx = this.rx.subarray(hash + 3);
      if (isNotification) continue;
      if (checksum(body) !== given) {
        if (!this.noAck) this.socket.write('-');
        continue;
      }
      if (!this.noAck) this.socket.write('+');
      this.onPacket(Buffer.from(decodePayload(body)).toString('latin1'));
    }
  }

  private resendLast(): void {
    if (!this.lastPacket || !this.pending) return;
    if (++this.resends > this.options.maxResends) {
      this.fail(new RspError(`the GDB stub rejected a packet ${this.resends} times (checksum errors)`));
      return;
    }
    this.socket.write(this.lastPacket);
  }

  private onPacket(reply: string): void {
    const p = this.pending;
    if (!p) return;
    if (p.console !== 'none' && reply.length > 1 && reply[0] === 'O' && reply !== 'OK') {
      const text = Buffer.from(reply.slice(1), 'hex').toString('utf8');
      if (p.console === 'collect') p.collected += text;
      else this.options.onConsoleOutput?.(text);
      return;
    }
    this.pending = null;
    if (p.timer) clearTimeout(p.timer);
    p.resolve(reply);
  }
}

function hexAddr(addr: number): string {
  return (addr >>> 0).toString(16);
}

function describe(payload: string | Uint8Array): string {
  const s = typeof payload === 'string' ? payload : Buffer.from(payload).toString('latin1');
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

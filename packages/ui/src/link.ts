/**
 * The UI process's connection to the emulator: `tsemu-ui/1` framing (one JSON object per line)
 * and the handshake. The emulator speaks first (`hello` with the versions it offers); the UI
 * answers with the version it picked. Everything after that is handed to `onMessage` as is.
 */
import { EventEmitter } from 'node:events';
import { connect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export const PROTOCOL = 'tsemu-ui';
/** Versions this UI speaks, best first. */
export const VERSIONS = [1];
/** Longest line accepted from the emulator. */
const MAX_LINE = 16 * 1024 * 1024;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Message = { [key: string]: Json };

/** A user mistake or an unusable emulator: one clear line, no stack trace. */
export class UiError extends Error {
  override name = 'UiError';
}

export interface EmulatorLinkEvents {
  message: [msg: Message];
  close: [];
}

export class EmulatorLink extends EventEmitter<EmulatorLinkEvents> {
  version = 0;
  private buffer = '';
  private closed = false;
  private greeted: ((version: number) => void) | null = null;
  private refused: ((e: Error) => void) | null = null;

  constructor(
    readonly stream: Duplex,
    private readonly clientName = 'tsemu-ui',
  ) {
    super();
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', () => this.close());
    stream.on('close', () => this.close());
    stream.on('end', () => this.close());
  }

  /** Waits for the emulator's hello and answers it; resolves with the version agreed. */
  handshake(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.greeted = resolve;
      this.refused = reject;
      if (this.closed) reject(new UiError('the emulator closed the connection before its hello'));
    });
  }

  send(msg: Message): void {
    if (this.closed) return;
    this.stream.write(`${JSON.stringify(msg)}\n`);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
    this.refused?.(new UiError('the emulator closed the connection before the handshake completed'));
    this.refused = null;
    this.emit('close');
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0 && !this.closed; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line !== '') this.onLine(line);
    }
    if (this.buffer.length > MAX_LINE) this.fail('the emulator sent a line that is too long');
  }

  private onLine(line: string): void {
    let msg: Message;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      msg = parsed as Message;
    } catch {
      this.fail('the emulator sent something that is not a JSON message');
      return;
    }
    if (this.version === 0) {
      this.onHello(msg);
      return;
    }
    this.emit('message', msg);
  }

  private onHello(msg: Message): void {
    if (msg.type === 'error') {
      this.fail(`the emulator refused the connection: ${String(msg.message)}`);
      return;
    }
    const offered = Array.isArray(msg.versions) ? msg.versions : [];
    const version = VERSIONS.find((v) => offered.includes(v));
    if (msg.type !== 'hello' || msg.protocol !== PROTOCOL || version === undefined) {
      this.fail(
        `the emulator does not speak ${PROTOCOL}/${VERSIONS.join(', ')} (it offered ${String(msg.protocol)}/${offered.join(', ')})`,
      );
      return;
    }
    this.version = version;
    this.send({ type: 'hello', protocol: PROTOCOL, version, client: this.clientName });
    this.greeted?.(version);
    this.greeted = null;
    this.refused = null;
  }

  private fail(message: string): void {
    const reject = this.refused;
    this.refused = null;
    reject?.(new UiError(message));
    this.close();
  }
}

/** Connects to an emulator listening on a Unix socket (`-display remote,socket=PATH`). */
export function connectSocket(path: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (e: NodeJS.ErrnoException): void => {
      const why =
        e.code === 'ENOENT'
          ? 'no such socket'
          : e.code === 'ECONNREFUSED'
            ? 'nobody listens there'
            : e.message;
      reject(new UiError(`cannot connect to the emulator at '${path}': ${why}`));
    };
    socket.once('error', onError);
  });
}

/** The connection the emulator handed over as an inherited file descriptor (`-display web`). */
export function inheritedSocket(fd: number): Duplex {
  try {
    return new Socket({ fd, readable: true, writable: true });
  } catch (e) {
    throw new UiError(`file descriptor ${fd} is not a connection from the emulator: ${(e as Error).message}`);
  }
}

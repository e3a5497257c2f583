/**
 * `-chardev socket,...` / `tcp:` / `unix:`: a TCP or Unix-domain stream socket, as a client
 * (QEMU's default; what libqtest expects: it listens and QEMU connects) or as a server.
 *
 * Behaviour that follows QEMU:
 *  - A server serves one client at a time. Further clients wait (unread) in a backlog and are
 *    taken, in order, once the current one disconnects.
 *  - `wait=on` (a server's default): `open()` resolves only once the first client is connected.
 *  - Guest output while no peer is connected is discarded (QEMU's write fails with EIO and the
 *    frontends drop the bytes). Input is never dropped: while the frontend is slow, reading from
 *    the socket pauses (backpressure) instead.
 *  - A client with `reconnect=N` does not fail `open()` when the peer is absent: it reports the
 *    error once and retries every N seconds, also after a disconnect.
 *  - A Unix server removes a stale socket file before binding and its own file on close.
 */

import { unlinkSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';
import { UserError } from '../core/errors.js';
import { Chardev, type ChardevCommonOptions, describeSystemError, INPUT_HIGH_WATER } from './chardev.js';

export type SocketAddress = { type: 'inet'; host: string; port: number } | { type: 'unix'; path: string };

export interface SocketChardevOptions extends ChardevCommonOptions {
  address: SocketAddress;
  /** Listen instead of connecting (default off, as with `-chardev socket`). */
  server?: boolean;
  /** Server only: `open()` waits for the first client (default on). */
  wait?: boolean;
  /** Disable Nagle's algorithm on the connection. */
  nodelay?: boolean;
  /** Client only: retry the connection this often, in milliseconds (0: never). */
  reconnectMs?: number;
  /** `telnet=on`: accepted; tsemu does no telnet negotiation (a raw TCP stream is served). */
  telnet?: boolean;
  /**
   * Where informational lines go (the `waiting for connection` note, reconnect errors). By default
   * they are printed to stderr after `tsemu: `, as QEMU prefixes its program name.
   */
  report?: (line: string) => void;
}

function defaultReport(line: string): void {
  process.stderr.write(`tsemu: ${line}\n`);
}

export class SocketChardev extends Chardev {
  readonly address: SocketAddress;
  readonly isServer: boolean;
  readonly wait: boolean;
  readonly nodelay: boolean;
  readonly reconnectMs: number;
  readonly telnet: boolean;
  private readonly report: (line: string) => void;

  private server: Server | null = null;
  private conn: Socket | null = null;
  private readonly backlog: Socket[] = [];
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectErrorReported = false;
  private closing = false;
  private opened = false;
  /** Address actually bound by a server (port 0 resolved). */
  private boundHost = '';
  private boundPort = 0;
  private connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(id: string, opts: SocketChardevOptions) {
    super('chardev-socket', id, opts);
    this.address = opts.address;
    this.isServer = opts.server ?? false;
    this.wait = this.isServer && (opts.wait ?? true);
    this.nodelay = opts.nodelay ?? false;
    this.reconnectMs = opts.reconnectMs ?? 0;
    this.telnet = opts.telnet ?? false;
    this.report = opts.report ?? defaultReport;
    if (this.isServer && this.reconnectMs > 0) {
      throw new UserError("'reconnect' option is incompatible with socket in server listen mode");
    }
    this.declareProperty({ name: 'connected', type: 'bool', get: () => this.connected });
  }

  override get connected(): boolean {
    return this.conn !== null;
  }

  /** TCP port: the bound one for a server (port 0 resolved after `open`), else the peer's. */
  get port(): number {
    if (this.address.type !== 'inet') return 0;
    return this.isServer && this.boundPort !== 0 ? this.boundPort : this.address.port;
  }

  get filename(): string {
    const a = this.address;
    const srv = this.isServer ? ',server=on' : '';
    const conn = this.conn;
    if (conn) {
      if (a.type === 'unix') return this.isServer ? `unix:${a.path},server=on` : `unix:${a.path}`;
      return `${this.protocol}:${conn.localAddress}:${conn.localPort}${srv} <-> ${conn.remoteAddress}:${conn.remotePort}`;
    }
    if (a.type === 'unix') return `disconnected:unix:${a.path}${srv}`;
    const host = this.isServer && this.server ? this.boundHost : a.host;
    return `disconnected:${this.protocol}:${host}:${this.port}${srv}`;
  }

  private get protocol(): string {
    return this.telnet ? 'telnet' : 'tcp';
  }

  /** Resolves once a peer is connected (at once if one is); rejects if the chardev is closed first. */
  whenConnected(): Promise<void> {
    if (this.conn) return Promise.resolve();
    return new Promise((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  override async open(): Promise<void> {
    if (this.opened) return;
    this.closing = false;
    this.openLog();
    if (this.isServer) {
      try {
        await this.listen();
      } catch (e) {
        this.closeLog();
        throw e;
      }
      this.opened = true;
      if (this.wait) {
        this.report(`info: tsemu waiting for connection on: ${this.filename}`);
        await this.whenConnected();
      }
    } else {
      try {
        await this.connectOnce();
      } catch (e) {
        if (!(e instanceof UserError) || this.reconnectMs <= 0) {
          this.closeLog();
          throw e;
        }
        this.reportConnectError(e);
        this.scheduleReconnect();
      }
      this.opened = true;
    }
  }

  override async close(): Promise<void> {
    this.closing = true;
    this.opened = false;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    for (const s of this.backlog.splice(0)) s.destroy();
    for (const w of this.connectWaiters.splice(0)) {
      w.reject(new UserError(`chardev '${this.id}' was closed before a connection arrived`));
    }
    if (this.conn) {
      const c = this.conn;
      this.dropConnection();
      c.destroy();
    }
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await super.close();
  }

  protected output(data: Uint8Array): void {
    const c = this.conn;
    // No peer: discarded, as in QEMU (see the file comment).
    if (c && data.length > 0 && !c.destroyed) c.write(Buffer.from(data));
  }

  protected override inputDrained(): void {
    if (this.conn?.isPaused()) this.conn.resume();
  }

  // ---- server -----------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const a = this.address;
    if (a.type === 'unix') {
      try {
        unlinkSync(a.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new UserError(`Failed to unlink socket ${a.path}: ${describeSystemError(e)}`);
        }
      }
    }
    const server = createServer({ pauseOnConnect: true });
    server.on('connection', (s) => this.onIncoming(s));
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        const msg =
          a.type === 'unix'
            ? `Failed to bind socket to ${a.path}: ${describeSystemError(e)}`
            : `Failed to bind socket on '${a.host}:${a.port}': ${describeSystemError(e)}`;
        reject(new UserError(msg));
      };
      server.once('error', onError);
      const done = (): void => {
        server.off('error', onError);
        resolve();
      };
      if (a.type === 'unix') server.listen({ path: a.path, backlog: 1 }, done);
      else server.listen({ host: a.host === '' ? undefined : a.host, port: a.port, backlog: 1 }, done);
    });
    // Late server errors have no caller to go to; the listener just stops.
    server.on('error', () => {});
    this.server = server;
    const bound = server.address();
    if (bound && typeof bound === 'object') {
      this.boundHost = (bound as AddressInfo).address;
      this.boundPort = (bound as AddressInfo).port;
    }
  }

  private onIncoming(s: Socket): void {
    s.on('error', () => {});
    if (this.closing) {
      s.destroy();
      return;
    }
    if (this.conn) {
      // One client at a time: this one waits, unread, until the current one leaves.
      this.backlog.push(s);
      s.once('close', () => {
        const i = this.backlog.indexOf(s);
        if (i >= 0) this.backlog.splice(i, 1);
      });
      return;
    }
    this.useConnection(s);
  }

  // ---- client -----------------------------------------------------------------------------

  private connectOnce(): Promise<void> {
    const a = this.address;
    const target = a.type === 'unix' ? `'${a.path}'` : `'${a.host}:${a.port}'`;
    return new Promise<void>((resolve, reject) => {
      const s =
        a.type === 'unix'
          ? createConnection({ path: a.path })
          : createConnection({ host: a.host === '' ? 'localhost' : a.host, port: a.port });
      const onError = (e: Error): void => {
        s.destroy();
        reject(new UserError(`Failed to connect to ${target}: ${describeSystemError(e)}`));
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        s.on('error', () => {});
        if (this.closing) {
          s.destroy();
        } else {
          this.connectErrorReported = false;
          this.useConnection(s);
        }
        resolve();
      });
    });
  }

  private reportConnectError(e: Error): void {
    if (this.connectErrorReported) return;
    this.connectErrorReported = true;
    this.report(`Unable to connect character device ${this.id}: ${e.message}`);
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectMs <= 0 || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closing || this.conn) return;
      this.connectOnce().catch((e: Error) => {
        this.reportConnectError(e);
        this.scheduleReconnect();
      });
    }, this.reconnectMs);
  }

  // ---- the connection ---------------------------------------------------------------------

  private useConnection(s: Socket): void {
    this.conn = s;
    if (this.nodelay) s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      if (this.conn !== s) return;
      this.deliver(chunk);
      if (this.queuedInput > INPUT_HIGH_WATER) s.pause();
    });
    s.once('close', () => {
      if (this.conn !== s) return;
      this.dropConnection();
      if (this.isServer) this.takeNextFromBacklog();
      else this.scheduleReconnect();
    });
    // A half-closed peer is gone for our purposes (QEMU treats EOF as a disconnect).
    s.once('end', () => s.destroy());
    this.emitEvent('opened');
    s.resume();
    for (const w of this.connectWaiters.splice(0)) w.resolve();
  }

  private dropConnection(): void {
    this.conn = null;
    this.emitEvent('closed');
  }

  private takeNextFromBacklog(): void {
    const next = this.backlog.shift();
    if (next && !this.closing) this.useConnection(next);
  }
}

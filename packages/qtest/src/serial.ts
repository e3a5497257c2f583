/**
 * The emulator's serial port as seen from the test: the far end of the `-serial chardev:s0`
 * socket. Bytes the guest (or a device model) sends are buffered here until read; bytes written
 * here reach the emulated UART's receiver.
 *
 * Under `-accel qtest` serial output is produced while a qtest request runs, but it travels on
 * another socket than the qtest reply, so it may arrive a moment after the reply: the read
 * methods therefore wait (bounded by a wall-clock timeout that only guards against a hang).
 */
import type { Socket } from 'node:net';
import { QTestConnectionError } from './errors.js';

interface ReadWaiter {
  /** Returns how many bytes to consume, or -1 while the buffer does not satisfy the read yet. */
  want: (buffered: Buffer) => number;
  resolve: (bytes: Buffer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class SerialPort {
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: ReadWaiter | null = null;
  private closed: Error | null = null;
  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.check();
    });
    socket.on('error', (e) => this.fail(new QTestConnectionError(`serial connection error: ${e.message}`)));
    socket.on('close', () => this.fail(new QTestConnectionError('serial connection closed by the emulator')));
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = error;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  private check(): void {
    const w = this.waiter;
    if (!w) return;
    const n = w.want(this.buffered);
    if (n < 0) return;
    this.waiter = null;
    clearTimeout(w.timer);
    const bytes = Buffer.from(this.buffered.subarray(0, n));
    this.buffered = this.buffered.subarray(n);
    w.resolve(bytes);
  }

  private wait(what: string, want: (buffered: Buffer) => number, timeoutMs: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('serial: another read is already waiting'));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const got = JSON.stringify(this.buffered.toString('latin1'));
        reject(new Error(`serial: ${what} not received within ${timeoutMs} ms (buffered: ${got})`));
      }, timeoutMs);
      this.waiter = { want, resolve, reject, timer };
      this.check();
      // Satisfied from the buffer, or it never will be: the connection is gone.
      if (this.waiter !== null && this.closed !== null) {
        const error = this.closed;
        this.closed = null;
        this.fail(error);
      }
    });
  }

  /** Sends bytes (a string is sent as latin1, one byte per character). */
  write(data: string | Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (e) => (e ? reject(e) : resolve()));
    });
  }

  /** Exactly `count` bytes, waiting for them. */
  async read(count: number, timeoutMs = 10_000): Promise<Uint8Array> {
    const bytes = await this.wait(`${count} byte(s)`, (b) => (b.length >= count ? count : -1), timeoutMs);
    return Uint8Array.from(bytes);
  }

  /** Text up to and including `terminator` (latin1), waiting for it. */
  async readUntil(terminator: string, timeoutMs = 10_000): Promise<string> {
    if (terminator === '') throw new TypeError('readUntil needs a non-empty terminator');
    const needle = Buffer.from(terminator, 'latin1');
    const bytes = await this.wait(
      JSON.stringify(terminator),
      (b) => {
        const at = b.indexOf(needle);
        return at < 0 ? -1 : at + needle.length;
      },
      timeoutMs,
    );
    return bytes.toString('latin1');
  }

  /** Everything received and not yet read (consumed), without waiting. */
  takeBuffered(): Uint8Array {
    const bytes = Uint8Array.from(this.buffered);
    this.buffered = Buffer.alloc(0);
    return bytes;
  }

  /** Number of received bytes not yet read. */
  get bufferedLength(): number {
    return this.buffered.length;
  }

  /** The underlying socket (for `pipe` and the like). */
  get stream(): Socket {
    return this.socket;
  }

  close(): void {
    this.socket.destroy();
  }
}

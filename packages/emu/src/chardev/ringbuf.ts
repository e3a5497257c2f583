/**
 * `-chardev ringbuf,id=X,size=N` (alias `memory`): QEMU's memory ring buffer. Output goes into a
 * buffer of N bytes (a power of two, 64 KiB by default) that keeps the most recent N bytes; the
 * `ringbuf_read` / `ringbuf_write` commands and tests read it back. Input only comes from
 * `inject` (tests, tools).
 */
import { UserError } from '../core/errors.js';
import { Chardev, type ChardevCommonOptions } from './chardev.js';

export const RINGBUF_DEFAULT_SIZE = 65536;

export class RingbufChardev extends Chardev {
  private readonly buf: Uint8Array;
  private readonly mask: number;
  /** Total bytes ever written / read; their difference is the fill level (at most `size`). */
  private prod = 0;
  private cons = 0;

  constructor(
    id: string,
    size = RINGBUF_DEFAULT_SIZE,
    common: ChardevCommonOptions = {},
    typeName = 'chardev-ringbuf',
  ) {
    super(typeName, id, common);
    if (!Number.isSafeInteger(size) || size <= 0 || (size & (size - 1)) !== 0 || size > 2 ** 30) {
      throw new UserError('size of ringbuf chardev must be power of two');
    }
    this.buf = new Uint8Array(size);
    this.mask = size - 1;
  }

  get filename(): string {
    return this.typeName === 'chardev-memory' ? 'memory' : 'ringbuf';
  }

  get size(): number {
    return this.buf.length;
  }

  /** Bytes waiting to be read. */
  get count(): number {
    return this.prod - this.cons;
  }

  protected output(data: Uint8Array): void {
    const size = this.buf.length;
    // Only the last `size` bytes of a long write can survive.
    const start = data.length > size ? data.length - size : 0;
    for (let i = start; i < data.length; i++) this.buf[(this.prod + i - start) & this.mask] = data[i]!;
    this.prod += data.length - start;
    if (this.prod - this.cons > size) this.cons = this.prod - size;
  }

  /** Removes and returns up to `n` of the oldest buffered bytes. */
  read(n: number): Uint8Array {
    const count = Math.max(0, Math.min(n, this.prod - this.cons));
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.buf[(this.cons + i) & this.mask]!;
    this.cons += count;
    return out;
  }

  /** Removes and returns everything buffered. */
  readAll(): Uint8Array {
    return this.read(this.prod - this.cons);
  }

  /** Puts bytes into the buffer as if the guest had written them (QMP `ringbuf_write`). */
  writeToBuffer(data: Uint8Array): void {
    this.output(data);
  }

  /** Feeds input to the frontend, as if typed on the other end. */
  inject(data: Uint8Array | string): void {
    this.deliver(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }
}

/**
 * A chardev for programs that embed tsemu: it keeps everything the guest wrote (as bytes and
 * text), notifies listeners, and lets the program type input (`write`). The library gives one
 * to each serial port a caller did not connect to anything else.
 */
import { Chardev } from './chardev.js';

export class SerialStream extends Chardev {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private readonly listeners = new Set<(data: Uint8Array) => void>();
  private readonly decoder = new TextDecoder();

  constructor(id: string) {
    super('chardev-serial-stream', id);
  }

  get filename(): string {
    return 'library';
  }

  protected output(data: Uint8Array): void {
    const copy = data.slice();
    this.chunks.push(copy);
    this.size += copy.length;
    for (const l of this.listeners) l(copy);
  }

  /** Everything the guest has written so far. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }

  /** Everything the guest has written so far, decoded as UTF-8. */
  text(): string {
    return this.decoder.decode(this.bytes());
  }

  /** Calls `fn` with each piece of output; returns a function that stops it. */
  onData(fn: (data: Uint8Array) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Sends input to the guest (queued while the guest's receiver is full; never dropped). */
  send(input: string | Uint8Array): void {
    this.deliver(typeof input === 'string' ? new TextEncoder().encode(input) : input);
  }
}

/**
 * Test helpers: a QMP client over a ring-buffer chardev (no sockets), reading the server's
 * `\r\n`-separated messages back as parsed JSON.
 */
import { RingbufChardev } from '../../chardev/ringbuf.js';
import type { Machine } from '../../core/machine.js';
import type { JsonValue } from './json-stream.js';
import { type QmpServerHandle, type QmpServerOptions, startQmpServer } from './server.js';

export type QmpMessage = Record<string, JsonValue>;

export class QmpTestClient {
  readonly chardev: RingbufChardev;
  readonly handle: QmpServerHandle;
  private buffered = '';

  constructor(machine: Machine, options: Partial<QmpServerOptions> = {}, id = 'qmp') {
    this.chardev = new RingbufChardev(id, 1 << 22);
    this.handle = startQmpServer({
      machine,
      chardev: this.chardev,
      version: '1.2.3',
      displayEventIntervalMs: 0,
      ...options,
    });
  }

  /** Connects (the server greets); returns the greeting. */
  async connect(): Promise<QmpMessage> {
    await this.chardev.open();
    return this.next();
  }

  async disconnect(): Promise<void> {
    await this.chardev.close();
  }

  /** Connects and negotiates; returns nothing, leaves no message unread. */
  async ready(enable?: string[]): Promise<void> {
    await this.connect();
    const r = this.execute('qmp_capabilities', enable ? { enable } : undefined);
    if (!('return' in r)) throw new Error(`negotiation failed: ${JSON.stringify(r)}`);
  }

  /** Sends raw text. */
  sendRaw(text: string | Uint8Array): void {
    this.chardev.inject(text);
  }

  send(message: unknown): void {
    this.sendRaw(`${JSON.stringify(message)}\n`);
  }

  /** All complete messages written since the last call. */
  drain(): QmpMessage[] {
    this.buffered += Buffer.from(this.chardev.readAll()).toString('latin1');
    const out: QmpMessage[] = [];
    let i = this.buffered.indexOf('\r\n');
    while (i >= 0) {
      const line = this.buffered.slice(0, i);
      this.buffered = this.buffered.slice(i + 2);
      if (line.trim() !== '') out.push(JSON.parse(line) as QmpMessage);
      i = this.buffered.indexOf('\r\n');
    }
    return out;
  }

  /** The raw text written since the last read. */
  rawText(): string {
    const text = this.buffered + Buffer.from(this.chardev.readAll()).toString('latin1');
    this.buffered = '';
    return text;
  }

  /** The next message (it must already have been written). */
  next(): QmpMessage {
    const m = this.drain();
    if (m.length !== 1) throw new Error(`expected one message, got ${JSON.stringify(m)}`);
    return m[0]!;
  }

  /** Sends a command and returns its reply (events before it are dropped; see `exchange`). */
  execute(name: string, args?: Record<string, unknown>, id?: JsonValue): QmpMessage {
    const all = this.exchange(name, args, id);
    return all[all.length - 1]!;
  }

  /** Sends a command and returns every message written in response, events included. */
  exchange(name: string, args?: Record<string, unknown>, id?: JsonValue): QmpMessage[] {
    this.send({ execute: name, ...(args ? { arguments: args } : {}), ...(id !== undefined ? { id } : {}) });
    return this.drain();
  }

  close(): void {
    this.handle.close();
  }
}

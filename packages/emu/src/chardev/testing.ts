/**
 * Helpers for tests of chardevs and of the devices that use them: a frontend that records what
 * it gets and takes input only as fast as the test allows.
 */
import type { CharEvent, CharFrontend } from './chardev.js';

export class RecordingFrontend implements CharFrontend {
  readonly bytes: number[] = [];
  readonly events: CharEvent[] = [];
  /** How many more bytes it takes; Infinity by default. */
  budget: number;
  /** Largest single `receive` seen (flow-control checks). */
  largestChunk = 0;
  private waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  constructor(budget = Number.POSITIVE_INFINITY) {
    this.budget = budget;
  }

  canReceive(): number {
    return this.budget === Number.POSITIVE_INFINITY ? 0x10000 : this.budget;
  }

  receive(data: Uint8Array): void {
    if (data.length > this.canReceive())
      throw new Error(`got ${data.length} bytes, room for ${this.canReceive()}`);
    if (this.budget !== Number.POSITIVE_INFINITY) this.budget -= data.length;
    if (data.length > this.largestChunk) this.largestChunk = data.length;
    for (const b of data) this.bytes.push(b);
    this.notify();
  }

  event(event: CharEvent): void {
    this.events.push(event);
    this.notify();
  }

  /** Everything received, as text (latin-1, so any byte is one character). */
  get text(): string {
    return Buffer.from(this.bytes).toString('latin1');
  }

  /** Resolves once `check()` holds (checked after every byte batch and event). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check, resolve }));
  }

  /** Resolves once at least `n` bytes have arrived. */
  untilBytes(n: number): Promise<void> {
    return this.until(() => this.bytes.length >= n);
  }

  private notify(): void {
    const ready = this.waiters.filter((w) => w.check());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

export const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

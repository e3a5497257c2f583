/**
 * Character devices (QEMU's chardev layer): the byte pipes between a frontend inside the machine
 * (a UART, the monitor, the qtest server, the gdbstub) and the outside world (stdio, a file, a
 * socket, ...).
 *
 * Directions, as in QEMU:
 *  - `write(data)`: frontend → outside (guest output). Each backend queues or discards as it must.
 *  - `deliver(data)` (protected, used by backends): outside → frontend (guest input), with flow
 *    control. A frontend says how much it can take (`canReceive()`); the rest stays queued in
 *    order and is handed over by later `acceptInput()` calls. Input is never dropped, even when no
 *    frontend is attached yet.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { describeSystemError, UserError } from '../core/errors.js';

export { describeSystemError };

import { declareType, ObjectNode } from '../core/object.js';

/** Events a chardev gives its frontend; 'mux-in'/'mux-out' when a mux moves the input focus. */
export type CharEvent = 'opened' | 'closed' | 'break' | 'mux-in' | 'mux-out';

/** The device side of a chardev (QEMU's CharBackend handlers). */
export interface CharFrontend {
  /** How many bytes `receive` can take right now (0: none). */
  canReceive(): number;
  /**
   * Takes at most the `canReceive()` bytes. `data` is only valid during the call (it may be a view
   * into a buffer the chardev reuses): copy what must be kept.
   */
  receive(data: Uint8Array): void;
  event?(event: CharEvent): void;
}

/** Options every backend accepts (QEMU's ChardevCommon). */
export interface ChardevCommonOptions {
  /** Also copy all output to this file (`logfile=`). */
  logfile?: string;
  /** Append to the log file instead of truncating it (`logappend=on`). */
  logappend?: boolean;
}

/**
 * An ordered byte queue for input that a frontend could not take yet. Chunks are copied on entry
 * (the producer may reuse its buffer) and handed out as views, in order.
 */
export class InputQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private offset = 0;
  private total = 0;

  /** Bytes waiting. */
  get length(): number {
    return this.total;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data.slice());
    this.total += data.length;
  }

  /** Moves everything queued here to the end of `other`, in order. */
  moveTo(other: InputQueue): void {
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      other.chunks.push(i === this.head && this.offset > 0 ? c.subarray(this.offset) : c);
    }
    other.total += this.total;
    this.clear();
  }

  /**
   * Hands queued bytes to `fe` for as long as it accepts them. Bytes pushed while this runs (by
   * a re-entrant producer) are handed out by the same loop, so order holds.
   */
  drainTo(fe: CharFrontend): void {
    while (this.total > 0) {
      const room = fe.canReceive();
      if (room <= 0) return;
      const chunk = this.chunks[this.head]!;
      const avail = chunk.length - this.offset;
      const n = Math.min(room, avail);
      const view =
        this.offset === 0 && n === chunk.length ? chunk : chunk.subarray(this.offset, this.offset + n);
      // Account before the call: the frontend may re-enter (push more, or ask again).
      this.total -= n;
      if (n === avail) {
        this.head++;
        this.offset = 0;
        if (this.head === this.chunks.length) {
          this.chunks.length = 0;
          this.head = 0;
        } else if (this.head >= 1024) {
          this.chunks.splice(0, this.head);
          this.head = 0;
        }
      } else {
        this.offset += n;
      }
      fe.receive(view);
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.total = 0;
  }
}

/** Writes all of `data` to `fd` (writeSync may write less than asked). */
export function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** Bytes of queued input above which stream-backed backends pause reading (backpressure). */
export const INPUT_HIGH_WATER = 64 * 1024;

export abstract class Chardev extends ObjectNode {
  private frontend: CharFrontend | null = null;
  private readonly queue = new InputQueue();
  private draining = false;
  private beOpen = false;
  private logFd: number | null = null;
  protected readonly common: ChardevCommonOptions;

  constructor(typeName: string, id: string, common: ChardevCommonOptions = {}) {
    super(typeName, id);
    this.common = common;
  }

  /** The chardev's id (`-chardev ...,id=ID`); also its name in the object tree. */
  get id(): string {
    return this.name;
  }

  /** What `info chardev` shows after `filename=` (QEMU's Chardev.filename). */
  abstract get filename(): string;

  /** True while the outside end is there (a socket has its peer; other backends once open). */
  get connected(): boolean {
    return this.beOpen;
  }

  /** Whether a frontend is attached. */
  get attached(): boolean {
    return this.frontend !== null;
  }

  /** Bytes of input waiting for the frontend. */
  get queuedInput(): number {
    return this.queue.length;
  }

  /** One line for HMP `info chardev`, e.g. `serial0: filename=stdio`. */
  info(): string {
    return `${this.id}: filename=${this.filename}`;
  }

  /** Connects the frontend; queued input is handed over as soon as it can take it. */
  attach(fe: CharFrontend): void {
    if (this.frontend && this.frontend !== fe) {
      throw new UserError(`Device '${this.id}' is in use`);
    }
    this.frontend = fe;
    if (this.beOpen) fe.event?.('opened');
    this.acceptInput();
  }

  /** Disconnects the frontend; later input is queued for the next one. */
  detach(fe?: CharFrontend): void {
    if (fe === undefined || fe === this.frontend) this.frontend = null;
  }

  /**
   * Frontend → outside world. Frontends may reuse `data` after the call returns; backends that
   * keep it copy it.
   */
  write(data: Uint8Array): void {
    if (this.logFd !== null && data.length > 0) writeFully(this.logFd, data);
    this.output(data);
  }

  /** The frontend can take more input now (QEMU's qemu_chr_fe_accept_input). */
  acceptInput(): void {
    const fe = this.frontend;
    if (!fe || this.draining) return;
    this.draining = true;
    try {
      this.queue.drainTo(fe);
    } finally {
      this.draining = false;
    }
    if (this.queue.length === 0) this.inputDrained();
  }

  /** Makes the backend usable (connects, listens, opens files). */
  async open(): Promise<void> {
    this.openLog();
    this.setOpen(true);
  }

  /** Releases what `open` acquired. Idempotent. */
  async close(): Promise<void> {
    this.closeLog();
    this.setOpen(false);
  }

  /** Backend → frontend, with flow control (see the file comment). */
  protected deliver(data: Uint8Array): void {
    if (data.length === 0) return;
    const fe = this.frontend;
    if (fe && !this.draining && this.queue.length === 0) {
      // Fast path: no copy for what the frontend takes at once.
      const room = fe.canReceive();
      if (room >= data.length) {
        this.draining = true;
        try {
          fe.receive(data);
        } finally {
          this.draining = false;
        }
        this.acceptInput();
        return;
      }
      if (room > 0) {
        this.queue.push(data.subarray(room));
        this.draining = true;
        try {
          fe.receive(data.subarray(0, room));
        } finally {
          this.draining = false;
        }
        this.acceptInput();
        return;
      }
    }
    this.queue.push(data);
    this.acceptInput();
  }

  /** Backend → frontend event. `opened`/`closed` also set the state a later frontend sees. */
  protected emitEvent(event: CharEvent): void {
    if (event === 'opened') this.beOpen = true;
    else if (event === 'closed') this.beOpen = false;
    this.frontend?.event?.(event);
  }

  /** Records the open state and tells the frontend when it changes. */
  protected setOpen(open: boolean): void {
    if (open === this.beOpen) return;
    this.emitEvent(open ? 'opened' : 'closed');
  }

  /** Called when queued input has all been taken (stream backends resume reading here). */
  protected inputDrained(): void {}

  /** Writes guest output to the outside world (or drops it where the backend has nowhere to put it). */
  protected abstract output(data: Uint8Array): void;

  protected openLog(): void {
    if (this.logFd !== null || !this.common.logfile) return;
    const path = this.common.logfile;
    try {
      this.logFd = openSync(path, this.common.logappend ? 'a' : 'w');
    } catch (e) {
      throw new UserError(`Could not open '${path}': ${describeSystemError(e)}`);
    }
  }

  protected closeLog(): void {
    if (this.logFd === null) return;
    closeSync(this.logFd);
    this.logFd = null;
  }
}

declareType('chardev-null', 'chardev');
declareType('chardev-ringbuf', 'chardev');
declareType('chardev-memory', 'chardev-ringbuf');
declareType('chardev-file', 'chardev');
declareType('chardev-pipe', 'chardev');
declareType('chardev-stdio', 'chardev');
declareType('chardev-socket', 'chardev');
declareType('chardev-mux', 'chardev');
declareType('chardev-serial-stream', 'chardev');

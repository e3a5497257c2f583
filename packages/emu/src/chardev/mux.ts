/**
 * `mux=on` / `mon:`: several frontends (typically a serial port and the HMP monitor) share one
 * backend, with QEMU's Ctrl-A escape keys on the input side:
 *
 *   C-a h (or ?)  print the key help to the backend
 *   C-a x         print `tsemu: Terminated` and call `onQuit` (the machine quits)
 *   C-a c         give input focus to the next frontend (serial → monitor → serial ...)
 *   C-a b         send a break event to the focused frontend
 *   C-a t         toggle `[hh:mm:ss.mmm] ` timestamps at the start of output lines
 *   C-a C-a       send one C-a byte to the focused frontend
 *
 * Any other key after C-a is dropped (QEMU's `C-a s`, committing -snapshot disks, does not exist
 * in tsemu). Output from every frontend goes to the backend; input goes only to the focused
 * frontend. Each frontend has its own input queue with the usual flow control, so input typed
 * for one frontend stays with it across focus switches. The mux itself always takes input from
 * the backend at once, so escape keys work even while the guest reads nothing.
 *
 * As in QEMU, the frontend that attached last has the focus (the serial port, which attaches
 * after the monitor).
 */
import { UserError } from '../core/errors.js';
import { Chardev, type CharEvent, type CharFrontend, InputQueue } from './chardev.js';

/** QEMU's limit on frontends sharing one mux. */
export const MAX_MUX = 4;

export const MUX_ESCAPE = 0x01;

interface MuxSlot {
  fe: CharFrontend;
  queue: InputQueue;
}

const encoder = new TextEncoder();

export class MuxChardev extends Chardev {
  readonly base: Chardev;
  /** Called on C-a x, after the termination note is written. */
  onQuit: (() => void) | null = null;
  private readonly slots: MuxSlot[] = [];
  private focusIndex = -1;
  /** Input that arrived before any frontend attached; goes to the first one. */
  private readonly unclaimed = new InputQueue();
  private gotEscape = false;
  private timestamps = false;
  private timestampStart = -1;
  private lineStart = true;
  private readonly now: () => number;
  private muxDraining = false;

  constructor(id: string, base: Chardev, opts: { onQuit?: () => void; now?: () => number } = {}) {
    super('chardev-mux', id);
    this.base = base;
    this.onQuit = opts.onQuit ?? null;
    this.now = opts.now ?? Date.now;
    base.attach({
      canReceive: () => 0x40000000,
      receive: (data) => this.fromBackend(data),
      event: (event) => this.fromBackendEvent(event),
    });
  }

  get filename(): string {
    return 'mux';
  }

  override get connected(): boolean {
    return this.base.connected;
  }

  /** The frontend that currently gets input (null when none is attached). */
  get focused(): CharFrontend | null {
    return this.focusIndex >= 0 ? this.slots[this.focusIndex]!.fe : null;
  }

  get timestampsEnabled(): boolean {
    return this.timestamps;
  }

  override attach(fe: CharFrontend): void {
    if (this.slots.some((s) => s.fe === fe)) return;
    if (this.slots.length >= MAX_MUX) {
      throw new UserError(`too many uses of multiplexed chardev '${this.id}' (maximum is ${MAX_MUX})`);
    }
    const slot: MuxSlot = { fe, queue: new InputQueue() };
    if (this.slots.length === 0) this.unclaimed.moveTo(slot.queue);
    this.slots.push(slot);
    if (this.base.connected) fe.event?.('opened');
    this.setFocus(this.slots.length - 1);
  }

  override detach(fe?: CharFrontend): void {
    const i = fe === undefined ? this.focusIndex : this.slots.findIndex((s) => s.fe === fe);
    if (i < 0) return;
    const [slot] = this.slots.splice(i, 1);
    if (this.slots.length === 0) {
      slot!.queue.moveTo(this.unclaimed);
      this.focusIndex = -1;
      return;
    }
    if (this.focusIndex === i) this.setFocus(i % this.slots.length);
    else if (this.focusIndex > i) this.focusIndex--;
  }

  override acceptInput(): void {
    if (this.focusIndex < 0 || this.muxDraining) return;
    const slot = this.slots[this.focusIndex]!;
    this.muxDraining = true;
    try {
      slot.queue.drainTo(slot.fe);
    } finally {
      this.muxDraining = false;
    }
  }

  override get queuedInput(): number {
    let n = this.unclaimed.length;
    for (const s of this.slots) n += s.queue.length;
    return n;
  }

  override async open(): Promise<void> {
    await this.base.open();
  }

  override async close(): Promise<void> {
    await this.base.close();
  }

  override info(): string {
    return `${this.id}: filename=${this.filename}`;
  }

  protected output(data: Uint8Array): void {
    if (!this.timestamps) {
      this.base.write(data);
      return;
    }
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (this.lineStart) {
        if (i > start) this.base.write(data.subarray(start, i));
        start = i;
        this.base.write(encoder.encode(this.timestampText()));
        this.lineStart = false;
      }
      if (data[i] === 0x0a) this.lineStart = true;
    }
    if (start < data.length) this.base.write(data.subarray(start));
  }

  private timestampText(): string {
    const t = this.now();
    if (this.timestampStart < 0) this.timestampStart = t;
    const ms = Math.max(0, Math.floor(t - this.timestampStart));
    const secs = Math.floor(ms / 1000);
    const two = (n: number): string => String(n).padStart(2, '0');
    return `[${two(Math.floor(secs / 3600))}:${two(Math.floor(secs / 60) % 60)}:${two(secs % 60)}.${String(ms % 1000).padStart(3, '0')}] `;
  }

  private setFocus(i: number): void {
    const before = this.focusIndex;
    // As QEMU's mux does: the frontend losing focus hears 'mux-out', the one gaining it 'mux-in'
    // (the monitor reprints its prompt when it comes back).
    if (before >= 0 && before !== i) this.slots[before]?.fe.event?.('mux-out');
    this.focusIndex = i;
    if (before !== i) this.slots[i]?.fe.event?.('mux-in');
    this.acceptInput();
  }

  private fromBackendEvent(event: CharEvent): void {
    for (const s of this.slots) s.fe.event?.(event);
  }

  /** Splits backend input into plain runs (for the focused frontend) and escape commands. */
  private fromBackend(data: Uint8Array): void {
    let runStart = 0;
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (this.gotEscape) {
        this.gotEscape = false;
        if (ch === MUX_ESCAPE) {
          // C-a C-a: the second C-a is data; it starts the next run.
          runStart = i;
          continue;
        }
        this.command(ch);
        runStart = i + 1;
      } else if (ch === MUX_ESCAPE) {
        this.toFocused(data.subarray(runStart, i));
        this.gotEscape = true;
      }
    }
    // A trailing unescaped C-a has already flushed everything before it.
    if (!this.gotEscape) this.toFocused(data.subarray(runStart));
  }

  private toFocused(run: Uint8Array): void {
    if (run.length === 0) return;
    if (this.focusIndex < 0) {
      this.unclaimed.push(run);
      return;
    }
    const slot = this.slots[this.focusIndex]!;
    if (slot.queue.length === 0 && !this.muxDraining) {
      // Fast path: hand over what the frontend takes now without copying.
      const room = slot.fe.canReceive();
      if (room > 0) {
        const n = Math.min(room, run.length);
        if (n < run.length) slot.queue.push(run.subarray(n));
        this.muxDraining = true;
        try {
          slot.fe.receive(n === run.length ? run : run.subarray(0, n));
        } finally {
          this.muxDraining = false;
        }
        this.acceptInput();
        return;
      }
    }
    slot.queue.push(run);
    this.acceptInput();
  }

  private command(ch: number): void {
    switch (ch) {
      case 0x68: // h
      case 0x3f: // ?
        this.output(encoder.encode(MUX_HELP));
        break;
      case 0x78: // x
        this.output(encoder.encode('tsemu: Terminated\n\r'));
        this.onQuit?.();
        break;
      case 0x62: // b
        this.focused?.event?.('break');
        break;
      case 0x63: // c
        if (this.slots.length > 0) this.setFocus((this.focusIndex + 1) % this.slots.length);
        break;
      case 0x74: // t
        this.timestamps = !this.timestamps;
        this.timestampStart = -1;
        // QEMU starts stamping at the next line, not in the middle of the current one.
        this.lineStart = false;
        break;
      default:
        break;
    }
  }
}

/** The C-a help, in QEMU's layout (lines end in \n\r: the terminal is in raw mode). */
export const MUX_HELP =
  '\n\r' +
  'C-a h    print this help\n\r' +
  'C-a x    exit emulator\n\r' +
  'C-a t    toggle console timestamps\n\r' +
  'C-a b    send break (magic sysrq)\n\r' +
  'C-a c    switch between console and monitor\n\r' +
  'C-a C-a  sends C-a\n\r';

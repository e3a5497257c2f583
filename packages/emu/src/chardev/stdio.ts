/**
 * `-chardev stdio[,signal=on|off]` / `stdio`: guest output to standard output, input from
 * standard input.
 *
 * When stdin is a terminal it is put in raw mode (no line editing, no echo) and restored on
 * close and on process exit, as QEMU does. QEMU keeps the terminal's signal keys working unless
 * `signal=off` (which `mon:stdio` implies): with `signal=on`, Ctrl-C still interrupts the
 * emulator. Node's raw mode always turns terminal signals off, so tsemu emulates them: with
 * `signal=on`, a Ctrl-C (0x03) or Ctrl-\ (0x1c) byte from the terminal is not passed to the
 * guest but raises SIGINT / SIGQUIT in this process. (Ctrl-Z is passed through: Node cannot
 * stop itself and restore the terminal safely.) With `signal=off` every byte goes to the guest.
 */
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../core/errors.js';
import { Chardev, type ChardevCommonOptions, INPUT_HIGH_WATER } from './chardev.js';

export interface StdioChardevOptions extends ChardevCommonOptions {
  /** Keep Ctrl-C / Ctrl-\ as signals in raw mode (QEMU's default: on). */
  signal?: boolean;
  /** Streams to use instead of the process's own (tests). */
  input?: Readable;
  output?: Writable;
}

/** A terminal input stream (tty.ReadStream); tested structurally so tests can pass any stream. */
interface RawCapable {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** Only one chardev may own the process's stdin, as in QEMU. */
let processStdioInUse = false;

export class StdioChardev extends Chardev {
  readonly signal: boolean;
  private readonly input: Readable;
  private readonly outputStream: Writable;
  private readonly usesProcessStdio: boolean;
  private opened = false;
  private rawSet = false;
  private readonly onData = (chunk: Buffer): void => this.fromInput(chunk);
  private readonly restoreTerminal = (): void => this.leaveRawMode();

  constructor(id: string, opts: StdioChardevOptions = {}) {
    super('chardev-stdio', id, opts);
    this.signal = opts.signal ?? true;
    this.input = opts.input ?? process.stdin;
    this.outputStream = opts.output ?? process.stdout;
    this.usesProcessStdio = opts.input === undefined;
  }

  get filename(): string {
    return 'stdio';
  }

  /** True while the terminal is in raw mode because of this chardev. */
  get rawMode(): boolean {
    return this.rawSet;
  }

  override async open(): Promise<void> {
    if (this.opened) return;
    if (this.usesProcessStdio) {
      if (processStdioInUse) throw new UserError('cannot use stdio by multiple character devices');
      processStdioInUse = true;
    }
    this.opened = true;
    const tty = this.input as Readable & RawCapable;
    if (tty.isTTY && typeof tty.setRawMode === 'function' && !tty.isRaw) {
      tty.setRawMode(true);
      this.rawSet = true;
      process.on('exit', this.restoreTerminal);
    }
    this.input.on('data', this.onData);
    this.input.resume();
    await super.open();
  }

  override async close(): Promise<void> {
    if (this.opened) {
      this.opened = false;
      this.input.off('data', this.onData);
      this.input.pause();
      this.leaveRawMode();
      if (this.usesProcessStdio) processStdioInUse = false;
    }
    await super.close();
  }

  protected override inputDrained(): void {
    if (this.opened && this.input.isPaused()) this.input.resume();
  }

  protected output(data: Uint8Array): void {
    if (this.opened && data.length > 0) this.outputStream.write(Buffer.from(data));
  }

  private fromInput(chunk: Buffer): void {
    if (this.rawSet && this.signal) {
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b !== 0x03 && b !== 0x1c) continue;
        this.deliver(chunk.subarray(start, i));
        start = i + 1;
        process.kill(process.pid, b === 0x03 ? 'SIGINT' : 'SIGQUIT');
      }
      this.deliver(chunk.subarray(start));
    } else {
      this.deliver(chunk);
    }
    if (this.queuedInput > INPUT_HIGH_WATER) this.input.pause();
  }

  private leaveRawMode(): void {
    if (!this.rawSet) return;
    this.rawSet = false;
    process.off('exit', this.restoreTerminal);
    (this.input as Readable & RawCapable).setRawMode?.(false);
  }
}

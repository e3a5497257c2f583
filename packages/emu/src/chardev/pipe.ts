/**
 * `-chardev pipe,path=P` / `pipe:P`: like QEMU, opens `P.in` (input) and `P.out` (output) when
 * both exist, else `P` for both directions. Files are opened read-write so that opening a FIFO
 * never blocks waiting for the other end, and reads see no end-of-file when a writer goes away.
 * tsemu accepts FIFOs (and sockets) only: QEMU would also take a regular file, which is of no use
 * as a pipe.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { UserError } from '../core/errors.js';
import { Chardev, type ChardevCommonOptions, describeSystemError, INPUT_HIGH_WATER } from './chardev.js';

export interface PipeChardevOptions extends ChardevCommonOptions {
  path: string;
}

/** FIFOs and sockets can be driven by the event loop; regular files cannot. */
function isStream(fd: number): boolean {
  const st = fstatSync(fd);
  return st.isFIFO() || st.isSocket();
}

function tryOpen(path: string): number | null {
  try {
    return openSync(path, 'r+');
  } catch {
    return null;
  }
}

export class PipeChardev extends Chardev {
  readonly pipePath: string;
  private input: Socket | null = null;
  private outputStream: Socket | null = null;

  constructor(id: string, opts: PipeChardevOptions) {
    super('chardev-pipe', id, opts);
    this.pipePath = opts.path;
  }

  get filename(): string {
    return 'pipe';
  }

  /** The files in use: [input, output]. */
  get paths(): [string, string] {
    return this.split ? [`${this.pipePath}.in`, `${this.pipePath}.out`] : [this.pipePath, this.pipePath];
  }

  private split = false;

  override async open(): Promise<void> {
    if (this.input) return;
    let fdIn = tryOpen(`${this.pipePath}.in`);
    let fdOut = tryOpen(`${this.pipePath}.out`);
    this.split = fdIn !== null && fdOut !== null;
    if (!this.split) {
      if (fdIn !== null) closeSync(fdIn);
      if (fdOut !== null) closeSync(fdOut);
      try {
        fdIn = fdOut = openSync(this.pipePath, 'r+');
      } catch (e) {
        throw new UserError(`Could not open '${this.pipePath}': ${describeSystemError(e)}`);
      }
    }
    if (!isStream(fdIn!) || !isStream(fdOut!)) {
      closeSync(fdIn!);
      if (fdOut !== fdIn) closeSync(fdOut!);
      throw new UserError(`chardev: pipe: '${this.pipePath}' is not a FIFO (create one with mkfifo)`);
    }
    // net.Socket over a pipe fd gives non-blocking, event-driven reads (no thread-pool reads that
    // could never be cancelled).
    const input = new Socket({ fd: fdIn!, readable: true, writable: !this.split });
    const output = this.split ? new Socket({ fd: fdOut!, readable: false, writable: true }) : input;
    input.on('data', (chunk: Buffer) => {
      this.deliver(chunk);
      if (this.queuedInput > INPUT_HIGH_WATER) input.pause();
    });
    // Errors (e.g. EPIPE) end the stream; there is nobody to report them to mid-run.
    input.on('error', () => {});
    output.on('error', () => {});
    this.input = input;
    this.outputStream = output;
    await super.open();
  }

  override async close(): Promise<void> {
    const input = this.input;
    const output = this.outputStream;
    this.input = null;
    this.outputStream = null;
    input?.destroy();
    if (output && output !== input) output.destroy();
    await super.close();
  }

  protected override inputDrained(): void {
    if (this.input?.isPaused()) this.input.resume();
  }

  protected output(data: Uint8Array): void {
    if (this.outputStream && data.length > 0) this.outputStream.write(Buffer.from(data));
  }
}

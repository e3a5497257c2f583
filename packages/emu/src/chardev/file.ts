/**
 * `-chardev file,path=P[,append=on][,input-path=I]` / `file:P`: guest output goes to P (truncated
 * unless `append=on`); input, if `input-path` is given, is read from I (a regular file is read to
 * its end; a FIFO keeps delivering while writers come and go).
 */
import { closeSync, createReadStream, openSync, type ReadStream, statSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import {
  Chardev,
  type ChardevCommonOptions,
  describeSystemError,
  INPUT_HIGH_WATER,
  writeFully,
} from './chardev.js';

export interface FileChardevOptions extends ChardevCommonOptions {
  path: string;
  append?: boolean;
  inputPath?: string;
}

export class FileChardev extends Chardev {
  readonly filePath: string;
  readonly append: boolean;
  readonly inputPath: string | undefined;
  private fd: number | null = null;
  private input: ReadStream | null = null;

  constructor(id: string, opts: FileChardevOptions) {
    super('chardev-file', id, opts);
    this.filePath = opts.path;
    this.append = opts.append ?? false;
    this.inputPath = opts.inputPath;
  }

  get filename(): string {
    return 'file';
  }

  override async open(): Promise<void> {
    if (this.fd !== null) return;
    let fd: number;
    try {
      fd = openSync(this.filePath, this.append ? 'a' : 'w');
    } catch (e) {
      throw new UserError(`Could not open '${this.filePath}': ${describeSystemError(e)}`);
    }
    if (this.inputPath !== undefined) {
      try {
        statSync(this.inputPath);
      } catch (e) {
        closeSync(fd);
        throw new UserError(`Could not open '${this.inputPath}': ${describeSystemError(e)}`);
      }
      const input = createReadStream(this.inputPath);
      input.on('data', (chunk) => {
        this.deliver(chunk as Buffer);
        if (this.queuedInput > INPUT_HIGH_WATER) input.pause();
      });
      // A read error after open (e.g. the file vanished) ends input; output keeps working.
      input.on('error', () => {});
      this.input = input;
    }
    this.fd = fd;
    await super.open();
  }

  override async close(): Promise<void> {
    this.input?.destroy();
    this.input = null;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    await super.close();
  }

  protected override inputDrained(): void {
    if (this.input?.isPaused()) this.input.resume();
  }

  protected output(data: Uint8Array): void {
    // Written synchronously so that file contents follow guest order even if the process exits.
    if (this.fd !== null && data.length > 0) writeFully(this.fd, data);
  }
}

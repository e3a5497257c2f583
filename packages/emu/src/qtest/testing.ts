/**
 * Test helpers: an in-process qtest connection. The server answers synchronously while the
 * request is delivered, so `request()` returns every line the request produced (IRQ lines, then
 * the reply).
 */
import { Chardev } from '../chardev/chardev.js';
import type { Machine } from '../core/machine.js';
import { type QtestServer, type QtestServerOptions, startQtestServer } from './server.js';

/** A chardev whose outside end is the test: `send` types input, `take` collects output. */
export class LoopbackChardev extends Chardev {
  private out: string[] = [];

  constructor(id = 'qtest') {
    super('chardev-ringbuf', id);
  }

  get filename(): string {
    return 'loopback';
  }

  protected output(data: Uint8Array): void {
    this.out.push(Buffer.from(data).toString('latin1'));
  }

  /** Delivers `input` (latin1: one byte per character) to the frontend. */
  send(input: string | Uint8Array): void {
    this.deliver(typeof input === 'string' ? Buffer.from(input, 'latin1') : input);
  }

  /** Returns and forgets everything written so far. */
  take(): string {
    const text = this.out.join('');
    this.out = [];
    return text;
  }
}

export interface QtestConnection {
  chardev: LoopbackChardev;
  server: QtestServer;
  /** The log text (the server logs here instead of stderr). */
  log: () => string;
  /** Sends one request line (a newline is added) and returns the output it produced. */
  request: (line: string) => string;
  /** Like `request`, for a request whose output is exactly one reply line: returns it. */
  reply: (line: string) => string;
}

/** Opens a loopback chardev, serves qtest on it for `machine`, and returns a connection. */
export async function connectQtest(
  machine: Machine,
  options: Partial<QtestServerOptions> = {},
): Promise<QtestConnection> {
  const chardev = new LoopbackChardev();
  await chardev.open();
  const logParts: string[] = [];
  const server = startQtestServer({
    machine,
    chardev,
    logSink: (t) => logParts.push(t),
    ...options,
  });
  chardev.take();
  const request = (line: string): string => {
    chardev.send(`${line}\n`);
    return chardev.take();
  };
  return {
    chardev,
    server,
    log: () => logParts.join(''),
    request,
    reply: (line) => {
      const out = request(line);
      const lines = out.split('\n');
      if (lines.length !== 2 || lines[1] !== '') {
        throw new Error(`expected one reply line to '${line}', got ${JSON.stringify(out)}`);
      }
      return lines[0]!;
    },
  };
}

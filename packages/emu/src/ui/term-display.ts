/**
 * A plain terminal display for boards with an LED matrix: the 5×5 LEDs drawn at the top of the
 * terminal with their brightness, the serial port's output below, keyboard input to the
 * serial port. (`-display term` in the UI issue replaces this with the full terminal UI.)
 *
 * On a TTY it redraws in place with ANSI escape sequences, at most `fps` times a second of
 * host time. On anything else (a pipe, a log file) it prints each new LED frame once, as five
 * lines of brightness digits, interleaved with the serial output, so logs stay readable.
 */
import { Chardev } from '../chardev/chardev.js';

/** Characters for brightness 0..9 (dark to full). */
const SHADES = [' ', '·', '░', '░', '▒', '▒', '▓', '▓', '█', '█'];

export interface TermDisplayOptions {
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Draw in place with ANSI sequences (true on a TTY). */
  ansi: boolean;
  fps?: number;
  /** Lines of serial output kept on screen. */
  serialLines?: number;
  title?: string;
}

/** The serial port's backend when the terminal display is on: output goes to the screen. */
export class TermSerial extends Chardev {
  private readonly onOutput: (text: string) => void;
  private readonly decoder = new TextDecoder();

  constructor(id: string, onOutput: (text: string) => void) {
    super('chardev-term', id);
    this.onOutput = onOutput;
  }

  get filename(): string {
    return 'term';
  }

  protected output(data: Uint8Array): void {
    // NUL bytes (MicroPython sends one at start-up) would garble the terminal.
    const s = this.decoder.decode(data, { stream: true }).replaceAll('\u0000', '');
    this.onOutput(s);
  }

  /** Keyboard input for the guest (queued by the chardev layer until the UART takes it). */
  type(input: string): void {
    this.deliver(new TextEncoder().encode(input));
  }
}

export class TermDisplay {
  private levels: number[] = new Array(25).fill(0);
  private lastPrinted = '';
  private serialBuffer = '';
  private dirty = true;
  private timer: NodeJS.Timeout | null = null;
  private readonly opts: Required<TermDisplayOptions>;

  constructor(options: TermDisplayOptions) {
    this.opts = { fps: 25, serialLines: 12, title: 'tsemu', ...options };
  }

  start(): void {
    if (this.opts.ansi) {
      this.opts.out.write('\x1b[?25l\x1b[2J');
      this.timer = setInterval(() => this.redraw(), 1000 / this.opts.fps);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.opts.ansi) {
      this.redraw();
      this.opts.out.write('\x1b[?25h\n');
    }
  }

  /** A new LED frame (brightness 0..9 per LED, row-major). */
  frame(levels: number[]): void {
    const changed = levels.some((v, i) => v !== this.levels[i]);
    this.levels = levels;
    if (!changed) return;
    this.dirty = true;
    if (!this.opts.ansi) {
      const text = this.matrixLines((v) => String(v)).join('\n');
      if (text !== this.lastPrinted) {
        this.lastPrinted = text;
        this.opts.out.write(`${text}\n\n`);
      }
    }
  }

  /** Serial output from the guest. */
  serial(text: string): void {
    if (!this.opts.ansi) {
      this.opts.out.write(text);
      return;
    }
    this.serialBuffer += text;
    // Keep the tail only: the screen shows the last lines.
    if (this.serialBuffer.length > 8192) this.serialBuffer = this.serialBuffer.slice(-4096);
    this.dirty = true;
  }

  private matrixLines(cell: (v: number) => string): string[] {
    const lines: string[] = [];
    for (let y = 0; y < 5; y++) {
      let line = '';
      for (let x = 0; x < 5; x++) line += cell(this.levels[y * 5 + x]!);
      lines.push(line);
    }
    return lines;
  }

  private redraw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const out: string[] = [
      '\x1b[H',
      `\x1b[1m${this.opts.title}\x1b[0m  ${TERM_KEYS_HELP}\x1b[K`,
      '┌──────────┐\x1b[K',
    ];
    for (const line of this.matrixLines((v) => SHADES[v]!.repeat(2))) out.push(`│${line}│\x1b[K`);
    out.push('└──────────┘\x1b[K', 'serial:\x1b[K');
    const lines = this.serialBuffer.replaceAll('\r', '').split('\n').slice(-this.opts.serialLines);
    for (const l of lines) out.push(`${l}\x1b[K`);
    out.push('\x1b[J');
    this.opts.out.write(out.join('\n'));
  }
}

/** What a chunk of keyboard input means to the terminal display. */
export type TermKeyAction =
  | { kind: 'serial'; text: string }
  | { kind: 'button'; button: 'a' | 'b' | 'ab' }
  | { kind: 'quit' };

/**
 * Keys of the terminal display: F1 presses button A, F2 button B, F3 both (the escape sequences
 * of xterm and of VT-style terminals); Ctrl-C quits; everything else goes to the serial port.
 */
const FUNCTION_KEYS: ReadonlyArray<[string, 'a' | 'b' | 'ab']> = [
  ['\x1bOP', 'a'],
  ['\x1b[11~', 'a'],
  ['\x1bOQ', 'b'],
  ['\x1b[12~', 'b'],
  ['\x1bOR', 'ab'],
  ['\x1b[13~', 'ab'],
];

/** Splits keyboard input into serial text, button presses and quit, in order. */
export function termKeyActions(input: string): TermKeyAction[] {
  const out: TermKeyAction[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') out.push({ kind: 'serial', text });
    text = '';
  };
  for (let i = 0; i < input.length; ) {
    if (input[i] === '\x03') {
      flush();
      out.push({ kind: 'quit' });
      return out;
    }
    const key = FUNCTION_KEYS.find(([seq]) => input.startsWith(seq, i));
    if (key) {
      flush();
      out.push({ kind: 'button', button: key[1] });
      i += key[0].length;
      continue;
    }
    text += input[i];
    i++;
  }
  flush();
  return out;
}

/** The help line the terminal display shows under its title. */
export const TERM_KEYS_HELP = 'F1: button A  F2: button B  F3: A+B  Ctrl-C: quit';

/**
 * Reads the terminal in raw mode and acts on it: serial text, button clicks (100 ms of virtual
 * time, a press firmware reliably sees), quit. Returns the function that restores the terminal.
 */
export function attachTermKeyboard(handlers: {
  serial: (text: string) => void;
  button: (button: 'a' | 'b' | 'ab') => void;
  quit: () => void;
}): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  const onData = (d: Buffer) => {
    for (const action of termKeyActions(d.toString('latin1'))) {
      if (action.kind === 'serial') handlers.serial(action.text);
      else if (action.kind === 'button') handlers.button(action.button);
      else handlers.quit();
    }
  };
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

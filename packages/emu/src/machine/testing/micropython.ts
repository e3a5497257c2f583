/**
 * Test helpers for running Debian's MicroPython 1.9.2 on the micro:bit machine: boot (with an
 * optional uflash-style script), type REPL lines and wait for the prompt within a budget of
 * virtual time, and read the LED display as 0..9 levels.
 *
 * Everything runs in fast mode on the virtual clock, so a test's outcome never depends on
 * host speed. A wait that runs out of its budget throws an Error carrying the serial output,
 * which is what one needs to see why the guest did not answer.
 */
import { existsSync } from 'node:fs';
import type { SerialStream } from '../../chardev/serial-stream.js';
import type { Log } from '../../core/log.js';
import { MicrobitLedMatrix } from '../../hw/display/microbit-led-matrix.js';
import type { RadioMedium } from '../../hw/radio/radio-medium.js';
import type { LoadedImage } from '../../loader/image.js';
import { loadImageFile, placeImage } from '../../loader/index.js';
import { withMicroPythonScript } from '../../loader/micropython-script.js';
import { createMachine } from '../create.js';
import { MicrobitMachine } from '../microbit.js';

/** Where Debian's firmware-microbit-micropython installs the runtime. */
export const MICROPYTHON_RUNTIME = '/usr/share/firmware-microbit-micropython/firmware.hex';

export const MS = 1_000_000;
export const SECOND = 1_000_000_000;

/** How much virtual time passes between two looks at the serial output. */
const SLICE_NS = 2 * MS;
const PROMPT = '>>> ';

export function haveMicroPythonRuntime(): boolean {
  return existsSync(MICROPYTHON_RUNTIME);
}

let runtimeCache: LoadedImage | undefined;
function runtimeImage(): LoadedImage {
  runtimeCache ??= loadImageFile(MICROPYTHON_RUNTIME);
  return runtimeCache;
}

export interface MicroPythonBootOptions {
  /** A script embedded as uflash does; MicroPython runs it at boot, then starts its REPL. */
  script?: string;
  /** The machine's `-seed` (the RNG's byte sequence). */
  seed?: bigint;
  log?: Log;
  radioMedium?: RadioMedium;
  /** Don't wait for the first prompt (e.g. to watch a script as it runs). Default false. */
  noWait?: boolean;
  /** Virtual time allowed until the first prompt. Default 3 s. */
  budgetNs?: number;
}

/** A micro:bit running MicroPython, driven through its serial port. */
export class MicroPythonBoard {
  readonly machine: MicrobitMachine;
  readonly serial: SerialStream;
  /** Everything MicroPython printed so far. */
  output = '';
  private readonly decoder = new TextDecoder();

  private constructor(machine: MicrobitMachine) {
    this.machine = machine;
    const serial = machine.serialStream;
    if (!serial) throw new Error('the micro:bit machine has no library serial stream');
    this.serial = serial;
    serial.onData((data) => {
      this.output += this.decoder.decode(data, { stream: true });
    });
  }

  /** Builds a fresh machine with the runtime (and script), powers it on and waits for `>>> `. */
  static boot(options: MicroPythonBootOptions = {}): MicroPythonBoard {
    const machine = createMachine('microbit', {
      mode: 'fast',
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.radioMedium ? { radioMedium: options.radioMedium } : {}),
    });
    if (!(machine instanceof MicrobitMachine))
      throw new Error('createMachine did not build a MicrobitMachine');
    const image =
      options.script === undefined ? runtimeImage() : withMicroPythonScript(runtimeImage(), options.script);
    placeImage(machine.addressSpace, image);
    machine.loadedImages.push(image);
    // No instruction has run yet: this reset makes the CPU read the vector table just loaded.
    machine.powerOnReset();
    const board = new MicroPythonBoard(machine);
    if (!options.noWait) board.waitForPrompt(options.budgetNs ?? 3 * SECOND, 0);
    return board;
  }

  /** Runs the machine for `ns` of virtual time. */
  run(ns: number): void {
    this.machine.runFor(ns);
  }

  /**
   * Runs in small slices until `done()` holds; throws (with the serial output) when `budgetNs`
   * of virtual time pass first. Returns the virtual time it took.
   */
  runUntil(done: () => boolean, budgetNs: number, what: string): number {
    const clock = this.machine.clock;
    const start = clock.now;
    while (!done()) {
      if (clock.now - start >= budgetNs) {
        throw new Error(
          `MicroPython: no ${what} within ${budgetNs / MS} ms of virtual time; serial output so far:\n` +
            this.output,
        );
      }
      this.machine.runFor(SLICE_NS);
    }
    return clock.now - start;
  }

  /** Waits for `>>> ` at the end of the output after offset `from` (default: anything new). */
  waitForPrompt(budgetNs = 2 * SECOND, from = this.output.length): string {
    this.runUntil(() => this.promptSince(from), budgetNs, 'REPL prompt');
    return this.output.slice(from);
  }

  /** Waits until the output after offset `from` contains `text`. */
  waitForText(text: string, budgetNs: number, from = 0): void {
    this.runUntil(() => this.output.indexOf(text, from) >= 0, budgetNs, JSON.stringify(text));
  }

  /** Types one line without waiting; returns the output offset its reply starts at. */
  type(line: string): number {
    const from = this.output.length;
    this.serial.send(`${line}\r`);
    return from;
  }

  /** True when the output after `from` ends with a fresh prompt. */
  promptSince(from: number): boolean {
    return this.output.length - from >= PROMPT.length && this.output.endsWith(PROMPT);
  }

  /** What `line` printed: its output after `from` without the echo and the final prompt. */
  replyTo(line: string, from: number): string {
    const reply = this.output.slice(from).replace(/\r\n/g, '\n');
    const echo = `${line}\n`;
    if (!reply.startsWith(echo))
      throw new Error(`MicroPython did not echo ${JSON.stringify(line)}: ${reply}`);
    return reply.slice(echo.length, reply.length - PROMPT.length);
  }

  /**
   * Types one line at the prompt and waits for the next prompt. Returns what the line printed
   * (without the echo and the prompt), with LF line endings.
   */
  exec(line: string, budgetNs = 2 * SECOND): string {
    const from = this.type(line);
    this.runUntil(() => this.promptSince(from), budgetNs, `prompt after ${JSON.stringify(line)}`);
    return this.replyTo(line, from);
  }

  /** `exec` for an expression, returning its repr without the final newline. */
  eval(expr: string, budgetNs?: number): string {
    return this.exec(expr, budgetNs).replace(/\n$/, '');
  }

  /**
   * What the display shows once it is steady: lets `settleNs` pass, then integrates one frame
   * over `windowNs` and returns it on the 0..9 scale (row-major, y*5+x).
   */
  steadyLevels(settleNs = 40 * MS, windowNs = 36 * MS): number[] {
    this.run(settleNs);
    this.machine.display.frame();
    this.run(windowNs);
    return MicrobitLedMatrix.levels(this.machine.display.frame());
  }

  /**
   * Records every display frame (the matrix's `window-ns`, 18 ms by default) while `body` runs
   * the machine; returns them as 0..9 levels.
   */
  recordFrames(body: () => void): number[][] {
    const frames: number[][] = [];
    const stop = this.machine.display.onFrame((f) => frames.push(frameLevels(f)));
    try {
      body();
    } finally {
      stop();
    }
    return frames;
  }
}

/**
 * Types `lines[i]` on `boards[i]` and runs all the boards in turns of `sliceNs` (so that their
 * clocks stay within one slice of each other, as radios sharing a medium need) until each has
 * answered with a prompt. Returns each line's output as `exec` does.
 */
export function execLockstep(
  boards: readonly MicroPythonBoard[],
  lines: readonly string[],
  budgetNs = 2 * SECOND,
  sliceNs = MS,
): string[] {
  const froms = boards.map((b, i) => b.type(lines[i]!));
  let spent = 0;
  while (!boards.every((b, i) => b.promptSince(froms[i]!))) {
    if (spent >= budgetNs) {
      throw new Error(
        `MicroPython: no prompt within ${budgetNs / MS} ms of lockstep time; outputs:\n` +
          boards.map((b) => b.output).join('\n----\n'),
      );
    }
    for (const b of boards) b.run(sliceNs);
    spent += sliceNs;
  }
  return boards.map((b, i) => b.replyTo(lines[i]!, froms[i]!));
}

/** A 5×5 frame of levels as five rows of digits, `09090:99999:...`, like MicroPython's Image(). */
export function frameText(levels: readonly number[]): string {
  const rows: string[] = [];
  for (let y = 0; y < 5; y++) rows.push(levels.slice(y * 5, y * 5 + 5).join(''));
  return rows.join(':');
}

// ---- reading scrolled text ----------------------------------------------------------------------

/** A 5×5 image as five columns, each a bit mask of its lit rows (bit y = row y). */
export type Columns = number[];

/** The frame's columns; an LED counts as lit from level 5 up. */
export function frameColumns(levels: readonly number[]): Columns {
  const cols: Columns = [0, 0, 0, 0, 0];
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) if (levels[y * 5 + x]! >= 5) cols[x]! |= 1 << y;
  return cols;
}

/** True when every LED is fully on or off: the frame did not straddle a change of image. */
/**
 * A recorded frame on MicroPython's level scale, where only an LED that was fully on (or off)
 * for the whole frame reads 9 (or 0): a frame that straddles a change of image then has levels
 * in between and is not "clean".
 */
export function frameLevels(frame: Float32Array): number[] {
  const levels = MicrobitLedMatrix.levels(frame);
  return levels.map((level, i) => {
    const duty = frame[i]!;
    if (duty <= 0.001) return 0;
    if (duty >= 0.99) return 9;
    return Math.min(8, Math.max(1, level));
  });
}

export function isCleanFrame(levels: readonly number[]): boolean {
  return levels.every((l) => l === 0 || l === 9);
}

/** The clean frames' columns in order, with runs of identical frames kept once. */
export function cleanWindows(frames: readonly (readonly number[])[]): Columns[] {
  const out: Columns[] = [];
  for (const f of frames) {
    if (!isCleanFrame(f)) continue;
    const cols = frameColumns(f);
    const last = out[out.length - 1];
    if (!last || last.some((c, i) => c !== cols[i])) out.push(cols);
  }
  return out;
}

/**
 * Joins windows that scroll left into one strip of columns: each window must be the previous
 * one moved left by 1-4 columns (the smallest shift that fits is taken) with new columns
 * entering on the right. Throws, naming the two windows, when one does not follow the other.
 */
export function scrollTape(windows: readonly Columns[]): Columns {
  if (windows.length === 0) return [];
  const tape = [...windows[0]!];
  for (let k = 1; k < windows.length; k++) {
    const prev = windows[k - 1]!;
    const cur = windows[k]!;
    let shift = 1;
    while (shift < 5 && !cur.slice(0, 5 - shift).every((c, i) => c === prev[i + shift])) shift++;
    if (shift === 5 && cur.some((c) => c !== 0) && prev.some((c) => c !== 0)) {
      // Nothing in common: only acceptable if the whole window was replaced by new columns.
      throw new Error(`display window ${k} does not continue window ${k - 1} by scrolling left`);
    }
    tape.push(...cur.slice(5 - shift));
  }
  return tape;
}

/** A glyph's lit columns without the blank columns before and after them. */
export function glyphInk(cols: Columns): Columns {
  let a = 0;
  let b = cols.length;
  while (a < b && cols[a] === 0) a++;
  while (b > a && cols[b - 1] === 0) b--;
  return cols.slice(a, b);
}

export interface ScrollReading {
  /** The characters recognised, with ' ' where the gap between two of them is a word break. */
  text: string;
  /** Blank columns between consecutive recognised characters. */
  gaps: number[];
}

/**
 * Reads scrolled text from a strip of columns with the glyphs `font` (character → its 5
 * columns, e.g. from `display.show(c)`): every run of lit columns must be the ink of exactly
 * one glyph; blank columns between glyphs of at least `wordGap` mean a space. Throws, drawing
 * the columns, when some ink matches no glyph.
 */
export function readScrolledText(
  tape: Columns,
  font: ReadonlyMap<string, Columns>,
  wordGap: number,
): ScrollReading {
  const inks = [...font].map(([ch, cols]) => ({ ch, ink: glyphInk(cols) })).filter((g) => g.ink.length > 0);
  let text = '';
  const gaps: number[] = [];
  let p = 0;
  let blank = -1; // blank columns since the last glyph; -1 before the first
  while (p < tape.length) {
    if (tape[p] === 0) {
      if (blank >= 0) blank++;
      p++;
      continue;
    }
    const here = inks.filter(
      (g) => g.ink.every((c, i) => tape[p + i] === c) && (tape[p + g.ink.length] ?? 0) === 0,
    );
    if (here.length !== 1) {
      const seen = tape.slice(p, p + 6).map((c) => c.toString(2).padStart(5, '0'));
      throw new Error(
        `scrolled columns at ${p} (${seen.join(' ')}) match ${here.length === 0 ? 'no glyph' : here.map((g) => g.ch).join(', ')}`,
      );
    }
    const g = here[0]!;
    if (blank >= 0) {
      gaps.push(blank);
      if (blank >= wordGap) text += ' ';
    }
    text += g.ch;
    p += g.ink.length;
    blank = 0;
  }
  return { text, gaps };
}

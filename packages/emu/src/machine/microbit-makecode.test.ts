/**
 * MakeCode (JavaScript Blocks) programs on the micro:bit: compiled offline with pxt-microbit
 * (firmware/makecode), with the Nordic SoftDevice and the micro:bit runtime (DAL) that QEMU
 * cannot boot. The display is read with the glyphs MicroPython shows for `display.show(c)`
 * (the same micro:bit font), never with a hand-typed copy of it.
 */
import { describe, expect, it } from 'vitest';
import { Log } from '../core/log.js';
import { createMachine } from './create.js';
import type { MicrobitMachine } from './microbit.js';
import { requireMakecode } from './testing/makecode.js';
import {
  type Columns,
  cleanWindows,
  frameColumns,
  frameLevels,
  MicroPythonBoard,
  MS,
  readScrolledText,
  SECOND,
  scrollTape,
} from './testing/micropython.js';

const HELLO = 'Hello World!';

function boot(file: string, log?: Log): MicrobitMachine {
  return createMachine('microbit', {
    mode: 'fast',
    ...(log ? { log } : {}),
    devices: [{ driver: 'loader', props: { file } }],
  }) as MicrobitMachine;
}

/** Runs until `text` is on the serial port (or the budget is spent); returns the serial text. */
function runUntilSerial(m: MicrobitMachine, text: string, budgetNs: number): string {
  for (let t = 0; t < budgetNs && !m.serialStream!.text().includes(text); t += 50 * MS) m.runFor(50 * MS);
  return m.serialStream!.text();
}

let glyphCache: Map<string, Columns> | null = null;
/** The micro:bit font, read from MicroPython's `display.show(c)`. */
function glyphs(): Map<string, Columns> {
  if (glyphCache) return glyphCache;
  const board = MicroPythonBoard.boot();
  glyphCache = new Map();
  for (const c of new Set(`${HELLO}AB`)) {
    board.exec(`display.show(${JSON.stringify(c)})`);
    glyphCache.set(c, frameColumns(board.steadyLevels()));
  }
  return glyphCache;
}

function recordUntilSerial(
  m: MicrobitMachine,
  text: string,
  budgetNs: number,
): { serial: string; frames: number[][] } {
  const frames: number[][] = [];
  const stop = m.display.onFrame((f) => frames.push(frameLevels(f)));
  const serial = runUntilSerial(m, text, budgetNs);
  stop();
  return { serial, frames };
}

describe('MakeCode programs on the micro:bit', () => {
  for (const kind of ['v1', 'universal'] as const) {
    it(`runs basic.showString("${HELLO}") from its ${kind} hex: text on the display, then serial output`, () => {
      const m = boot(requireMakecode('hello', kind));
      const { serial, frames } = recordUntilSerial(m, 'hello done', 30 * SECOND);
      expect(serial).toContain('hello done');
      const tape = scrollTape(cleanWindows(frames));
      // MakeCode scrolls fixed-width cells: between the inks of two letters of this text there
      // are at most 3 blank columns (around the narrow 'l'); the space leaves 5.
      const reading = readScrolledText(tape, glyphs(), 4);
      expect(reading.text).toBe(HELLO);
      expect(reading.gaps.filter((g) => g >= 4)).toEqual([5]);
    });
  }

  it('reacts to buttons A, B and A+B pressed through the board API', () => {
    const m = boot(requireMakecode('buttons', 'v1'));
    m.runFor(2 * SECOND); // the runtime starts and registers its handlers
    // MakeCode's serial.writeLine pads each line with spaces before CR LF.
    m.buttonA.click(100 * MS);
    expect(runUntilSerial(m, '\n', 3 * SECOND)).toMatch(/^\0?A *\r\n$/);
    m.runFor(2 * SECOND);
    m.buttonB.click(100 * MS);
    expect(runUntilSerial(m, 'B', 3 * SECOND).split('\n')[1]).toMatch(/^B *\r?$/);
    m.runFor(2 * SECOND);
    m.buttonA.press();
    m.buttonB.press();
    m.runFor(100 * MS);
    m.buttonA.release();
    m.buttonB.release();
    expect(runUntilSerial(m, 'AB', 3 * SECOND).split('\n')[2]).toMatch(/^AB *\r?$/);
  });

  it('runs a forever loop that writes a counter every 500 ms of guest time', () => {
    const m = boot(requireMakecode('forever', 'v1'));
    const times: Array<[number, string]> = [];
    let pending = '';
    m.serialStream!.onData((d) => {
      pending += Buffer.from(d).toString('latin1');
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        times.push([m.clock.now, pending.slice(0, i).replace(/[\0\r\s]/g, '')]);
        pending = pending.slice(i + 1);
      }
    });
    m.runFor(5 * SECOND);
    const counts = times.map(([, t]) => t).filter((t) => /^\d+$/.test(t));
    expect(counts.slice(0, 6)).toEqual(['0', '1', '2', '3', '4', '5']);
    const stamps = times.filter(([, t]) => /^\d+$/.test(t)).map(([t]) => t);
    for (let i = 1; i < 5; i++) {
      const dt = stamps[i]! - stamps[i - 1]!;
      // basic.pause(500), plus the 20 ms that basic.forever yields between iterations, plus
      // about 3 ms to send the padded line at 115200 baud, in a 6 ms fiber scheduler.
      expect(dt).toBeGreaterThanOrEqual(520 * MS);
      expect(dt).toBeLessThan(535 * MS);
    }
  });

  it('sends radio packets without hanging', () => {
    const m = boot(requireMakecode('radio', 'v1'));
    m.runFor(3 * SECOND);
    expect(m.radioMedium.history.length).toBeGreaterThanOrEqual(2);
    expect(m.cpu.lockup).toBe(false);
  });

  it('is deterministic: the same program twice gives the same serial output and frames', () => {
    const run = () => {
      const m = boot(requireMakecode('hello', 'v1'));
      return recordUntilSerial(m, 'hello done', 30 * SECOND);
    };
    const a = run();
    const b = run();
    expect(b.serial).toBe(a.serial);
    expect(b.frames).toEqual(a.frames);
  });

  it('logs under -d unimp only what docs/microbit.md lists as intentionally unmodelled', () => {
    const log = new Log();
    const lines: string[] = [];
    log.sink = (l) => lines.push(l);
    log.configure('unimp');
    const m = boot(requireMakecode('hello', 'v1'), log);
    runUntilSerial(m, 'hello done', 30 * SECOND);
    // Listed in docs/microbit.md: Nordic's SoftDevice writes this undocumented POWER register.
    const allowed = [/clock: undocumented POWER register 0x514 written/];
    expect(lines.filter((l) => !allowed.some((re) => re.test(l)))).toEqual([]);
  });
});

/**
 * `-display term` in a real terminal: tmux runs `tsemu` on a MicroPython script and the test
 * reads the LED matrix off the screen tmux captures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/tsemu');
// A tmux server of its own for every test (-L): a server whose last session was killed exits
// asynchronously, and a new session must not race it.
let session = '';
let sessions = 0;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`tmux is needed for this test (apt-get install tmux): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

beforeEach(() => {
  session = `tsemu-term-${process.pid}-${sessions++}`;
});

afterEach(() => {
  spawnSync('tmux', ['-L', session, 'kill-server']);
});

/** The 5×5 matrix drawn between the box lines: true where an LED is lit. */
function readMatrix(screen: string): boolean[][] | null {
  const lines = screen.split('\n');
  const top = lines.findIndex((l) => l.startsWith('┌'));
  if (top < 0 || !lines[top + 6]?.startsWith('└')) return null;
  return lines.slice(top + 1, top + 6).map((row) => {
    const cells = row.slice(1, 11);
    return Array.from({ length: 5 }, (_, x) => cells.slice(2 * x, 2 * x + 2).trim() !== '');
  });
}

describe('-display term in a terminal', () => {
  it('draws the LED matrix in place with the serial port below it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-term-'));
    try {
      const script = join(dir, 'heart.py');
      writeFileSync(
        script,
        'from microbit import *\nprint("heart shown")\ndisplay.show(Image.HEART)\nsleep(60000)\n',
      );
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '80',
        '-y',
        '30',
        `${BIN} --speed fast --timeout 20 ${script}`,
      );
      let screen = '';
      let matrix: boolean[][] | null = null;
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = tmux('capture-pane', '-t', session, '-p');
        matrix = readMatrix(screen);
        if (matrix?.some((row) => row.some(Boolean)) && screen.includes('heart shown')) break;
      }
      const drawn = matrix?.map((row) => row.map((lit) => (lit ? '#' : '.')).join('')).join('\n');
      // MicroPython's Image.HEART, 09090:99999:99999:09990:00900.
      expect(drawn, screen).toBe(['.#.#.', '#####', '#####', '.###.', '..#..'].join('\n'));
      expect(screen).toContain('F1: button A');
      expect(screen.indexOf('heart shown')).toBeGreaterThan(screen.indexOf('└'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 45_000);

  it('presses button A when F1 is pressed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-term-'));
    try {
      const script = join(dir, 'buttons.py');
      writeFileSync(
        script,
        'from microbit import *\nprint("ready")\nwhile True:\n    if button_a.was_pressed():\n        print("A pressed")\n    sleep(10)\n',
      );
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '80',
        '-y',
        '30',
        `${BIN} --speed fast --timeout 60 ${script}`,
      );
      const waitFor = async (text: string): Promise<string> => {
        let screen = '';
        for (let i = 0; i < 200 && !screen.includes(text); i++) {
          await new Promise((r) => setTimeout(r, 100));
          screen = tmux('capture-pane', '-t', session, '-p');
        }
        return screen;
      };
      expect(await waitFor('ready')).toContain('ready');
      tmux('send-keys', '-t', session, 'F1');
      expect(await waitFor('A pressed')).toContain('A pressed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 45_000);
});

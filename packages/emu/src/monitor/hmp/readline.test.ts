/**
 * The monitor's line editor: what the user sees (through a small terminal model) and which line
 * comes out, for typing, editing keys, ANSI arrow keys, history and tab completion.
 */
import { describe, expect, it } from 'vitest';
import { completions } from './commands.js';
import { LineEditor } from './readline.js';
import { TestTerminal } from './terminal.testing.js';

function editor(): { ed: LineEditor; term: TestTerminal; lines: string[]; type(text: string): void } {
  const term = new TestTerminal();
  const lines: string[] = [];
  const ed = new LineEditor({
    write: (t) => term.write(t),
    onLine: (l) => {
      lines.push(l);
      ed.start('(qemu) ');
    },
    complete: completions,
  });
  ed.start('(qemu) ');
  return { ed, term, lines, type: (text) => ed.handleBytes(Buffer.from(text, 'latin1')) };
}

describe('LineEditor', () => {
  it('echoes typed characters after the prompt and hands over the line on Enter', () => {
    const { term, lines, type } = editor();
    type('info status');
    expect(term.current).toBe('(qemu) info status');
    type('\r');
    expect(lines).toEqual(['info status']);
    expect(term.lines).toEqual(['(qemu) info status', '(qemu) ']);
  });

  it('counts CR LF as one Enter but LF alone as one too', () => {
    const { lines, type } = editor();
    type('stop\r\ncont\n\n');
    expect(lines).toEqual(['stop', 'cont', '']);
  });

  it('deletes with backspace (DEL and C-h) and redraws the line', () => {
    const { term, lines, type } = editor();
    type('info statuss\x7f');
    expect(term.current).toBe('(qemu) info status');
    type('xx\b\b\r');
    expect(lines).toEqual(['info status']);
  });

  it('moves with arrow keys and inserts in the middle', () => {
    const { term, ed, type } = editor();
    type('info tatus');
    type('\x1b[D'.repeat(5));
    type('s');
    expect(ed.line).toBe('info status');
    expect(term.current).toBe('(qemu) info status');
    expect(term.cursorColumn).toBe('(qemu) info s'.length);
    type('\x1b[C\x1b[C');
    expect(term.cursorColumn).toBe('(qemu) info sta'.length);
  });

  it('jumps with C-a / C-e and Home / End, and deletes under the cursor with C-d and ESC[3~', () => {
    const { ed, term, type } = editor();
    type('xinfo');
    type('\x01\x04');
    expect(ed.line).toBe('info');
    type('\x05 status');
    expect(ed.line).toBe('info status');
    type('\x1b[1~\x1b[3~');
    expect(ed.line).toBe('nfo status');
    type('\x1bOF!');
    expect(term.current).toBe('(qemu) nfo status!');
  });

  it('kills to the start with C-u, to the end with C-k and the last word with C-w', () => {
    const { ed, term, type } = editor();
    type('garbage text');
    type('\x15');
    expect(ed.line).toBe('');
    expect(term.current).toBe('(qemu) ');
    type('info status now');
    type('\x17');
    expect(ed.line).toBe('info status ');
    type('\x01\x1b[C\x1b[C\x0b');
    expect(ed.line).toBe('in');
    expect(term.current).toBe('(qemu) in');
  });

  it('recalls history with the up and down arrows, newest first, without duplicates', () => {
    const { ed, lines, type } = editor();
    type('info status\r');
    type('info version\r');
    type('info status\r');
    expect(ed.historyLines).toEqual(['info version', 'info status']);
    type('\x1b[A');
    expect(ed.line).toBe('info status');
    type('\x1b[A');
    expect(ed.line).toBe('info version');
    type('\x1b[A');
    expect(ed.line).toBe('info version');
    type('\x1b[B');
    expect(ed.line).toBe('info status');
    type('\x1b[B');
    expect(ed.line).toBe('');
    type('\x10\r');
    expect(lines.at(-1)).toBe('info status');
  });

  it('keeps at most 64 history lines and never an empty one', () => {
    const { ed, type } = editor();
    for (let i = 0; i < 70; i++) type(`x ${i}\r`);
    type('\r');
    expect(ed.historyLines).toHaveLength(64);
    expect(ed.historyLines[0]).toBe('x 6');
    expect(ed.historyLines.at(-1)).toBe('x 69');
  });

  it('completes a unique command name with a trailing space', () => {
    const { ed, term, type } = editor();
    type('info sta\t');
    expect(ed.line).toBe('info status ');
    expect(term.current).toBe('(qemu) info status ');
  });

  it('completes the common prefix and lists several candidates below the line', () => {
    const { ed, term, type } = editor();
    type('sy\t');
    expect(ed.line).toBe('system_');
    const screen = term.lines;
    expect(screen[1]).toBe(`${'system_powerdown'.padEnd(18)}${'system_reset'.padEnd(18)}`);
    expect(term.current).toBe('(qemu) system_');
  });

  it('ignores other control characters and unknown escape sequences', () => {
    const { ed, type } = editor();
    type('a\x02\x1b[Zb\x00c');
    expect(ed.line).toBe('abc');
  });
});

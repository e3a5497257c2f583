import { describe, expect, it } from 'vitest';
import { termKeyActions } from './term-display.js';

describe('terminal display keys', () => {
  it('sends plain typing to the serial port', () => {
    expect(termKeyActions('print(6*7)\r')).toEqual([{ kind: 'serial', text: 'print(6*7)\r' }]);
  });

  it('turns F1, F2 and F3 (xterm and VT sequences) into buttons A, B and A+B', () => {
    expect(termKeyActions('\x1bOP')).toEqual([{ kind: 'button', button: 'a' }]);
    expect(termKeyActions('\x1b[12~')).toEqual([{ kind: 'button', button: 'b' }]);
    expect(termKeyActions('x\x1bORy')).toEqual([
      { kind: 'serial', text: 'x' },
      { kind: 'button', button: 'ab' },
      { kind: 'serial', text: 'y' },
    ]);
  });

  it('quits on Ctrl-C and ignores what follows', () => {
    expect(termKeyActions('ab\x03cd')).toEqual([{ kind: 'serial', text: 'ab' }, { kind: 'quit' }]);
  });

  it('passes other escape sequences (arrow keys) to the serial port', () => {
    expect(termKeyActions('\x1b[A')).toEqual([{ kind: 'serial', text: '\x1b[A' }]);
  });
});

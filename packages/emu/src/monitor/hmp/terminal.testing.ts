/**
 * A minimal terminal for tests of the monitor's line editing: it applies the output (CR, LF,
 * backspace, `ESC[nC`, `ESC[nD`, `ESC[K`, `ESC[2J`, `ESC[H`) to a grid of lines and says what a
 * person would see, so tests check the screen rather than the exact escape sequences.
 */
export class TestTerminal {
  readonly lines: string[] = [''];
  private row = 0;
  private col = 0;

  write(text: string): void {
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\x1b') {
        const m = /^\x1b\[(\d*)([A-Za-z])/.exec(text.slice(i));
        if (!m) throw new Error(`unexpected escape at ${JSON.stringify(text.slice(i, i + 8))}`);
        this.csi(m[2]!, m[1] === '' ? 1 : Number(m[1]));
        i += m[0].length;
        continue;
      }
      if (c === '\r') this.col = 0;
      else if (c === '\n') {
        this.row++;
        if (this.lines.length <= this.row) this.lines.push('');
      } else if (c === '\b') this.col = Math.max(0, this.col - 1);
      else {
        const line = this.lines[this.row]!.padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + c + line.slice(this.col + 1);
        this.col++;
      }
      i++;
    }
  }

  private csi(final: string, n: number): void {
    switch (final) {
      case 'C':
        this.col += n;
        break;
      case 'D':
        this.col = Math.max(0, this.col - n);
        break;
      case 'K':
        this.lines[this.row] = this.lines[this.row]!.slice(0, this.col);
        break;
      case 'J':
        this.lines.length = 0;
        this.lines.push('');
        this.row = 0;
        break;
      case 'H':
        this.row = 0;
        this.col = 0;
        break;
      default:
        throw new Error(`unexpected CSI ${final}`);
    }
  }

  /** The line the cursor is on. */
  get current(): string {
    return this.lines[this.row]!;
  }

  get cursorColumn(): number {
    return this.col;
  }

  /** Everything on screen, one string per line. */
  get screen(): string {
    return this.lines.join('\n');
  }
}

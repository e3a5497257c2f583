/**
 * The line editor of the human monitor (what QEMU's util/readline.c does for `(qemu) `).
 *
 * Input is bytes from a terminal in raw mode; output is the text that redraws the line with
 * ANSI sequences (cursor left `ESC[nD`, erase to end of line `ESC[K`). Both are "byte strings":
 * one character per byte (latin-1), so UTF-8 typed by the user goes back to the terminal as it
 * came; the monitor decodes the finished line as UTF-8.
 *
 * Keys: printable characters insert; Backspace/DEL and C-h delete left; C-d and `ESC[3~` delete
 * under the cursor; C-a/Home and C-e/End; left/right arrows; C-u kills to the start of the line,
 * C-k to its end, C-w the word before the cursor; up/down arrows (or C-p/C-n) walk the history
 * (64 lines, no empty lines, a repeated line moves to the end); Tab completes; C-l redraws;
 * Enter (CR or LF; a CR LF pair counts once) finishes the line.
 */

const HISTORY_MAX = 64;
const ESC = '\x1b';

export interface LineEditorOptions {
  /** Writes redraw text (a byte string) to the terminal. */
  write(text: string): void;
  /** Called with each finished line (a byte string). */
  onLine(line: string): void;
  /** Completion candidates for the word ending the text before the cursor. */
  complete?(before: string): { typed: number; candidates: string[] };
}

type EscState = 'normal' | 'esc' | 'csi' | 'ss3';

export class LineEditor {
  private prompt = '';
  private buf = '';
  private cursor = 0;
  private shownText = '';
  private shownCursor = 0;
  private readonly history: string[] = [];
  private historyPos = 0;
  private esc: EscState = 'normal';
  private csiParam = '';
  private lastWasCr = false;

  constructor(private readonly opts: LineEditorOptions) {}

  /** The line being edited (tests, tools). */
  get line(): string {
    return this.buf;
  }

  get historyLines(): readonly string[] {
    return this.history;
  }

  /** Starts a new, empty line and prints `prompt` (QEMU's readline_start + show_prompt). */
  start(prompt: string): void {
    this.prompt = prompt;
    this.buf = '';
    this.cursor = 0;
    this.historyPos = this.history.length;
    this.showPrompt();
  }

  /** Prints the prompt and the current line again (after other output, or on C-l). */
  showPrompt(): void {
    this.opts.write(this.prompt + this.buf);
    this.shownText = this.buf;
    this.shownCursor = this.buf.length;
    this.moveTo(this.cursor);
  }

  handleBytes(data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.handleByte(data[i]!);
  }

  handleByte(b: number): void {
    const wasCr = this.lastWasCr;
    this.lastWasCr = false;
    switch (this.esc) {
      case 'esc':
        this.esc = b === 0x5b ? 'csi' : b === 0x4f ? 'ss3' : 'normal';
        this.csiParam = '';
        return;
      case 'csi':
        if (b >= 0x30 && b <= 0x39) {
          this.csiParam += String.fromCharCode(b);
          return;
        }
        this.esc = 'normal';
        this.csiKey(b, this.csiParam);
        return;
      case 'ss3':
        this.esc = 'normal';
        this.csiKey(b, '');
        return;
      default:
        break;
    }
    switch (b) {
      case 0x01:
        this.cursor = 0;
        break;
      case 0x04:
        this.deleteAt(this.cursor);
        break;
      case 0x05:
        this.cursor = this.buf.length;
        break;
      case 0x09:
        this.completeWord();
        return;
      case 0x0b:
        this.buf = this.buf.slice(0, this.cursor);
        break;
      case 0x0c:
        this.opts.write(`${ESC}[2J${ESC}[H`);
        this.showPrompt();
        return;
      case 0x0a:
        if (wasCr) return;
        this.finishLine();
        return;
      case 0x0d:
        this.lastWasCr = true;
        this.finishLine();
        return;
      case 0x0e:
        this.historyDown();
        break;
      case 0x10:
        this.historyUp();
        break;
      case 0x15:
        this.buf = this.buf.slice(this.cursor);
        this.cursor = 0;
        break;
      case 0x17:
        this.killWordBefore();
        break;
      case 0x1b:
        this.esc = 'esc';
        return;
      case 0x08:
      case 0x7f:
        if (this.cursor > 0) this.deleteAt(--this.cursor);
        break;
      default:
        if (b < 0x20) return;
        this.buf = this.buf.slice(0, this.cursor) + String.fromCharCode(b) + this.buf.slice(this.cursor);
        this.cursor++;
        break;
    }
    this.render();
  }

  private csiKey(final: number, param: string): void {
    switch (String.fromCharCode(final)) {
      case 'A':
        this.historyUp();
        break;
      case 'B':
        this.historyDown();
        break;
      case 'C':
        if (this.cursor < this.buf.length) this.cursor++;
        break;
      case 'D':
        if (this.cursor > 0) this.cursor--;
        break;
      case 'H':
        this.cursor = 0;
        break;
      case 'F':
        this.cursor = this.buf.length;
        break;
      case '~':
        if (param === '1' || param === '7') this.cursor = 0;
        else if (param === '4' || param === '8') this.cursor = this.buf.length;
        else if (param === '3') this.deleteAt(this.cursor);
        break;
      default:
        return;
    }
    this.render();
  }

  private deleteAt(i: number): void {
    if (i < this.buf.length) this.buf = this.buf.slice(0, i) + this.buf.slice(i + 1);
  }

  private killWordBefore(): void {
    let i = this.cursor;
    while (i > 0 && this.buf[i - 1] === ' ') i--;
    while (i > 0 && this.buf[i - 1] !== ' ') i--;
    this.buf = this.buf.slice(0, i) + this.buf.slice(this.cursor);
    this.cursor = i;
  }

  private historyUp(): void {
    if (this.historyPos === 0) return;
    this.historyPos--;
    this.buf = this.history[this.historyPos]!;
    this.cursor = this.buf.length;
  }

  private historyDown(): void {
    if (this.historyPos >= this.history.length) return;
    this.historyPos++;
    this.buf = this.history[this.historyPos] ?? '';
    this.cursor = this.buf.length;
  }

  private addHistory(line: string): void {
    if (line === '') return;
    const at = this.history.indexOf(line);
    if (at >= 0) this.history.splice(at, 1);
    else if (this.history.length >= HISTORY_MAX) this.history.shift();
    this.history.push(line);
  }

  private finishLine(): void {
    const line = this.buf;
    this.addHistory(line);
    this.opts.write('\r\n');
    this.buf = '';
    this.cursor = 0;
    this.shownText = '';
    this.shownCursor = 0;
    this.historyPos = this.history.length;
    this.opts.onLine(line);
  }

  private completeWord(): void {
    if (!this.opts.complete) return;
    const { typed, candidates } = this.opts.complete(this.buf.slice(0, this.cursor));
    if (candidates.length === 0) return;
    const insert = (text: string): void => {
      this.buf = this.buf.slice(0, this.cursor) + text + this.buf.slice(this.cursor);
      this.cursor += text.length;
    };
    if (candidates.length === 1) {
      insert(`${candidates[0]!.slice(typed)} `);
      this.render();
      return;
    }
    const sorted = [...candidates].sort();
    let common = sorted[0]!;
    for (const c of sorted) while (!c.startsWith(common)) common = common.slice(0, -1);
    if (common.length > typed) insert(common.slice(typed));
    // List the candidates in columns (at least 10 wide, 80 in all), then redraw the line.
    const width = Math.min(80, Math.max(10, Math.max(...sorted.map((c) => c.length)) + 2));
    const perLine = Math.max(1, Math.floor(80 / width));
    let text = '\r\n';
    for (let i = 0; i < sorted.length; i++) {
      text += sorted[i]!.padEnd(width);
      if ((i + 1) % perLine === 0 || i === sorted.length - 1) text += '\r\n';
    }
    this.opts.write(text);
    this.showPrompt();
  }

  /** Writes the least text that turns the shown line into the current one. */
  private render(): void {
    if (this.buf !== this.shownText) {
      let same = 0;
      const max = Math.min(this.buf.length, this.shownText.length);
      while (same < max && this.buf[same] === this.shownText[same]) same++;
      if (this.shownCursor > same) {
        this.left(this.shownCursor - same);
        this.shownCursor = same;
      }
      // Characters between the cursor and the first change are unchanged: print them again.
      let text = this.buf.slice(this.shownCursor);
      if (this.buf.length < this.shownText.length) text += `${ESC}[K`;
      if (text !== '') this.opts.write(text);
      this.shownText = this.buf;
      this.shownCursor = this.buf.length;
    }
    this.moveTo(this.cursor);
  }

  private moveTo(pos: number): void {
    if (pos < this.shownCursor) this.left(this.shownCursor - pos);
    else if (pos > this.shownCursor)
      this.opts.write(pos - this.shownCursor === 1 ? `${ESC}[C` : `${ESC}[${pos - this.shownCursor}C`);
    this.shownCursor = pos;
  }

  private left(n: number): void {
    this.opts.write(n === 1 ? `${ESC}[D` : `${ESC}[${n}D`);
  }
}

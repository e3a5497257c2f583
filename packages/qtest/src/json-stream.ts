/**
 * Splits a byte stream of concatenated JSON texts (QMP's wire format) into complete values:
 * objects split across reads, several in one read, whitespace between them. The scanner only
 * tracks nesting and strings to find where each value ends; JSON.parse does the rest.
 */
export class JsonStreamSplitter {
  private buffer = '';
  /** Where scanning resumes in `buffer`. */
  private pos = 0;
  /** Start of the value being scanned, or -1 between values. */
  private start = -1;
  private depth = 0;
  private inString = false;
  private escaped = false;

  /**
   * Feeds text; calls `onValue` with each complete value and `onError` with the text of each
   * piece that is not valid JSON (the stream continues after it).
   */
  feed(
    text: string,
    onValue: (value: unknown) => void,
    onError: (bad: string, reason: string) => void,
  ): void {
    this.buffer += text;
    const s = this.buffer;
    for (let i = this.pos; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.start < 0) {
        // Between values: skip whitespace; anything but an object/array start is garbage.
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b && c !== 0x5b) {
          onError(s[i]!, 'not the start of a JSON object');
          continue;
        }
        this.start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          const piece = s.slice(this.start, i + 1);
          this.start = -1;
          try {
            onValue(JSON.parse(piece));
          } catch (e) {
            onError(piece, e instanceof Error ? e.message : String(e));
          }
        }
      }
    }
    // Keep only the unfinished value.
    if (this.start < 0) {
      this.buffer = '';
      this.pos = 0;
    } else {
      this.buffer = s.slice(this.start);
      this.pos = this.buffer.length;
      this.start = 0;
    }
  }
}

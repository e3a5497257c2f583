/**
 * The QMP input parser: a streaming JSON reader that behaves like QEMU's (qobject/json-lexer.c,
 * json-streamer.c, json-parser.c), and the QMP output writer.
 *
 * Input arrives in arbitrary chunks: a message may be split across reads, several may arrive in
 * one read, with any whitespace between them. A byte-level lexer turns the bytes into tokens; a
 * streamer collects the tokens of one top-level value (it counts braces and brackets) and hands
 * them to a recursive-descent parser once the value is complete.
 *
 * What QEMU accepts and we accept too: RFC 8259 JSON plus single-quoted strings ('...', which
 * may contain unescaped `"`), and `\'` as an escape in both kinds of strings.
 *
 * Errors use QEMU's texts and never end the stream:
 *  - a byte no token can start or continue: `JSON parse error, stray '<token so far>'`; the lexer
 *    then skips input up to the next structural character (`{}[]:,`) or control character, a
 *    resynchronisation point (QEMU's IN_RECOVERY; clients send `\n` or 0xFF to force it);
 *  - a syntax error in a complete value: `JSON parse error, <what>` (`expecting value`,
 *    `missing : in object pair`, `invalid keyword 'foo'`, ...);
 *  - limits (QEMU's values by default): `JSON token size limit exceeded` (64 MiB per message),
 *    `JSON token count limit exceeded` (2 Mi tokens), `JSON nesting depth limit exceeded`
 *    (1024 levels). Unlike QEMU, which resets its counters and parses the rest of an oversized
 *    message as new input (often producing more errors), we report once and skip the rest of
 *    that message, so the client gets exactly one error per oversized message.
 *
 * Differences that do not matter to clients: strings must be valid UTF-8 (QEMU takes "modified
 * UTF-8", which also allows an overlong NUL); integers beyond 2^53 lose precision, and a float
 * written with an integral value (1.0) is not distinguished from an integer.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface JsonStreamLimits {
  /** Total bytes of the tokens of one message (QEMU: 64 MiB). */
  maxMessageBytes?: number;
  /** Tokens in one message (QEMU: 2 Mi). */
  maxTokens?: number;
  /** Nesting depth of objects and arrays (QEMU: 1024). */
  maxNesting?: number;
}

export const QEMU_MAX_TOKEN_SIZE = 64 * 1024 * 1024;
export const QEMU_MAX_TOKEN_COUNT = 2 * 1024 * 1024;
export const QEMU_MAX_NESTING = 1024;

/** Called once per complete top-level value, or once per error (value undefined). */
export type JsonStreamHandler = (value: JsonValue | undefined, error: string | undefined) => void;

enum Tok {
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Integer,
  Float,
  Keyword,
  String,
}

enum St {
  Start,
  Recovery,
  Dq,
  DqEscape,
  Sq,
  SqEscape,
  Zero,
  Sign,
  Digits,
  Mantissa,
  MantissaDigits,
  ExpE,
  ExpSign,
  ExpDigits,
  Keyword,
}

interface Token {
  type: Tok;
  /** Raw bytes of the token, latin-1 decoded (one character per byte). */
  text: string;
  /** Raw bytes of string tokens (with the quotes), decoded by the parser. */
  bytes?: Uint8Array;
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isLower = (b: number): boolean => b >= 0x61 && b <= 0x7a;
const isWhite = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
const isStructural = (b: number): boolean =>
  b === 0x7b || b === 0x7d || b === 0x5b || b === 0x5d || b === 0x3a || b === 0x2c;

export class JsonStreamParser {
  private readonly maxBytes: number;
  private readonly maxTokens: number;
  private readonly maxNesting: number;
  private readonly handler: JsonStreamHandler;

  // Lexer.
  private state = St.Start;
  private tokenBuf = new Uint8Array(64);
  private tokenLen = 0;

  // Streamer: the tokens of the message in progress.
  private tokens: Token[] = [];
  private braces = 0;
  private brackets = 0;
  private messageBytes = 0;
  /** After a limit error: the rest of this message is lexed but not kept. */
  private skipping = false;

  constructor(handler: JsonStreamHandler, limits: JsonStreamLimits = {}) {
    this.handler = handler;
    this.maxBytes = limits.maxMessageBytes ?? QEMU_MAX_TOKEN_SIZE;
    this.maxTokens = limits.maxTokens ?? QEMU_MAX_TOKEN_COUNT;
    this.maxNesting = limits.maxNesting ?? QEMU_MAX_NESTING;
  }

  /** Forgets any partial message (a new connection starts clean). */
  reset(): void {
    this.state = St.Start;
    this.tokenLen = 0;
    this.clearMessage();
  }

  /** Feeds bytes; complete values and errors are reported through the handler, in order. */
  feed(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    for (let i = 0; i < bytes.length; i++) this.feedByte(bytes[i]!);
  }

  private feedByte(b: number): void {
    // A terminal state that needs lookahead re-examines the byte in Start: loop until consumed.
    for (;;) {
      switch (this.state) {
        case St.Start:
          if (isWhite(b)) return;
          if (b === 0x22) {
            this.begin(St.Dq, b);
            return;
          }
          if (b === 0x27) {
            this.begin(St.Sq, b);
            return;
          }
          if (b === 0x30) {
            this.begin(St.Zero, b);
            return;
          }
          if (b >= 0x31 && b <= 0x39) {
            this.begin(St.Digits, b);
            return;
          }
          if (b === 0x2d) {
            this.begin(St.Sign, b);
            return;
          }
          if (isLower(b)) {
            this.begin(St.Keyword, b);
            return;
          }
          if (isStructural(b)) {
            this.append(b);
            this.emit(structuralToken(b));
            return;
          }
          this.strayByte(b);
          return;
        case St.Recovery:
          if (b < 0x20 || b >= 0xfe || isStructural(b)) {
            if (b === 0x09) return;
            this.state = St.Start;
            continue;
          }
          return;
        case St.Dq:
        case St.Sq: {
          const quote = this.state === St.Dq ? 0x22 : 0x27;
          if (b < 0x20 || b >= 0xfe) {
            this.strayByte(b);
            return;
          }
          this.append(b);
          if (b === 0x5c) this.state = this.state === St.Dq ? St.DqEscape : St.SqEscape;
          else if (b === quote) this.emit(Tok.String);
          this.checkTokenSize();
          return;
        }
        case St.DqEscape:
        case St.SqEscape:
          this.append(b);
          if (b < 0x20 || b >= 0xfe) {
            this.lexError();
            return;
          }
          this.state = this.state === St.DqEscape ? St.Dq : St.Sq;
          {
            this.checkTokenSize();
            return;
          }
        case St.Zero:
          if (isDigit(b)) {
            this.append(b);
            this.lexError();
            return;
          }
          if (b === 0x2e) {
            this.step(St.Mantissa, b);
            return;
          }
          this.emit(Tok.Integer);
          continue;
        case St.Sign:
          if (b === 0x30) {
            this.step(St.Zero, b);
            return;
          }
          if (b >= 0x31 && b <= 0x39) {
            this.step(St.Digits, b);
            return;
          }
          this.strayByte(b);
          return;
        case St.Digits:
          if (isDigit(b)) {
            this.step(St.Digits, b);
            return;
          }
          if (b === 0x65 || b === 0x45) {
            this.step(St.ExpE, b);
            return;
          }
          if (b === 0x2e) {
            this.step(St.Mantissa, b);
            return;
          }
          this.emit(Tok.Integer);
          continue;
        case St.Mantissa:
          if (isDigit(b)) {
            this.step(St.MantissaDigits, b);
            return;
          }
          this.strayByte(b);
          return;
        case St.MantissaDigits:
          if (isDigit(b)) {
            this.step(St.MantissaDigits, b);
            return;
          }
          if (b === 0x65 || b === 0x45) {
            this.step(St.ExpE, b);
            return;
          }
          this.emit(Tok.Float);
          continue;
        case St.ExpE:
          if (b === 0x2b || b === 0x2d) {
            this.step(St.ExpSign, b);
            return;
          }
          if (isDigit(b)) {
            this.step(St.ExpDigits, b);
            return;
          }
          this.strayByte(b);
          return;
        case St.ExpSign:
          if (isDigit(b)) {
            this.step(St.ExpDigits, b);
            return;
          }
          this.strayByte(b);
          return;
        case St.ExpDigits:
          if (isDigit(b)) {
            this.step(St.ExpDigits, b);
            return;
          }
          this.emit(Tok.Float);
          continue;
        case St.Keyword:
          if (isLower(b)) {
            this.step(St.Keyword, b);
            return;
          }
          this.emit(Tok.Keyword);
          continue;
      }
    }
  }

  private begin(state: St, b: number): void {
    this.tokenLen = 0;
    this.step(state, b);
  }

  private step(state: St, b: number): void {
    this.append(b);
    this.state = state;
    this.checkTokenSize();
  }

  private append(b: number): void {
    if (this.skipping) {
      // Only the token's kind matters while skipping; keep at most a few bytes of it.
      if (this.tokenLen >= 16) return;
    }
    if (this.tokenLen === this.tokenBuf.length) {
      const bigger = new Uint8Array(this.tokenBuf.length * 2);
      bigger.set(this.tokenBuf);
      this.tokenBuf = bigger;
    }
    this.tokenBuf[this.tokenLen++] = b;
  }

  /** A single token longer than the message limit: report it and skip the rest of the message. */
  private checkTokenSize(): void {
    if (!this.skipping && this.messageBytes + this.tokenLen > this.maxBytes) {
      this.limitError('JSON token size limit exceeded');
      this.tokenLen = 0;
    }
  }

  /** A byte that no token can continue: it belongs to the error text. */
  private strayByte(b: number): void {
    this.append(b);
    this.lexError();
  }

  private lexError(): void {
    const text = Buffer.from(this.tokenBuf.subarray(0, this.tokenLen)).toString('utf8');
    this.tokenLen = 0;
    this.state = St.Recovery;
    const wasSkipping = this.skipping;
    this.clearMessage();
    if (!wasSkipping) this.handler(undefined, `JSON parse error, stray '${text}'`);
  }

  private emit(type: Tok): void {
    this.state = St.Start;
    const len = this.tokenLen;
    this.tokenLen = 0;
    switch (type) {
      case Tok.LCurly:
        this.braces++;
        break;
      case Tok.RCurly:
        this.braces--;
        break;
      case Tok.LSquare:
        this.brackets++;
        break;
      case Tok.RSquare:
        this.brackets--;
        break;
      default:
        break;
    }
    const complete = this.braces <= 0 && this.brackets <= 0;
    if (this.skipping) {
      if (complete || this.braces < 0 || this.brackets < 0) this.clearMessage();
      return;
    }
    if (this.messageBytes + len + 1 > this.maxBytes) {
      this.limitError('JSON token size limit exceeded');
      if (complete) this.clearMessage();
      return;
    }
    if (this.tokens.length + 1 > this.maxTokens) {
      this.limitError('JSON token count limit exceeded');
      if (complete) this.clearMessage();
      return;
    }
    if (this.braces + this.brackets > this.maxNesting) {
      this.limitError('JSON nesting depth limit exceeded');
      return;
    }
    const raw = this.tokenBuf.subarray(0, len);
    const token: Token = { type, text: Buffer.from(raw).toString('latin1') };
    if (type === Tok.String) token.bytes = raw.slice();
    this.tokens.push(token);
    this.messageBytes += len;
    if (!complete) return;
    const tokens = this.tokens;
    this.clearMessage();
    const result = parseTokens(tokens);
    if (result.ok) this.handler(result.value, undefined);
    else this.handler(undefined, result.error);
  }

  private limitError(message: string): void {
    this.tokens = [];
    this.messageBytes = 0;
    this.skipping = true;
    this.handler(undefined, message);
  }

  private clearMessage(): void {
    this.tokens = [];
    this.braces = 0;
    this.brackets = 0;
    this.messageBytes = 0;
    this.skipping = false;
  }
}

function structuralToken(b: number): Tok {
  switch (b) {
    case 0x7b:
      return Tok.LCurly;
    case 0x7d:
      return Tok.RCurly;
    case 0x5b:
      return Tok.LSquare;
    case 0x5d:
      return Tok.RSquare;
    case 0x3a:
      return Tok.Colon;
    default:
      return Tok.Comma;
  }
}

// ---- parser (over the tokens of one complete message) -----------------------------------------

class ParseError extends Error {}

type ParseResult = { ok: true; value: JsonValue } | { ok: false; error: string };

function parseTokens(tokens: Token[]): ParseResult {
  const p = new TokenParser(tokens);
  try {
    return { ok: true, value: p.value() };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: `JSON parse error, ${e.message}` };
    throw e;
  }
}

class TokenParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new ParseError('premature EOI');
    return t;
  }

  private pop(): Token {
    const t = this.peek();
    this.pos++;
    return t;
  }

  value(): JsonValue {
    const t = this.peek();
    switch (t.type) {
      case Tok.LCurly:
        return this.object();
      case Tok.LSquare:
        return this.array();
      case Tok.String:
        this.pos++;
        return decodeString(t.bytes!);
      case Tok.Integer:
      case Tok.Float:
        this.pos++;
        return Number(t.text);
      case Tok.Keyword:
        this.pos++;
        if (t.text === 'true') return true;
        if (t.text === 'false') return false;
        if (t.text === 'null') return null;
        throw new ParseError(`invalid keyword '${t.text}'`);
      default:
        throw new ParseError('expecting value');
    }
  }

  private object(): JsonValue {
    this.pop();
    const out: { [key: string]: JsonValue } = {};
    if (this.peek().type === Tok.RCurly) {
      this.pos++;
      return out;
    }
    for (;;) {
      const keyToken = this.peek();
      const key = this.value();
      if (typeof key !== 'string' || keyToken.type !== Tok.String) {
        throw new ParseError('key is not a string in object');
      }
      if (this.pop().type !== Tok.Colon) throw new ParseError('missing : in object pair');
      // QEMU reports the missing value itself ('expecting value'), not the pair.
      const v = this.value();
      if (Object.hasOwn(out, key)) throw new ParseError('duplicate key');
      // defineProperty: a key named __proto__ must stay an ordinary member.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      const sep = this.pop();
      if (sep.type === Tok.RCurly) return out;
      if (sep.type !== Tok.Comma) throw new ParseError('expected separator in dict');
    }
  }

  private array(): JsonValue {
    this.pop();
    const out: JsonValue[] = [];
    if (this.peek().type === Tok.RSquare) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      const sep = this.pop();
      if (sep.type === Tok.RSquare) return out;
      if (sep.type !== Tok.Comma) throw new ParseError('expected separator in list');
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a string token (with its quotes): escapes, then strict UTF-8. */
function decodeString(raw: Uint8Array): string {
  const quote = raw[0]!;
  const out: number[] = [];
  let i = 1;
  const end = raw.length - 1;
  let text = '';
  const flush = (): void => {
    if (out.length === 0) return;
    try {
      text += utf8.decode(Uint8Array.from(out));
    } catch {
      throw new ParseError('invalid UTF-8 sequence in string');
    }
    out.length = 0;
  };
  while (i < end) {
    const b = raw[i]!;
    if (b === quote) break;
    if (b !== 0x5c) {
      out.push(b);
      i++;
      continue;
    }
    const e = raw[i + 1]!;
    i += 2;
    switch (e) {
      case 0x22:
      case 0x27:
      case 0x5c:
      case 0x2f:
        out.push(e);
        break;
      case 0x62:
        out.push(0x08);
        break;
      case 0x66:
        out.push(0x0c);
        break;
      case 0x6e:
        out.push(0x0a);
        break;
      case 0x72:
        out.push(0x0d);
        break;
      case 0x74:
        out.push(0x09);
        break;
      case 0x75: {
        const start = i - 2;
        let cp = hex4(raw, i, end);
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff && raw[i] === 0x5c && raw[i + 1] === 0x75) {
          const low = hex4(raw, i + 2, end);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp & 0x3ff) << 10) + (low & 0x3ff);
            i += 6;
          } else {
            cp = -1;
          }
        }
        if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) {
          const seq = Buffer.from(raw.subarray(start, Math.min(i, end))).toString('latin1');
          throw new ParseError(`${seq} is not a valid Unicode character`);
        }
        flush();
        text += String.fromCodePoint(cp);
        break;
      }
      default:
        throw new ParseError('invalid escape sequence in string');
    }
  }
  flush();
  return text;
}

function hex4(raw: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = raw[at + k]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = (v << 4) | d;
  }
  return v;
}

// ---- output ---------------------------------------------------------------------------------

/**
 * Serializes a QMP message the way QEMU writes it: `{"key": value, "k2": [1, 2]}` (a space after
 * `:` and `,`), ASCII only (other characters as \uXXXX escapes, with surrogate pairs). `pretty`
 * indents by four spaces, as QEMU's `-mon pretty=on` does. No line ending is added.
 */
export function formatQmpJson(value: unknown, pretty = false): string {
  return writeValue(value, pretty ? 0 : -1);
}

function writeValue(value: unknown, indent: number): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? formatNumber(value) : 'null';
    case 'bigint':
      return value.toString();
    case 'string':
      return quote(value);
    default:
      break;
  }
  const nl = indent >= 0 ? `\n${'    '.repeat(indent + 1)}` : '';
  const close = indent >= 0 ? `\n${'    '.repeat(indent)}` : '';
  const inner = indent >= 0 ? indent + 1 : -1;
  const sep = indent >= 0 ? ',' : ', ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${nl}${value.map((v) => writeValue(v, inner)).join(sep + nl)}${close}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{${nl}${entries.map(([k, v]) => `${quote(k)}: ${writeValue(v, inner)}`).join(sep + nl)}${close}}`;
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
  return String(n);
}

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        if (c < 0x20 || c >= 0x7f) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
        else out += s[i];
    }
  }
  return `${out}"`;
}

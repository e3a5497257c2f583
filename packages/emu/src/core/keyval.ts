/**
 * QEMU's option-argument syntax (`-device loader,file=x.hex,addr=0x1000`).
 *
 * The rules follow QEMU's legacy QemuOpts parser, which most options still use:
 * - elements are separated by `,`; a literal comma inside a value is written `,,`;
 * - an element `key=value` sets `key` (the value runs to the next single comma, so it may hold `=`);
 * - the first element may omit `key=` when the option has an implied key (`-M microbit` sets
 *   `type`, `-device loader` sets `driver`, `-icount 6` sets `shift`);
 * - any other element without `=` is a boolean flag: `server` means `server=on`, and a leading
 *   `no` turns it off (`nowait` means `wait=off`, `nodelay` means `delay=off`);
 * - an element `help` or `?` without `=` asks for help and is not stored as a key;
 * - a key given twice keeps every occurrence in `entries`, and `map` holds the last (QemuOpts
 *   looks options up from the end);
 * - a trailing comma is ignored.
 *
 * `-device` and `-object` also take a JSON object (text starting with `{`). QEMU's JSON parser
 * accepts single-quoted strings as well as double-quoted ones, so both are accepted here; a key
 * given twice is an error, as in QEMU. Values are returned as text: strings as they are, numbers
 * as written, booleans as `on`/`off` (what the key=value form would say), nested objects and
 * arrays as standard JSON.
 *
 * Error messages are QEMU's, prefixed with the option and its argument as QEMU's error location
 * does (`-device loader,=x: Invalid parameter ''`); the caller adds the program name.
 */
import { UserError } from './errors.js';

export interface KeyvalOptions {
  /** Key that the first element names when it has no `=` (`type` for `-machine`). */
  impliedKey?: string;
  /** The option as the user spelled it (`-device`), used to prefix error messages; '' for none. */
  option: string;
  /** Accept the JSON object form when the text starts with `{` (as `-device` and `-object` do). */
  json?: boolean;
}

export interface Keyval {
  /** Every `key=value` in the order written, duplicates included. */
  entries: Array<[string, string]>;
  /** The value of each key (the last one written wins). */
  map: Map<string, string>;
  /** An element `help` or `?` was present (QEMU then prints help for this option). */
  help: boolean;
  /** The text was in the JSON form. */
  json: boolean;
}

/** `help` and `?` ask for help wherever QEMU accepts an option argument. */
export function isHelpOption(text: string): boolean {
  return text === 'help' || text === '?';
}

/** Builds the `-opt ARG: ` prefix QEMU puts in front of errors about an option argument. */
export function optionLocation(option: string, text: string): string {
  return option === '' ? '' : `${option} ${text}: `;
}

/** Parses an option argument in QemuOpts syntax, or in JSON when `opts.json` allows it. */
export function parseKeyval(text: string, opts: KeyvalOptions): Keyval {
  if (opts.json === true && text.startsWith('{')) return parseJsonKeyval(text, opts.option);
  const entries: Array<[string, string]> = [];
  let help = false;
  let pos = 0;
  let first = true;
  while (pos < text.length) {
    const eq = text.indexOf('=', pos);
    const comma = text.indexOf(',', pos);
    const hasValue = eq !== -1 && (comma === -1 || eq < comma);
    if (hasValue) {
      const key = text.slice(pos, eq);
      if (key === '') {
        throw new UserError(`${optionLocation(opts.option, text)}Invalid parameter ''`);
      }
      const [value, next] = readValue(text, eq + 1);
      entries.push([key, value]);
      pos = next;
    } else {
      const end = comma === -1 ? text.length : comma;
      const word = text.slice(pos, end);
      if (isHelpOption(word)) {
        help = true;
        pos = end + 1;
      } else if (first && opts.impliedKey !== undefined) {
        const [value, next] = readValue(text, pos);
        entries.push([opts.impliedKey, value]);
        pos = next;
      } else {
        const off = word.startsWith('no');
        const key = off ? word.slice(2) : word;
        if (key === '') throw new UserError(`${optionLocation(opts.option, text)}Invalid parameter ''`);
        entries.push([key, off ? 'off' : 'on']);
        pos = end + 1;
      }
    }
    first = false;
  }
  return { entries, map: new Map(entries), help, json: false };
}

/** Reads a value from `start` to the next single comma, turning `,,` into `,`. */
function readValue(text: string, start: number): [string, number] {
  let value = '';
  let pos = start;
  for (;;) {
    const comma = text.indexOf(',', pos);
    if (comma === -1) return [value + text.slice(pos), text.length];
    value += text.slice(pos, comma);
    if (text[comma + 1] === ',') {
      value += ',';
      pos = comma + 2;
    } else {
      return [value, comma + 1];
    }
  }
}

/**
 * Parses a QemuOpts-style boolean (`on`/`off`, also `yes`/`no`, `true`/`false`, `y`/`n`), throwing
 * QEMU's message naming the parameter.
 */
export function parseBool(value: string, param: string): boolean {
  switch (value) {
    case 'on':
    case 'yes':
    case 'true':
    case 'y':
      return true;
    case 'off':
    case 'no':
    case 'false':
    case 'n':
      return false;
    default:
      throw new UserError(`Parameter '${param}' expects 'on' or 'off'`);
  }
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
  E: 2 ** 60,
};

/**
 * Parses a QEMU size (`16M`, `1.5G`, `4096`, `0x1000`): a decimal number (a fraction only with a
 * unit above bytes) or a hexadecimal integer, then an optional case-insensitive unit B, K, M, G,
 * T, P or E (powers of 1024). Returns bytes. Throws QEMU's messages naming `param`.
 */
export function parseSize(value: string, param: string): number {
  const match = /^(0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)([bBkKmMgGtTpPeE]?)$/.exec(value);
  const invalid = (): UserError =>
    new UserError(
      `Parameter '${param}' expects a non-negative number below 2^64\n` +
        'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n' +
        'and exabytes, respectively.',
    );
  if (match === null) throw invalid();
  const [, digits, unitText] = match as unknown as [string, string, string];
  const unit = SIZE_UNITS[unitText.toUpperCase() || 'B']!;
  const isHex = /^0[xX]/.test(digits);
  const hasFraction = digits.includes('.');
  if (hasFraction && unit === 1) throw invalid();
  const bytes = isHex ? Number(BigInt(digits)) * unit : Math.floor(Number.parseFloat(digits) * unit);
  if (!Number.isFinite(bytes) || bytes >= 2 ** 64) {
    throw new UserError(`Value '${value}' is out of range for parameter '${param}'`);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// JSON form. A small recursive-descent parser: standard JSON plus single-quoted strings (QEMU's
// JSON lexer accepts both quote styles and both `\'` and `\"` escapes in either).

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A number keeps its source text so that large integers (u64 addresses) survive unchanged. */
class JsonNumber {
  constructor(readonly text: string) {}
}

type ParsedValue = string | JsonNumber | boolean | null | ParsedValue[] | Map<string, ParsedValue>;

function parseJsonKeyval(text: string, option: string): Keyval {
  const location = optionLocation(option, text);
  const parser = new JsonParser(text, location);
  const value = parser.parseDocument();
  if (!(value instanceof Map)) {
    throw new UserError(`${location}JSON value must be an object`);
  }
  const entries: Array<[string, string]> = [];
  for (const [key, item] of value) {
    if (item === null) {
      throw new UserError(
        `${location}Invalid parameter type for '${key}', expected: a value other than null`,
      );
    }
    entries.push([key, jsonToText(item)]);
  }
  return { entries, map: new Map(entries), help: false, json: true };
}

function jsonToText(value: Exclude<ParsedValue, null>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (value instanceof JsonNumber) return value.text;
  return JSON.stringify(toPlain(value));
}

function toPlain(value: ParsedValue): JsonValue {
  if (value instanceof JsonNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of value) out[k] = toPlain(v);
    return out;
  }
  return value;
}

class JsonParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly location: string,
  ) {}

  parseDocument(): ParsedValue {
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new UserError(`${this.location}JSON parse error, ${what} (at offset ${this.pos})`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos]!)) this.pos++;
  }

  private parseValue(): ParsedValue {
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === undefined) this.fail('premature end of input');
    if (ch === '{') return this.parseObject();
    if (ch === '[') return this.parseArray();
    if (ch === '"' || ch === "'") return this.parseString();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`invalid character '${ch}'`);
  }

  private parseObject(): Map<string, ParsedValue> {
    const map = new Map<string, ParsedValue>();
    this.pos++; // '{'
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return map;
    }
    for (;;) {
      this.skipSpace();
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('key is not a string in object');
      const key = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail('missing : in object pair');
      this.pos++;
      const value = this.parseValue();
      if (map.has(key)) this.fail(`duplicate key '${key}'`);
      map.set(key, value);
      this.skipSpace();
      const sep = this.text[this.pos];
      this.pos++;
      if (sep === '}') return map;
      if (sep !== ',') this.fail('expected separator in dict');
    }
  }

  private parseArray(): ParsedValue[] {
    const list: ParsedValue[] = [];
    this.pos++; // '['
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return list;
    }
    for (;;) {
      list.push(this.parseValue());
      this.skipSpace();
      const sep = this.text[this.pos];
      this.pos++;
      if (sep === ']') return list;
      if (sep !== ',') this.fail('expected separator in list');
    }
  }

  private parseString(): string {
    const quote = this.text[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail('missing closing quote');
      this.pos++;
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const esc = this.text[this.pos];
      this.pos++;
      switch (esc) {
        case '"':
        case "'":
        case '\\':
        case '/':
          out += esc;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos--;
          this.fail('invalid escape sequence in string');
      }
    }
  }

  private parseNumber(): JsonNumber {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/.exec(this.text.slice(this.pos));
    if (match === null) this.fail('invalid number');
    this.pos += match[0].length;
    return new JsonNumber(match[0]);
  }
}

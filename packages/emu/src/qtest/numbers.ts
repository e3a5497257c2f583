/**
 * Number words of the qtest protocol, read the way QEMU reads them: `strtoull`/`strtoll` in base
 * 0 behind `qemu_strtou64`, `qemu_strtoul`, `qemu_strtoi` and `qemu_strtoi64`.
 *
 * - Base 0: `0x`/`0X` then hex digits is hexadecimal, a leading `0` is octal, anything else is
 *   decimal. Leading C white space and one `+` or `-` are allowed.
 * - The whole word must be consumed: trailing characters (a `\r`, a stray `x`) make it invalid,
 *   and so does a word with no digits (`""`, `"-"`, `"0x"` has the digit `0` then a stray `x`).
 * - Unsigned: a negative value wraps as strtoull does (`-1` is 2^64 - 1); a magnitude above
 *   2^64 - 1 is out of range. Signed: the result must fit the type (int32 or int64).
 *
 * QEMU asserts on a bad number (the process aborts); the qtest server answers FAIL instead.
 *
 * Parsing writes into a caller-owned `U64` (two 32-bit halves) and allocates nothing.
 */

/** A 64-bit value as two unsigned 32-bit halves (both in 0..2^32-1). */
export class U64 {
  hi = 0;
  lo = 0;

  /** The value as a JS number (exact below 2^53). */
  toNumber(): number {
    return this.hi * 0x1_0000_0000 + this.lo;
  }
}

/** Why a number word was refused (null from the parsers means it was accepted). */
export type NumberError = 'invalid' | 'range';

const TWO32 = 0x1_0000_0000;

/** Scanner state shared by the parsers (module-level so that parsing allocates nothing). */
let negative = false;

/** C `isspace` in the C locale. */
function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 99;
}

/**
 * Reads the magnitude of `word` into `out` and its sign into `negative`. Returns 'range' when the
 * magnitude exceeds 2^64 - 1 (the rest of the word is still checked first: an invalid word is
 * 'invalid' even when long).
 */
function scan(word: string, out: U64): NumberError | null {
  const n = word.length;
  let i = 0;
  while (i < n && isCSpace(word.charCodeAt(i))) i++;
  negative = false;
  if (i < n) {
    const c = word.charCodeAt(i);
    if (c === 0x2b /* + */ || c === 0x2d /* - */) {
      negative = c === 0x2d;
      i++;
    }
  }
  let base = 10;
  if (i < n && word.charCodeAt(i) === 0x30 /* 0 */) {
    const x = i + 1 < n ? word.charCodeAt(i + 1) : 0;
    if ((x === 0x78 || x === 0x58) && i + 2 < n && digitValue(word.charCodeAt(i + 2)) < 16) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  let hi = 0;
  let lo = 0;
  let overflow = false;
  let digits = 0;
  for (; i < n; i++) {
    const d = digitValue(word.charCodeAt(i));
    if (d >= base) return 'invalid';
    digits++;
    if (overflow) continue;
    // lo * base + d < 2^37 and hi * base + carry < 2^37: exact in doubles.
    const l = lo * base + d;
    const carry = Math.floor(l / TWO32);
    lo = l - carry * TWO32;
    hi = hi * base + carry;
    if (hi >= TWO32) overflow = true;
  }
  if (digits === 0) return 'invalid';
  out.hi = hi;
  out.lo = lo;
  return overflow ? 'range' : null;
}

/** `qemu_strtou64` / `qemu_strtoul` (64-bit on the hosts QEMU runs qtest on), base 0. */
export function parseU64(word: string, out: U64): NumberError | null {
  const err = scan(word, out);
  if (err !== null) return err;
  if (negative && (out.hi !== 0 || out.lo !== 0)) {
    // Two's complement, as strtoull does with a minus sign.
    const lo = (TWO32 - out.lo) % TWO32;
    out.hi = (TWO32 - 1 - out.hi + (out.lo === 0 ? 1 : 0)) % TWO32;
    out.lo = lo;
  }
  return null;
}

/** Scratch for the signed parsers. */
const signedScratch = new U64();

/** `qemu_strtoi`, base 0: a C int (-2^31 .. 2^31 - 1). Returns the value, or why it was refused. */
export function parseI32(word: string): number | NumberError {
  const err = scan(word, signedScratch);
  if (err !== null) return err;
  const mag = signedScratch.toNumber();
  if (negative ? mag > 0x8000_0000 : mag > 0x7fff_ffff) return 'range';
  return negative ? -mag : mag;
}

/**
 * `qemu_strtoi64`, base 0: an int64 (-2^63 .. 2^63 - 1). The value is a JS number, exact up to
 * 2^53 in magnitude (callers that need exactness check `Number.isSafeInteger`).
 */
export function parseI64(word: string): number | NumberError {
  const err = scan(word, signedScratch);
  if (err !== null) return err;
  const { hi, lo } = signedScratch;
  const limitHi = 0x8000_0000;
  if (negative ? hi > limitHi || (hi === limitHi && lo > 0) : hi >= limitHi) return 'range';
  const mag = signedScratch.toNumber();
  return negative ? -mag : mag;
}

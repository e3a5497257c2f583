import { describe, expect, it } from 'vitest';
import { parseI32, parseI64, parseU64, U64 } from './numbers.js';

function u64(word: string): string {
  const out = new U64();
  const err = parseU64(word, out);
  return err ?? `0x${out.hi.toString(16).padStart(8, '0')}${out.lo.toString(16).padStart(8, '0')}`;
}

describe('qtest numbers (strtoull/strtoll in base 0, whole word)', () => {
  it('reads 0x hex, leading-0 octal and decimal', () => {
    expect(u64('0x1F')).toBe('0x000000000000001f');
    expect(u64('0X10')).toBe('0x0000000000000010');
    expect(u64('017')).toBe('0x000000000000000f');
    expect(u64('0')).toBe('0x0000000000000000');
    expect(u64('4294967296')).toBe('0x0000000100000000');
  });

  it('reads the full unsigned 64-bit range and refuses more', () => {
    expect(u64('0xffffffffffffffff')).toBe('0xffffffffffffffff');
    expect(u64('18446744073709551615')).toBe('0xffffffffffffffff');
    expect(u64('18446744073709551616')).toBe('range');
    expect(u64(`0x1${'0'.repeat(16)}`)).toBe('range');
  });

  it('wraps negative unsigned values as strtoull does', () => {
    expect(u64('-1')).toBe('0xffffffffffffffff');
    expect(u64('-0x100000000')).toBe('0xffffffff00000000');
    expect(u64('-0')).toBe('0x0000000000000000');
  });

  it('allows leading white space and one sign, nothing after the digits', () => {
    expect(u64(' \t+5')).toBe('0x0000000000000005');
    expect(u64('5\r')).toBe('invalid');
    expect(u64('5 ')).toBe('invalid');
    expect(u64('')).toBe('invalid');
    expect(u64('-')).toBe('invalid');
    expect(u64('0x')).toBe('invalid');
    expect(u64('0xg')).toBe('invalid');
    expect(u64('08')).toBe('invalid');
    expect(u64('--1')).toBe('invalid');
    expect(u64('1e3')).toBe('invalid');
  });

  it('checks int32 and int64 ranges', () => {
    expect(parseI32('-1')).toBe(-1);
    expect(parseI32('0x7fffffff')).toBe(0x7fffffff);
    expect(parseI32('-2147483648')).toBe(-2147483648);
    expect(parseI32('2147483648')).toBe('range');
    expect(parseI32('-2147483649')).toBe('range');
    expect(parseI32('x')).toBe('invalid');
    expect(parseI64('-9223372036854775808')).toBe(-(2 ** 63));
    expect(parseI64('9223372036854775807')).toBe(2 ** 63);
    expect(parseI64('9223372036854775808')).toBe('range');
    expect(parseI64('0x10')).toBe(16);
  });
});

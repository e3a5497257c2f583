import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { parseSeed, SplitMix64, Xoshiro128StarStar } from './prng.js';

describe('parseSeed', () => {
  it('accepts decimal, 0x-hex, numbers and bigints up to 2^64-1', () => {
    expect(parseSeed('42')).toBe(42n);
    expect(parseSeed('0xDEADbeef')).toBe(0xdeadbeefn);
    expect(parseSeed(7)).toBe(7n);
    expect(parseSeed('18446744073709551615')).toBe((1n << 64n) - 1n);
    expect(parseSeed(5n)).toBe(5n);
  });

  it('rejects text that is not a 64-bit unsigned integer with a UserError naming the option', () => {
    expect(() => parseSeed('abc', '-seed')).toThrow(UserError);
    expect(() => parseSeed('abc', '-seed')).toThrow(/-seed: 'abc'/);
    expect(() => parseSeed('18446744073709551616')).toThrow(/64 bits/);
    expect(() => parseSeed(-1)).toThrow(UserError);
    expect(() => parseSeed(1.5)).toThrow(UserError);
  });
});

describe('SplitMix64', () => {
  it('produces the reference outputs for seed 0', () => {
    const sm = new SplitMix64(0n);
    expect(sm.next()).toBe(0xe220a8397b1dcdafn);
    expect(sm.next()).toBe(0x6e789e6aa1b965f4n);
    expect(sm.next()).toBe(0x06c45d188009454fn);
  });
});

describe('Xoshiro128StarStar', () => {
  it('follows the reference algorithm from state [1, 2, 3, 4]', () => {
    const g = new Xoshiro128StarStar();
    g.setState([1, 2, 3, 4]);
    // First output: rotl(2 * 5, 7) * 9 = 1280 * 9; the state then becomes [7, 0, 1026, 12288].
    expect(g.nextU32()).toBe(11520);
    expect(g.getState()).toEqual([7, 0, 1026, 12288]);
    expect(g.nextU32()).toBe(0);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = Xoshiro128StarStar.fromSeed(1234n);
    const b = Xoshiro128StarStar.fromSeed(1234n);
    const c = Xoshiro128StarStar.fromSeed(1235n);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    const sb = Array.from({ length: 8 }, () => b.nextU32());
    const sc = Array.from({ length: 8 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const v of sa) expect(v >>> 0).toBe(v);
  });

  it('seeds its state from the first two splitmix64 words', () => {
    const g = Xoshiro128StarStar.fromSeed(0n);
    expect(g.getState()).toEqual([0x7b1dcdaf, 0xe220a839, 0xa1b965f4, 0x6e789e6a]);
  });

  it('continues the same stream after its state is saved and restored', () => {
    const a = Xoshiro128StarStar.fromSeed(99n);
    a.nextU32();
    const saved = a.getState();
    const next = [a.nextU32(), a.nextU32()];
    const b = new Xoshiro128StarStar();
    b.setState(saved);
    expect([b.nextU32(), b.nextU32()]).toEqual(next);
  });

  it('rejects an all-zero or malformed state', () => {
    const g = new Xoshiro128StarStar();
    expect(() => g.setState([0, 0, 0, 0])).toThrow(UserError);
    expect(() => g.setState([1, 2, 3])).toThrow(UserError);
    expect(() => g.setState([1, 2, 3, 2 ** 32])).toThrow(UserError);
  });
});

/**
 * Deterministic pseudo-random numbers for device models (RNG peripherals, `-seed`).
 *
 * - `parseSeed` reads a 64-bit seed given as decimal or 0x-hex text, a number or a bigint.
 * - `SplitMix64` (Steele, Lea and Flood's splitmix64) turns one 64-bit seed into a stream of
 *   well-mixed 64-bit words; it is used only to initialise the generator below, so that close
 *   seeds (0, 1, 2) still give unrelated streams. It uses BigInt and is not for hot paths.
 * - `Xoshiro128StarStar` (Blackman and Vigna's xoshiro128**) is the generator devices draw from:
 *   128 bits of state in four 32-bit words, `nextU32()` allocates nothing. Its state is plain
 *   numbers so that snapshots can save and restore it exactly.
 *
 * Not cryptographically secure: the point is reproducible runs, not secrets.
 */
import { UserError } from './errors.js';

const MASK64 = (1n << 64n) - 1n;

/** Parses a 64-bit unsigned seed; `what` names the option in the error message. */
export function parseSeed(value: string | number | bigint, what = 'seed'): bigint {
  let n: bigint;
  if (typeof value === 'bigint') {
    n = value;
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new UserError(`${what}: '${value}' is not an integer`);
    n = BigInt(value);
  } else {
    const text = value.trim();
    if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text)) {
      throw new UserError(`${what}: '${value}' is not a decimal or 0x-hexadecimal integer`);
    }
    n = BigInt(text);
  }
  if (n < 0n || n > MASK64) throw new UserError(`${what}: '${value}' does not fit in 64 bits (unsigned)`);
  return n;
}

export class SplitMix64 {
  private state: bigint;

  constructor(seed: bigint) {
    this.state = seed & MASK64;
  }

  /** The next 64-bit output. */
  next(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}

export class Xoshiro128StarStar {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** A generator whose state is filled from `seed` through splitmix64. */
  static fromSeed(seed: bigint): Xoshiro128StarStar {
    const g = new Xoshiro128StarStar();
    g.reseed(seed);
    return g;
  }

  /** Refills the state from `seed` (same stream as `fromSeed(seed)`). */
  reseed(seed: bigint): void {
    const sm = new SplitMix64(seed);
    const a = sm.next();
    const b = sm.next();
    this.setState([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
  }

  /** The next 32-bit output, unsigned. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** The state as four unsigned 32-bit words (for snapshots). */
  getState(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /**
   * Sets the state from four 32-bit words. An all-zero state would make the generator output
   * zeros forever, so it is rejected (splitmix64 seeding never produces it).
   */
  setState(words: readonly number[]): void {
    if (words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new UserError('random generator state must be four unsigned 32-bit words');
    }
    if (words.every((w) => w === 0)) throw new UserError('random generator state must not be all zeros');
    this.s0 = words[0]! | 0;
    this.s1 = words[1]! | 0;
    this.s2 = words[2]! | 0;
    this.s3 = words[3]! | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

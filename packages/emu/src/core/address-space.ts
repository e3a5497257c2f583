/**
 * An address space: what one bus master (a CPU, a DMA engine) sees of a tree of memory regions.
 *
 * The root container is flattened into a sorted list of non-overlapping flat ranges, each
 * pointing at a leaf region (ram, rom, mmio, unimplemented) with aliases and priorities already
 * resolved. The flat view is rebuilt lazily, on the first access after any change in any region
 * tree (see `memoryTopology` in memory.ts).
 *
 * Lookup, per access: a one-entry cache of the last range hit, then a table of 65536 entries,
 * one per 64 KiB page, giving the slice of flat ranges that touch the page, searched by
 * bisection (usually one or two steps). No allocation. RAM and ROM reads go straight to the
 * region's bytes; only mmio and unimplemented regions pay for a call.
 *
 * Guest accesses return the unsigned value (reads) or MemTx.Ok (writes), or a negative MemTx
 * code: DecodeError where no region is mapped, DeviceError where a device refused the access.
 * The guest is little-endian. Unaligned accesses are allowed here (the CPU decides what faults);
 * an access straddling two flat ranges is split into bytes.
 */
import { type Log, LogCat } from './log.js';
import {
  type AccessSize,
  hex,
  KIND_RAM,
  KIND_ROM,
  KIND_UNIMP,
  MemoryRegion,
  MemTx,
  memoryTopology,
  readLE,
  writeLE,
} from './memory.js';

const PAGE_BITS = 16;
const PAGE_COUNT = 1 << (32 - PAGE_BITS);
const SPACE_END = 0x1_0000_0000;

/** A piece of the flattened view: guest [start, end) maps to `region` from `offset` on. */
class FlatRange {
  readonly kind: number;
  readonly data: Uint8Array;
  constructor(
    readonly start: number,
    readonly end: number,
    readonly region: MemoryRegion,
    readonly offset: number,
  ) {
    this.kind = region.kindCode;
    this.data = region.data;
  }
}

export interface RangeInfo {
  region: MemoryRegion;
  start: number;
  end: number;
  offset: number;
}

export interface RamPointer {
  /** The region's bytes; the byte at guest address `a` is `data[a - base]` for a in [start, end). */
  data: Uint8Array;
  base: number;
  start: number;
  end: number;
  /** False for ROM: guest stores must go through `write*`. */
  writable: boolean;
}

/** Never matches any address: the lookup cache's initial value. */
const NO_RANGE = new FlatRange(0, 0, MemoryRegion.container('(none)', 1), 0);

export class AddressSpace {
  private ranges: FlatRange[] = [];
  private readonly pageLo = new Int32Array(PAGE_COUNT);
  private readonly pageHi = new Int32Array(PAGE_COUNT);
  private builtGeneration = -1;
  private last: FlatRange = NO_RANGE;

  constructor(
    readonly name: string,
    readonly root: MemoryRegion,
    readonly log: Log,
  ) {}

  // ---- guest accesses ----

  read8(addr: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a >= r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 1, false, 0);
      r = found;
      this.last = found;
    }
    const o = a - r.start + r.offset;
    if (r.kind <= KIND_ROM) return r.data[o]!;
    return r.region.accessRead(o, 1, this.log);
  }

  read16(addr: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a + 2 > r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 2, false, 0);
      r = found;
      this.last = found;
      if (a + 2 > r.end) return this.readSplit(a, 2);
    }
    const o = a - r.start + r.offset;
    if (r.kind <= KIND_ROM) {
      const d = r.data;
      return d[o]! | (d[o + 1]! << 8);
    }
    return r.region.accessRead(o, 2, this.log);
  }

  read32(addr: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a + 4 > r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 4, false, 0);
      r = found;
      this.last = found;
      if (a + 4 > r.end) return this.readSplit(a, 4);
    }
    const o = a - r.start + r.offset;
    if (r.kind <= KIND_ROM) {
      const d = r.data;
      return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
    }
    return r.region.accessRead(o, 4, this.log);
  }

  write8(addr: number, value: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a >= r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 1, true, value);
      r = found;
      this.last = found;
    }
    const o = a - r.start + r.offset;
    if (r.kind === KIND_RAM) {
      r.data[o] = value;
      return MemTx.Ok;
    }
    return r.region.accessWrite(o, value, 1, this.log);
  }

  write16(addr: number, value: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a + 2 > r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 2, true, value);
      r = found;
      this.last = found;
      if (a + 2 > r.end) return this.writeSplit(a, value, 2);
    }
    const o = a - r.start + r.offset;
    if (r.kind === KIND_RAM) {
      const d = r.data;
      d[o] = value;
      d[o + 1] = value >>> 8;
      return MemTx.Ok;
    }
    return r.region.accessWrite(o, value, 2, this.log);
  }

  write32(addr: number, value: number): number {
    const a = addr >>> 0;
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    let r = this.last;
    if (a < r.start || a + 4 > r.end) {
      const found = this.find(a);
      if (found === null) return this.unassigned(a, 4, true, value);
      r = found;
      this.last = found;
      if (a + 4 > r.end) return this.writeSplit(a, value, 4);
    }
    const o = a - r.start + r.offset;
    if (r.kind === KIND_RAM) {
      const d = r.data;
      d[o] = value;
      d[o + 1] = value >>> 8;
      d[o + 2] = value >>> 16;
      d[o + 3] = value >>> 24;
      return MemTx.Ok;
    }
    return r.region.accessWrite(o, value, 4, this.log);
  }

  /** Size-generic guest read (qtest, monitors); same results as read8/16/32. */
  read(addr: number, size: AccessSize): number {
    return size === 1 ? this.read8(addr) : size === 2 ? this.read16(addr) : this.read32(addr);
  }

  /** Size-generic guest write; same results as write8/16/32. */
  write(addr: number, value: number, size: AccessSize): number {
    return size === 1
      ? this.write8(addr, value)
      : size === 2
        ? this.write16(addr, value)
        : this.write32(addr, value);
  }

  /** An access over two flat ranges: done byte by byte, low address first (rare). */
  private readSplit(addr: number, size: number): number {
    let value = 0;
    for (let i = 0; i < size; i++) {
      const b = this.read8((addr + i) >>> 0);
      if (b < 0) return b;
      value |= b << (i * 8);
    }
    return value >>> 0;
  }

  private writeSplit(addr: number, value: number, size: number): number {
    for (let i = 0; i < size; i++) {
      const rc = this.write8((addr + i) >>> 0, (value >>> (i * 8)) & 0xff);
      if (rc < 0) return rc;
    }
    return MemTx.Ok;
  }

  private unassigned(addr: number, size: number, isWrite: boolean, value: number): number {
    if (this.log.on(LogCat.GuestErrors)) {
      const v = isWrite ? `, value 0x${hex(value >>> 0)}` : '';
      this.log.write(
        `Invalid ${isWrite ? 'write' : 'read'} at addr 0x${hex(addr).toUpperCase()}, size ${size}${v}, region '(none)', reason: rejected`,
      );
    }
    return MemTx.DecodeError;
  }

  /** The flat range containing `addr` (already `>>> 0`), or null. */
  private find(addr: number): FlatRange | null {
    const page = addr >>> PAGE_BITS;
    let lo = this.pageLo[page]!;
    let hi = this.pageHi[page]!;
    const ranges = this.ranges;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = ranges[mid]!;
      if (addr < r.start) hi = mid;
      else if (addr >= r.end) lo = mid + 1;
      else return r;
    }
    return null;
  }

  private lookup(addr: number): FlatRange | null {
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    return this.find(addr >>> 0);
  }

  // ---- debug path (debuggers, loaders, qtest memory commands) ----

  /**
   * Reads `length` bytes without guest side conditions: ram and rom directly, mmio through
   * its callbacks (no bus-size checks), unimplemented regions as zeros without logging.
   * Null if any byte is unassigned.
   */
  readDebug(addr: number, length: number): Uint8Array | null {
    const start = addr >>> 0;
    if (start + length > SPACE_END) return null;
    if (!this.covered(start, length)) return null;
    const out = new Uint8Array(length);
    let a = start;
    let pos = 0;
    while (pos < length) {
      const r = this.lookup(a)!;
      const n = Math.min(length - pos, r.end - a);
      const o = a - r.start + r.offset;
      if (r.kind <= KIND_ROM) {
        out.set(r.data.subarray(o, o + n), pos);
      } else if (r.kind !== KIND_UNIMP) {
        let i = 0;
        while (i < n) {
          const size = debugChunk(o + i, n - i);
          writeLE(out, pos + i, r.region.debugRead(o + i, size), size);
          i += size;
        }
      }
      pos += n;
      a += n;
    }
    return out;
  }

  /**
   * Writes bytes for a loader or debugger: ram and rom (rom included) directly, mmio through
   * its callbacks, unimplemented regions ignore them. False (and nothing written) if any byte
   * is unassigned.
   */
  writeDebug(addr: number, data: Uint8Array): boolean {
    const start = addr >>> 0;
    const length = data.length;
    if (start + length > SPACE_END) return false;
    if (!this.covered(start, length)) return false;
    let a = start;
    let pos = 0;
    while (pos < length) {
      const r = this.lookup(a)!;
      const n = Math.min(length - pos, r.end - a);
      const o = a - r.start + r.offset;
      if (r.kind <= KIND_ROM) {
        r.data.set(data.subarray(pos, pos + n), o);
      } else if (r.kind !== KIND_UNIMP) {
        let i = 0;
        while (i < n) {
          const size = debugChunk(o + i, n - i);
          r.region.debugWrite(o + i, readLE(data, pos + i, size), size);
          i += size;
        }
      }
      pos += n;
      a += n;
    }
    return true;
  }

  /** True when every byte of [addr, addr + length) is mapped. */
  private covered(addr: number, length: number): boolean {
    let a = addr;
    const end = addr + length;
    while (a < end) {
      const r = this.lookup(a);
      if (r === null) return false;
      a = r.end;
    }
    return true;
  }

  // ---- queries (not hot) ----

  /** The flat range containing `addr`, with the leaf region and the offset of `start` in it. */
  rangeAt(addr: number): RangeInfo | undefined {
    const r = this.lookup(addr);
    if (r === null) return undefined;
    return { region: r.region, start: r.start, end: r.end, offset: r.offset };
  }

  /**
   * Direct access to the bytes behind `addr` when it is ram or rom, for CPU fast paths (e.g.
   * instruction fetch from flash). Valid until `memoryTopology.generation` changes.
   */
  ramPointer(addr: number): RamPointer | null {
    const r = this.lookup(addr);
    if (r === null || r.kind > KIND_ROM) return null;
    return {
      data: r.data,
      base: r.start - r.offset,
      start: r.start,
      end: r.end,
      writable: r.kind === KIND_RAM,
    };
  }

  /** The flat view, for tests and `info mtree -f`. */
  flatRanges(): RangeInfo[] {
    if (this.builtGeneration !== memoryTopology.generation) this.rebuild();
    return this.ranges.map((r) => ({ region: r.region, start: r.start, end: r.end, offset: r.offset }));
  }

  /** HMP `info mtree`: this address space's tree, then the regions its aliases point into. */
  mtree(): string {
    const lines = [`address-space: ${this.name}`];
    for (const l of this.root.mtreeLines()) lines.push(`  ${l}`);
    lines.push('');
    const targets = this.root.aliasTargets();
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      lines.push(`memory-region: ${t.name}`);
      for (const l of t.mtreeLines()) lines.push(`  ${l}`);
      lines.push('');
      t.aliasTargets(targets);
    }
    return `${lines.join('\n')}\n`;
  }

  /** HMP `info mtree -f`: the flattened view. */
  mtreeFlat(): string {
    const lines = [`FlatView: address-space: ${this.name}, root: ${this.root.name}`];
    for (const r of this.flatRanges()) {
      const at = r.offset !== 0 ? ` @${hex(r.offset, 16)}` : '';
      lines.push(
        `  ${hex(r.start, 16)}-${hex(r.end - 1, 16)} (${r.region.mtreeType}): ${r.region.name}${at}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  // ---- flattening ----

  private rebuild(): void {
    const out: FlatRange[] = [];
    render(this.root, 0, 0, SPACE_END, out);
    // Merge neighbours that continue the same region (a region split and rejoined by overlaps).
    const merged: FlatRange[] = [];
    for (const r of out) {
      const prev = merged[merged.length - 1];
      if (
        prev &&
        prev.region === r.region &&
        prev.end === r.start &&
        prev.offset + (prev.end - prev.start) === r.offset
      ) {
        merged[merged.length - 1] = new FlatRange(prev.start, r.end, r.region, prev.offset);
      } else {
        merged.push(r);
      }
    }
    this.ranges = merged;
    this.pageLo.fill(0);
    this.pageHi.fill(0);
    const touched = new Uint8Array(PAGE_COUNT);
    for (let i = 0; i < merged.length; i++) {
      const r = merged[i]!;
      const first = r.start >>> PAGE_BITS;
      const last = (r.end - 1) >>> PAGE_BITS;
      for (let p = first; p <= last; p++) {
        if (!touched[p]) {
          touched[p] = 1;
          this.pageLo[p] = i;
        }
        this.pageHi[p] = i + 1;
      }
    }
    this.last = NO_RANGE;
    this.builtGeneration = memoryTopology.generation;
  }
}

/** Largest naturally aligned access size (4, 2, 1) fitting `remaining` bytes at `offset`. */
function debugChunk(offset: number, remaining: number): AccessSize {
  if ((offset & 3) === 0 && remaining >= 4) return 4;
  if ((offset & 1) === 0 && remaining >= 2) return 2;
  return 1;
}

/**
 * Adds the visible parts of `mr`, mapped at guest address `base` and clipped to
 * [clipStart, clipEnd), to `out` (sorted, non-overlapping). Subregions are visited winner
 * first, and each only fills what is still uncovered, so earlier (higher-priority) ones shadow
 * later ones.
 */
function render(mr: MemoryRegion, base: number, clipStart: number, clipEnd: number, out: FlatRange[]): void {
  if (!mr.enabled) return;
  const s = Math.max(base, clipStart);
  const e = Math.min(base + mr.size, clipEnd);
  if (s >= e) return;
  if (mr.aliasTarget) {
    // The target's offset 0 sits at base - aliasOffset.
    render(mr.aliasTarget, base - mr.aliasOffset, s, e, out);
    return;
  }
  if (mr.kind === 'container') {
    for (const sub of mr.subregions) render(sub.region, base + sub.offset, s, e, out);
    return;
  }
  fillGaps(out, s, e, mr, base);
}

function fillGaps(out: FlatRange[], s: number, e: number, mr: MemoryRegion, base: number): void {
  const pieces: FlatRange[] = [];
  let cur = s;
  for (const r of out) {
    if (r.end <= cur) continue;
    if (r.start >= e) break;
    if (r.start > cur) pieces.push(new FlatRange(cur, r.start, mr, cur - base));
    cur = r.end;
    if (cur >= e) break;
  }
  if (cur < e) pieces.push(new FlatRange(cur, e, mr, cur - base));
  if (pieces.length === 0) return;
  out.push(...pieces);
  out.sort((x, y) => x.start - y.start);
}

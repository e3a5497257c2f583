/**
 * Memory regions (QEMU's MemoryRegion, reduced to what a 32-bit microcontroller needs).
 *
 * Kinds:
 * - `ram`: a byte array the guest reads and writes.
 * - `rom`: a byte array the guest only reads. Guest writes are ignored and logged under
 *   `-d guest_errors`, but the bus reports them as successful (MemTx.Ok), as QEMU does for a
 *   plain ROM region: real flash/ROM does not raise a bus fault on a stray store. Loaders and
 *   debuggers change ROM through `AddressSpace.writeDebug`. A flash controller can take over
 *   guest writes with `setRomWriteHandler` (QEMU's "romd" mode: reads stay direct array reads,
 *   writes go to the device, which programs the bytes itself); debug writes still go straight
 *   to the bytes.
 * - `mmio`: device registers behind `MmioOps` callbacks.
 * - `alias`: a window of `size` bytes into another region, starting at `offset` in it.
 * - `container`: holds subregions at offsets; parts not covered by any subregion are unassigned.
 * - `unimplemented`: reads 0, ignores writes, and logs every access under `-d unimp`
 *   (QEMU's unimplemented-device), usually mapped at a low priority as a catch-all.
 *
 * Overlap: subregions of a container may overlap. Where they do, the higher `priority` wins;
 * between equal priorities the subregion added later wins (it is placed in front).
 *
 * Access sizes of `mmio` regions follow the same two rules as QEMU's memory core:
 * - `valid` says what the bus accepts. An access of a size outside [valid.min, valid.max], or
 *   not aligned to its own size while `valid.unaligned` is false, is a bus error: the access
 *   returns MemTx.DeviceError and is logged under `-d guest_errors`.
 * - `impl` says what the callbacks implement; accepted accesses are adapted to it:
 *   * wider than impl.max: split into impl.max-sized calls at increasing offsets, the results
 *     assembled little-endian (a 32-bit access to a byte-wide device makes 4 byte calls);
 *   * narrower than impl.min: the enclosing impl.min-aligned word is read and the addressed
 *     bytes extracted; a write reads that word, merges the addressed bytes and writes it back
 *     (read-modify-write). Devices whose registers have read or write side effects (FIFOs,
 *     write-1-to-clear bits) should implement narrow accesses themselves (impl.min = 1), as
 *     `RegisterBlock` does;
 *   * not aligned to its size (only when valid.unaligned): done byte by byte.
 *   Callbacks therefore only see naturally aligned accesses of a size within [impl.min, impl.max].
 *
 * Any change to the tree (subregion added or removed, region enabled or disabled) bumps a
 * global generation counter; address spaces compare it before each access and re-flatten
 * lazily. CPU fast paths that cache `AddressSpace.ramPointer` results compare it too.
 */
import { type Log, LogCat } from './log.js';

/** Result codes of bus transactions; every failure is negative. */
export const MemTx = { Ok: 0, DecodeError: -1, DeviceError: -2 } as const;
export type MemTx = (typeof MemTx)[keyof typeof MemTx];

export type AccessSize = 1 | 2 | 4;

/** Handles a guest write to a ROM region (see `setRomWriteHandler`); returns a MemTx code. */
export type RomWriteHandler = (offset: number, value: number, size: AccessSize) => number;

export interface MmioOps {
  /** Returns the value read (only the low `size` bytes are used). */
  read(offset: number, size: AccessSize): number;
  write(offset: number, value: number, size: AccessSize): void;
  /** Optional extra check (QEMU's `valid.accepts`): false makes the access a DeviceError. */
  accepts?(offset: number, size: AccessSize, isWrite: boolean): boolean;
}

export interface ValidSizes {
  min: AccessSize;
  max: AccessSize;
  unaligned: boolean;
}

export interface ImplSizes {
  min: AccessSize;
  max: AccessSize;
}

export type RegionKind = 'ram' | 'rom' | 'mmio' | 'alias' | 'container' | 'unimplemented';

/** Numeric kind codes, used on hot paths instead of string compares. */
export const KIND_RAM = 0;
export const KIND_ROM = 1;
export const KIND_MMIO = 2;
export const KIND_ALIAS = 3;
export const KIND_CONTAINER = 4;
export const KIND_UNIMP = 5;
const KIND_CODES: Record<RegionKind, number> = {
  ram: KIND_RAM,
  rom: KIND_ROM,
  mmio: KIND_MMIO,
  alias: KIND_ALIAS,
  container: KIND_CONTAINER,
  unimplemented: KIND_UNIMP,
};

export interface Subregion {
  readonly offset: number;
  readonly region: MemoryRegion;
  readonly priority: number;
  /** Insertion order, to let the later-added of equal priorities win. */
  readonly order: number;
}

/** Global topology generation; see the header comment. Read it, never write it. */
export const memoryTopology = { generation: 0 };

const MAX_SIZE = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);
const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;
let subregionOrder = 0;

function checkSize(name: string, size: number): void {
  if (!Number.isInteger(size) || size <= 0 || size > MAX_SIZE) {
    throw new Error(`memory region '${name}': size ${size} must be an integer in 1..0x100000000`);
  }
}

function checkAccessSizes(name: string, min: number, max: number, what: string): void {
  const ok = (s: number) => s === 1 || s === 2 || s === 4;
  if (!ok(min) || !ok(max) || min > max) {
    throw new Error(`memory region '${name}': ${what} sizes must be 1, 2 or 4 with min <= max`);
  }
}

export function hex(value: number, width = 1): string {
  return value.toString(16).padStart(width, '0');
}

/** Digits needed to print any offset below `size` (at least 1), as QEMU pads unimp offsets. */
function offsetWidth(size: number): number {
  return Math.max(1, Math.ceil((size - 1).toString(2).length / 4));
}

export class MemoryRegion {
  readonly kindCode: number;
  /** Backing bytes of ram/rom (empty for other kinds). */
  readonly data: Uint8Array;
  readonly ops: MmioOps | null;
  readonly valid: Readonly<ValidSizes>;
  readonly impl: Readonly<ImplSizes>;
  readonly aliasTarget: MemoryRegion | null;
  readonly aliasOffset: number;
  private readonly subs: Subregion[] = [];
  private enabledFlag = true;
  /** The container this region is mapped in (a region lives in at most one container). */
  parent: MemoryRegion | null = null;
  /** ROM only: where guest writes go instead of being ignored (null: ignored and logged). */
  private romWrite: RomWriteHandler | null = null;

  private constructor(
    readonly name: string,
    readonly kind: RegionKind,
    readonly size: number,
    extra: {
      data?: Uint8Array;
      ops?: MmioOps;
      valid?: ValidSizes;
      impl?: ImplSizes;
      aliasTarget?: MemoryRegion;
      aliasOffset?: number;
    } = {},
  ) {
    checkSize(name, size);
    this.kindCode = KIND_CODES[kind];
    this.data = extra.data ?? EMPTY;
    this.ops = extra.ops ?? null;
    this.valid = extra.valid ?? { min: 1, max: 4, unaligned: true };
    this.impl = extra.impl ?? { min: 1, max: 4 };
    this.aliasTarget = extra.aliasTarget ?? null;
    this.aliasOffset = extra.aliasOffset ?? 0;
  }

  static ram(name: string, size: number): MemoryRegion {
    checkSize(name, size);
    return new MemoryRegion(name, 'ram', size, { data: new Uint8Array(size) });
  }

  /** ROM/flash: guest writes are ignored (logged under guest_errors) but answer MemTx.Ok. */
  static rom(name: string, size: number): MemoryRegion {
    checkSize(name, size);
    return new MemoryRegion(name, 'rom', size, { data: new Uint8Array(size) });
  }

  /**
   * Device registers. Defaults: valid 1..4 bytes, aligned only; impl 1..4 bytes.
   */
  static mmio(
    name: string,
    size: number,
    ops: MmioOps,
    sizes: { valid?: Partial<ValidSizes>; impl?: Partial<ImplSizes> } = {},
  ): MemoryRegion {
    const valid: ValidSizes = { min: 1, max: 4, unaligned: false, ...sizes.valid };
    const impl: ImplSizes = { min: 1, max: 4, ...sizes.impl };
    checkAccessSizes(name, valid.min, valid.max, 'valid');
    checkAccessSizes(name, impl.min, impl.max, 'impl');
    return new MemoryRegion(name, 'mmio', size, { ops, valid, impl });
  }

  /** A window of `size` bytes into `target`, starting at `offset` within it. */
  static alias(name: string, target: MemoryRegion, offset: number, size: number): MemoryRegion {
    if (!Number.isInteger(offset) || offset < 0 || offset >= target.size) {
      throw new Error(`memory region '${name}': alias offset 0x${hex(offset)} outside '${target.name}'`);
    }
    return new MemoryRegion(name, 'alias', size, { aliasTarget: target, aliasOffset: offset });
  }

  static container(name: string, size: number): MemoryRegion {
    return new MemoryRegion(name, 'container', size);
  }

  /** Reads 0, ignores writes, logs each access under `-d unimp`. */
  static unimplemented(name: string, size: number): MemoryRegion {
    return new MemoryRegion(name, 'unimplemented', size);
  }

  get enabled(): boolean {
    return this.enabledFlag;
  }

  /**
   * ROM only: sends guest writes to `handler` (a flash controller) instead of ignoring them;
   * its return value is the bus result. Reads and debug writes are unchanged. `null` restores
   * the default.
   */
  setRomWriteHandler(handler: RomWriteHandler | null): void {
    if (this.kind !== 'rom') throw new Error(`memory region '${this.name}' is not a ROM region`);
    this.romWrite = handler;
  }

  /** Subregions, highest priority first (equal priorities: later-added first). */
  get subregions(): readonly Subregion[] {
    return this.subs;
  }

  /** Maps `region` at `offset` in this container; see the header comment for overlap rules. */
  addSubregion(offset: number, region: MemoryRegion, priority = 0): void {
    if (this.kind !== 'container') {
      throw new Error(`memory region '${this.name}' is not a container (adding '${region.name}')`);
    }
    if (region.parent !== null) {
      throw new Error(`memory region '${region.name}' is already mapped in '${region.parent.name}'`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.size) {
      throw new Error(`memory region '${region.name}': offset 0x${hex(offset)} outside '${this.name}'`);
    }
    if (region === this || region.contains(this)) {
      throw new Error(`memory region '${region.name}' cannot contain itself`);
    }
    const sub: Subregion = { offset, region, priority, order: subregionOrder++ };
    // Keep the list sorted: priority descending, then newest first.
    let i = 0;
    while (i < this.subs.length && this.subs[i]!.priority > priority) i++;
    this.subs.splice(i, 0, sub);
    region.parent = this;
    memoryTopology.generation++;
  }

  removeSubregion(region: MemoryRegion): void {
    const i = this.subs.findIndex((s) => s.region === region);
    if (i < 0) throw new Error(`memory region '${region.name}' is not mapped in '${this.name}'`);
    this.subs.splice(i, 1);
    region.parent = null;
    memoryTopology.generation++;
  }

  /** A disabled region (and everything under it) disappears from the address space. */
  setEnabled(enabled: boolean): void {
    if (this.enabledFlag === enabled) return;
    this.enabledFlag = enabled;
    memoryTopology.generation++;
  }

  /** True if `other` is this region or is reachable from it through subregions or aliases. */
  contains(other: MemoryRegion): boolean {
    if (other === this) return true;
    if (this.aliasTarget?.contains(other)) return true;
    return this.subs.some((s) => s.region.contains(other));
  }

  // ---- guest accesses (called by AddressSpace for mmio/unimplemented; offsets are in-region) ----

  /** Guest read of `size` bytes at `offset`: the value, or a negative MemTx code. */
  accessRead(offset: number, size: AccessSize, log: Log): number {
    switch (this.kindCode) {
      case KIND_RAM:
      case KIND_ROM:
        return readLE(this.data, offset, size);
      case KIND_MMIO: {
        if (!this.accessValid(offset, size, false, log)) return MemTx.DeviceError;
        return this.adaptedRead(offset, size);
      }
      case KIND_UNIMP:
        if (log.on(LogCat.Unimp)) {
          log.write(
            `${this.name}: unimplemented device read  (size ${size}, offset 0x${hex(offset, offsetWidth(this.size))})`,
          );
        }
        return 0;
      case KIND_ALIAS:
        return this.aliasTarget!.accessRead(offset + this.aliasOffset, size, log);
      default:
        return MemTx.DecodeError;
    }
  }

  /** Guest write; returns MemTx.Ok or a negative MemTx code. */
  accessWrite(offset: number, value: number, size: AccessSize, log: Log): number {
    switch (this.kindCode) {
      case KIND_RAM:
        writeLE(this.data, offset, value, size);
        return MemTx.Ok;
      case KIND_ROM:
        if (this.romWrite !== null) return this.romWrite(offset, value, size);
        if (log.on(LogCat.GuestErrors)) {
          log.write(
            `write to ROM '${this.name}' ignored: offset 0x${hex(offset)}, size ${size}, value 0x${hex(value >>> 0)}`,
          );
        }
        return MemTx.Ok;
      case KIND_MMIO: {
        if (!this.accessValid(offset, size, true, log)) return MemTx.DeviceError;
        this.adaptedWrite(offset, value, size);
        return MemTx.Ok;
      }
      case KIND_UNIMP:
        if (log.on(LogCat.Unimp)) {
          log.write(
            `${this.name}: unimplemented device write (size ${size}, offset 0x${hex(offset, offsetWidth(this.size))}, value 0x${hex(
              (value & SIZE_MASK[size]) >>> 0,
              size * 2,
            )})`,
          );
        }
        return MemTx.Ok;
      case KIND_ALIAS:
        return this.aliasTarget!.accessWrite(offset + this.aliasOffset, value, size, log);
      default:
        return MemTx.DecodeError;
    }
  }

  /** Debug read (no `valid` checks, no logging): for debuggers and loaders. */
  debugRead(offset: number, size: AccessSize): number {
    switch (this.kindCode) {
      case KIND_RAM:
      case KIND_ROM:
        return readLE(this.data, offset, size);
      case KIND_MMIO:
        return this.adaptedRead(offset, size);
      case KIND_ALIAS:
        return this.aliasTarget!.debugRead(offset + this.aliasOffset, size);
      default:
        return 0;
    }
  }

  /** Debug write: ram and rom are both written; mmio goes through the callbacks. */
  debugWrite(offset: number, value: number, size: AccessSize): void {
    switch (this.kindCode) {
      case KIND_RAM:
      case KIND_ROM:
        writeLE(this.data, offset, value, size);
        return;
      case KIND_MMIO:
        this.adaptedWrite(offset, value, size);
        return;
      case KIND_ALIAS:
        this.aliasTarget!.debugWrite(offset + this.aliasOffset, value, size);
        return;
      default:
        return;
    }
  }

  private accessValid(offset: number, size: AccessSize, isWrite: boolean, log: Log): boolean {
    const v = this.valid;
    let reason: string | null = null;
    if (size < v.min || size > v.max) reason = `invalid size (min:${v.min} max:${v.max})`;
    else if (!v.unaligned && (offset & (size - 1)) !== 0) reason = 'unaligned';
    else if (this.ops!.accepts !== undefined && !this.ops!.accepts(offset, size, isWrite))
      reason = 'rejected';
    if (reason === null) return true;
    if (log.on(LogCat.GuestErrors)) {
      log.write(
        `Invalid ${isWrite ? 'write' : 'read'} at offset 0x${hex(offset)} of region '${this.name}', size ${size}, reason: ${reason}`,
      );
    }
    return false;
  }

  /** Read adapted to the callbacks' implemented sizes (see the header comment). */
  private adaptedRead(offset: number, size: AccessSize): number {
    const ops = this.ops!;
    const min = this.impl.min;
    const max = this.impl.max;
    if ((offset & (size - 1)) === 0) {
      if (size >= min && size <= max) return (ops.read(offset, size) & SIZE_MASK[size]) >>> 0;
      if (size > max) {
        let value = 0;
        for (let i = 0; i < size; i += max) {
          value |= (ops.read(offset + i, max) & SIZE_MASK[max]) << (i * 8);
        }
        return value >>> 0;
      }
      // Narrower than implemented: extract from the enclosing word.
      const base = offset & ~(min - 1);
      const word = ops.read(base, min) & SIZE_MASK[min];
      return ((word >>> ((offset - base) * 8)) & SIZE_MASK[size]) >>> 0;
    }
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.adaptedRead(offset + i, 1) << (i * 8);
    return value >>> 0;
  }

  private adaptedWrite(offset: number, value: number, size: AccessSize): void {
    const ops = this.ops!;
    const min = this.impl.min;
    const max = this.impl.max;
    if ((offset & (size - 1)) === 0) {
      if (size >= min && size <= max) {
        ops.write(offset, (value & SIZE_MASK[size]) >>> 0, size);
        return;
      }
      if (size > max) {
        for (let i = 0; i < size; i += max) {
          ops.write(offset + i, ((value >>> (i * 8)) & SIZE_MASK[max]) >>> 0, max);
        }
        return;
      }
      // Narrower than implemented: read-modify-write of the enclosing word.
      const base = offset & ~(min - 1);
      const shift = (offset - base) * 8;
      const lanes = SIZE_MASK[size] << shift;
      const word = ops.read(base, min);
      ops.write(base, ((word & ~lanes) | ((value << shift) & lanes)) & SIZE_MASK[min], min);
      return;
    }
    for (let i = 0; i < size; i++) this.adaptedWrite(offset + i, (value >>> (i * 8)) & 0xff, 1);
  }

  // ---- info mtree ----

  /** QEMU's name for the region type in `info mtree`. */
  get mtreeType(): string {
    if (this.aliasTarget) return this.aliasTarget.mtreeType;
    if (this.kind === 'ram' || this.kind === 'rom') return this.kind;
    return 'i/o';
  }

  /**
   * `info mtree` lines for this region mapped at `base` (and its subregions, indented by two
   * spaces per level). Children are listed by address; at equal addresses the winner first.
   */
  mtreeLines(base = 0, priority = 0): string[] {
    const lines: string[] = [];
    this.mtreeInto(lines, '', base, priority);
    return lines;
  }

  private mtreeInto(lines: string[], indent: string, base: number, priority: number): void {
    const range = `${hex(base, 16)}-${hex(base + this.size - 1, 16)}`;
    const disabled = this.enabledFlag ? '' : ' [disabled]';
    if (this.aliasTarget) {
      const t = `${hex(this.aliasOffset, 16)}-${hex(this.aliasOffset + this.size - 1, 16)}`;
      lines.push(
        `${indent}${range} (prio ${priority}, ${this.mtreeType}): alias ${this.name} @${this.aliasTarget.name} ${t}${disabled}`,
      );
    } else {
      lines.push(`${indent}${range} (prio ${priority}, ${this.mtreeType}): ${this.name}${disabled}`);
    }
    const children = [...this.subs].sort((a, b) => a.offset - b.offset || b.priority - a.priority);
    for (const s of children) s.region.mtreeInto(lines, `${indent}  `, base + s.offset, s.priority);
  }

  /** Alias targets reachable from this region, in first-seen order (for `info mtree`). */
  aliasTargets(into: MemoryRegion[] = []): MemoryRegion[] {
    if (this.aliasTarget && !into.includes(this.aliasTarget)) into.push(this.aliasTarget);
    for (const s of this.subs) s.region.aliasTargets(into);
    return into;
  }
}

/** Little-endian read of 1, 2 or 4 bytes (unsigned). */
export function readLE(d: Uint8Array, o: number, size: number): number {
  if (size === 1) return d[o]!;
  if (size === 2) return d[o]! | (d[o + 1]! << 8);
  return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
}

/** Little-endian write of the low 1, 2 or 4 bytes of `value`. */
export function writeLE(d: Uint8Array, o: number, value: number, size: number): void {
  d[o] = value;
  if (size === 1) return;
  d[o + 1] = value >>> 8;
  if (size === 2) return;
  d[o + 2] = value >>> 16;
  d[o + 3] = value >>> 24;
}

/**
 * Device registers declared as data.
 *
 * A device lists its 32-bit registers (offset, reset value, masks, special write behaviour,
 * hooks) and gets a `RegisterBlock` that implements the MMIO callbacks, reset, snapshot state
 * and the HMP dump from that one table.
 *
 * Bus behaviour chosen for narrow accesses (documented in docs as the model's behaviour):
 * registers are 32 bits wide and byte lanes are honoured. A 1- or 2-byte read returns the
 * addressed lanes of the register's value. A 1- or 2-byte write changes only the addressed
 * lanes: the other lanes keep their value, and write-1-to-clear/set bits, SET/CLR aliases and
 * tasks see zeros there. Accesses crossing a 4-byte boundary are split into bytes.
 *
 * Write rules per bit of an ordinary register: bits in `w1c` clear when written as 1, bits in
 * `w1s` set when written as 1, other bits in `writeMask` take the written value, and the rest
 * are read-only (changing them is logged under `-d guest_errors`).
 */

import { UserError } from './errors.js';
import { type Log, LogCat } from './log.js';
import { type AccessSize, hex, MemoryRegion, type MmioOps } from './memory.js';

export interface RegisterDef {
  name: string;
  offset: number;
  reset?: number;
  /** Bits that read back; default all. */
  readMask?: number;
  /** Bits ordinary writes change; default all; 0 = read-only. Bits in w1c/w1s are excluded. */
  writeMask?: number;
  /** Bits cleared by writing 1 (writing 0 has no effect). */
  w1c?: number;
  /** Bits set by writing 1 (writing 0 has no effect). */
  w1s?: number;
  /**
   * This register is an XXXSET alias of register `setOf`: writing 1s sets bits there; reads
   * return it. The bits it may change are its own `writeMask`, else the target's.
   */
  setOf?: string;
  /** This register is an XXXCLR alias of register `clearOf`: writing 1s clears bits there; reads return it. */
  clearOf?: string;
  /** A write of non-zero triggers onWrite; reads 0; nothing is stored. */
  task?: boolean;
  /** Filters the value a guest read returns (after readMask). */
  onRead?: (value: number) => number;
  /**
   * Called after a guest write with the register's new and previous value. For a task: the
   * value written and 0. For a SET/CLR alias: the target's new and previous value (the
   * target's own onWrite runs as well).
   */
  onWrite?: (value: number, old: number) => void;
  description?: string;
}

export interface RegisterBlockOptions {
  /** Used in log lines (usually the device's path or type). */
  name: string;
  /** Size of the MMIO window in bytes. */
  size: number;
  registers: RegisterDef[];
  log: () => Log;
  /** When set, guest accesses emit trace events `<trace>_read` / `<trace>_write`. */
  trace?: string;
}

const F_TASK = 1;
const F_SET = 2;
const F_CLR = 4;
const SIZE_MASK = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

type ReadHook = ((value: number) => number) | null;
type WriteHook = ((value: number, old: number) => void) | null;

export class RegisterBlock implements MmioOps {
  readonly name: string;
  readonly size: number;
  private readonly defs: readonly RegisterDef[];
  private readonly log: () => Log;
  private readonly traceName: string | null;
  private readonly values: Uint32Array;
  private readonly resets: Uint32Array;
  private readonly readMasks: Uint32Array;
  /** Bits ordinary writes store: writeMask minus w1c and w1s. */
  private readonly plainMasks: Uint32Array;
  private readonly w1cMasks: Uint32Array;
  private readonly w1sMasks: Uint32Array;
  /** Bits no write can change. */
  private readonly roMasks: Uint32Array;
  private readonly flags: Uint8Array;
  /** Index of the register a SET/CLR alias acts on; the register itself otherwise. */
  private readonly targets: Int32Array;
  private readonly readHooks: ReadHook[];
  private readonly writeHooks: WriteHook[];
  /** offset >> 2 → register index, or -1. */
  private readonly table: Int32Array;
  private readonly byName = new Map<string, number>();

  constructor(options: RegisterBlockOptions) {
    const { name, size, registers } = options;
    if (!Number.isInteger(size) || size <= 0) throw new Error(`register block '${name}': bad size ${size}`);
    this.name = name;
    this.size = size;
    this.defs = registers;
    this.log = options.log;
    this.traceName = options.trace ?? null;
    const n = registers.length;
    this.values = new Uint32Array(n);
    this.resets = new Uint32Array(n);
    this.readMasks = new Uint32Array(n);
    this.plainMasks = new Uint32Array(n);
    this.w1cMasks = new Uint32Array(n);
    this.w1sMasks = new Uint32Array(n);
    this.roMasks = new Uint32Array(n);
    this.flags = new Uint8Array(n);
    this.targets = new Int32Array(n);
    this.readHooks = [];
    this.writeHooks = [];
    this.table = new Int32Array(Math.ceil(size / 4)).fill(-1);

    registers.forEach((r, i) => {
      const where = `register block '${name}': register '${r.name}'`;
      if (this.byName.has(r.name)) throw new Error(`${where}: duplicate name`);
      if (!Number.isInteger(r.offset) || r.offset < 0) throw new Error(`${where}: bad offset ${r.offset}`);
      if ((r.offset & 3) !== 0) throw new Error(`${where}: offset 0x${hex(r.offset)} is not 4-byte aligned`);
      if (r.offset + 4 > size) {
        throw new Error(`${where}: offset 0x${hex(r.offset)} outside the block (size 0x${hex(size)})`);
      }
      const slot = r.offset >>> 2;
      const other = this.table[slot]!;
      if (other >= 0) {
        throw new Error(`${where}: offset 0x${hex(r.offset)} already used by '${registers[other]!.name}'`);
      }
      this.table[slot] = i;
      this.byName.set(r.name, i);
    });

    registers.forEach((r, i) => {
      const where = `register block '${name}': register '${r.name}'`;
      let flags = r.task ? F_TASK : 0;
      let target = i;
      const aliasOf = r.setOf ?? r.clearOf;
      if (aliasOf !== undefined) {
        if (r.setOf !== undefined && r.clearOf !== undefined)
          throw new Error(`${where}: both setOf and clearOf`);
        if (r.task) throw new Error(`${where}: a task cannot be a SET/CLR alias`);
        const t = this.byName.get(aliasOf);
        if (t === undefined) throw new Error(`${where}: aliases unknown register '${aliasOf}'`);
        const td = registers[t]!;
        if (td.task || td.setOf !== undefined || td.clearOf !== undefined) {
          throw new Error(`${where}: aliases '${aliasOf}', which is a task or an alias`);
        }
        flags |= r.setOf !== undefined ? F_SET : F_CLR;
        target = t;
      }
      const writeMask = (r.writeMask ?? 0xffffffff) >>> 0;
      const w1c = (r.w1c ?? 0) >>> 0;
      const w1s = (r.w1s ?? 0) >>> 0;
      this.flags[i] = flags;
      this.targets[i] = target;
      this.resets[i] = flags === 0 ? (r.reset ?? 0) >>> 0 : 0;
      this.readMasks[i] = (r.readMask ?? 0xffffffff) >>> 0;
      this.plainMasks[i] = writeMask & ~w1c & ~w1s;
      this.w1cMasks[i] = w1c;
      this.w1sMasks[i] = w1s;
      this.roMasks[i] = ~(writeMask | w1c | w1s);
      this.readHooks.push(r.onRead ?? null);
      this.writeHooks.push(r.onWrite ?? null);
    });
    // An alias changes the bits its own writeMask allows; without one, the bits the target's
    // writeMask allows. (nRF51 blocks without INTEN at 0x300 still have INTENSET/INTENCLR.)
    registers.forEach((r, i) => {
      if (this.flags[i]! & (F_SET | F_CLR) && r.writeMask === undefined) {
        this.plainMasks[i] = this.plainMasks[this.targets[i]!]!;
      }
    });
    this.reset();
  }

  // ---- MMIO callbacks ----

  read(offset: number, size: AccessSize): number {
    const lane = offset & 3;
    if (lane + size > 4) {
      let value = 0;
      for (let i = 0; i < size; i++) value |= this.read(offset + i, 1) << (i * 8);
      return value >>> 0;
    }
    const idx = offset < this.size ? this.table[offset >>> 2]! : -1;
    if (idx < 0) {
      const log = this.log();
      if (log.on(LogCat.GuestErrors))
        log.write(`${this.name}: read of unknown register at offset 0x${hex(offset)}`);
      return 0;
    }
    const full = this.readRegister(idx);
    const value = size === 4 ? full : (full >>> (lane * 8)) & SIZE_MASK[size];
    if (this.traceName !== null) this.traceAccess('read', offset, value, size);
    return value;
  }

  write(offset: number, value: number, size: AccessSize): void {
    const lane = offset & 3;
    if (lane + size > 4) {
      for (let i = 0; i < size; i++) this.write(offset + i, (value >>> (i * 8)) & 0xff, 1);
      return;
    }
    const idx = offset < this.size ? this.table[offset >>> 2]! : -1;
    if (idx < 0) {
      const log = this.log();
      if (log.on(LogCat.GuestErrors)) {
        log.write(
          `${this.name}: write of unknown register at offset 0x${hex(offset)}, value 0x${hex((value & SIZE_MASK[size]) >>> 0)}`,
        );
      }
      return;
    }
    if (this.traceName !== null) this.traceAccess('write', offset, (value & SIZE_MASK[size]) >>> 0, size);
    const shift = lane * 8;
    const lanes = (SIZE_MASK[size] << shift) >>> 0;
    this.writeRegister(idx, ((value << shift) & lanes) >>> 0, lanes);
  }

  private readRegister(idx: number): number {
    const flags = this.flags[idx]!;
    if ((flags & F_TASK) !== 0) return 0;
    let v = flags === 0 ? this.values[idx]! : this.readRegister(this.targets[idx]!);
    v = (v & this.readMasks[idx]!) >>> 0;
    const hook = this.readHooks[idx]!;
    if (hook !== null) v = hook(v) >>> 0;
    return v;
  }

  /** `written` holds the written bits in their lanes and zeros elsewhere. */
  private writeRegister(idx: number, written: number, lanes: number): void {
    const flags = this.flags[idx]!;
    const hook = this.writeHooks[idx]!;
    if ((flags & F_TASK) !== 0) {
      if (written !== 0 && hook !== null) hook(written, 0);
      return;
    }
    if (flags !== 0) {
      const t = this.targets[idx]!;
      // Writing 1s to bits a SET/CLR register does not have is the usual "clear everything"
      // idiom (INTENCLR = 0xFFFFFFFF): the bits are ignored, not reported.
      const allowed = this.plainMasks[idx]!;
      const old = this.values[t]!;
      const bits = written & allowed;
      const next = ((flags & F_SET) !== 0 ? old | bits : old & ~bits) >>> 0;
      this.values[t] = next;
      const targetHook = this.writeHooks[t]!;
      if (targetHook !== null) targetHook(next, old);
      if (hook !== null) hook(next, old);
      return;
    }
    const old = this.values[idx]!;
    this.checkReadOnly(idx, (written ^ old) & lanes & this.roMasks[idx]!, written);
    const plain = this.plainMasks[idx]! & lanes;
    let next = (old & ~plain) | (written & plain);
    next &= ~(written & this.w1cMasks[idx]!);
    next |= written & this.w1sMasks[idx]!;
    next >>>= 0;
    this.values[idx] = next;
    if (hook !== null) hook(next, old);
  }

  private checkReadOnly(idx: number, badBits: number, written: number): void {
    if (badBits === 0) return;
    const log = this.log();
    if (!log.on(LogCat.GuestErrors)) return;
    const r = this.defs[idx]!;
    log.write(
      `${this.name}: write to read-only bits 0x${hex(badBits >>> 0)} of register ${r.name} (offset 0x${hex(r.offset)}, value 0x${hex(written >>> 0)})`,
    );
  }

  private traceAccess(kind: 'read' | 'write', offset: number, value: number, size: number): void {
    const log = this.log();
    if (!log.on(LogCat.Trace)) return;
    const event = `${this.traceName}_${kind}`;
    if (!log.traceOn(event)) return;
    const idx = this.table[offset >>> 2]!;
    const reg = idx >= 0 ? ` (${this.defs[idx]!.name})` : '';
    log.write(`${event} offset 0x${hex(offset)}${reg} value 0x${hex(value)} size ${size}`);
  }

  // ---- device-side access (no hooks, no masks) ----

  /** Index of the register called `name` (a programming error if there is none). */
  index(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`register block '${this.name}': no register '${name}'`);
    return i;
  }

  /** Stored value (a SET/CLR alias gives its target's; a task 0). */
  value(i: number): number {
    return this.values[this.targets[i]!]!;
  }

  setValue(i: number, value: number): void {
    if ((this.flags[i]! & F_TASK) !== 0) return;
    this.values[this.targets[i]!] = value;
  }

  get(name: string): number {
    return this.value(this.index(name));
  }

  /** Hardware-side update: no hooks, no masks. */
  set(name: string, value: number): void {
    this.setValue(this.index(name), value);
  }

  /** The declared table. */
  get registers(): readonly RegisterDef[] {
    return this.defs;
  }

  reset(): void {
    this.values.set(this.resets);
  }

  // ---- state ----

  saveState(): number[] {
    return Array.from(this.values);
  }

  loadState(state: number[]): void {
    if (!Array.isArray(state) || state.length !== this.values.length) {
      throw new UserError(`snapshot: register block '${this.name}' expects ${this.values.length} values`);
    }
    for (const v of state) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new UserError(`snapshot: register block '${this.name}' has a bad value ${String(v)}`);
      }
    }
    this.values.set(state);
  }

  /** Registers in offset order with their stored values, for HMP dumps. */
  describe(): Array<{ name: string; offset: number; value: number }> {
    return this.defs
      .map((r, i) => ({ name: r.name, offset: r.offset, value: this.value(i) }))
      .sort((a, b) => a.offset - b.offset);
  }

  /** An mmio region over this block, accepting aligned 1-, 2- and 4-byte accesses. */
  toRegion(name: string): MemoryRegion {
    return MemoryRegion.mmio(name, this.size, this, {
      valid: { min: 1, max: 4, unaligned: false },
      impl: { min: 1, max: 4 },
    });
  }
}

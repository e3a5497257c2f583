/**
 * Base class of every device model.
 *
 * Lifecycle: construct → set properties → `realize(ctx)` (validate properties, create regions
 * and lines) → `reset()` (restore reset values only) → run. A device knows the machine only
 * through the context handed to it at realize (the clock and the log), its lines and its
 * memory regions; the machine maps the regions and wires the lines.
 *
 * Each device describes its state as plain JSON-able data (`saveState`/`loadState`) for
 * snapshot/restore; the round trip is tested for every device.
 */
import type { VirtualClock } from './clock.js';
import { UserError } from './errors.js';
import { type InputLine, type LineHandler, LineSet, type OutputLine } from './lines.js';
import type { Log } from './log.js';
import type { MemoryRegion } from './memory.js';
import { ObjectNode } from './object.js';

/** What a device may use of its machine. */
export interface DeviceContext {
  clock: VirtualClock;
  log: Log;
}

/** Plain data, safe to pass through JSON. */
export type StateData = null | boolean | number | string | StateData[] | { [key: string]: StateData };

export abstract class Device extends ObjectNode {
  readonly lines: LineSet = new LineSet(() => this.path);
  /** MMIO regions exported by the device, in index order (QEMU's sysbus MMIO list). */
  readonly mmioRegions: MemoryRegion[] = [];
  private context: DeviceContext | null = null;

  get ctx(): DeviceContext {
    if (!this.context) throw new Error(`${this.path}: device used before realize`);
    return this.context;
  }

  get clock(): VirtualClock {
    return this.ctx.clock;
  }

  get log(): Log {
    return this.ctx.log;
  }

  realize(ctx: DeviceContext): void {
    if (this.realized) throw new UserError(`${this.path}: device already realized`);
    this.context = ctx;
    this.onRealize();
    this.realized = true;
    this.reset();
  }

  reset(): void {
    this.onReset();
  }

  /** Creates regions, lines and timers; validates properties (throw UserError). */
  protected abstract onRealize(): void;
  /** Restores reset values; must not allocate new regions or lines. */
  protected abstract onReset(): void;
  /** The device's state as plain data. */
  abstract saveState(): StateData;
  /** Restores a state produced by `saveState` (of the same device type and properties). */
  abstract loadState(state: StateData): void;

  protected addMmio(region: MemoryRegion): MemoryRegion {
    this.mmioRegions.push(region);
    return region;
  }

  mmio(index: number): MemoryRegion {
    const r = this.mmioRegions[index];
    if (!r) throw new Error(`${this.path}: no MMIO region ${index}`);
    return r;
  }

  protected addGpioIn(name: string, count: number, handler: LineHandler): InputLine[] {
    return this.lines.addInputs(name, count, handler);
  }

  protected addGpioOut(name: string, count: number): OutputLine[] {
    return this.lines.addOutputs(name, count);
  }

  gpioIn(name: string, index: number): InputLine {
    const l = this.lines.input(name, index);
    if (!l) throw new UserError(`${this.path}: no input line ${name || 'unnamed-gpio-in'}[${index}]`);
    return l;
  }

  gpioOut(name: string, index: number): OutputLine {
    const l = this.lines.output(name, index);
    if (!l) throw new UserError(`${this.path}: no output line ${name || 'unnamed-gpio-out'}[${index}]`);
    return l;
  }
}

/** Reads a field of a saved state, checking its type (snapshot files may be edited by hand). */
export function stateField<T extends StateData>(
  state: StateData,
  key: string,
  check: (v: StateData) => v is T,
): T {
  // Own keys only: `key in` would find Object.prototype members such as 'constructor'.
  if (state === null || typeof state !== 'object' || Array.isArray(state) || !Object.hasOwn(state, key)) {
    throw new UserError(`snapshot: missing field '${key}'`);
  }
  const v = (state as Record<string, StateData>)[key]!;
  if (!check(v)) throw new UserError(`snapshot: field '${key}' has the wrong type`);
  return v;
}

export const isNum = (v: StateData): v is number => typeof v === 'number';
export const isBool = (v: StateData): v is boolean => typeof v === 'boolean';
export const isStr = (v: StateData): v is string => typeof v === 'string';
export const isNumArray = (v: StateData): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number');

/**
 * Replays golden vectors on our Cortex-M0 over the micro:bit memory map (flash 256 KiB ROM at 0,
 * RAM 16 KiB at 0x20000000, nothing else), with the same vector table the generator wrote to
 * QEMU. One machine is reused across vectors: each vector only reads the memory it lists.
 */
import { AddressSpace } from '../../../core/address-space.js';
import { Log } from '../../../core/log.js';
import { MemoryRegion } from '../../../core/memory.js';
import { CortexM0 } from '../cortex-m0.js';
import type { GoldenMemory, GoldenState, GoldenVector } from './format.js';
import { bootImage, CORE_REG_NAMES, FLASH_BASE, FLASH_SIZE, RAM_BASE, RAM_SIZE } from './layout.js';

export interface ReplayResult {
  after: GoldenState;
  memAfter: GoldenMemory[];
  executed: number;
}

export class GoldenHarness {
  readonly cpu: CortexM0;
  readonly bus: AddressSpace;

  constructor() {
    const root = MemoryRegion.container('system', 0x1_0000_0000);
    root.addSubregion(FLASH_BASE, MemoryRegion.rom('flash', FLASH_SIZE));
    root.addSubregion(RAM_BASE, MemoryRegion.ram('ram', RAM_SIZE));
    this.bus = new AddressSpace('cpu-memory', root, new Log());
    this.load(0, bootImage());
    this.cpu = new CortexM0('cpu0', this.bus);
  }

  private load(addr: number, bytes: Uint8Array): void {
    if (!this.bus.writeDebug(addr, bytes)) {
      throw new Error(`golden vector memory at 0x${addr.toString(16)} is outside flash and RAM`);
    }
  }

  /** Sets `before`, runs the vector's steps, returns the state in the vector's own shape. */
  replay(v: GoldenVector): ReplayResult {
    const cpu = this.cpu;
    const code = new Uint8Array(v.code.length * 2);
    v.code.forEach((h, i) => {
      code[i * 2] = h & 0xff;
      code[i * 2 + 1] = h >>> 8;
    });
    this.load(v.before.r[15]!, code);
    for (const m of v.memBefore) this.load(m.addr, Buffer.from(m.hex, 'hex'));

    cpu.reset();
    const b = v.before;
    cpu.setSpsel(((b.control ?? 0) >>> 1) & 1);
    if (b.msp !== undefined) cpu.msp = b.msp;
    if (b.psp !== undefined) cpu.psp = b.psp;
    for (let i = 0; i < 16; i++) cpu.r[i] = b.r[i]! | 0;
    cpu.xpsr = b.xpsr;
    cpu.primask = b.primask ?? 0;

    const steps = v.steps ?? 1;
    let executed = 0;
    // execute() may return early (e.g. after an exception entry); keep going to the step count.
    for (let guard = 0; executed < steps && guard < steps * 4 && !cpu.halted; guard++) {
      executed += cpu.execute(steps - executed);
    }

    const s = cpu.state();
    const after: GoldenState = { r: s.r, xpsr: s.xpsr };
    if (v.after.primask !== undefined) after.primask = s.primask;
    if (v.after.control !== undefined) after.control = s.control;
    if (v.after.msp !== undefined) after.msp = s.msp;
    if (v.after.psp !== undefined) after.psp = s.psp;
    const memAfter = v.memAfter.map((m) => ({
      addr: m.addr,
      hex: Buffer.from(this.bus.readDebug(m.addr, m.hex.length / 2) ?? []).toString('hex'),
    }));
    return { after, memAfter, executed };
  }
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Human-readable differences between the expected and the replayed state ([] when equal). */
export function diffVector(v: GoldenVector, got: ReplayResult): string[] {
  const expected = v.manual?.after ?? v.after;
  const expectedMem = v.manual?.memAfter ?? v.memAfter;
  const diffs: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (expected.r[i]! >>> 0 !== got.after.r[i]! >>> 0) {
      diffs.push(`${CORE_REG_NAMES[i]} expected ${hex32(expected.r[i]!)} got ${hex32(got.after.r[i]!)}`);
    }
  }
  if (expected.xpsr >>> 0 !== got.after.xpsr >>> 0) {
    diffs.push(`xpsr expected ${hex32(expected.xpsr)} got ${hex32(got.after.xpsr)}`);
  }
  for (const key of ['primask', 'control', 'msp', 'psp'] as const) {
    const e = expected[key];
    if (e !== undefined && e >>> 0 !== (got.after[key] ?? 0) >>> 0) {
      diffs.push(`${key} expected ${hex32(e)} got ${hex32(got.after[key] ?? 0)}`);
    }
  }
  expectedMem.forEach((m, i) => {
    const g = got.memAfter[i]?.hex ?? '';
    if (m.hex !== g) diffs.push(`memory at ${hex32(m.addr)} expected ${m.hex} got ${g}`);
  });
  return diffs;
}

/**
 * Runs a Thumb code snippet on a bare Cortex-M0 (no peripherals) and returns the final state as
 * plain JSON: the instruction tests' harness, and the shape for golden vectors (the same initial
 * state run under QEMU must give the same result).
 *
 * Memory map of the bare machine: RAM at 0x00000000 (code and vector table, 64 KiB) and RAM at
 * 0x20000000 (data and stack, 64 KiB); everything else is unmapped (bus error).
 */
import { AddressSpace } from '../../core/address-space.js';
import { Log } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { CortexM0, type CpuStateJson, type FaultKind } from './cortex-m0.js';
import { assembleThumb } from './thumb-asm.js';

export const CODE_BASE = 0x0000_0000;
export const CODE_SIZE = 0x1_0000;
export const DATA_BASE = 0x2000_0000;
export const DATA_SIZE = 0x1_0000;
/** Where the snippet's code starts (after a 48-entry vector table). */
export const SNIPPET_ENTRY = 0x100;
/** HardFault and SVCall handlers of the bare machine: they spin on themselves (`b .`). */
export const HARDFAULT_HANDLER = 0xf00;
export const SVC_HANDLER = 0xf10;

export interface BareMachine {
  cpu: CortexM0;
  bus: AddressSpace;
  code: MemoryRegion;
  data: MemoryRegion;
}

/** A CPU over the bare memory map, vector table set up, reset to SNIPPET_ENTRY, SP at the top of data. */
export function createBareMachine(): BareMachine {
  const root = MemoryRegion.container('system', 0x1_0000_0000);
  const code = MemoryRegion.ram('code', CODE_SIZE);
  const data = MemoryRegion.ram('data', DATA_SIZE);
  root.addSubregion(CODE_BASE, code);
  root.addSubregion(DATA_BASE, data);
  const bus = new AddressSpace('cpu-memory', root, new Log());
  const view = new DataView(code.data.buffer);
  view.setUint32(0, DATA_BASE + DATA_SIZE, true);
  view.setUint32(4, SNIPPET_ENTRY | 1, true);
  for (let i = 2; i < 48; i++) view.setUint32(i * 4, HARDFAULT_HANDLER | 1, true);
  view.setUint32(11 * 4, SVC_HANDLER | 1, true);
  // `b .` at both handlers.
  view.setUint16(HARDFAULT_HANDLER, 0xe7fe, true);
  view.setUint16(SVC_HANDLER, 0xe7fe, true);
  const cpu = new CortexM0('cpu0', bus);
  cpu.reset();
  return { cpu, bus, code, data };
}

export interface SnippetInput {
  /** UAL source (assembled at SNIPPET_ENTRY) or ready halfwords. */
  code: string | number[];
  /** Initial r0-r12, r14 (index = register number; sp/pc are set up by the harness unless given). */
  regs?: Partial<Record<number, number>>;
  /** Initial APSR flags (bits 31:28 used). */
  apsr?: number;
  primask?: number;
  /** Bytes to preload, e.g. `[{ addr: 0x20000000, bytes: [1, 2, 3] }]`. */
  memory?: Array<{ addr: number; bytes: number[] }>;
  /** Instructions to execute (default: until the code runs off its end or faults, max 10000). */
  steps?: number;
  /** Ranges to dump in the result. */
  dump?: Array<{ addr: number; length: number }>;
}

export interface SnippetResult extends CpuStateJson {
  executed: number;
  cycles: number;
  fault: FaultKind | null;
  lockup: boolean;
  memory: Array<{ addr: number; bytes: number[] }>;
}

/** Assembles and runs a snippet; returns the final state as JSON-able data. */
export function runSnippet(input: SnippetInput): SnippetResult {
  const m = createBareMachine();
  const cpu = m.cpu;
  const units =
    typeof input.code === 'string' ? assembleThumb(input.code, SNIPPET_ENTRY).halfwords : input.code;
  const view = new DataView(m.code.data.buffer);
  units.forEach((u, i) => {
    view.setUint16(SNIPPET_ENTRY + i * 2, u, true);
  });
  const end = SNIPPET_ENTRY + units.length * 2;
  for (const [k, v] of Object.entries(input.regs ?? {})) {
    if (v !== undefined) cpu.r[Number(k)] = v;
  }
  if (input.apsr !== undefined) cpu.apsr = input.apsr;
  if (input.primask !== undefined) cpu.primask = input.primask;
  for (const region of input.memory ?? []) {
    if (!m.bus.writeDebug(region.addr, Uint8Array.from(region.bytes))) {
      throw new Error(`snippet memory at 0x${region.addr.toString(16)} is not mapped`);
    }
  }
  let executed = 0;
  if (input.steps !== undefined) {
    executed = cpu.execute(input.steps);
  } else {
    // Until the PC leaves the snippet (fell off its end, or a fault/exception was taken).
    while (executed < 10000 && !cpu.halted && !cpu.sleeping) {
      const pc = cpu.pc;
      if (pc < SNIPPET_ENTRY || pc >= end) break;
      executed += cpu.execute(1);
    }
  }
  const memory = (input.dump ?? []).map((d) => ({
    addr: d.addr,
    bytes: Array.from(m.bus.readDebug(d.addr, d.length) ?? []),
  }));
  return { ...cpu.state(), executed, cycles: cpu.cycles, fault: cpu.lastFault, lockup: cpu.lockup, memory };
}

/**
 * A bare Cortex-M0 with its System Control Space, a clock and a fast-mode runner: the harness of
 * the exception, NVIC, SCB and SysTick tests, and a minimal example of wiring a core without a
 * Machine (a SoC does the same through `installScs`).
 *
 * Memory map: RAM at 0x00000000 (code and vector table, 64 KiB), RAM at 0x20000000 (data and
 * stack, 64 KiB), the SCS at 0xE000E000; everything else is unmapped (bus error). Every vector
 * points at DEFAULT_HANDLER (`b .`) until `setVector` changes it; SP starts at 0x20010000 and PC
 * at SYSTEM_ENTRY.
 */
import { AddressSpace } from '../../core/address-space.js';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { Runner } from '../../core/runner.js';
import { CortexM0 } from './cortex-m0.js';
import { NUM_EXCEPTIONS } from './nvic.js';
import { SCS_BASE, type ScsOptions, SystemControlSpace } from './system-control-space.js';
import { assembleThumb } from './thumb-asm.js';

export const SYSTEM_ENTRY = 0x100;
export const DEFAULT_HANDLER = 0xf00;
export const STACK_TOP = 0x2001_0000;

export interface M0System {
  cpu: CortexM0;
  scs: SystemControlSpace;
  bus: AddressSpace;
  clock: VirtualClock;
  runner: Runner;
  log: Log;
  /** Every line written to the log. */
  logLines: string[];
  /** Number of SYSRESETREQ requests seen. */
  resetRequests: number;
  /** Assembles `source` at `addr` (a line `b .` spins) and writes it; returns the label addresses. */
  load(addr: number, source: string): Record<string, number>;
  /** Points vector `num` at `addr` (Thumb bit added). */
  setVector(num: number, addr: number): void;
  /** Resets the SCS and the core (SP/PC from the vector table). */
  reset(): void;
}

export function createM0System(options: ScsOptions = {}): M0System {
  const root = MemoryRegion.container('system', 2 ** 32);
  const code = MemoryRegion.ram('code', 0x1_0000);
  const data = MemoryRegion.ram('data', 0x1_0000);
  root.addSubregion(0, code);
  root.addSubregion(0x2000_0000, data);
  const log = new Log();
  const logLines: string[] = [];
  log.sink = (line) => logLines.push(line);
  const bus = new AddressSpace('cpu-memory', root, log);
  const clock = new VirtualClock();
  const cpu = new CortexM0('cpu0', bus);
  const scs = new SystemControlSpace(cpu, options);
  scs.realize({ clock, log });
  root.addSubregion(SCS_BASE, scs.mmio(0));
  const cpuHz = scs.getInt('cpu-clock-hz');
  const runner = new Runner(clock, { mode: 'fast', nsPerInstruction: 1e9 / cpuHz, executors: [cpu] });
  scs.onWake = () => runner.kick();

  const view = new DataView(code.data!.buffer);
  view.setUint32(0, STACK_TOP, true);
  view.setUint32(4, SYSTEM_ENTRY | 1, true);
  for (let i = 2; i < NUM_EXCEPTIONS; i++) view.setUint32(i * 4, DEFAULT_HANDLER | 1, true);
  view.setUint16(DEFAULT_HANDLER, 0xe7fe, true); // b .

  const system: M0System = {
    cpu,
    scs,
    bus,
    clock,
    runner,
    log,
    logLines,
    resetRequests: 0,
    load(addr, source) {
      // `b .` (branch to itself) as a line of its own, which the assembler has no syntax for.
      const asm = assembleThumb(source.replace(/^\s*b \.\s*$/gm, '.hword 0xe7fe'), addr);
      if (!bus.writeDebug(addr, asm.bytes)) throw new Error(`cannot load code at 0x${addr.toString(16)}`);
      return asm.labels;
    },
    setVector(num, addr) {
      view.setUint32(num * 4, (addr | 1) >>> 0, true);
    },
    reset() {
      scs.reset();
      cpu.reset();
    },
  };
  scs.onSystemResetRequest = () => {
    system.resetRequests++;
  };
  cpu.reset();
  return system;
}

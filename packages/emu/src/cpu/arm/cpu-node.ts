/**
 * The CPU as a node of the object tree (QOM type `cortex-m0-arm-cpu`), so that QMP
 * `query-cpus-fast`, `qom-list` and HMP `info qom-tree` find it where QEMU puts it
 * (`/machine/nrf51/armv6m/cpu` on the micro:bit). The core itself stays a plain class.
 */
import { declareType, ObjectNode } from '../../core/object.js';
import type { CortexM0 } from './cortex-m0.js';

declareType('armv6m', 'sys-bus-device');
declareType('cortex-m0-arm-cpu', 'cpu');

export class CpuNode extends ObjectNode {
  readonly cpu: CortexM0;
  /** The CPU's index among the machine's CPUs (QMP `cpu-index`). */
  readonly index: number;

  constructor(cpu: CortexM0, index = 0) {
    super('cortex-m0-arm-cpu');
    this.cpu = cpu;
    this.index = index;
    this.declareProperties([
      {
        name: 'cpu-index',
        type: 'int',
        get: () => this.index,
        description: 'index of the CPU in the machine',
      },
      { name: 'pc', type: 'uint', get: () => this.cpu.pc, description: 'program counter (read-only view)' },
      { name: 'halted', type: 'bool', get: () => this.cpu.halted, description: 'stopped (debugger, lockup)' },
    ]);
    this.realized = true;
  }
}

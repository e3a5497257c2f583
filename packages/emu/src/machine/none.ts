/**
 * `none` — the empty machine, as QEMU's `-M none`: no CPU and no devices of its own.
 *
 * With `-m SIZE` it has RAM at address 0. User devices (`-device tsemu-testdev,addr=...`)
 * are mapped at their `addr` property. It exists to test the core end to end and to let
 * tools (qtest, QMP clients) probe tsemu without a board.
 */
import { Machine, type MachineOptions } from '../core/machine.js';
import { MemoryRegion } from '../core/memory.js';
import { registerMachineType } from '../core/registry.js';

export class NoneMachine extends Machine {
  constructor(options: MachineOptions) {
    super('none-machine', options);
  }

  protected build(): void {
    const ramSize = this.options.ramSize ?? 0;
    if (ramSize > 0) this.addMemory(0, MemoryRegion.ram('ram', ramSize));
  }

  override get mapsUserDevices(): boolean {
    return true;
  }
}

registerMachineType({
  name: 'none',
  description: 'empty machine',
  cpuMax: 1,
  create: (options) => new NoneMachine(options),
});

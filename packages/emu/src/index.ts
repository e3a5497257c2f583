/**
 * tsemu as a library. `createMachine(name, options)` builds the same machine the command line
 * builds; the returned `Machine` has run control (`start`, `stop`, `runFor`, `step`, `reset`),
 * snapshots (`snapshot`, `restore`), its object tree, memory, clock and chardevs.
 *
 *   const m = createMachine('none', { ramSize: 65536, devices: [{ driver: 'tsemu-testdev' }] });
 *   m.runFor(1_000_000);
 */

export * from './chardev/index.js';
export { SerialStream } from './chardev/serial-stream.js';
export { AddressSpace } from './core/address-space.js';
export { Timer, VirtualClock } from './core/clock.js';
export { ClockCounter } from './core/counter.js';
export { Device, type DeviceContext, type StateData } from './core/device.js';
export { UserError } from './core/errors.js';
export { parseIcount } from './core/icount.js';
export { InputLine, NOT_DRIVEN, OutputLine } from './core/lines.js';
export { Log, LogCat } from './core/log.js';
export {
  Machine,
  type MachineOptions,
  type MachineSnapshot,
  type RunMode,
  type RunState,
} from './core/machine.js';
export { MemoryRegion, MemTx } from './core/memory.js';
export { ObjectNode, type PropertyDef, type PropertyValue } from './core/object.js';
export { RegisterBlock, type RegisterDef } from './core/registers.js';
export { listDeviceTypes, listMachineTypes } from './core/registry.js';
export { type Executor, Runner } from './core/runner.js';
export { MicrobitLedMatrix } from './hw/display/microbit-led-matrix.js';
export { RadioMedium } from './hw/radio/radio-medium.js';
export * from './loader/index.js';
export { createMachine, type DeviceSpec, type MachineConfig } from './machine/create.js';
export { MicrobitMachine, type MicrobitOptions } from './machine/microbit.js';

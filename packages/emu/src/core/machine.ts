/**
 * A machine: the root of one emulated system.
 *
 * It owns the object tree (`/machine`, `/machine/peripheral`, `/machine/unattached`,
 * `/chardevs`), the virtual clock, the system memory and its address space, the runner, the
 * log, and the devices in realize order. Concrete machines (`none`, later `microbit`) build
 * their devices in `build()`; the command line and the library API only use this class.
 *
 * Run states follow QMP's `query-status`: prelaunch → running ⇄ paused, shutdown.
 */
import { EventEmitter } from 'node:events';
import type { Chardev } from '../chardev/chardev.js';
import { ChardevRegistry } from '../chardev/spec.js';
import type { LoadedImage } from '../loader/image.js';
import { AddressSpace } from './address-space.js';
import { VirtualClock } from './clock.js';
import type { Device, StateData } from './device.js';
import { UserError } from './errors.js';
import { Log } from './log.js';
import { MemoryRegion } from './memory.js';
import { ObjectNode, type PropertyValue } from './object.js';
import { type Executor, Runner } from './runner.js';

export type RunMode = 'fast' | 'realtime' | 'qtest';
export type RunState = 'prelaunch' | 'running' | 'paused' | 'shutdown' | 'internal-error' | 'debug';

export interface MachineOptions {
  /** `fast` (deterministic, default for the library), `realtime`, or `qtest` (clock moved by qtest). */
  mode?: RunMode;
  /** Virtual nanoseconds per executed instruction; default: the machine's CPU clock period. */
  nsPerInstruction?: number;
  log?: Log;
  /** Seed for the machine's random number generators (`-seed`). */
  seed?: bigint;
  /** RAM size in bytes where the machine lets the user choose it (`-m`). */
  ramSize?: number;
  /** Machine properties (`-machine NAME,key=val`). */
  props?: Record<string, PropertyValue>;
  /** `-no-reboot`: a guest reset request shuts the machine down instead. */
  noReboot?: boolean;
  /** `-no-shutdown`: a guest shutdown stops emulation but keeps the process. */
  noShutdown?: boolean;
  /** Backends of the machine's serial ports in order (`-serial`); null: not connected. */
  serial?: Array<Chardev | null>;
  /** The chardevs (`/chardevs`), when the caller created them (the command line does). */
  chardevRegistry?: ChardevRegistry;
}

/** An executor (CPU) whose state is part of machine snapshots. */
interface StatefulExecutor extends Executor {
  saveState(): StateData;
  loadState(state: StateData): void;
}

export interface MachineSnapshot {
  format: 'tsemu-snapshot';
  version: 1;
  machine: string;
  clock: StateData;
  /** CPU states by executor name. */
  cpus: Record<string, StateData>;
  devices: Record<string, StateData>;
  memory: Record<string, string>;
}

export type ShutdownCause = 'host-qmp-quit' | 'host-signal' | 'guest-shutdown' | 'guest-reset' | 'host-error';
export type ResetCause = 'host-qmp-system-reset' | 'guest-reset' | 'host-ui';

export interface MachineEvents {
  reset: [guest: boolean, reason: ResetCause];
  shutdown: [guest: boolean, reason: ShutdownCause];
  stop: [];
  resume: [];
}

/** The tree root: `/` holds `machine` and `chardevs`. */
class TreeRoot extends ObjectNode {
  constructor() {
    super('container', '');
  }
}

export abstract class Machine extends ObjectNode {
  readonly clock = new VirtualClock();
  readonly log: Log;
  /** The system memory container (4 GiB) and the address space the CPUs and qtest see. */
  readonly sysmem: MemoryRegion;
  readonly addressSpace: AddressSpace;
  readonly runner: Runner;
  readonly options: MachineOptions;
  readonly events = new EventEmitter<MachineEvents>();
  /** Devices in realize order. */
  readonly devices: Device[] = [];
  /** RAM and flash regions saved in snapshots, by name. */
  protected readonly savedMemory = new Map<string, MemoryRegion>();
  readonly peripherals: ObjectNode;
  readonly unattached: ObjectNode;
  /** `/chardevs`: every character device by id. */
  readonly chardevs: ChardevRegistry;
  private state: RunState = 'prelaunch';
  private anonCount = 0;

  constructor(typeName: string, options: MachineOptions) {
    super(typeName, 'machine');
    this.options = options;
    if (options.serial) this.serialPorts.push(...options.serial);
    this.log = options.log ?? new Log();
    const tree = new TreeRoot();
    tree.addChild('machine', this);
    this.chardevs = tree.addChild('chardevs', options.chardevRegistry ?? new ChardevRegistry());
    this.peripherals = this.addChild('peripheral', new ObjectNode('container'));
    this.addChild('peripheral-anon', new ObjectNode('container'));
    this.unattached = this.addChild('unattached', new ObjectNode('container'));
    this.sysmem = MemoryRegion.container('system', 2 ** 32);
    this.addressSpace = new AddressSpace('memory', this.sysmem, this.log);
    this.runner = new Runner(this.clock, {
      mode: options.mode ?? 'fast',
      nsPerInstruction: options.nsPerInstruction ?? this.defaultNsPerInstruction(),
      executors: [],
    });
    this.runner.onStateChange((running) => {
      if (this.state === 'shutdown') return;
      this.state = running ? 'running' : this.stopState;
      if (running) this.stopState = 'paused';
      this.events.emit(running ? 'resume' : 'stop');
    });
  }

  /** The CPU clock period in ns (62.5 for 16 MHz); machines override it. */
  protected defaultNsPerInstruction(): number {
    return 1;
  }

  /** Creates, wires and maps the devices (called once by `init`). */
  protected abstract build(): void;

  /** Builds and realizes the machine; called by the factory. */
  init(): this {
    this.build();
    this.realized = true;
    return this;
  }

  get runState(): RunState {
    return this.state;
  }

  /**
   * Adds a device under `parent` (default: this machine) and realizes it at once, so that the
   * caller can wire its lines and map its regions next. Set its properties before adding it.
   */
  addDevice<T extends Device>(name: string, device: T, parent: ObjectNode = this): T {
    parent.addChild(name, device);
    this.devices.push(device);
    device.realize({ clock: this.clock, log: this.log });
    return device;
  }

  /** Backends of the serial ports, by index (`-serial`); null: not connected. */
  readonly serialPorts: Array<Chardev | null> = [];

  /** How many serial ports the board has (UARTs wired to the outside). */
  get serialPortCount(): number {
    return 0;
  }

  /** The backend of serial port `index` (`-serial`), or null when it has none. */
  serialBackend(index: number): Chardev | null {
    return this.serialPorts[index] ?? null;
  }

  /** micro:bit board IDs this machine picks from a Universal Hex (undefined: none). */
  get boardIds(): readonly number[] | undefined {
    return undefined;
  }

  /** True for machines that map user devices' MMIO region 0 at their `addr` property. */
  get mapsUserDevices(): boolean {
    return false;
  }

  /**
   * Adds a user device (`-device DRIVER,id=ID`) under /machine/peripheral[-anon] and realizes
   * it. On machines that map user devices, its first MMIO region goes to its `addr`.
   */
  addUserDevice<T extends Device>(device: T, id?: string): T {
    if (id !== undefined) {
      if (this.peripherals.child(id)) throw new UserError(`Duplicate ID '${id}' for device`);
      this.addDevice(id, device, this.peripherals);
    } else {
      const anon = this.child('peripheral-anon')!;
      this.addDevice(`device[${this.anonCount++}]`, device, anon);
    }
    if (device.mmioRegions.length > 0) {
      if (!this.mapsUserDevices || !device.hasProperty('addr')) {
        throw new UserError(
          `Device '${device.typeName}' can not be dynamically instantiated on machine '${this.typeName.replace(/-machine$/, '')}'`,
        );
      }
      this.mapMmio(device, 0, device.getInt('addr'));
    }
    return device;
  }

  /** Maps a device's MMIO region `index` into system memory at `addr`. */
  mapMmio(device: Device, index: number, addr: number, priority = 0): void {
    this.sysmem.addSubregion(addr, device.mmio(index), priority);
  }

  /** Adds a RAM or ROM region to system memory and includes it in snapshots. */
  addMemory(addr: number, region: MemoryRegion, priority = 0): MemoryRegion {
    this.sysmem.addSubregion(addr, region, priority);
    this.savedMemory.set(region.name, region);
    return region;
  }

  /** Images placed in memory at start-up (symbols for GDB and tracing). */
  readonly loadedImages: LoadedImage[] = [];

  /**
   * Gives CPU `cpuIndex` an entry point from a loaded image (ELF entry, raw load address).
   * Machines without CPUs ignore it; M-profile machines take the PC from the vector table.
   */
  setEntryPoint(cpuIndex: number, entry: number): void {
    if (cpuIndex < 0) return;
    this.entryPoints.set(cpuIndex, entry);
  }

  /** Entry points given by loaders, by CPU index. */
  readonly entryPoints = new Map<number, number>();

  /** The reset at power-on, after images are loaded: no RESET event (QEMU emits none either). */
  powerOnReset(): void {
    for (const d of this.devices) d.reset();
    this.afterDeviceReset(true);
  }

  /** Machines with CPUs reset them here, after every device (the CPU reads its vector table). */
  protected afterDeviceReset(_powerOn: boolean): void {}

  addExecutor(cpu: Executor): void {
    this.runner.addExecutor(cpu);
  }

  // ---- run control ---------------------------------------------------------------------------

  /** Starts (or resumes) emulation in the background (realtime and fast modes). */
  start(): void {
    if (this.state === 'shutdown') throw new UserError('The machine has been shut down');
    this.runner.start();
  }

  /** Pauses emulation; QMP `stop`. */
  stop(reason: 'paused' | 'debug' = 'paused'): void {
    // QMP query-status reports 'debug' while a debugger holds the machine.
    this.stopState = reason;
    this.runner.stop();
    if (this.state === 'paused' || this.state === 'debug') this.state = reason;
  }

  private stopState: 'paused' | 'debug' = 'paused';

  /**
   * Runs one instruction's worth of virtual time (each runnable CPU executes at least one
   * instruction; with no CPU the clock moves by one instruction period and due timers fire).
   */
  step(): void {
    this.runFor(this.runner.nsPerInstruction);
  }

  /** Runs synchronously for `ns` virtual nanoseconds (fast mode), for tests and scripts. */
  runFor(ns: number): void {
    if (this.state === 'shutdown') throw new UserError('The machine has been shut down');
    this.runner.runFor(ns);
  }

  /** Resets every device (QMP `system_reset` or a guest request). */
  reset(reason: ResetCause = 'host-qmp-system-reset'): void {
    for (const d of this.devices) d.reset();
    this.afterDeviceReset(false);
    this.events.emit('reset', reason === 'guest-reset', reason);
  }

  /** A guest asks for a reset (e.g. AIRCR.SYSRESETREQ); `-no-reboot` turns it into shutdown. */
  requestGuestReset(): void {
    if (this.options.noReboot) this.shutdown('guest-reset');
    else this.reset('guest-reset');
  }

  /** Stops the machine for good (QMP `quit`, a signal, a guest power-off). */
  shutdown(reason: ShutdownCause): void {
    if (this.state === 'shutdown') return;
    this.runner.stop();
    const guest = reason === 'guest-shutdown' || reason === 'guest-reset';
    if (guest && this.options.noShutdown) {
      this.state = 'paused';
      this.events.emit('shutdown', guest, reason);
      return;
    }
    this.state = 'shutdown';
    this.events.emit('shutdown', guest, reason);
  }

  // ---- snapshot ----------------------------------------------------------------------------

  snapshot(): MachineSnapshot {
    const devices: Record<string, StateData> = {};
    for (const d of this.devices) devices[d.path] = d.saveState();
    const memory: Record<string, string> = {};
    for (const [name, r] of this.savedMemory) memory[name] = Buffer.from(r.data!).toString('base64');
    const cpus: Record<string, StateData> = {};
    for (const ex of this.runner.executorList) {
      const s = ex as Partial<StatefulExecutor>;
      if (typeof s.saveState === 'function') cpus[ex.name] = s.saveState();
    }
    return {
      format: 'tsemu-snapshot',
      version: 1,
      machine: this.typeName,
      clock: this.clock.saveState(),
      cpus,
      devices,
      memory,
    };
  }

  restore(snap: MachineSnapshot): void {
    if (snap.format !== 'tsemu-snapshot' || snap.version !== 1) {
      throw new UserError('snapshot: not a tsemu snapshot (format/version mismatch)');
    }
    if (snap.machine !== this.typeName) {
      throw new UserError(`snapshot: taken on machine type '${snap.machine}', this is '${this.typeName}'`);
    }
    for (const [name, r] of this.savedMemory) {
      const b64 = snap.memory[name];
      if (b64 === undefined) throw new UserError(`snapshot: memory region '${name}' missing`);
      const bytes = Buffer.from(b64, 'base64');
      if (bytes.length !== r.data!.length)
        throw new UserError(`snapshot: memory region '${name}' has the wrong size`);
      r.data!.set(bytes);
    }
    this.clock.loadState(snap.clock);
    for (const d of this.devices) {
      const s = snap.devices[d.path];
      if (s === undefined) throw new UserError(`snapshot: no state for device '${d.path}'`);
      d.loadState(s);
    }
    for (const ex of this.runner.executorList) {
      const s = ex as Partial<StatefulExecutor>;
      const state = snap.cpus?.[ex.name];
      if (typeof s.loadState !== 'function') continue;
      if (state === undefined) throw new UserError(`snapshot: no state for CPU '${ex.name}'`);
      s.loadState(state);
    }
  }
}

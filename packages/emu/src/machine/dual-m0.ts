/**
 * `tsemu-dual-m0` — a test machine (no real board): two Cortex-M0 cores, each in its own CPU
 * cluster, as QEMU's mps2-an521 puts its two Cortex-M33 cores. It exists so that the GDB stub's
 * multiprocess model (one GDB process per cluster, pid = cluster-id + 1) has a machine to run on.
 *
 * Object tree (QEMU-like paths)
 *   /machine/cluster0           cpu-cluster, cluster-id 0
 *   /machine/cluster0/cpu       cortex-m0-arm-cpu, cpu-index 0 (executor `cpu0`)
 *   /machine/cluster1           cpu-cluster, cluster-id 1
 *   /machine/cluster1/cpu       cortex-m0-arm-cpu, cpu-index 1 (executor `cpu1`)
 *   /machine/scs[0], scs[1]     each core's System Control Space (armv6m-scs, with SysTick)
 *   /machine/power              the power controller (below)
 *   /machine/testdev            tsemu-testdev on serial port 0
 * A cluster's children are only its CPUs (QEMU's rule), so the SCSs sit beside the clusters.
 *
 * Memory map (the same for both cores, except the SCS)
 *   0x00000000  256 KiB flash (ROM; loaders and debuggers write it, the guest cannot)
 *   0x20000000  64 KiB RAM, shared
 *   0x40000000  tsemu-testdev (TXD at +0x28 prints on serial port 0; its IRQ is CPU 0's IRQ 0)
 *   0x40001000  power controller
 *   0xE000E000  the SCS of the core that makes the access: each core has its own address space
 *               (`cpu-memory-0`, `cpu-memory-1`), a container holding an alias of the machine's
 *               system memory and, at a higher priority, that core's SCS. So NVIC, SCB and
 *               SysTick state is private to each core; the machine's own address space (qtest,
 *               loaders, `xp`) has no SCS.
 *
 * Power controller (0x40001000, 4 KiB; one register, everything else reads 0 and ignores writes)
 *   0x000 CPU1RUN  RW  bit 0: 1 = CPU 1 may run, 0 = CPU 1 is held (powered off). Reset value:
 *                      the machine property `cpu1-start` (default off). Releasing CPU 1 lets it
 *                      continue from where it stands (its reset state when it never ran);
 *                      holding it stops it at the next instruction boundary.
 * While held, CPU 1 reports `halted` and `sleeping` and executes nothing, even when a debugger
 * resumes it (a powered-off core in QEMU stays off too); a debugger can still attach it and read
 * or write its registers and memory. A single step of a held core completes only once it is
 * released.
 *
 * Machine properties
 *   cpu1-start    bool, default off: CPU 1 runs from reset (CPU1RUN resets to 1)
 *   cpu1-vectors  uint, default 0x1000: CPU 1's vector table (initial SP and reset vector)
 * CPU 0's vector table is at 0. Both cores reset after the devices.
 */
import { AddressSpace } from '../core/address-space.js';
import { Device, isBool, type StateData, stateField } from '../core/device.js';
import { UserError } from '../core/errors.js';
import { Machine, type MachineOptions } from '../core/machine.js';
import { type AccessSize, MemoryRegion } from '../core/memory.js';
import { declareType, ObjectNode } from '../core/object.js';
import { registerMachineType } from '../core/registry.js';
import { CortexM0 } from '../cpu/arm/cortex-m0.js';
import { CpuNode } from '../cpu/arm/cpu-node.js';
import { SCS_BASE, SystemControlSpace } from '../cpu/arm/system-control-space.js';
import { TestDevice } from '../hw/misc/tsemu-testdev.js';

export const DUAL_M0_FLASH_BASE = 0x0000_0000;
export const DUAL_M0_FLASH_SIZE = 256 * 1024;
export const DUAL_M0_RAM_BASE = 0x2000_0000;
export const DUAL_M0_RAM_SIZE = 64 * 1024;
export const DUAL_M0_TESTDEV_BASE = 0x4000_0000;
export const DUAL_M0_POWER_BASE = 0x4000_1000;
/** Offset of CPU1RUN in the power controller. */
export const POWER_CPU1RUN = 0x000;
export const DUAL_M0_CPU_HZ = 16_000_000;
export const DUAL_M0_CPU1_VECTORS_DEFAULT = 0x1000;

declareType('cpu-cluster', 'device');
declareType('tsemu-dual-m0-power', 'sys-bus-device');

/** A CPU cluster (QEMU's TYPE_CPU_CLUSTER): a GDB process per cluster; its children are CPUs. */
export class CpuCluster extends ObjectNode {
  readonly clusterId: number;

  constructor(clusterId: number) {
    super('cpu-cluster');
    this.clusterId = clusterId;
    this.declareProperty({
      name: 'cluster-id',
      type: 'int',
      get: () => this.clusterId,
      description: 'index of the cluster (the GDB process id is cluster-id + 1)',
    });
    this.realized = true;
  }

  /** The CPUs of this cluster, in cpu-index order. */
  get cpus(): CpuNode[] {
    const list: CpuNode[] = [];
    for (const c of this.children) if (c instanceof CpuNode) list.push(c);
    return list.sort((a, b) => a.index - b.index);
  }
}

/**
 * A Cortex-M0 whose power can be switched off. While off it executes nothing and reports both
 * `halted` and `sleeping` (QEMU models a powered-off core as halted, like one in WFI, so the GDB
 * stub shows it `[halted ]`), whatever a debugger or an interrupt does; the gate costs one
 * branch per slice, not per instruction.
 */
export class GatedCortexM0 extends CortexM0 {
  /** Held by the power controller (see the header). */
  poweredOff = false;

  override execute(maxInstructions: number): number {
    return this.poweredOff ? 0 : super.execute(maxInstructions);
  }

  override reset(): void {
    super.reset();
    this.applyGate();
  }

  override resume(): void {
    super.resume();
    this.applyGate();
  }

  override step(): void {
    super.step();
    this.applyGate();
  }

  override wake(event = false): void {
    super.wake(event);
    this.applyGate();
  }

  /** Powers the core off (it stops at the next instruction boundary) or on. */
  setPower(on: boolean): void {
    if (on === !this.poweredOff) return;
    this.poweredOff = !on;
    if (on) {
      this.sleeping = false;
      // Leave a debugger's stop or a lockup as it is.
      this.halted = this.debugStopped || this.lockup;
    } else {
      this.applyGate();
      this.requestExit();
    }
  }

  private applyGate(): void {
    if (!this.poweredOff) return;
    this.halted = true;
    this.sleeping = true;
  }

  override saveState(): StateData {
    return { ...(super.saveState() as Record<string, StateData>), poweredOff: this.poweredOff };
  }

  override loadState(state: StateData): void {
    super.loadState(state);
    this.poweredOff = stateField(state, 'poweredOff', isBool);
  }
}

/** The power controller: CPU1RUN (see the header). Its state lives in the CPU it gates. */
export class DualM0PowerControl extends Device {
  static readonly typeName = 'tsemu-dual-m0-power';
  private readonly cpu1: GatedCortexM0;
  /** Called after CPU 1 was released (the runner may be idle and must look again). */
  onRelease: (() => void) | null = null;

  constructor(cpu1: GatedCortexM0) {
    super(DualM0PowerControl.typeName);
    this.cpu1 = cpu1;
    this.addMmio(
      MemoryRegion.mmio('tsemu-dual-m0-power', 0x1000, {
        read: (offset: number, _size: AccessSize) =>
          offset === POWER_CPU1RUN && !this.cpu1.poweredOff ? 1 : 0,
        write: (offset: number, value: number, _size: AccessSize) => {
          if (offset !== POWER_CPU1RUN) return;
          const run = (value & 1) !== 0;
          this.cpu1.setPower(run);
          if (run) this.onRelease?.();
        },
      }),
    );
  }

  protected onRealize(): void {}

  protected onReset(): void {}

  saveState(): StateData {
    return {};
  }

  loadState(_state: StateData): void {}
}

/** One core with its cluster, its own address space and its own SCS. */
export interface DualM0Core {
  cluster: CpuCluster;
  cpu: GatedCortexM0;
  node: CpuNode;
  scs: SystemControlSpace;
  /** `cpu-memory-N`: system memory plus this core's SCS. */
  addressSpace: AddressSpace;
}

export class DualM0Machine extends Machine {
  readonly cores: DualM0Core[] = [];
  flash!: MemoryRegion;
  ram!: MemoryRegion;
  testdev!: TestDevice;
  power!: DualM0PowerControl;

  constructor(options: MachineOptions) {
    super('tsemu-dual-m0-machine', options);
    this.declareProperties(DUAL_M0_PROPERTIES);
  }

  protected override defaultNsPerInstruction(): number {
    return 1e9 / DUAL_M0_CPU_HZ;
  }

  override get serialPortCount(): number {
    return 1;
  }

  get cpu0(): GatedCortexM0 {
    return this.cores[0]!.cpu;
  }

  get cpu1(): GatedCortexM0 {
    return this.cores[1]!.cpu;
  }

  protected build(): void {
    const vectors = this.getInt('cpu1-vectors');
    if (vectors % 0x80 !== 0 || vectors + 8 > DUAL_M0_FLASH_SIZE) {
      throw new UserError(
        `tsemu-dual-m0: cpu1-vectors 0x${vectors.toString(16)} must be 128-byte aligned and inside the flash (256 KiB at 0)`,
      );
    }
    this.flash = this.addMemory(DUAL_M0_FLASH_BASE, MemoryRegion.rom('dual-m0.flash', DUAL_M0_FLASH_SIZE));
    this.ram = this.addMemory(DUAL_M0_RAM_BASE, MemoryRegion.ram('dual-m0.ram', DUAL_M0_RAM_SIZE));

    for (let i = 0; i < 2; i++) this.cores.push(this.buildCore(i));
    this.cpu1.vectorBase = vectors;

    const testdev = new TestDevice();
    const serial = this.serialBackend(0);
    if (serial) testdev.setProperty('chardev', serial.id);
    this.testdev = this.addDevice('testdev', testdev);
    this.mapMmio(testdev, 0, DUAL_M0_TESTDEV_BASE);
    testdev.gpioOut('', 0).connect(this.cores[0]!.scs.gpioIn('', 0));

    this.power = this.addDevice('power', new DualM0PowerControl(this.cpu1));
    this.power.onRelease = () => this.runner.kick();
    this.mapMmio(this.power, 0, DUAL_M0_POWER_BASE);
  }

  private buildCore(index: number): DualM0Core {
    // The core's view: all of system memory, with its own SCS in front.
    const root = MemoryRegion.container(`cpu-container-${index}`, 2 ** 32);
    root.addSubregion(0, MemoryRegion.alias(`cpu-sysmem-${index}`, this.sysmem, 0, 2 ** 32), 0);
    const addressSpace = new AddressSpace(`cpu-memory-${index}`, root, this.log);
    const cpu = new GatedCortexM0(`cpu${index}`, addressSpace);
    const cluster = this.addChild(`cluster${index}`, new CpuCluster(index));
    const node = cluster.addChild('cpu', new CpuNode(cpu, index));
    const scs = this.addDevice(
      `scs[${index}]`,
      new SystemControlSpace(cpu, { systick: true, cpuClockHz: DUAL_M0_CPU_HZ }),
    );
    root.addSubregion(SCS_BASE, scs.mmio(0), 1);
    scs.onSystemResetRequest = () => this.requestGuestReset();
    scs.onWake = () => this.runner.kick();
    this.addExecutor(cpu);
    return { cluster, cpu, node, scs, addressSpace };
  }

  protected override afterDeviceReset(_powerOn: boolean): void {
    this.cpu0.reset();
    this.cpu1.poweredOff = !this.getBool('cpu1-start');
    this.cpu1.reset();
  }
}

const DUAL_M0_PROPERTIES = [
  {
    name: 'cpu1-start',
    type: 'bool' as const,
    default: false,
    description: 'CPU 1 runs from reset (otherwise it waits for the power controller)',
  },
  {
    name: 'cpu1-vectors',
    type: 'uint' as const,
    default: DUAL_M0_CPU1_VECTORS_DEFAULT,
    description: "address of CPU 1's vector table",
  },
];

registerMachineType({
  name: 'tsemu-dual-m0',
  description: 'test machine: two Cortex-M0 in two CPU clusters',
  cpuMax: 2,
  defaultCpuType: 'cortex-m0-arm-cpu',
  properties: DUAL_M0_PROPERTIES,
  create: (options) => new DualM0Machine(options),
});

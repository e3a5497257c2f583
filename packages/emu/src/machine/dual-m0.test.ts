/**
 * The two-cluster test machine: each core runs its own code from one image, each sees its own
 * System Control Space, RAM is shared, CPU 1 waits for the power controller, snapshots round
 * trip. Most tests run firmware/dual-m0.c (see its header for what each core does).
 */
import { describe, expect, it } from 'vitest';
import { SerialStream } from '../chardev/serial-stream.js';
import { UserError } from '../core/errors.js';
import { findMachineType } from '../core/registry.js';
import { CpuNode } from '../cpu/arm/cpu-node.js';
import { SCS_BASE } from '../cpu/arm/system-control-space.js';
import { assembleThumb } from '../cpu/arm/thumb-asm.js';
import { requireFirmware } from '../loader/test-firmware.js';
import { createMachine, type MachineConfig } from './create.js';
import {
  CpuCluster,
  DUAL_M0_POWER_BASE,
  DUAL_M0_RAM_BASE,
  DUAL_M0_TESTDEV_BASE,
  type DualM0Machine,
} from './dual-m0.js';

const NVIC_ISER = SCS_BASE + 0x100;
/** 1 ms of virtual time: 16000 instructions at 16 MHz. */
const MS = 1_000_000;

function dual(config: MachineConfig = {}): DualM0Machine {
  return createMachine('tsemu-dual-m0', { mode: 'fast', ...config }) as DualM0Machine;
}

/** The address of a symbol of the image loaded with -kernel. */
function symbol(m: DualM0Machine, name: string): number {
  const s = m.loadedImages[0]?.symbols?.find((sym) => sym.name === name);
  if (!s) throw new Error(`no symbol ${name}`);
  return s.value & ~1;
}

function word(m: DualM0Machine, name: string): number {
  return m.addressSpace.read32(symbol(m, name)) >>> 0;
}

function withFirmware(config: MachineConfig = {}): DualM0Machine {
  return dual({ kernel: requireFirmware('dual-m0.elf'), ...config });
}

/** Writes a small program into flash at `addr` through the machine's loader path. */
function flashProgram(m: DualM0Machine, addr: number, source: string): void {
  m.addressSpace.writeDebug(addr, assembleThumb(source, addr).bytes);
}

describe('tsemu-dual-m0 machine type', () => {
  it('is registered with its description and two CPUs', () => {
    const t = findMachineType('tsemu-dual-m0');
    expect(t?.description).toBe('test machine: two Cortex-M0 in two CPU clusters');
    expect(t?.cpuMax).toBe(2);
    expect(t?.properties?.map((p) => p.name)).toEqual(['cpu1-start', 'cpu1-vectors']);
  });

  it('puts each CPU in its own cpu-cluster node with cluster-id 0 and 1', () => {
    const m = dual();
    for (const i of [0, 1]) {
      const cluster = m.resolve(`/machine/cluster${i}`);
      expect(cluster).toBeInstanceOf(CpuCluster);
      expect(cluster!.isA('cpu-cluster')).toBe(true);
      expect(cluster!.isA('device')).toBe(true);
      expect(cluster!.getProperty('cluster-id')).toBe(i);
      const cpu = m.resolve(`/machine/cluster${i}/cpu`);
      expect(cpu).toBeInstanceOf(CpuNode);
      expect(cpu!.typeName).toBe('cortex-m0-arm-cpu');
      expect(cpu!.getProperty('cpu-index')).toBe(i);
      expect((cpu as CpuNode).cpu).toBe(m.cores[i]!.cpu);
      expect((cluster as CpuCluster).cpus).toEqual([cpu]);
    }
    expect(m.runner.executorList.map((e) => e.name)).toEqual(['cpu0', 'cpu1']);
    expect(m.cores[0]!.addressSpace.name).toBe('cpu-memory-0');
    expect(m.cores[1]!.addressSpace.name).toBe('cpu-memory-1');
  });

  it('rejects a CPU 1 vector table outside flash or misaligned with one clear message', () => {
    expect(() => dual({ props: { 'cpu1-vectors': 0x40000 } })).toThrow(UserError);
    expect(() => dual({ props: { 'cpu1-vectors': 0x1004 } })).toThrow(
      'tsemu-dual-m0: cpu1-vectors 0x1004 must be 128-byte aligned and inside the flash (256 KiB at 0)',
    );
  });
});

describe('tsemu-dual-m0 running firmware/dual-m0.c', () => {
  it('runs each core from its own vector table and both print on serial port 0', () => {
    const m = withFirmware();
    expect(m.cpu0.pc).toBe(symbol(m, 'Reset_Handler0'));
    expect(m.cpu1.pc).toBe(symbol(m, 'Reset_Handler1'));
    expect(m.cpu1.sp).toBe(0x2000_e000);
    m.runFor(5 * MS);
    const serial = m.serialBackend(0);
    expect(serial).toBeInstanceOf(SerialStream);
    expect((serial as SerialStream).text()).toBe('core0 up\ncore1 up\n');
    expect(word(m, 'core0_ticks')).toBeGreaterThan(1000);
    expect(word(m, 'core1_ticks')).toBeGreaterThan(1000);
    expect(word(m, 'core0_milestones')).toBeGreaterThan(0);
  });

  it('gives each core its own NVIC: an enable bit set by one core is not seen by the other', () => {
    const m = withFirmware();
    m.runFor(2 * MS);
    expect(word(m, 'core0_iser')).toBe(1 << 3);
    expect(word(m, 'core1_iser')).toBe(1 << 5);
    expect(m.cores[0]!.addressSpace.read32(NVIC_ISER) >>> 0).toBe(1 << 3);
    expect(m.cores[1]!.addressSpace.read32(NVIC_ISER) >>> 0).toBe(1 << 5);
    expect(m.cores[0]!.scs.nvic.enabled >>> 0).toBe(1 << 3);
    expect(m.cores[1]!.scs.nvic.enabled >>> 0).toBe(1 << 5);
  });

  it('shares RAM between the cores and with the machine address space', () => {
    const m = withFirmware();
    m.runFor(2 * MS);
    const addr = symbol(m, 'core1_ticks');
    const seen = [m.addressSpace.read32(addr), m.cores[0]!.addressSpace.read32(addr)];
    expect(m.cores[1]!.addressSpace.read32(addr)).toBe(seen[0]);
    expect(seen[1]).toBe(seen[0]);
    m.cores[0]!.addressSpace.write32(DUAL_M0_RAM_BASE + 0x8000, 0x1234_5678);
    expect(m.cores[1]!.addressSpace.read32(DUAL_M0_RAM_BASE + 0x8000) >>> 0).toBe(0x1234_5678);
  });

  it('has no SCS in the machine address space: only the cores see one', () => {
    const m = dual();
    expect(m.addressSpace.rangeAt(NVIC_ISER)).toBeUndefined();
    expect(m.cores[0]!.addressSpace.rangeAt(NVIC_ISER)?.region.name).toBe('armv6m-scs.nvic');
    expect(m.cores[1]!.addressSpace.rangeAt(DUAL_M0_TESTDEV_BASE)?.region.name).toBe(m.testdev.mmio(0).name);
  });

  it('holds CPU 1 until CPU 0 releases it through the power controller', () => {
    const m = withFirmware();
    expect(m.cpu1.halted).toBe(true);
    expect(m.addressSpace.read32(DUAL_M0_POWER_BASE)).toBe(0);
    // CPU 0 releases CPU 1 right after its start-up: stop it first to see CPU 1 wait.
    m.cpu0.halt();
    m.runFor(2 * MS);
    expect(m.cpu1.pc).toBe(symbol(m, 'Reset_Handler1'));
    expect(word(m, 'core1_started')).toBe(0);
    // A debugger resuming a held core does not make it run.
    m.cpu1.resume();
    expect(m.cpu1.halted).toBe(true);
    expect(m.cpu1.sleeping).toBe(true);
    m.runFor(MS);
    expect(m.cpu1.pc).toBe(symbol(m, 'Reset_Handler1'));
    m.addressSpace.write32(DUAL_M0_POWER_BASE, 1);
    expect(m.cpu1.halted).toBe(false);
    expect(m.cpu1.sleeping).toBe(false);
    expect(m.addressSpace.read32(DUAL_M0_POWER_BASE)).toBe(1);
    m.runFor(MS);
    expect(word(m, 'core1_started')).toBe(1);
    expect(word(m, 'core1_ticks')).toBeGreaterThan(0);
    // Holding it again stops it where it is.
    m.addressSpace.write32(DUAL_M0_POWER_BASE, 0);
    const ticks = word(m, 'core1_ticks');
    m.runFor(MS);
    expect(word(m, 'core1_ticks')).toBe(ticks);
  });

  it('starts CPU 1 at once with cpu1-start=on and resets it to its vectors again', () => {
    const m = withFirmware({ props: { 'cpu1-start': true } });
    expect(m.cpu1.halted).toBe(false);
    expect(m.addressSpace.read32(DUAL_M0_POWER_BASE)).toBe(1);
    m.cpu0.halt();
    m.runFor(MS);
    expect(word(m, 'core1_started')).toBe(1);
    m.reset();
    expect(m.cpu1.pc).toBe(symbol(m, 'Reset_Handler1'));
    expect(m.cpu0.pc).toBe(symbol(m, 'Reset_Handler0'));
  });

  it('round-trips a snapshot: both cores continue exactly as the original', () => {
    const a = withFirmware();
    a.runFor(3 * MS);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = withFirmware();
    b.restore(snap);
    a.runFor(2 * MS);
    b.runFor(2 * MS);
    expect(b.cpu0.state()).toEqual(a.cpu0.state());
    expect(b.cpu1.state()).toEqual(a.cpu1.state());
    expect(word(b, 'core0_ticks')).toBe(word(a, 'core0_ticks'));
    expect(word(b, 'core1_ticks')).toBe(word(a, 'core1_ticks'));
    expect(b.clock.now).toBe(a.clock.now);
    expect(b.cores[1]!.scs.nvic.enabled >>> 0).toBe(1 << 5);
  });

  it('restores a held CPU 1 as held', () => {
    const a = withFirmware();
    a.cpu0.halt();
    a.runFor(MS);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = withFirmware();
    b.cpu0.halt();
    b.addressSpace.write32(DUAL_M0_POWER_BASE, 1);
    b.restore(snap);
    expect(b.cpu1.poweredOff).toBe(true);
    expect(b.cpu1.halted).toBe(true);
  });
});

describe('tsemu-dual-m0 with hand-written code', () => {
  it('uses cpu1-vectors as CPU 1 vector table', () => {
    const m = dual({ props: { 'cpu1-vectors': 0x2000, 'cpu1-start': true } });
    const vectors = new Uint8Array(8);
    const view = new DataView(vectors.buffer);
    view.setUint32(0, 0x2000_1000, true);
    view.setUint32(4, 0x2101, true);
    m.addressSpace.writeDebug(0x2000, vectors);
    flashProgram(m, 0x2100, 'movs r0, #42\nloop: b loop');
    m.reset();
    expect(m.cpu1.sp).toBe(0x2000_1000);
    expect(m.cpu1.pc).toBe(0x2100);
    m.cpu0.halt();
    m.runFor(MS);
    expect(m.cpu1.r[0]).toBe(42);
  });
});

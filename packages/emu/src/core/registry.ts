/**
 * The type registry: every machine and device type tsemu can build.
 *
 * `-M help`, `-device help`, QMP `query-machines`, `qom-list-types` and
 * `device-list-properties` all read it. Types register themselves when their module is
 * imported (see `machine/builtins.ts`, which imports every built-in type once).
 */
import type { Device } from './device.js';
import { UserError } from './errors.js';
import type { Machine, MachineOptions } from './machine.js';
import { declareType, type PropertyDef, typeAncestry } from './object.js';

export interface MachineTypeInfo {
  name: string;
  description: string;
  alias?: string;
  isDefault?: boolean;
  /** Largest number of CPUs the machine accepts (`query-machines` cpu-max). */
  cpuMax: number;
  defaultCpuType?: string;
  defaultRamId?: string;
  /** Machine properties settable with `-machine NAME,key=val`. */
  properties?: PropertyDef[];
  deprecated?: boolean;
  create: (options: MachineOptions) => Machine;
}

export interface DeviceTypeInfo {
  name: string;
  parent: string;
  description: string;
  abstract?: boolean;
  /** Can be created with `-device` / `device_add`. */
  userCreatable: boolean;
  /** Category shown by `-device help` (QEMU groups by category). */
  category:
    | 'Misc devices'
    | 'Storage devices'
    | 'Input devices'
    | 'Display devices'
    | 'CPU devices'
    | 'Uncategorized';
  create?: () => Device;
}

const machineTypes = new Map<string, MachineTypeInfo>();
const deviceTypes = new Map<string, DeviceTypeInfo>();

export function registerMachineType(info: MachineTypeInfo): void {
  if (machineTypes.has(info.name)) throw new Error(`machine type '${info.name}' registered twice`);
  machineTypes.set(info.name, info);
  declareType(`${info.name}-machine`, 'machine');
}

export function registerDeviceType(info: DeviceTypeInfo): void {
  if (deviceTypes.has(info.name)) throw new Error(`device type '${info.name}' registered twice`);
  deviceTypes.set(info.name, info);
  declareType(info.name, info.parent);
}

export function findMachineType(name: string): MachineTypeInfo | undefined {
  return machineTypes.get(name) ?? [...machineTypes.values()].find((m) => m.alias === name);
}

export function listMachineTypes(): MachineTypeInfo[] {
  return [...machineTypes.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function findDeviceType(name: string): DeviceTypeInfo | undefined {
  return deviceTypes.get(name);
}

export function listDeviceTypes(filter: { implements?: string; abstract?: boolean } = {}): DeviceTypeInfo[] {
  return [...deviceTypes.values()]
    .filter((t) => (filter.abstract ? true : !t.abstract))
    .filter((t) => !filter.implements || typeAncestry(t.name).includes(filter.implements))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Creates a user-creatable device by type name (`-device DRIVER`). */
export function createDeviceByType(name: string): Device {
  const t = deviceTypes.get(name);
  if (!t) throw new UserError(`'${name}' is not a valid device model name`);
  // Same checks and wording as QEMU's -device/device_add: abstract, then user-creatable.
  if (t.abstract || !t.create) throw new UserError("Parameter 'driver' expects a non-abstract device type");
  if (!t.userCreatable) throw new UserError("Parameter 'driver' expects a pluggable device type");
  return t.create();
}

/** `-M help` text. */
export function machineHelpText(): string {
  const lines = ['Supported machines are:'];
  for (const m of listMachineTypes()) {
    const label = m.isDefault ? `${m.description} (default)` : m.description;
    lines.push(`${m.name.padEnd(20)} ${label}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `-device help` text, grouped by category like QEMU's. */
export function deviceHelpText(): string {
  const byCategory = new Map<string, DeviceTypeInfo[]>();
  for (const t of listDeviceTypes()) {
    if (!t.userCreatable) continue;
    const list = byCategory.get(t.category) ?? [];
    list.push(t);
    byCategory.set(t.category, list);
  }
  const out: string[] = [];
  for (const [cat, list] of [...byCategory].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`${cat}:`);
    for (const t of list) out.push(`name "${t.name}", desc "${t.description}"`);
    out.push('');
  }
  return `${out.join('\n')}`;
}

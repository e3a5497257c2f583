/**
 * Building a machine from a configuration: the one path shared by the library API and the
 * command line (which is a thin layer that turns options into a `MachineConfig`).
 *
 * Order, as in QEMU: machine type → machine properties → chardevs → board devices realized
 * → user devices (`-device`) → images (`-device loader`, `-kernel`) → power-on reset.
 */
import type { Chardev } from '../chardev/chardev.js';
import { SerialStream } from '../chardev/serial-stream.js';
import type { Device } from '../core/device.js';
import { UserError } from '../core/errors.js';
import type { Machine, MachineOptions } from '../core/machine.js';
import type { PropertyValue } from '../core/object.js';
import { createDeviceByType, findMachineType } from '../core/registry.js';
import { GenericLoader } from '../hw/core/generic-loader.js';
import { type LoadedImage, loadImageFile, placeImage } from '../loader/index.js';
import './builtins.js';
import type { MicrobitMachine, MicrobitOptions } from './microbit.js';

export interface DeviceSpec {
  driver: string;
  id?: string;
  props?: Record<string, PropertyValue>;
}

export interface MachineConfig extends MachineOptions {
  /** User devices, as with `-device DRIVER,id=ID,prop=value`. */
  devices?: DeviceSpec[];
  /** Character devices to place under /chardevs before the devices are realized. */
  chardevs?: Chardev[];
  /** `-kernel FILE`: an image loaded before start; its entry point goes to CPU 0. */
  kernel?: string;
  /** Images already in memory form (e.g. MicroPython with a script), placed after the loaders. */
  images?: LoadedImage[];
}

/** Creates, builds and resets a machine of type `name` (e.g. `microbit`, `none`). */
export function createMachine(name: 'microbit', config?: MachineConfig & MicrobitOptions): MicrobitMachine;
export function createMachine(name: string, config?: MachineConfig): Machine;
export function createMachine(name: string, config: MachineConfig = {}): Machine {
  const type = findMachineType(name);
  if (!type) {
    throw new UserError(`unsupported machine type '${name}' (use -machine help to list supported machines)`);
  }
  const machine = type.create(config);
  for (const [key, value] of Object.entries(config.props ?? {})) {
    if (!machine.hasProperty(key)) throw new UserError(`Property '${type.name}-machine.${key}' not found`);
    machine.setProperty(key, value);
  }
  for (const chr of config.chardevs ?? []) machine.chardevs.add(chr);
  // Library use: serial ports nobody connected get a SerialStream the caller can read.
  if (config.serial === undefined) {
    for (let i = 0; i < machine.serialPortCount; i++) {
      const stream = new SerialStream(`serial${i}`);
      machine.chardevs.add(stream);
      machine.serialPorts.push(stream);
    }
  }
  machine.init();

  const loaders: GenericLoader[] = [];
  for (const spec of config.devices ?? []) {
    const device = makeDevice(spec);
    machine.addUserDevice(device, spec.id);
    if (device instanceof GenericLoader) loaders.push(device);
  }
  for (const loader of loaders) {
    const entry = loader.apply(machine.addressSpace, machine.boardIds);
    if (entry !== undefined) machine.setEntryPoint(loader.getInt('cpu-num'), entry);
  }
  if (config.kernel !== undefined) {
    const image = loadImageFile(config.kernel, machine.boardIds ? { boardIds: [...machine.boardIds] } : {});
    placeImage(machine.addressSpace, image);
    machine.loadedImages.push(image);
    if (image.entry !== undefined) machine.setEntryPoint(0, image.entry);
  }
  for (const l of loaders) if (l.image) machine.loadedImages.push(l.image);
  for (const image of config.images ?? []) {
    placeImage(machine.addressSpace, image);
    machine.loadedImages.push(image);
  }
  machine.powerOnReset();
  return machine;
}

function makeDevice(spec: DeviceSpec): Device {
  const device = createDeviceByType(spec.driver);
  for (const [key, value] of Object.entries(spec.props ?? {})) {
    if (!device.hasProperty(key)) {
      throw new UserError(`Property '${spec.driver}.${key}' not found`);
    }
    try {
      device.setProperty(key, value);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`-device ${spec.driver}: ${e.message}`);
      throw e;
    }
  }
  return device;
}

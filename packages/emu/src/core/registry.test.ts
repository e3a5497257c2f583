import { describe, expect, it } from 'vitest';
import { Device, type StateData } from './device.js';
import { UserError } from './errors.js';
import { typeAncestry } from './object.js';
import {
  createDeviceByType,
  deviceHelpText,
  findDeviceType,
  findMachineType,
  listDeviceTypes,
  listMachineTypes,
  machineHelpText,
  registerDeviceType,
  registerMachineType,
} from './registry.js';

// The registry is global to the module: every name here starts with `test-reg-` and is
// registered once, at load time, so the tests can run in any order.

class PlainDevice extends Device {
  constructor(typeName: string) {
    super(typeName);
  }
  protected onRealize(): void {}
  protected onReset(): void {}
  saveState(): StateData {
    return null;
  }
  loadState(_state: StateData): void {}
}

const notBuilt = (): never => {
  throw new Error('machine not built in registry tests');
};

registerMachineType({
  name: 'test-reg-board',
  description: 'Test board',
  alias: 'test-reg-alias',
  isDefault: true,
  cpuMax: 1,
  create: notBuilt,
});
registerMachineType({ name: 'test-reg-another', description: 'Another board', cpuMax: 2, create: notBuilt });

registerDeviceType({
  name: 'test-reg-abstract-bus-dev',
  parent: 'sys-bus-device',
  description: 'abstract base',
  abstract: true,
  userCreatable: false,
  category: 'Misc devices',
});
registerDeviceType({
  name: 'test-reg-led',
  parent: 'test-reg-abstract-bus-dev',
  description: 'an LED',
  userCreatable: true,
  category: 'Misc devices',
  create: () => new PlainDevice('test-reg-led'),
});
registerDeviceType({
  name: 'test-reg-button',
  parent: 'device',
  description: 'a button',
  userCreatable: true,
  category: 'Input devices',
  create: () => new PlainDevice('test-reg-button'),
});
registerDeviceType({
  name: 'test-reg-soc-part',
  parent: 'sys-bus-device',
  description: 'built by the board only',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new PlainDevice('test-reg-soc-part'),
});

describe('machine types', () => {
  it('finds a machine by name and by alias', () => {
    expect(findMachineType('test-reg-board')?.description).toBe('Test board');
    expect(findMachineType('test-reg-alias')?.name).toBe('test-reg-board');
    expect(findMachineType('test-reg-nope')).toBeUndefined();
  });

  it('declares NAME-machine as a machine type', () => {
    expect(typeAncestry('test-reg-board-machine')).toEqual(['test-reg-board-machine', 'machine', 'object']);
  });

  it('lists machines sorted by name', () => {
    const names = listMachineTypes().map((m) => m.name);
    expect(names).toEqual(['test-reg-another', 'test-reg-board']);
  });

  it('refuses a second registration of the same name', () => {
    expect(() =>
      registerMachineType({ name: 'test-reg-board', description: 'again', cpuMax: 1, create: notBuilt }),
    ).toThrow("machine type 'test-reg-board' registered twice");
  });

  it('prints -M help with the default marked', () => {
    expect(machineHelpText()).toBe(
      [
        'Supported machines are:',
        `${'test-reg-another'.padEnd(20)} Another board`,
        `${'test-reg-board'.padEnd(20)} Test board (default)`,
        '',
      ].join('\n'),
    );
  });
});

describe('device types', () => {
  it('finds a device type by name and records its parent', () => {
    expect(findDeviceType('test-reg-led')?.description).toBe('an LED');
    expect(findDeviceType('test-reg-nope')).toBeUndefined();
    expect(typeAncestry('test-reg-led')).toEqual([
      'test-reg-led',
      'test-reg-abstract-bus-dev',
      'sys-bus-device',
      'device',
      'object',
    ]);
  });

  it('refuses a second registration of the same name', () => {
    expect(() =>
      registerDeviceType({
        name: 'test-reg-led',
        parent: 'device',
        description: 'again',
        userCreatable: true,
        category: 'Misc devices',
      }),
    ).toThrow("device type 'test-reg-led' registered twice");
  });

  it('lists concrete types sorted by name, leaving abstract ones out by default', () => {
    expect(listDeviceTypes().map((t) => t.name)).toEqual([
      'test-reg-button',
      'test-reg-led',
      'test-reg-soc-part',
    ]);
  });

  it('includes abstract types when asked', () => {
    expect(listDeviceTypes({ abstract: true }).map((t) => t.name)).toEqual([
      'test-reg-abstract-bus-dev',
      'test-reg-button',
      'test-reg-led',
      'test-reg-soc-part',
    ]);
    expect(listDeviceTypes({ abstract: false }).map((t) => t.name)).not.toContain(
      'test-reg-abstract-bus-dev',
    );
  });

  it('filters by an implemented ancestor type', () => {
    expect(listDeviceTypes({ implements: 'sys-bus-device' }).map((t) => t.name)).toEqual([
      'test-reg-led',
      'test-reg-soc-part',
    ]);
    expect(
      listDeviceTypes({ implements: 'test-reg-abstract-bus-dev', abstract: true }).map((t) => t.name),
    ).toEqual(['test-reg-abstract-bus-dev', 'test-reg-led']);
    expect(listDeviceTypes({ implements: 'device' })).toHaveLength(3);
    expect(listDeviceTypes({ implements: 'cpu' })).toEqual([]);
  });

  it('creates a user-creatable device by name', () => {
    const d = createDeviceByType('test-reg-led');
    expect(d).toBeInstanceOf(PlainDevice);
    expect(d.typeName).toBe('test-reg-led');
    expect(d.isA('sys-bus-device')).toBe(true);
    expect(d.realized).toBe(false);
    expect(createDeviceByType('test-reg-led')).not.toBe(d);
  });

  it('rejects an unknown device name as QEMU does', () => {
    expect(() => createDeviceByType('test-reg-nope')).toThrow(UserError);
    expect(() => createDeviceByType('test-reg-nope')).toThrow(
      "'test-reg-nope' is not a valid device model name",
    );
  });

  it('rejects an abstract type as QEMU does', () => {
    expect(() => createDeviceByType('test-reg-abstract-bus-dev')).toThrow(
      "Parameter 'driver' expects a non-abstract device type",
    );
  });

  it('rejects a type that only boards may create as QEMU does', () => {
    expect(() => createDeviceByType('test-reg-soc-part')).toThrow(UserError);
    expect(() => createDeviceByType('test-reg-soc-part')).toThrow(
      "Parameter 'driver' expects a pluggable device type",
    );
  });

  it('prints -device help grouped by category, user-creatable types only', () => {
    expect(deviceHelpText()).toBe(
      [
        'Input devices:',
        'name "test-reg-button", desc "a button"',
        '',
        'Misc devices:',
        'name "test-reg-led", desc "an LED"',
        '',
      ].join('\n'),
    );
  });
});

/**
 * Every device type tsemu registers must survive a snapshot round trip: the state saved from
 * one machine, restored into a fresh one, saves back to the same data and behaves the same.
 */
import { describe, expect, it } from 'vitest';
import { listDeviceTypes } from '../core/registry.js';
import { createMachine } from './create.js';

const userDevices = listDeviceTypes({ implements: 'device' }).filter((t) => t.userCreatable && t.create);

/** Properties a device type needs to be created on its own. */
const REQUIRED_PROPS: Record<string, Record<string, number>> = {
  loader: { addr: 0x100, data: 0x5a, 'data-len': 1 },
};

describe('device snapshot round trip', () => {
  it('covers at least the built-in devices', () => {
    expect(userDevices.map((t) => t.name)).toEqual(expect.arrayContaining(['loader', 'tsemu-testdev']));
  });

  for (const type of userDevices) {
    it(`${type.name}: restored state equals saved state and survives JSON`, () => {
      const props = REQUIRED_PROPS[type.name] ?? {};
      const build = () =>
        createMachine('none', { ramSize: 4096, devices: [{ driver: type.name, id: 'dut', props }] });
      const a = build();
      a.runFor(123_456);
      const saved = JSON.parse(JSON.stringify(a.snapshot()));
      const b = build();
      b.restore(saved);
      const dut = (m: ReturnType<typeof build>) =>
        m.devices.find((d) => d.path === '/machine/peripheral/dut')!;
      expect(dut(b).saveState()).toEqual(dut(a).saveState());
      expect(b.snapshot()).toEqual(saved);
    });
  }
});

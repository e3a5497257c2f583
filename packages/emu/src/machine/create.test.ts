import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { findMachineType, listDeviceTypes, machineHelpText } from '../core/registry.js';
import { createMachine } from './create.js';

describe('createMachine', () => {
  it('builds the none machine with RAM at 0 and the QOM containers', () => {
    const m = createMachine('none', { ramSize: 64 * 1024 });
    expect(m.path).toBe('/machine');
    expect(m.resolve('/machine/peripheral')).toBeDefined();
    expect(m.resolve('/machine/unattached')).toBeDefined();
    expect(m.resolve('/chardevs')).toBeDefined();
    expect(m.addressSpace.write32(0xfffc, 0x11223344)).toBe(0);
    expect(m.addressSpace.read32(0xfffc)).toBe(0x11223344);
    expect(m.addressSpace.read32(0x10000)).toBeLessThan(0); // beyond RAM: bus error
    expect(m.runState).toBe('prelaunch');
  });

  it('rejects an unknown machine type with a clear message', () => {
    expect(() => createMachine('nope')).toThrow(UserError);
    expect(() => createMachine('nope')).toThrow(
      "unsupported machine type 'nope' (use -machine help to list supported machines)",
    );
  });

  it('rejects unknown drivers and unknown device properties', () => {
    expect(() => createMachine('none', { devices: [{ driver: 'no-such-dev' }] })).toThrow(
      "'no-such-dev' is not a valid device model name",
    );
    expect(() =>
      createMachine('none', { devices: [{ driver: 'tsemu-testdev', props: { colour: 'red' } }] }),
    ).toThrow("Property 'tsemu-testdev.colour' not found");
    expect(() =>
      createMachine('none', {
        devices: [
          { driver: 'tsemu-testdev', id: 'x' },
          { driver: 'tsemu-testdev', id: 'x', props: { addr: 0x5000_0000 } },
        ],
      }),
    ).toThrow("Duplicate ID 'x' for device");
  });

  it('loads an image with -device loader and keeps the bytes in RAM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-create-'));
    const file = join(dir, 'blob.bin');
    writeFileSync(file, Uint8Array.of(1, 2, 3, 4, 5));
    const m = createMachine('none', {
      ramSize: 4096,
      devices: [{ driver: 'loader', props: { file, addr: 0x100 } }],
    });
    expect([...m.addressSpace.readDebug(0x100, 5)!]).toEqual([1, 2, 3, 4, 5]);
    expect(m.loadedImages).toHaveLength(1);
  });

  it('writes a single value with loader data= and data-len=', () => {
    const m = createMachine('none', {
      ramSize: 4096,
      devices: [{ driver: 'loader', props: { addr: 0x20, data: 0x11223344, 'data-len': 4 } }],
    });
    expect(m.addressSpace.read32(0x20)).toBe(0x11223344);
  });

  it('reports an image that does not fit in memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-create-'));
    const file = join(dir, 'big.bin');
    writeFileSync(file, new Uint8Array(64));
    expect(() =>
      createMachine('none', { ramSize: 32, devices: [{ driver: 'loader', props: { file, addr: 0 } }] }),
    ).toThrow(/outside every memory region/);
  });

  it('registers machines and devices for -M help and qom-list-types', () => {
    expect(findMachineType('none')?.cpuMax).toBe(1);
    expect(machineHelpText()).toMatch(/^none\s+empty machine$/m);
    const names = listDeviceTypes({ implements: 'device' }).map((t) => t.name);
    expect(names).toContain('tsemu-testdev');
    expect(names).toContain('loader');
  });

  it('shuts down and refuses to run afterwards', () => {
    const m = createMachine('none');
    const events: string[] = [];
    m.events.on('shutdown', (guest, reason) => events.push(`${guest}:${reason}`));
    m.shutdown('host-qmp-quit');
    expect(events).toEqual(['false:host-qmp-quit']);
    expect(m.runState).toBe('shutdown');
    expect(() => m.runFor(10)).toThrow('The machine has been shut down');
  });

  it('turns a guest reset into a shutdown with -no-reboot', () => {
    const m = createMachine('none', { noReboot: true });
    const events: string[] = [];
    m.events.on('reset', () => events.push('reset'));
    m.events.on('shutdown', (_g, reason) => events.push(`shutdown:${reason}`));
    m.requestGuestReset();
    expect(events).toEqual(['shutdown:guest-reset']);
  });

  it('snapshots RAM and restores it into a fresh machine', () => {
    const a = createMachine('none', { ramSize: 1024 });
    a.addressSpace.write32(0x40, 0xcafef00d);
    a.runFor(5000);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = createMachine('none', { ramSize: 1024 });
    b.restore(snap);
    expect(b.addressSpace.read32(0x40)).toBe(0xcafef00d);
    expect(b.clock.now).toBe(5000);
    const small = createMachine('none', { ramSize: 512 });
    expect(() => small.restore(snap)).toThrow("snapshot: memory region 'ram' has the wrong size");
  });
});

describe('run states', () => {
  it("reports 'debug' while a debugger stopped the machine, then 'running' again", () => {
    const m = createMachine('none');
    m.start();
    expect(m.runState).toBe('running');
    m.stop('debug');
    expect(m.runState).toBe('debug');
    m.start();
    expect(m.runState).toBe('running');
    m.stop();
    expect(m.runState).toBe('paused');
  });
});

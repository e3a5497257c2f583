import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Machine } from '../../core/machine.js';
import { createMachine } from '../../machine/create.js';
import type { MicrobitMachine } from '../../machine/microbit.js';
import { QmpTestClient } from './testing.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

async function setup(name = 'microbit', qtest = false): Promise<{ m: Machine; c: QmpTestClient }> {
  // qtest mode: time moves without the CPU executing (no firmware is loaded here).
  const m = createMachine(name, { mode: qtest ? 'qtest' : 'fast' });
  const c = new QmpTestClient(m, qtest ? { displayEvents: true } : {});
  cleanup.push(() => {
    c.close();
    m.stop();
  });
  await c.ready();
  return { m, c };
}

const ret = (msg: Record<string, unknown>): unknown => {
  if (!('return' in msg)) throw new Error(`expected a return, got ${JSON.stringify(msg)}`);
  return msg.return;
};

describe('query commands', () => {
  it('query-version reports the QEMU interface version and tsemu package', async () => {
    const { c } = await setup('none');
    expect(ret(c.execute('query-version'))).toEqual({
      qemu: { major: 7, minor: 2, micro: 0 },
      package: 'tsemu 1.2.3',
    });
  });

  it('query-machines lists the micro:bit as QEMU 7.2 does', async () => {
    const { c } = await setup('none');
    const machines = ret(c.execute('query-machines')) as Array<Record<string, unknown>>;
    expect(machines.find((m) => m.name === 'microbit')).toEqual({
      'hotpluggable-cpus': false,
      name: 'microbit',
      'numa-mem-supported': false,
      'cpu-max': 1,
      'default-cpu-type': 'cortex-m0-arm-cpu',
      deprecated: false,
    });
  });

  it("query-cpus-fast reports the micro:bit's CPU at QEMU's path", async () => {
    const { c } = await setup();
    expect(ret(c.execute('query-cpus-fast'))).toEqual([
      { 'thread-id': process.pid, 'qom-path': '/machine/nrf51/armv6m/cpu', 'cpu-index': 0, target: 'arm' },
    ]);
  });

  it('query-commands lists board commands only on the board', async () => {
    const none = await setup('none');
    const bit = await setup('microbit');
    const names = (c: QmpTestClient) =>
      (ret(c.execute('query-commands')) as Array<{ name: string }>).map((x) => x.name);
    expect(names(none.c)).toContain('qom-get');
    expect(names(none.c)).not.toContain('microbit-button');
    expect(names(bit.c)).toContain('microbit-button');
    expect(none.c.execute('microbit-button', { button: 'a', pressed: true })).toEqual({
      error: { class: 'CommandNotFound', desc: 'The command microbit-button has not been found' },
    });
  });

  it('query-qmp-schema describes commands, events and their types as SchemaInfo', async () => {
    const { c } = await setup();
    const schema = ret(c.execute('query-qmp-schema')) as Array<Record<string, unknown>>;
    const byName = new Map(schema.map((s) => [s.name, s]));
    expect(byName.get('query-status')).toEqual({
      name: 'query-status',
      'meta-type': 'command',
      'arg-type': 'q_empty',
      'ret-type': 'StatusInfo',
      'allow-oob': true,
    });
    expect(byName.get('q_empty')).toEqual({ name: 'q_empty', 'meta-type': 'object', members: [] });
    const qomGet = byName.get('qom-get')!;
    expect(byName.get(qomGet['arg-type'] as string)).toEqual({
      name: 'qom-get-arg',
      'meta-type': 'object',
      members: [
        { name: 'path', type: 'str' },
        { name: 'property', type: 'str' },
      ],
    });
    expect(byName.get('str')).toEqual({ name: 'str', 'meta-type': 'builtin', 'json-type': 'string' });
    expect(byName.get('[CommandInfo]')).toEqual({
      name: '[CommandInfo]',
      'meta-type': 'array',
      'element-type': 'CommandInfo',
    });
    expect(byName.get('RESET')).toEqual({ name: 'RESET', 'meta-type': 'event', 'arg-type': 'RESET-data' });
    expect(byName.get('MICROBIT_DISPLAY')).toBeDefined();
    // Every type a command or member refers to is described.
    for (const s of schema) {
      for (const key of ['arg-type', 'ret-type', 'element-type']) {
        if (s[key] !== undefined) expect(byName.has(s[key]), `${String(s.name)}.${key}`).toBe(true);
      }
      for (const member of (s.members as Array<{ type?: string }> | undefined) ?? []) {
        if (member.type !== undefined) expect(byName.has(member.type), `${String(s.name)} member`).toBe(true);
      }
    }
  });
});

describe('QOM commands', () => {
  it('qom-list shows properties and children as child<TYPE>', async () => {
    const { c } = await setup();
    const props = ret(c.execute('qom-list', { path: '/machine/nrf51' })) as Array<{
      name: string;
      type: string;
    }>;
    expect(props).toContainEqual({ name: 'type', type: 'string' });
    expect(props).toContainEqual({ name: 'uart', type: 'child<nrf51_soc.uart>' });
  });

  it('qom-get reads the type, properties, and resolves partial paths', async () => {
    const { c } = await setup();
    expect(ret(c.execute('qom-get', { path: '/machine/nrf51', property: 'type' }))).toBe('nrf51-soc');
    expect(ret(c.execute('qom-get', { path: 'button-a', property: 'pressed' }))).toBe(false);
    expect(c.execute('qom-get', { path: '/machine/nrf51', property: 'nope' })).toEqual({
      error: { class: 'GenericError', desc: "Property 'nrf51-soc.nope' not found" },
    });
  });

  it('qom-set presses a button through its run-time property and refuses realize-time ones', async () => {
    const { m, c } = await setup();
    expect(
      ret(c.execute('qom-set', { path: '/machine/button-a', property: 'pressed', value: true })),
    ).toEqual({});
    expect((m as MicrobitMachine).buttonA.isPressed).toBe(true);
    const err = c.execute('qom-set', { path: '/machine/display', property: 'window-ns', value: 5000 });
    expect(err).toMatchObject({ error: { class: 'GenericError' } });
    expect((err.error as { desc: string }).desc).toMatch(
      /^Attempt to set property 'window-ns' on .* after it was realized$/,
    );
  });

  it('qom-set takes typed JSON values only: a string is not a boolean', async () => {
    const { m, c } = await setup();
    const err = c.execute('qom-set', { path: '/machine/button-a', property: 'pressed', value: 'on' });
    expect(err).toMatchObject({
      error: { class: 'GenericError', desc: "Invalid parameter type for 'pressed', expected: boolean" },
    });
    expect((m as MicrobitMachine).buttonA.isPressed).toBe(false);
    const err2 = c.execute('qom-set', { path: '/machine/accelerometer', property: 'x', value: '5' });
    expect(err2).toMatchObject({ error: { desc: "Invalid parameter type for 'x', expected: integer" } });
  });

  it('qom-list-types filters by implements and abstract', async () => {
    const { c } = await setup('none');
    const concrete = ret(c.execute('qom-list-types', { implements: 'device' })) as Array<
      Record<string, unknown>
    >;
    expect(concrete).toContainEqual({ name: 'nrf51-soc', parent: 'sys-bus-device' });
    expect(concrete.some((t) => t.name === 'device')).toBe(false);
    const all = ret(c.execute('qom-list-types', { implements: 'device', abstract: true })) as Array<
      Record<string, unknown>
    >;
    expect(all).toContainEqual({ name: 'device', parent: 'object', abstract: true });
  });

  it('device-list-properties lists a device type with types and defaults', async () => {
    const { c } = await setup('none');
    const props = ret(c.execute('device-list-properties', { typename: 'microbit.led-matrix' }));
    expect(props).toContainEqual({
      name: 'window-ns',
      type: 'uint64',
      description: 'length of a display frame in virtual ns',
      'default-value': 18_000_000,
    });
    expect(c.execute('device-list-properties', { typename: 'nope' })).toEqual({
      error: { class: 'DeviceNotFound', desc: "Device 'nope' not found" },
    });
  });
});

describe('micro:bit board commands', () => {
  it('presses buttons, sets sensors and pins, and reads them back with query-microbit', async () => {
    const { m, c } = await setup();
    const bit = m as MicrobitMachine;
    expect(ret(c.execute('microbit-button', { button: 'b', pressed: true }))).toEqual({});
    expect(bit.buttonB.isPressed).toBe(true);
    c.execute('microbit-set-accelerometer', { x: 10, y: -20, z: -1024 });
    expect(bit.accelerometer.values).toEqual([10, -20, -1024]);
    c.execute('microbit-set-compass', { x: 1, y: 2, z: 3 });
    expect(bit.compass.values).toEqual([1, 2, 3]);
    c.execute('microbit-set-temperature', { celsius: 31.5 });
    expect(bit.soc.temp.getInt('temperature')).toBe(31_500);
    c.execute('microbit-set-pin', { pin: 'P0', level: 1 });
    expect(bit.pins.level('P0')).toBe(1);
    c.execute('microbit-set-pin', { pin: 'P0', level: 0 });
    expect(bit.pins.level('P0')).toBe(0);
    const state = ret(c.execute('query-microbit')) as Record<string, unknown>;
    expect(state).toMatchObject({ 'button-a': false, 'button-b': true, accelerometer: [10, -20, -1024] });
    expect(state.display).toHaveLength(25);
    expect(state.pins).toContainEqual({ name: 'P0', output: -1, level: 0 });
  });

  it('reports bad board arguments as GenericError', async () => {
    const { c } = await setup();
    expect(c.execute('microbit-button', { button: 'c', pressed: true })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'button' does not accept value 'c'" },
    });
    expect(c.execute('microbit-set-pin', { pin: 'P17', level: 1 })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'pin' does not accept value 'P17'" },
    });
    expect(c.execute('microbit-set-light-level', { level: 300 })).toMatchObject({
      error: { class: 'GenericError' },
    });
  });

  it('maps input-send-event keys a and b to the buttons', async () => {
    const { m, c } = await setup();
    const bit = m as MicrobitMachine;
    const key = (data: string, down: boolean) => ({
      type: 'key',
      data: { down, key: { type: 'qcode', data } },
    });
    c.execute('input-send-event', { events: [key('a', true), key('b', true)] });
    expect([bit.buttonA.isPressed, bit.buttonB.isPressed]).toEqual([true, true]);
    c.execute('input-send-event', { events: [key('a', false)] });
    expect([bit.buttonA.isPressed, bit.buttonB.isPressed]).toEqual([false, true]);
    expect(c.execute('input-send-event', { events: [{ type: 'key', data: { down: true } }] })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'events[0].data.key' is missing" },
    });
  });

  it('emits MICROBIT_DISPLAY when the picture changes, only then', async () => {
    const { m, c } = await setup('microbit', true);
    const bit = m as MicrobitMachine;
    // Light the top-left LED: row 0 high, column 0 low (matrix position (0, 0) is LED 0).
    bit.display.gpioIn('row', 0).set(1);
    bit.display.gpioIn('col', 0).set(0);
    m.runFor(40_000_000);
    const events = c.drain().filter((e) => e.event === 'MICROBIT_DISPLAY');
    expect(events).toHaveLength(1);
    const data = events[0]!.data as { levels: number[]; brightness: number[] };
    expect(data.levels[0]).toBe(9);
    expect(data.brightness[0]).toBe(255);
    expect(data.levels.slice(1).every((l) => l === 0)).toBe(true);
    bit.display.gpioIn('col', 0).set(1);
    m.runFor(40_000_000);
    const off = c.drain().filter((e) => e.event === 'MICROBIT_DISPLAY');
    expect((off.at(-1)!.data as { levels: number[] }).levels[0]).toBe(0);
  });

  it('screendump writes the display as PPM by default and as PNG', async () => {
    const { m, c } = await setup('microbit', true);
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-shot-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const bit = m as MicrobitMachine;
    bit.display.gpioIn('row', 0).set(1);
    bit.display.gpioIn('col', 0).set(0);
    m.runFor(40_000_000);
    expect(ret(c.execute('screendump', { filename: join(dir, 'a.ppm') }))).toEqual({});
    const ppm = readFileSync(join(dir, 'a.ppm'));
    const header = 'P6\n160 160\n255\n';
    expect(ppm.subarray(0, header.length).toString('latin1')).toBe(header);
    expect(ppm.length).toBe(header.length + 160 * 160 * 3);
    // The centre of LED 0 is bright red.
    const px = header.length + (16 * 160 + 16) * 3;
    expect([...ppm.subarray(px, px + 3)]).toEqual([255, 0, 0]);

    c.execute('screendump', { filename: join(dir, 'a.png'), format: 'png' });
    const png = readFileSync(join(dir, 'a.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(160);
    const idatLen = png.readUInt32BE(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe(160 * (160 * 3 + 1));
    expect(c.execute('screendump', { filename: join(dir, 'no/such/dir.ppm') })).toMatchObject({
      error: {
        class: 'GenericError',
        desc: expect.stringMatching(/^Could not open '.*': No such file or directory$/),
      },
    });
  });
});

describe('query-cpus-fast on the two-cluster machine', () => {
  it('reports each CPU at its object-tree path', async () => {
    const { createMachine } = await import('../../machine/create.js');
    const { QmpTestClient } = await import('./testing.js');
    const m = createMachine('tsemu-dual-m0');
    const c = new QmpTestClient(m);
    await c.ready();
    const r = c.execute('query-cpus-fast') as { return: Array<{ 'qom-path': string; 'cpu-index': number }> };
    expect(r.return.map((cpu) => [cpu['cpu-index'], cpu['qom-path']])).toEqual([
      [0, '/machine/cluster0/cpu'],
      [1, '/machine/cluster1/cpu'],
    ]);
  });
});

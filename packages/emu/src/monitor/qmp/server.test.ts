import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketChardev } from '../../chardev/socket.js';
import { UserError } from '../../core/errors.js';
import type { Machine } from '../../core/machine.js';
import { createMachine } from '../../machine/create.js';
import { startQmpServer } from './server.js';
import { QmpTestClient } from './testing.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function machine(name = 'none'): Machine {
  const m = createMachine(name, { mode: 'fast' });
  cleanup.push(() => m.stop());
  return m;
}

function client(m: Machine, options = {}): QmpTestClient {
  const c = new QmpTestClient(m, options);
  cleanup.push(() => c.close());
  return c;
}

describe('QMP greeting and negotiation', () => {
  it('greets with the QEMU version tsemu follows, its own package version and the oob capability', async () => {
    const c = client(machine());
    expect(await c.connect()).toEqual({
      QMP: {
        version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'tsemu 1.2.3' },
        capabilities: ['oob'],
      },
    });
  });

  it("writes QEMU's byte layout, each message ending in \\r\\n", async () => {
    const c = client(machine());
    await c.chardev.open();
    expect(c.rawText()).toBe(
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "tsemu 1.2.3"}, "capabilities": ["oob"]}}\r\n',
    );
    c.sendRaw('{"execute": "qmp_capabilities", "id": 1}');
    expect(c.rawText()).toBe('{"return": {}, "id": 1}\r\n');
  });

  it('refuses other commands before qmp_capabilities with CommandNotFound', async () => {
    const c = client(machine());
    await c.connect();
    for (const name of ['query-status', 'no-such-command']) {
      expect(c.execute(name, undefined, 'x')).toEqual({
        error: {
          class: 'CommandNotFound',
          desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
        },
        id: 'x',
      });
    }
  });

  it('accepts qmp_capabilities once; a second one is CommandNotFound', async () => {
    const c = client(machine());
    await c.connect();
    expect(c.execute('qmp_capabilities')).toEqual({ return: {} });
    expect(c.execute('qmp_capabilities')).toEqual({
      error: {
        class: 'CommandNotFound',
        desc: 'Capabilities negotiation is already complete, command ignored',
      },
    });
  });

  it('accepts enable: ["oob"] and rejects an unknown capability with GenericError', async () => {
    const c = client(machine());
    await c.connect();
    expect(c.execute('qmp_capabilities', { enable: ['bogus'] })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'null' does not accept value 'bogus'" },
    });
    expect(c.execute('qmp_capabilities', { enable: ['oob'] })).toEqual({ return: {} });
  });

  it('greets a reconnecting client again and makes it negotiate again', async () => {
    const c = client(machine());
    await c.ready();
    await c.disconnect();
    expect(await c.connect()).toHaveProperty('QMP');
    expect(c.execute('query-status')).toMatchObject({ error: { class: 'CommandNotFound' } });
  });
});

describe('QMP requests and errors', () => {
  it('echoes any JSON id on return and on error', async () => {
    const c = client(machine());
    await c.ready();
    expect(c.execute('query-target', undefined, { seq: [1, 'two'] })).toEqual({
      return: { arch: 'arm' },
      id: { seq: [1, 'two'] },
    });
    expect(c.execute('nope', undefined, 7)).toEqual({
      error: { class: 'CommandNotFound', desc: 'The command nope has not been found' },
      id: 7,
    });
  });

  it("checks the request's shape with QEMU's texts", async () => {
    const c = client(machine());
    await c.ready();
    const cases: Array<[string, string]> = [
      ['[1, 2]', 'QMP input must be a JSON object'],
      ['{"arguments": {}}', "QMP input lacks member 'execute'"],
      ['{"execute": 1}', "QMP input member 'execute' must be a string"],
      ['{"execute": "stop", "arguments": []}', "QMP input member 'arguments' must be an object"],
      ['{"execute": "stop", "extra": 1}', "QMP input member 'extra' is unexpected"],
      ['{"exec-oob": "stop"}', "QMP input member 'exec-oob' is unexpected"],
    ];
    for (const [text, desc] of cases) {
      c.sendRaw(text);
      expect(c.drain(), text).toEqual([{ error: { class: 'GenericError', desc } }]);
    }
  });

  it("validates arguments with QEMU's messages", async () => {
    const c = client(machine());
    await c.ready();
    expect(c.execute('qom-get', { property: 'type' })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'path' is missing" },
    });
    expect(c.execute('qom-get', { path: 1, property: 'type' })).toEqual({
      error: { class: 'GenericError', desc: "Invalid parameter type for 'path', expected: string" },
    });
    expect(c.execute('qom-get', { path: '/machine', property: 'type', y: 1 })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'y' is unexpected" },
    });
    expect(c.execute('query-status', { x: 1 })).toEqual({
      error: { class: 'GenericError', desc: "Parameter 'x' is unexpected" },
    });
  });

  it('reports DeviceNotFound for a bad QOM path', async () => {
    const c = client(machine());
    await c.ready();
    expect(c.execute('qom-list', { path: '/nope' })).toEqual({
      error: { class: 'DeviceNotFound', desc: "Device '/nope' not found" },
    });
  });

  it('answers malformed JSON with a GenericError and keeps the connection', async () => {
    const c = client(machine());
    await c.ready();
    c.sendRaw('{"execute": @}\n');
    const errors = c.drain();
    expect(errors[0]).toEqual({ error: { class: 'GenericError', desc: "JSON parse error, stray '@'" } });
    expect(errors.every((e) => 'error' in e && !('id' in e))).toBe(true);
    expect(c.execute('query-status', undefined, 'after')).toEqual({
      return: { status: 'prelaunch', singlestep: false, running: false },
      id: 'after',
    });
  });

  it('answers oversized input with one error and keeps the connection', async () => {
    const c = client(machine(), { limits: { maxMessageBytes: 1000 } });
    await c.ready();
    c.sendRaw(`{"execute": "qom-get", "arguments": {"path": "${'x'.repeat(5000)}", "property": "type"}}`);
    expect(c.drain()).toEqual([{ error: { class: 'GenericError', desc: 'JSON token size limit exceeded' } }]);
    expect(c.execute('query-target', undefined, 2)).toEqual({ return: { arch: 'arm' }, id: 2 });
  });

  it('parses requests split across reads and several in one read', async () => {
    const c = client(machine());
    await c.ready();
    const text = '{"execute": "query-target", "id": 1} {"execute": "query-target", "id": 2}';
    for (const ch of text.slice(0, 20)) c.sendRaw(ch);
    expect(c.drain()).toEqual([]);
    c.sendRaw(text.slice(20));
    expect(c.drain()).toEqual([
      { return: { arch: 'arm' }, id: 1 },
      { return: { arch: 'arm' }, id: 2 },
    ]);
  });

  it('runs exec-oob for commands that allow it once oob is enabled, and refuses the others', async () => {
    const c = client(machine());
    await c.ready(['oob']);
    c.send({ 'exec-oob': 'query-status', id: 'o1' });
    expect(c.drain()).toEqual([
      { return: { status: 'prelaunch', singlestep: false, running: false }, id: 'o1' },
    ]);
    c.send({ 'exec-oob': 'cont', id: 'o2' });
    expect(c.drain()).toEqual([
      { error: { class: 'GenericError', desc: 'The command cont does not support OOB' }, id: 'o2' },
    ]);
    c.send({ execute: 'stop', 'exec-oob': 'stop' });
    expect(c.drain()).toEqual([
      { error: { class: 'GenericError', desc: "QMP input member 'exec-oob' clashes with 'execute'" } },
    ]);
  });

  it('indents output when pretty', async () => {
    const c = client(machine(), { pretty: true });
    await c.chardev.open();
    c.send({ execute: 'qmp_capabilities' });
    c.rawText();
    c.send({ execute: 'query-target' });
    expect(c.rawText()).toBe('{\r\n    "return": {\r\n        "arch": "arm"\r\n    }\r\n}\r\n');
  });
});

describe('QMP events', () => {
  const strip = (msgs: Array<Record<string, unknown>>) =>
    msgs.map((m) => ('event' in m ? { event: m.event, ...(m.data ? { data: m.data } : {}) } : m));

  it('sends RESUME before the return of cont and STOP before the return of stop', async () => {
    const m = machine();
    const c = client(m);
    await c.ready();
    expect(strip(c.exchange('cont', undefined, 1))).toEqual([{ event: 'RESUME' }, { return: {}, id: 1 }]);
    expect(c.execute('query-status')).toEqual({
      return: { status: 'running', singlestep: false, running: true },
    });
    expect(strip(c.exchange('stop', undefined, 2))).toEqual([{ event: 'STOP' }, { return: {}, id: 2 }]);
    // Stopping a stopped machine sends no event.
    expect(strip(c.exchange('stop'))).toEqual([{ return: {} }]);
  });

  it('timestamps events with seconds and microseconds', async () => {
    const c = client(machine(), { now: () => 1_700_000_000_123.456 });
    await c.ready();
    const [event] = c.exchange('system_reset');
    expect(event).toEqual({
      timestamp: { seconds: 1_700_000_000, microseconds: 123_456 },
      event: 'RESET',
      data: { guest: false, reason: 'host-qmp-system-reset' },
    });
  });

  it('sends POWERDOWN for system_powerdown and leaves the machine running state alone', async () => {
    const c = client(machine());
    await c.ready();
    expect(strip(c.exchange('system_powerdown'))).toEqual([{ event: 'POWERDOWN' }, { return: {} }]);
    expect(c.execute('query-status')).toMatchObject({ return: { status: 'prelaunch' } });
  });

  it('quit: SHUTDOWN, then the return, then onQuit', async () => {
    const m = machine();
    const order: string[] = [];
    const c = client(m, { onQuit: () => order.push('onQuit') });
    await c.ready();
    c.exchange('cont');
    const msgs = strip(c.exchange('quit', undefined, 'q'));
    expect(msgs).toEqual([
      { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } },
      { return: {}, id: 'q' },
    ]);
    expect(order).toEqual(['onQuit']);
    expect(m.runState).toBe('shutdown');
    expect(c.execute('cont')).toEqual({
      error: { class: 'GenericError', desc: 'Resetting the Virtual Machine is required' },
    });
  });

  it('sends events to every negotiated client, and none before negotiation', async () => {
    const m = machine();
    const a = client(m);
    const b = new QmpTestClient(m, {}, 'qmp2');
    cleanup.push(() => b.close());
    const late = new QmpTestClient(m, {}, 'qmp3');
    cleanup.push(() => late.close());
    await a.ready();
    await b.ready();
    await late.connect();
    a.exchange('system_reset');
    expect(strip(b.drain())).toEqual([
      { event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } },
    ]);
    expect(late.drain()).toEqual([]);
  });

  it('stops sending events after close', async () => {
    const m = machine();
    const a = client(m);
    const b = new QmpTestClient(m, {}, 'qmp2');
    await a.ready();
    await b.ready();
    b.close();
    a.exchange('system_reset');
    expect(b.drain()).toEqual([]);
  });
});

describe('human-monitor-command', () => {
  it('returns what the HMP prints, and runs later requests after it in order', async () => {
    let release: (v: string) => void = () => {};
    const hmp = (line: string): Promise<string> =>
      new Promise((resolve) => {
        release = (v) => resolve(`${v}:${line}`);
      });
    const c = client(machine(), { hmp });
    await c.ready();
    c.send({ execute: 'human-monitor-command', arguments: { 'command-line': 'info status' }, id: 1 });
    c.send({ execute: 'query-target', id: 2 });
    expect(c.drain()).toEqual([]);
    release('VM status: paused');
    await new Promise((r) => setImmediate(r));
    expect(c.drain()).toEqual([
      { return: 'VM status: paused:info status', id: 1 },
      { return: { arch: 'arm' }, id: 2 },
    ]);
  });

  it('reports an HMP failure as GenericError', async () => {
    const c = client(machine(), {
      hmp: (line: string) => {
        if (line === 'bad') throw new UserError("unknown command: 'bad'");
        throw new Error('boom');
      },
    });
    await c.ready();
    c.send({ execute: 'human-monitor-command', arguments: { 'command-line': 'bad' }, id: 1 });
    c.send({ execute: 'human-monitor-command', arguments: { 'command-line': 'x' }, id: 2 });
    await new Promise((r) => setImmediate(r));
    expect(c.drain()).toEqual([
      { error: { class: 'GenericError', desc: "unknown command: 'bad'" }, id: 1 },
      { error: { class: 'GenericError', desc: 'internal error: boom' }, id: 2 },
    ]);
  });
});

describe('QMP over a Unix socket server chardev', () => {
  it('serves a node:net client, and greets it again after a reconnect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-qmp-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'qmp.sock');
    const m = machine();
    const chardev = new SocketChardev('qmp', { address: { type: 'unix', path }, server: true, wait: false });
    const handle = startQmpServer({ machine: m, chardev, version: '9.9.9' });
    await chardev.open();
    cleanup.push(async () => {
      handle.close();
      await chardev.close();
    });

    const session = async (): Promise<void> => {
      const sock: Socket = connect(path);
      let text = '';
      const waiters: Array<() => void> = [];
      sock.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        for (const w of waiters.splice(0)) w();
      });
      const lines = async (n: number): Promise<Array<Record<string, unknown>>> => {
        while (text.split('\r\n').length - 1 < n) await new Promise<void>((r) => waiters.push(r));
        return text
          .split('\r\n')
          .slice(0, n)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      };
      expect((await lines(1))[0]).toMatchObject({ QMP: { version: { package: 'tsemu 9.9.9' } } });
      sock.write('{"execute": "qmp_capabilities"}\n{"execute": "cont", "id": "c"}\n');
      const got = await lines(4);
      expect(got[1]).toEqual({ return: {} });
      expect(got[2]).toMatchObject({ event: 'RESUME' });
      expect(got[3]).toEqual({ return: {}, id: 'c' });
      m.stop();
      await new Promise<void>((r) => sock.end(r));
      sock.destroy();
    };
    await session();
    await session();
  });
});

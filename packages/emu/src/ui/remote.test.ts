/**
 * The UI protocol, driven the way a UI process drives it: over a Unix socket, JSON lines only,
 * against a micro:bit running Debian's MicroPython in fast mode (the machine runs on its own
 * loop; the tests wait for messages, never for host time).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { loadImageFile } from '../loader/index.js';
import { withMicroPythonScript } from '../loader/micropython-script.js';
import { createMachine } from '../machine/create.js';
import type { MicrobitMachine } from '../machine/microbit.js';
import {
  type Columns,
  cleanWindows,
  frameColumns,
  haveMicroPythonRuntime,
  MICROPYTHON_RUNTIME,
  MicroPythonBoard,
  readScrolledText,
  scrollTape,
} from '../machine/testing/micropython.js';
import { HumanMonitor } from '../monitor/hmp/hmp.js';
import {
  findWebUi,
  type RemoteDisplay,
  remoteDisplayConfig,
  startRemoteDisplay,
  UI_PROTOCOL,
  UiSerial,
  webUiArgs,
} from './remote.js';

const HAVE = haveMicroPythonRuntime();
const HELLO_HEX = 'firmware/build/hello.hex';
const REPO = join(import.meta.dirname, '../../../..');

type Msg = Record<string, unknown>;

/** A UI's end of the connection: JSON lines in, messages out, and waiting for one. */
class Client {
  readonly received: Msg[] = [];
  private buffer = '';
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        this.received.push(JSON.parse(this.buffer.slice(0, nl)) as Msg);
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(msg: Msg): void {
    this.socket.write(`${JSON.stringify(msg)}\n`);
  }

  /** Waits until `test` holds over what was received (no host-time limit: the test's own). */
  async until<T>(test: (c: Client) => T | undefined | false, what: string): Promise<T> {
    for (;;) {
      const r = test(this);
      if (r !== undefined && r !== false) return r;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The first message of `type` after index `from` matching `pred`. */
  next(type: string, from = 0, pred: (m: Msg) => boolean = () => true): Promise<Msg> {
    return this.until(
      (c) => c.received.slice(from).find((m) => m.type === type && pred(m)),
      `a '${type}' message`,
    );
  }

  /** Everything the serial port printed so far (decoded). */
  serialText(): string {
    return this.received
      .filter((m) => m.type === 'serial')
      .map((m) => Buffer.from(m.data as string, 'base64').toString('latin1'))
      .join('');
  }

  /** Waits for `text` in the serial output after character offset `from`. */
  async serialContains(text: string, from = 0): Promise<string> {
    return this.until((c) => {
      const s = c.serialText();
      return s.indexOf(text, from) >= 0 ? s : undefined;
    }, JSON.stringify(text));
  }

  /**
   * Types a REPL line and waits for the prompt after it; returns what it printed. `alongside`
   * go out in the same write, so the machine gets them at the same virtual time as the line.
   */
  async exec(line: string, alongside: Msg[] = []): Promise<string> {
    const from = this.serialText().length;
    const msgs = [{ type: 'serial-in', text: `${line}\r` }, ...alongside];
    this.socket.write(msgs.map((m) => `${JSON.stringify(m)}\n`).join(''));
    const all = await this.until((c) => {
      const s = c.serialText().slice(from);
      return s.startsWith(`${line}\r\n`) && s.endsWith('>>> ') ? s : undefined;
    }, `the prompt after ${line}`);
    return all.slice(line.length + 2, all.length - 4).replace(/\r\n/g, '\n');
  }

  /** Sends a request with an id and waits for its `ok` (or throws with its `error`). */
  async request(msg: Msg): Promise<Msg> {
    const id = `r${this.received.length}-${Math.random()}`;
    this.send({ ...msg, id });
    const reply = await this.until((c) => c.received.find((m) => m.id === id), `the reply to ${msg.type}`);
    if (reply.type === 'error') throw new Error(String(reply.message));
    return reply;
  }
}

interface Rig {
  machine: MicrobitMachine;
  display: RemoteDisplay;
  client: Client;
  dir: string;
}

const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.client.socket.destroy();
    await r.display.close();
    r.machine.shutdown('host-qmp-quit');
    rmSync(r.dir, { recursive: true, force: true });
  }
});

/** A micro:bit running MicroPython (with `script`), a remote display on a socket, a client. */
async function rig(options: { script?: string; handshake?: boolean } = {}): Promise<Rig> {
  const serial = new UiSerial('serial0');
  const runtime = loadImageFile(MICROPYTHON_RUNTIME);
  const machine = createMachine('microbit', {
    mode: 'fast',
    serial: [serial],
    chardevs: [serial],
    images: [options.script === undefined ? runtime : withMicroPythonScript(runtime, options.script)],
  });
  await serial.open();
  const monitor = new HumanMonitor({ machine });
  const dir = mkdtempSync(join(tmpdir(), 'tsemu-ui-'));
  const path = join(dir, 'ui.sock');
  const display = await startRemoteDisplay({ machine, serial, monitor, listen: path, frameIntervalMs: 0 });
  const socket = connect(path);
  const client = new Client(socket);
  const r = { machine, display, client, dir };
  rigs.push(r);
  if (options.handshake !== false) {
    await client.next('hello');
    client.send({ type: 'hello', protocol: UI_PROTOCOL, version: 1, client: 'test' });
    await client.next('status');
  }
  machine.start();
  return r;
}

/** The glyph MicroPython shows for each character: the reference font (read in the library). */
function referenceGlyphs(text: string): Map<string, Columns> {
  const board = MicroPythonBoard.boot();
  const font = new Map<string, Columns>();
  for (const c of new Set(text)) {
    board.exec(`display.show(${JSON.stringify(c)})`);
    font.set(c, frameColumns(board.steadyLevels()));
  }
  return font;
}

/** A protocol frame's levels with only full-on (9) and dark (0) LEDs counted as clean. */
function cleanLevels(m: Msg): number[] {
  const brightness = m.brightness as number[];
  const levels = m.levels as number[];
  return brightness.map((b, i) => (b === 0 ? 0 : b >= 252 ? 9 : Math.min(8, Math.max(1, levels[i]!))));
}

describe('remote display options', () => {
  it('takes web options with their defaults and refuses unknown ones', () => {
    expect(remoteDisplayConfig('web', new Map())).toEqual({ kind: 'web', open: true, quitOnExit: true });
    expect(
      remoteDisplayConfig(
        'web',
        new Map([
          ['port', '8080'],
          ['addr', '0.0.0.0'],
          ['open', 'off'],
          ['quit-on-exit', 'off'],
        ]),
      ),
    ).toEqual({ kind: 'web', port: 8080, addr: '0.0.0.0', open: false, quitOnExit: false });
    expect(() => remoteDisplayConfig('web', new Map([['port', 'http']]))).toThrow(UserError);
    expect(() => remoteDisplayConfig('web', new Map([['open', 'maybe']]))).toThrow(/'on' or 'off'/);
    expect(() => remoteDisplayConfig('web', new Map([['socket', 'x']]))).toThrow(/unknown option 'socket'/);
  });

  it('finds the built tsemu-ui of the workspace, or TSEMU_UI', () => {
    const saved = process.env.TSEMU_UI;
    try {
      process.env.TSEMU_UI = '/opt/bin/my-ui';
      expect(findWebUi()).toEqual({ command: '/opt/bin/my-ui', args: [] });
      delete process.env.TSEMU_UI;
      if (existsSync(join(REPO, 'packages/ui/dist/main.js'))) {
        expect(findWebUi()).toEqual({
          command: process.execPath,
          args: [join(REPO, 'packages/ui/dist/main.js')],
        });
      }
    } finally {
      if (saved === undefined) delete process.env.TSEMU_UI;
      else process.env.TSEMU_UI = saved;
    }
    expect(webUiArgs(remoteDisplayConfig('web', new Map([['port', '0']])))).toEqual([
      '--fd',
      '3',
      '--port',
      '0',
      '--open',
    ]);
  });

  it('needs a socket path for remote', () => {
    expect(remoteDisplayConfig('remote', new Map([['socket', '/tmp/s']]))).toMatchObject({
      socket: '/tmp/s',
    });
    expect(() => remoteDisplayConfig('remote', new Map())).toThrow(/socket=PATH/);
  });
});

/**
 * A stand-in UI process: on its fd 3 it answers the emulator's hello, announces a URL, and
 * exits with `status` once the emulator has acknowledged a ping.
 */
function fakeUiScript(status: number): string {
  return `
    const net = require('node:net');
    const s = new net.Socket({ fd: 3, readable: true, writable: true });
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\\n'); nl >= 0; nl = buf.indexOf('\\n')) {
        const m = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (m.type === 'hello') {
          s.write(JSON.stringify({ type: 'hello', protocol: 'tsemu-ui', version: 1 }) + '\\n');
          s.write(JSON.stringify({ type: 'ui-info', url: 'http://fake/' }) + '\\n');
          s.write(JSON.stringify({ type: 'ping', id: 'p' }) + '\\n');
        }
        if (m.type === 'pong') process.exit(${status});
      }
    });`;
}

describe('a spawned UI process', () => {
  it('gets a connection on fd 3, and its exit quits the emulator with quit-on-exit', async () => {
    const machine = createMachine('microbit', { mode: 'fast' });
    let quits = 0;
    const exits: Array<number | null> = [];
    const display = await startRemoteDisplay({
      machine,
      spawnUi: { command: process.execPath, args: ['-e', fakeUiScript(0)], output: 'ignore' },
      quitOnExit: true,
      onQuit: () => quits++,
      onUiExit: (code) => exits.push(code),
    });
    expect(await display.url).toBe('http://fake/');
    await new Promise<void>((resolve) => display.uiProcess!.once('exit', () => resolve()));
    expect(exits).toEqual([0]);
    expect(quits).toBe(1);
    await display.close();
  });

  it('leaves the machine running without quit-on-exit, and says so', async () => {
    const machine = createMachine('microbit', { mode: 'fast' });
    const notes: string[] = [];
    let quits = 0;
    const display = await startRemoteDisplay({
      machine,
      spawnUi: { command: process.execPath, args: ['-e', fakeUiScript(3)], output: 'ignore' },
      quitOnExit: false,
      onQuit: () => quits++,
      report: (line) => notes.push(line),
    });
    await new Promise<void>((resolve) => display.uiProcess!.once('exit', () => resolve()));
    expect(quits).toBe(0);
    expect(notes).toEqual(['the UI process exited (status 3); the machine keeps running']);
    await display.close();
  });
});

describe.skipIf(!HAVE)('the UI protocol with MicroPython on the micro:bit', () => {
  it('greets with its versions, then describes the board and its status after hello', async () => {
    const { client } = await rig({ handshake: false });
    const hello = await client.next('hello');
    expect(hello).toMatchObject({ protocol: 'tsemu-ui', versions: [1] });
    client.send({ type: 'hello', protocol: 'tsemu-ui', version: 1 });
    const machine = await client.next('machine');
    expect(machine).toMatchObject({ machine: 'microbit', board: 'microbit-v1', buttons: ['A', 'B'] });
    expect(machine.capabilities).toEqual(
      expect.arrayContaining(['display', 'serial', 'monitor', 'gestures']),
    );
    const status = await client.next('status');
    expect(status).toMatchObject({ mode: 'fast', outputs: { P0: expect.any(Number) } });
  });

  it('refuses an unknown protocol version and closes', async () => {
    const { client } = await rig({ handshake: false });
    await client.next('hello');
    client.send({ type: 'hello', protocol: 'tsemu-ui', version: 99 });
    const err = await client.next('error');
    expect(err.message).toMatch(/unsupported protocol tsemu-ui\/99/);
    await client.until((c) => c.closed, 'the close');
  });

  it('runs REPL lines typed into the serial port', async () => {
    const { client } = await rig();
    await client.serialContains('>>> ');
    expect(await client.exec('print(6*7)')).toBe('42\n');
  });

  it('replays recent serial output to a UI that connects later', async () => {
    const { client, dir } = await rig();
    await client.serialContains('>>> ');
    const late = new Client(connect(join(dir, 'ui.sock')));
    await late.next('hello');
    late.send({ type: 'hello', protocol: 'tsemu-ui', version: 1 });
    const replay = await late.next('serial', 0, (m) => m.replay === true);
    expect(Buffer.from(replay.data as string, 'base64').toString('latin1')).toContain('MicroPython v1.9.2');
    late.socket.destroy();
  });

  it('runs monitor commands and answers errors for bad requests', async () => {
    const { client } = await rig();
    client.send({ type: 'monitor', id: 7, line: 'info status' });
    const reply = await client.next('monitor-reply', 0, (m) => m.id === 7);
    expect(reply.text).toBe('VM status: running\r\n');
    // The reply is the answer: no 'ok' follows it (a ping's pong marks "everything before").
    client.send({ type: 'ping', id: 'after' });
    await client.next('pong', 0, (m) => m.id === 'after');
    expect(client.received.filter((m) => m.id === 7).map((m) => m.type)).toEqual(['monitor-reply']);
    await expect(client.request({ type: 'warp-drive' })).rejects.toThrow("unknown message type 'warp-drive'");
    await expect(client.request({ type: 'temperature' })).rejects.toThrow("'temperature' needs 'celsius'");
    await expect(client.request({ type: 'pin', pin: 'P99', digital: 1 })).rejects.toThrow(
      /no edge-connector pin 'P99'/,
    );
    client.socket.write('{not json\n');
    expect((await client.next('error', 0, (m) => m.id === undefined)).message).toBe('not a JSON message');
  });

  it('sends display frames that read as the scrolled text', async () => {
    const text = 'Hello World!';
    const font = referenceGlyphs(text);
    const { client } = await rig({
      script: `from microbit import *\ndisplay.scroll(${JSON.stringify(text)})\n`,
    });
    await client.serialContains('>>> ');
    const frames = client.received.filter((m) => m.type === 'frame').map(cleanLevels);
    const reading = readScrolledText(scrollTape(cleanWindows(frames)), font, 3);
    expect(reading.text).toBe(text);
  }, 60_000);

  it('presses buttons for the program', async () => {
    const script = [
      'from microbit import *',
      'while True:',
      '    if button_a.was_pressed():',
      "        print('A pressed')",
      '    if button_b.is_pressed() and button_a.is_pressed():',
      "        print('A+B held')",
      '        sleep(300)',
      '    sleep(20)',
      '',
    ].join('\n');
    const { client } = await rig({ script });
    await client.request({ type: 'button', button: 'A', action: 'click' });
    await client.serialContains('A pressed');
    await client.request({ type: 'button', button: 'AB', action: 'press' });
    await client.serialContains('A+B held');
    await client.request({ type: 'button', button: 'AB', action: 'release' });
  });

  it('plays gestures the runtime recognises, and sets the acceleration in its axes', async () => {
    const { client } = await rig();
    await client.serialContains('>>> ');
    await client.request({ type: 'accelerometer', x: 512, y: -256, z: -768 });
    await client.exec('sleep(60)');
    expect(await client.exec('accelerometer.get_x(), accelerometer.get_y(), accelerometer.get_z()')).toBe(
      '(512, -256, -768)\n',
    );
    // Programs see gestures by polling, as this line does while the gesture plays.
    const poll = 'g = [(sleep(20), accelerometer.current_gesture())[1] for i in range(50)]';
    await client.exec(poll, [{ type: 'gesture', name: 'face-down' }]);
    expect(await client.exec('g[-1]')).toBe("'face down'\n");
    await client.exec(poll, [{ type: 'gesture', name: 'face-up' }]);
    expect(await client.exec('g[-1]')).toBe("'face up'\n");
    await client.exec(poll, [{ type: 'gesture', name: 'shake' }]);
    expect(await client.exec('accelerometer.was_gesture("shake")')).toBe('True\n');
    await client.exec(poll, [{ type: 'gesture', name: 'free-fall' }]);
    expect(await client.exec('accelerometer.was_gesture("freefall")')).toBe('True\n');
    // A gesture that does not hold goes back to the acceleration before it.
    expect(await client.exec('accelerometer.get_z()')).toBe('-1024\n');
  });

  it('sets temperature, light level, compass field and pins', async () => {
    const { client } = await rig();
    await client.serialContains('>>> ');
    await client.request({ type: 'temperature', celsius: 31 });
    expect(await client.exec('temperature()')).toBe('31\n');
    await client.request({ type: 'compass', x: 1000, y: -2000, z: 3000 });
    await client.exec('sleep(250)');
    expect(await client.exec('compass.get_field_strength()')).toBe('3741\n');
    await client.request({ type: 'pin', pin: 'P0', analog: 512 });
    expect(Number(await client.exec('pin0.read_analog()'))).toBeCloseTo(512, -1);
    await client.request({ type: 'pin', pin: 'P1', digital: 1 });
    expect(await client.exec('pin1.read_digital()')).toBe('1\n');
    // is_touched() debounces: the second look, 100 ms after the first, sees the finger.
    const touched = 'pin2.is_touched(), sleep(100), pin2.is_touched()';
    await client.request({ type: 'pin', pin: 'P2', touch: true });
    expect(await client.exec(touched)).toMatch(/, True\)\n$/);
    await client.request({ type: 'pin', pin: 'P2', touch: false });
    expect(await client.exec(touched)).toMatch(/, False\)\n$/);
    await client.exec('pin0.write_digital(1)');
    const status = await client.next('status', client.received.length, (m) => (m.outputs as Msg).P0 === 1);
    expect(status.outputs).toMatchObject({ P0: 1 });
    await client.request({ type: 'light', level: 200 });
    await expect(client.request({ type: 'light', level: 300 })).rejects.toThrow('0..255');
  });

  it('pauses, resumes, switches speed and resets', async () => {
    const { client, machine } = await rig();
    await client.serialContains('>>> ');
    let from = client.received.length;
    await client.request({ type: 'control', action: 'pause' });
    expect(await client.next('status', from, (m) => m.state === 'paused')).toBeTruthy();
    from = client.received.length;
    await client.request({ type: 'control', action: 'resume' });
    await client.next('status', from, (m) => m.state === 'running');
    from = client.received.length;
    await client.request({ type: 'control', action: 'speed', mode: 'realtime' });
    await client.next('status', from, (m) => m.mode === 'realtime' && m.state === 'running');
    expect(machine.runner.mode).toBe('realtime');
    await client.request({ type: 'control', action: 'speed', mode: 'fast' });
    expect(machine.runner.mode).toBe('fast');
    const before = client.serialText().length;
    from = client.received.length;
    await client.request({ type: 'control', action: 'reset' });
    expect(await client.next('event', from)).toMatchObject({ event: 'reset', reason: 'host-ui' });
    // The board boots again: a new banner, then a new prompt after it.
    const after = await client.serialContains('MicroPython v1.9.2', before);
    await client.serialContains('>>> ', after.indexOf('MicroPython v1.9.2', before));
  });

  it('flashes a MicroPython script and our own firmware, and refuses what is not firmware', async () => {
    const { client } = await rig();
    await client.serialContains('>>> ');
    let from = client.serialText().length;
    await client.request({ type: 'flash', name: 'main.py', text: 'print("flashed script ran")\n' });
    await client.serialContains('flashed script ran', from);
    if (existsSync(join(REPO, HELLO_HEX))) {
      from = client.serialText().length;
      const hex = readFileSync(join(REPO, HELLO_HEX));
      await client.request({ type: 'flash', name: 'hello.hex', data: hex.toString('base64') });
      await client.serialContains('Hello from tsemu', from);
    }
    await expect(client.request({ type: 'flash', name: 'notes.txt', text: 'hello' })).rejects.toThrow(
      'notes.txt: not a firmware file',
    );
  });
});

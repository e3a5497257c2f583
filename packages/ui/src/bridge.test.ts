/**
 * The UI process without a browser: its link to the emulator (handshake, framing), the bridge
 * (state for late browsers, replies routed to the browser that asked) and the web server's
 * access rules, against a scripted emulator on a Unix socket and WebSocket clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseArgs } from './cli.js';
import { type RunningUi, runUi } from './index.js';
import { connectSocket, EmulatorLink, UiError } from './link.js';

type Msg = Record<string, unknown>;

/** A scripted emulator: accepts one UI, records its lines, sends what the test says. */
class FakeEmulator {
  readonly received: Msg[] = [];
  socket: Socket | null = null;
  private waiters: Array<() => void> = [];
  private constructor(
    readonly server: Server,
    readonly path: string,
  ) {}

  static async start(dir: string, greeting: Msg | null): Promise<FakeEmulator> {
    const path = join(dir, 'emu.sock');
    let emu: FakeEmulator | null = null;
    const server = createServer((socket) => {
      emu!.socket = socket;
      let buffer = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          emu!.received.push(JSON.parse(buffer.slice(0, nl)) as Msg);
          buffer = buffer.slice(nl + 1);
        }
        emu!.wake();
      });
      if (greeting) emu!.send(greeting);
    });
    emu = new FakeEmulator(server, path);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return emu;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(msg: Msg): void {
    this.socket?.write(`${JSON.stringify(msg)}\n`);
  }

  async next(pred: (m: Msg) => boolean): Promise<Msg> {
    for (;;) {
      const m = this.received.find(pred);
      if (m) return m;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

/** A browser's end: a WebSocket and the messages it got. */
class Browser {
  readonly received: Msg[] = [];
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(data.toString()) as Msg);
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects; listens from the start (the bridge speaks as soon as the socket opens). */
  static async open(ui: RunningUi): Promise<Browser> {
    const url = new URL(ui.url);
    const browser = new Browser(new WebSocket(`ws://${url.host}/ws?token=${ui.web.token}`));
    await new Promise<void>((resolve, reject) => {
      browser.ws.once('open', resolve);
      browser.ws.once('error', reject);
    });
    return browser;
  }

  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(msg: Msg): void {
    this.ws.send(JSON.stringify(msg));
  }

  async next(pred: (m: Msg) => boolean): Promise<Msg> {
    for (;;) {
      const m = this.received.find(pred);
      if (m) return m;
      if (this.closed) throw new Error('the WebSocket closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const HELLO = { type: 'hello', protocol: 'tsemu-ui', versions: [1] };
const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(greeting: Msg | null = HELLO): Promise<{ emu: FakeEmulator; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsemu-ui-bridge-'));
  const emu = await FakeEmulator.start(dir, greeting);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => emu.close());
  return { emu, dir };
}

async function startUi(emu: FakeEmulator): Promise<RunningUi> {
  const lines: string[] = [];
  const ui = await runUi({ connect: emu.path, port: 0, open: false, print: (l) => lines.push(l) });
  cleanups.push(() => ui.close());
  expect(lines[0]).toBe(`tsemu-ui: the micro:bit is at ${ui.url}`);
  return ui;
}

describe('the link to the emulator', () => {
  it('answers hello with the version both speak and announces its URL', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    expect(await emu.next((m) => m.type === 'hello')).toMatchObject({ protocol: 'tsemu-ui', version: 1 });
    expect(await emu.next((m) => m.type === 'ui-info')).toEqual({ type: 'ui-info', url: ui.url });
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{32}$/);
  });

  it('refuses an emulator without a common version', async () => {
    const { emu } = await setup({ type: 'hello', protocol: 'tsemu-ui', versions: [7] });
    await expect(runUi({ connect: emu.path, port: 0, open: false, print: () => {} })).rejects.toThrow(
      'the emulator does not speak tsemu-ui/1 (it offered tsemu-ui/7)',
    );
  });

  it('says clearly when nobody listens on the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-ui-none-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    await expect(connectSocket(join(dir, 'nope.sock'))).rejects.toThrow(/no such socket/);
  });

  it('ends when the emulator connection closes, and closes the browsers with it', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const browser = await Browser.open(ui);
    emu.socket!.destroy();
    await ui.done;
    await browser.untilClosed();
  });

  it('reads a handshake split across packets and several messages in one', async () => {
    const { emu } = await setup(null);
    const link = new EmulatorLink(await connectSocket(emu.path));
    cleanups.push(() => link.close());
    const got: Msg[] = [];
    link.on('message', (m) => got.push(m));
    const agreed = link.handshake();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const text = `${JSON.stringify(HELLO)}\n${JSON.stringify({ type: 'status', state: 'paused' })}\n`;
    emu.socket!.write(text.slice(0, 10));
    emu.socket!.write(text.slice(10));
    expect(await agreed).toBe(1);
    await emu.next((m) => m.type === 'hello');
    expect(got).toEqual([{ type: 'status', state: 'paused' }]);
  });
});

describe('the bridge', () => {
  it('gives a browser that arrives later the machine, status, frame and serial history', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const first = await Browser.open(ui);
    await first.next((m) => m.type === 'hello');
    emu.send({ type: 'machine', machine: 'microbit' });
    emu.send({ type: 'status', state: 'running', mode: 'realtime', time: 5 });
    emu.send({ type: 'frame', levels: [9], brightness: [255] });
    emu.send({ type: 'serial', data: Buffer.from('boot\r\n').toString('base64'), replay: true });
    emu.send({ type: 'serial', data: Buffer.from('>>> ').toString('base64') });
    emu.send({ type: 'status', state: 'paused', mode: 'realtime', time: 6 });
    // Once the first browser has the last of it, the bridge has seen all of it.
    await first.next((m) => m.type === 'status' && m.state === 'paused');
    // A replay is history for the bridge: browsers already there got no copy.
    expect(first.received.filter((m) => m.type === 'serial')).toHaveLength(1);
    const late = await Browser.open(ui);
    const types = async (b: Browser) => {
      await b.next((m) => m.type === 'serial');
      return b.received.map((m) => m.type);
    };
    expect(await types(late)).toEqual(['hello', 'machine', 'status', 'frame', 'serial']);
    expect(late.received[2]).toMatchObject({ state: 'paused' });
    const replay = late.received[4]!;
    expect(replay.replay).toBe(true);
    expect(Buffer.from(replay.data as string, 'base64').toString()).toBe('boot\r\n>>> ');
  });

  it('sends every browser what the emulator says, and replies only to the browser that asked', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const a = await Browser.open(ui);
    const b = await Browser.open(ui);
    await a.next((m) => m.type === 'hello');
    await b.next((m) => m.type === 'hello');
    a.send({ type: 'monitor', id: 1, line: 'info status' });
    b.send({ type: 'monitor', id: 1, line: 'info version' });
    const fromA = await emu.next((m) => m.type === 'monitor' && m.line === 'info status');
    const fromB = await emu.next((m) => m.type === 'monitor' && m.line === 'info version');
    // The ids are the bridge's own on the emulator side.
    expect(fromA.id).not.toBe(fromB.id);
    emu.send({ type: 'monitor-reply', id: fromB.id as string, text: 'tsemu 0.1.0\r\n' });
    emu.send({ type: 'monitor-reply', id: fromA.id as string, text: 'VM status: running\r\n' });
    emu.send({ type: 'serial', data: Buffer.from('hi').toString('base64') });
    expect(await a.next((m) => m.type === 'monitor-reply')).toEqual({
      type: 'monitor-reply',
      id: 1,
      text: 'VM status: running\r\n',
    });
    expect(await b.next((m) => m.type === 'monitor-reply')).toMatchObject({ id: 1, text: 'tsemu 0.1.0\r\n' });
    await a.next((m) => m.type === 'serial');
    await b.next((m) => m.type === 'serial');
    expect(a.received.filter((m) => m.type === 'monitor-reply')).toHaveLength(1);
    expect(b.received.filter((m) => m.type === 'monitor-reply')).toHaveLength(1);
  });

  it('refuses what a browser may not send, without bothering the emulator', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const a = await Browser.open(ui);
    a.send({ type: 'ui-info', id: 5, url: 'http://evil/' });
    expect(await a.next((m) => m.type === 'error')).toEqual({
      type: 'error',
      id: 5,
      message: "unknown message type 'ui-info'",
    });
    a.ws.send('{oops');
    expect(await a.next((m) => m.type === 'error' && m.id === undefined)).toMatchObject({
      message: 'not a JSON message',
    });
    a.send({ type: 'button', button: 'A', action: 'press' });
    expect(await emu.next((m) => m.type === 'button')).toEqual({
      type: 'button',
      button: 'A',
      action: 'press',
    });
    expect(emu.received.some((m) => m.type === 'ui-info' && m.url === 'http://evil/')).toBe(false);
  });
});

describe('the web server', () => {
  it('serves the page and its assets, and nothing else', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const base = new URL(ui.url).origin;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<div id="terminal"');
    const css = await fetch(`${base}/vendor/xterm.css`);
    expect(css.status).toBe(200);
    expect((await fetch(`${base}/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/app/nope.js`)).status).toBe(404);
  });

  it('refuses WebSockets without the token or from another origin', async () => {
    const { emu } = await setup();
    const ui = await startUi(emu);
    const host = new URL(ui.url).host;
    const refused = (url: string, origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, origin ? { origin } : {});
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await refused(`ws://${host}/ws?token=wrong`)).toBe(403);
    expect(await refused(`ws://${host}/ws?token=${ui.web.token}`, 'http://example.com')).toBe(403);
    expect(await refused(`ws://${host}/ws?token=${ui.web.token}`, `http://${host}`)).toBe(101);
  });
});

describe('tsemu-ui command line', () => {
  it('takes --connect or --fd, a port, an address and whether to open a browser', () => {
    expect(parseArgs(['--connect', '/tmp/s'])).toEqual({ connect: '/tmp/s', open: true });
    expect(parseArgs(['--fd', '3', '--port', '0', '--addr', '0.0.0.0', '--no-open'])).toEqual({
      fd: 3,
      port: 0,
      addr: '0.0.0.0',
      open: false,
    });
    expect(parseArgs(['--help'])).toBe('help');
  });

  it('explains mistakes in one line', () => {
    expect(() => parseArgs([])).toThrow(new UiError('give either --connect PATH or --fd N (see --help)'));
    expect(() => parseArgs(['--connect'])).toThrow('--connect needs a value');
    expect(() => parseArgs(['--fd', 'x'])).toThrow("--fd needs a descriptor number, not 'x'");
    expect(() => parseArgs(['--connect', 's', '--port', '70000'])).toThrow(
      '--port needs a number from 0 to 65535',
    );
    expect(() => parseArgs(['--connect', 's', '--colour'])).toThrow("unknown option '--colour'");
  });
});

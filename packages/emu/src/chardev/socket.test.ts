import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { SocketChardev } from './socket.js';
import { bytesOf, RecordingFrontend } from './testing.js';

let dir = '';
const cleanup: Array<() => Promise<void> | void> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsemu-sock-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

/** A peer socket that collects what it receives. */
class Peer {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];
  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.text += c.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
    cleanup.push(() => {
      socket.destroy();
    });
  }
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = (): void => {
        if (check()) resolve();
        else this.waiters.push(w);
      };
      this.waiters.push(w);
    });
  }
  untilText(s: string): Promise<void> {
    return this.until(() => this.text.includes(s));
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

function dial(opts: { port: number } | { path: string }): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const s = 'path' in opts ? connect({ path: opts.path }) : connect({ host: '127.0.0.1', port: opts.port });
    s.once('error', reject);
    s.once('connect', () => resolve(new Peer(s)));
  });
}

function silent(): { lines: string[]; report: (l: string) => void } {
  const lines: string[] = [];
  return { lines, report: (l) => lines.push(l) };
}

function track(chr: SocketChardev): SocketChardev {
  cleanup.push(() => chr.close());
  return chr;
}

function listenTest(
  opts: { port: 0 } | { path: string },
): Promise<{ server: Server; peers: Peer[]; next: () => Promise<Peer> }> {
  const peers: Peer[] = [];
  const waiters: Array<(p: Peer) => void> = [];
  const server = createServer((s) => {
    const p = new Peer(s);
    peers.push(p);
    waiters.shift()?.(p);
  });
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return new Promise((resolve) => {
    const done = (): void =>
      resolve({
        server,
        peers,
        next: () =>
          peers.length > 0 ? Promise.resolve(peers[peers.length - 1]!) : new Promise((r) => waiters.push(r)),
      });
    if ('path' in opts) server.listen(opts.path, done);
    else server.listen(0, '127.0.0.1', done);
  });
}

describe('SocketChardev as a server', () => {
  it('serves TCP on 127.0.0.1 with port 0 and reports the bound port', async () => {
    const chr = track(
      new SocketChardev('s0', {
        address: { type: 'inet', host: '127.0.0.1', port: 0 },
        server: true,
        wait: false,
      }),
    );
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    expect(chr.port).toBeGreaterThan(0);
    expect(chr.connected).toBe(false);
    expect(chr.filename).toBe(`disconnected:tcp:127.0.0.1:${chr.port},server=on`);

    const peer = await dial({ port: chr.port });
    await fe.until(() => fe.events.includes('opened'));
    expect(chr.connected).toBe(true);
    expect(chr.getProperty('connected')).toBe(true);
    expect(chr.filename).toMatch(
      new RegExp(`^tcp:127\\.0\\.0\\.1:${chr.port},server=on <-> 127\\.0\\.0\\.1:\\d+$`),
    );

    peer.socket.write('to guest');
    await fe.untilBytes(8);
    expect(fe.text).toBe('to guest');

    chr.write(bytesOf('from guest'));
    await peer.untilText('from guest');
    expect(peer.text).toBe('from guest');
  });

  it('accepts a second client after the first disconnects', async () => {
    const chr = track(
      new SocketChardev('s0', {
        address: { type: 'inet', host: '127.0.0.1', port: 0 },
        server: true,
        wait: false,
      }),
    );
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();

    const first = await dial({ port: chr.port });
    await fe.until(() => fe.events.length === 1);
    first.socket.write('one;');
    await fe.untilBytes(4);
    first.socket.end();
    await fe.until(() => fe.events.includes('closed'));
    expect(chr.connected).toBe(false);

    const second = await dial({ port: chr.port });
    await fe.until(() => fe.events.length === 3);
    expect(fe.events).toEqual(['opened', 'closed', 'opened']);
    second.socket.write('two;');
    await fe.untilBytes(8);
    expect(fe.text).toBe('one;two;');
    chr.write(bytesOf('bye'));
    await second.untilText('bye');
  });

  it('serves one client at a time; a waiting client is taken when the first leaves', async () => {
    const chr = track(
      new SocketChardev('s0', {
        address: { type: 'inet', host: '127.0.0.1', port: 0 },
        server: true,
        wait: false,
      }),
    );
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    const first = await dial({ port: chr.port });
    await fe.until(() => fe.events.length === 1);
    const second = await dial({ port: chr.port });
    second.socket.write('B');
    first.socket.write('A');
    await fe.untilBytes(1);
    expect(fe.text).toBe('A');
    chr.write(bytesOf('x'));
    await first.untilText('x');
    first.socket.end();
    await fe.untilBytes(2);
    expect(fe.text).toBe('AB');
    expect(fe.events).toEqual(['opened', 'closed', 'opened']);
    expect(second.text).toBe('');
  });

  it('discards output while no client is connected', async () => {
    const chr = track(
      new SocketChardev('s0', {
        address: { type: 'inet', host: '127.0.0.1', port: 0 },
        server: true,
        wait: false,
      }),
    );
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    chr.write(bytesOf('lost'));
    const peer = await dial({ port: chr.port });
    await fe.until(() => fe.events.includes('opened'));
    chr.write(bytesOf('kept'));
    await peer.untilText('kept');
    expect(peer.text).toBe('kept');
  });

  it('serves a Unix socket in a temp dir and removes it on close', async () => {
    const path = join(dir, 'serial.sock');
    const chr = new SocketChardev('u0', { address: { type: 'unix', path }, server: true, wait: false });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    expect(chr.filename).toBe(`disconnected:unix:${path},server=on`);
    const peer = await dial({ path });
    peer.socket.write('ping');
    await fe.untilBytes(4);
    expect(fe.text).toBe('ping');
    expect(chr.filename).toBe(`unix:${path},server=on`);
    chr.write(bytesOf('pong'));
    await peer.untilText('pong');
    await chr.close();
    await peer.until(() => peer.closed);
    expect(existsSync(path)).toBe(false);
  });

  it('with wait=on, open() resolves only once a client has connected', async () => {
    const path = join(dir, 'wait.sock');
    let waiting!: () => void;
    const listening = new Promise<void>((r) => {
      waiting = r;
    });
    const lines: string[] = [];
    const chr = track(
      new SocketChardev('w0', {
        address: { type: 'unix', path },
        server: true,
        report: (l) => {
          lines.push(l);
          waiting();
        },
      }),
    );
    expect(chr.wait).toBe(true);
    let opened = false;
    const opening = chr.open().then(() => {
      opened = true;
    });
    await listening;
    expect(lines).toEqual([`info: tsemu waiting for connection on: disconnected:unix:${path},server=on`]);
    // Let any pending I/O callbacks run: with no client, open() must still be pending.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(opened).toBe(false);
    await dial({ path });
    await opening;
    expect(opened).toBe(true);
    expect(chr.connected).toBe(true);
  });

  it('removes a stale socket file before binding', async () => {
    const path = join(dir, 'stale.sock');
    const first = new SocketChardev('a', { address: { type: 'unix', path }, server: true, wait: false });
    await first.open();
    // Simulate a crashed emulator: the file stays behind.
    const second = track(
      new SocketChardev('b', { address: { type: 'unix', path }, server: true, wait: false }),
    );
    await second.open();
    await dial({ path });
    await second.whenConnected();
    await first.close();
  });

  it('keeps all input from a fast client while the frontend is slow (backpressure, no drops)', async () => {
    const chr = track(
      new SocketChardev('s0', {
        address: { type: 'inet', host: '127.0.0.1', port: 0 },
        server: true,
        wait: false,
      }),
    );
    const fe = new RecordingFrontend(0);
    chr.attach(fe);
    await chr.open();
    const peer = await dial({ port: chr.port });
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    peer.socket.end(data);
    // Take the input in small steps, as a UART would.
    while (fe.bytes.length < data.length) {
      if (chr.queuedInput === 0) await new Promise((r) => setImmediate(r));
      fe.budget = 4096;
      chr.acceptInput();
    }
    expect(Buffer.from(fe.bytes).equals(data)).toBe(true);
  });
});

describe('SocketChardev as a client', () => {
  it('connects to a TCP listener and exchanges bytes both ways', async () => {
    const t = await listenTest({ port: 0 });
    const port = (t.server.address() as AddressInfo).port;
    const chr = track(new SocketChardev('c0', { address: { type: 'inet', host: '127.0.0.1', port } }));
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    expect(chr.connected).toBe(true);
    expect(fe.events).toEqual(['opened']);
    const peer = await t.next();
    chr.write(bytesOf('endianness\n'));
    await peer.untilText('\n');
    expect(peer.text).toBe('endianness\n');
    peer.socket.write('OK little\n');
    await fe.untilBytes(10);
    expect(fe.text).toBe('OK little\n');
  });

  it('connects to a Unix listener (the libqtest arrangement)', async () => {
    const path = join(dir, 'qtest-1.qmp');
    const t = await listenTest({ path });
    const chr = track(new SocketChardev('char0', { address: { type: 'unix', path } }));
    await chr.open();
    expect(chr.filename).toBe(`unix:${path}`);
    const peer = await t.next();
    chr.write(bytesOf('{"QMP": {}}\r\n'));
    await peer.untilText('\n');
  });

  it('fails with "Connection refused" when nothing listens on the TCP port', async () => {
    const t = await listenTest({ port: 0 });
    const port = (t.server.address() as AddressInfo).port;
    await new Promise<void>((r) => t.server.close(() => r()));
    const chr = new SocketChardev('c0', { address: { type: 'inet', host: '127.0.0.1', port } });
    const err = await chr.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`Failed to connect to '127.0.0.1:${port}': Connection refused`);
    await chr.close();
  });

  it('fails with the path and the reason for a missing Unix socket', async () => {
    const path = join(dir, 'absent.sock');
    const chr = new SocketChardev('c0', { address: { type: 'unix', path } });
    await expect(chr.open()).rejects.toThrow(`Failed to connect to '${path}': No such file or directory`);
  });

  it('with reconnect, reports the failure once and connects when the listener appears', async () => {
    const path = join(dir, 'later.sock');
    const out = silent();
    let failed!: () => void;
    const firstFailure = new Promise<void>((r) => {
      failed = r;
    });
    const chr = track(
      new SocketChardev('c0', {
        address: { type: 'unix', path },
        reconnectMs: 10,
        report: (l) => {
          out.report(l);
          failed();
        },
      }),
    );
    await chr.open();
    await firstFailure;
    expect(out.lines[0]).toBe(
      `Unable to connect character device c0: Failed to connect to '${path}': No such file or directory`,
    );
    const t = await listenTest({ path });
    await chr.whenConnected();
    const peer = await t.next();
    chr.write(bytesOf('hi'));
    await peer.untilText('hi');
    expect(out.lines.length).toBe(1);
  });

  it('rejects reconnect in server mode', () => {
    expect(
      () =>
        new SocketChardev('s', {
          address: { type: 'unix', path: join(dir, 'x') },
          server: true,
          reconnectMs: 1000,
        }),
    ).toThrow("'reconnect' option is incompatible with socket in server listen mode");
  });
});

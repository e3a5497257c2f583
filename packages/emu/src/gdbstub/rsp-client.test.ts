import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodePayload,
  escapeBinary,
  framePacket,
  parseStopReply,
  RspClient,
  RspError,
} from './rsp-client.js';

/** What the fake stub does with one received packet: raw strings to send back. */
type Handler = (payload: string, stub: FakeStub) => string[];

function frame(payload: string): string {
  return Buffer.from(framePacket(payload)).toString('latin1');
}

/** A tiny GDB stub on 127.0.0.1 that records what it receives and answers from a script. */
class FakeStub {
  readonly packets: string[] = [];
  /** Every byte received, as latin1 (acks, packets and interrupt bytes). */
  raw = '';
  interrupts = 0;
  socket: net.Socket | null = null;
  private buffer = '';
  private readonly server: net.Server;

  constructor(private readonly handler: Handler) {
    this.server = net.createServer((socket) => {
      this.socket = socket;
      socket.on('data', (chunk) => this.onData(chunk.toString('latin1')));
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  send(raw: string): void {
    this.socket?.write(Buffer.from(raw, 'latin1'));
  }

  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onData(text: string): void {
    this.raw += text;
    this.buffer += text;
    for (;;) {
      if (this.buffer.startsWith('\x03')) {
        this.buffer = this.buffer.slice(1);
        this.interrupts++;
        for (const out of this.handler('\x03', this)) this.send(out);
        continue;
      }
      if (this.buffer.startsWith('+') || this.buffer.startsWith('-')) {
        this.buffer = this.buffer.slice(1);
        continue;
      }
      const m = /^\$([^#]*)#([0-9a-f]{2})/.exec(this.buffer);
      if (!m) return;
      this.buffer = this.buffer.slice(m[0].length);
      this.packets.push(m[1]!);
      for (const out of this.handler(m[1]!, this)) this.send(out);
    }
  }
}

/** Polls until `condition` holds (data crosses a real socket); fails the test after 2 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

const stubs: FakeStub[] = [];
const clients: RspClient[] = [];

async function setup(handler: Handler): Promise<{ stub: FakeStub; client: RspClient }> {
  const stub = new FakeStub(handler);
  stubs.push(stub);
  const port = await stub.listen();
  const client = await RspClient.connect('127.0.0.1', port, { timeoutMs: 5000 });
  clients.push(client);
  return { stub, client };
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of stubs.splice(0)) await s.close();
});

describe('RSP framing helpers', () => {
  it('frames a payload with the modulo-256 checksum as two lowercase hex digits', () => {
    expect(Buffer.from(framePacket('qSupported')).toString('latin1')).toBe('$qSupported#37');
    expect(Buffer.from(framePacket('')).toString('latin1')).toBe('$#00');
    expect(Buffer.from(framePacket('g')).toString('latin1')).toBe('$g#67');
  });

  it('escapes #, $, } and * as } followed by the byte XOR 0x20', () => {
    const out = escapeBinary(Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0x41));
    expect(Array.from(out)).toEqual([0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0x41]);
  });

  it('expands run-length encoding: c*n repeats c another n - 29 times', () => {
    const decode = (s: string): string =>
      Buffer.from(decodePayload(Buffer.from(s, 'latin1'))).toString('latin1');
    expect(decode('0* ')).toBe('0000');
    expect(decode('a*"b')).toBe('aaaaaab');
    expect(decode('x}]y')).toBe('x}y');
  });

  it('parses T stop replies into signal, registers and other pairs', () => {
    const stop = parseStopReply('T05thread:p01.01;0f:00100000;swbreak:;')!;
    expect(stop.kind).toBe('signal');
    expect(stop.code).toBe(5);
    expect(stop.registers.get(15)).toBe('00100000');
    expect(stop.info.get('thread')).toBe('p01.01');
    expect(stop.info.get('swbreak')).toBe('');
    expect(parseStopReply('W00')?.kind).toBe('exited');
    expect(parseStopReply('X09')?.kind).toBe('terminated');
    expect(parseStopReply('OK')).toBeNull();
  });
});

describe('RspClient', () => {
  it('sends framed requests, acknowledges replies and resolves with the payload', async () => {
    const { stub, client } = await setup((p) => [
      '+',
      frame(
        p === 'qSupported:xmlRegisters=arm' ? 'PacketSize=1000;qXfer:features:read+;vContSupported-' : '',
      ),
    ]);
    const features = await client.qSupported(['xmlRegisters=arm']);
    expect(features.get('PacketSize')).toBe('1000');
    expect(features.get('qXfer:features:read')).toBe(true);
    expect(features.get('vContSupported')).toBe(false);
    await until(() => stub.raw.endsWith('+'));
    expect(stub.raw).toBe(`${frame('qSupported:xmlRegisters=arm')}+`);
  });

  it('resends a packet the stub rejects with -', async () => {
    let first = true;
    const { stub, client } = await setup((p) => {
      if (first) {
        first = false;
        return ['-'];
      }
      return ['+', frame(p === 'g' ? '01020304' : 'E01')];
    });
    expect(Array.from(await client.readRegisters())).toEqual([1, 2, 3, 4]);
    expect(stub.packets).toEqual(['g', 'g']);
  });

  it('answers - to a reply with a bad checksum and takes the resent one', async () => {
    const { stub, client } = await setup(() => ['+', '$OK#00']);
    const pending = client.writeRegister(15, Uint8Array.of(0, 0x10, 0, 0));
    await until(() => stub.raw.endsWith('-'));
    stub.send(frame('OK'));
    await pending;
    expect(stub.packets).toEqual(['Pf=00100000']);
  });

  it('decodes run-length encoded register replies', async () => {
    const { client } = await setup(() => ['+', frame('0* 12')]);
    expect(Array.from(await client.readRegisters())).toEqual([0, 0, 0x12]);
  });

  it('escapes binary data of X packets and checksums the escaped bytes', async () => {
    const { stub, client } = await setup(() => ['+', frame('OK')]);
    await client.writeMemoryBinary(0x20000000, Uint8Array.of(0x23, 0x7d, 0x41));
    expect(stub.packets).toEqual(['X20000000,3:}\x03}]A']);
    expect(stub.raw.startsWith(frame('X20000000,3:}\x03}]A'))).toBe(true);
  });

  it('formats m, M, Z0 and z0 requests with hex addresses and lengths', async () => {
    const { stub, client } = await setup((p) => ['+', frame(p.startsWith('m') ? 'aabbccdd' : 'OK')]);
    expect(Array.from(await client.readMemory(0x1000, 4))).toEqual([0xaa, 0xbb, 0xcc, 0xdd]);
    await client.writeMemory(0x20000010, Uint8Array.of(1, 2));
    await client.insertBreakpoint(0x100);
    await client.removeBreakpoint(0x100);
    expect(stub.packets).toEqual(['m1000,4', 'M20000010,2:0102', 'Z0,100,2', 'z0,100,2']);
  });

  it('turns Exx and empty replies into RspError', async () => {
    const { client } = await setup((p) => ['+', frame(p.startsWith('m') ? 'E14' : '')]);
    await expect(client.readMemory(0x30000000, 4)).rejects.toThrow(RspError);
    await expect(client.readMemory(0x30000000, 4)).rejects.toMatchObject({ reply: 'E14' });
    await expect(client.readRegister(99)).rejects.toMatchObject({ reply: '' });
  });

  it('stops acknowledging after QStartNoAckMode is accepted', async () => {
    let noAck = false;
    const { stub, client } = await setup((p) => {
      const out = [frame(p === 'QStartNoAckMode' ? 'OK' : 'S05')];
      if (!noAck) out.unshift('+');
      if (p === 'QStartNoAckMode') noAck = true;
      return out;
    });
    expect(await client.startNoAckMode()).toBe(true);
    // The OK of QStartNoAckMode itself is still acknowledged.
    await until(() => stub.raw.endsWith('+'));
    const before = stub.raw.length;
    await client.haltReason();
    // Only the packet itself: no '+' after the stop reply.
    expect(stub.raw.slice(before)).toBe(frame('?'));
  });

  it('reads qXfer:features annexes in chunks until the l reply', async () => {
    const { stub, client } = await setup((p) => [
      '+',
      frame(p.endsWith(':0,ffb') ? 'm<target>' : 'l</target>'),
    ]);
    expect(await client.readFeatures()).toBe('<target></target>');
    expect(stub.packets).toEqual([
      'qXfer:features:read:target.xml:0,ffb',
      'qXfer:features:read:target.xml:8,ffb',
    ]);
  });

  it('steps and parses the stop reply', async () => {
    const { client } = await setup(() => ['+', frame('T05thread:01;')]);
    const stop = await client.step();
    expect(stop.code).toBe(5);
    expect(stop.info.get('thread')).toBe('01');
  });

  it('interrupts a running continue with 0x03 and passes console output aside', async () => {
    const output: string[] = [];
    const stub = new FakeStub((p) =>
      p === '\x03' ? [frame('T02')] : ['+', frame(`O${Buffer.from('hi\n').toString('hex')}`)],
    );
    stubs.push(stub);
    const port = await stub.listen();
    const client = await RspClient.connect('127.0.0.1', port, { onConsoleOutput: (t) => output.push(t) });
    clients.push(client);
    const running = client.continue();
    await until(() => output.length === 1);
    client.interrupt();
    const stop = await running;
    expect(stop.code).toBe(2);
    expect(stub.interrupts).toBe(1);
    expect(output).toEqual(['hi\n']);
  });

  it('runs monitor commands with qRcmd and collects their output', async () => {
    const { stub, client } = await setup(() => [
      '+',
      frame(`O${Buffer.from('done\n').toString('hex')}`),
      frame('OK'),
    ]);
    expect(await client.monitor('system_reset')).toBe('done\n');
    expect(stub.packets).toEqual([`qRcmd,${Buffer.from('system_reset').toString('hex')}`]);
  });

  it('keeps requests in order when several are issued at once', async () => {
    const { stub, client } = await setup((p) => ['+', frame(p === 'g' ? '00' : 'OK')]);
    const results = await Promise.all([client.request('g'), client.request('Hg0'), client.request('g')]);
    expect(results).toEqual(['00', 'OK', '00']);
    expect(stub.packets).toEqual(['g', 'Hg0', 'g']);
  });

  it('reports a refused connection as a UserError naming the address', async () => {
    const server = net.createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(RspClient.connect('127.0.0.1', port)).rejects.toMatchObject({
      name: 'UserError',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
  });
});

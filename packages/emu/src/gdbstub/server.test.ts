/**
 * The GDB stub over a real TCP socket on 127.0.0.1, driven by our RSP client, against a
 * micro:bit running the test firmware hello.elf (prints a line, then sleeps in WFI), and
 * against a small two-cluster machine for the multiprocess model.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketChardev } from '../chardev/socket.js';
import { Machine } from '../core/machine.js';
import { MemoryRegion } from '../core/memory.js';
import { ObjectNode } from '../core/object.js';
import { CortexM0 } from '../cpu/arm/cortex-m0.js';
import { CpuNode } from '../cpu/arm/cpu-node.js';
import { firmwareAvailable, requireFirmware } from '../loader/test-firmware.js';
import { createMachine } from '../machine/create.js';
import type { MicrobitMachine } from '../machine/microbit.js';
import { HumanMonitor } from '../monitor/hmp/hmp.js';
import { encodePacket } from './packet.js';
import { RspClient, readU32le, u32le } from './rsp-client.js';
import { discoverProcesses, type GdbServer, startGdbServer } from './server.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Stub {
  server: GdbServer;
  port: number;
  kills: number[];
  connect(): Promise<RspClient>;
}

async function startStub(
  machine: Machine,
  options: { startStopped?: boolean; hmp?: boolean } = {},
): Promise<Stub> {
  const chardev = new SocketChardev('gdb', {
    address: { type: 'inet', host: '127.0.0.1', port: 0 },
    server: true,
    wait: false,
    nodelay: true,
    report: () => {},
  });
  await chardev.open();
  const kills: number[] = [];
  const server = startGdbServer({
    machine,
    chardev,
    hmp: options.hmp === false ? null : new HumanMonitor({ machine }),
    onKill: () => kills.push(1),
    ...(options.startStopped ? { startStopped: true } : {}),
  });
  const clients: RspClient[] = [];
  cleanups.push(async () => {
    for (const c of clients) await c.close();
    server.close();
    await chardev.close();
  });
  return {
    server,
    port: chardev.port,
    kills,
    connect: async () => {
      const c = await RspClient.connect('127.0.0.1', chardev.port, { timeoutMs: 5000 });
      clients.push(c);
      return c;
    },
  };
}

function startHello(): MicrobitMachine {
  const m = createMachine('microbit', {
    mode: 'fast',
    devices: [{ driver: 'loader', props: { file: requireFirmware('hello.elf') } }],
  });
  cleanups.push(() => m.shutdown('host-qmp-quit'));
  m.start();
  return m;
}

function symbol(m: Machine, name: string): number {
  const s = m.loadedImages.flatMap((i) => i.symbols ?? []).find((x) => x.name === name);
  if (!s) throw new Error(`no symbol ${name}`);
  return s.value & ~1;
}

/** Waits until `check` holds, polling on the event loop (no time limit but the test's). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 1));
}

/** Resets the machine through the monitor: the CPU stays stopped at its reset vector. */
async function reset(client: RspClient): Promise<void> {
  await client.monitor('system_reset');
}

const hexText = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

describe.skipIf(!firmwareAvailable('hello.elf'))('GDB stub on the micro:bit', () => {
  it('advertises its features in qSupported', async () => {
    const stub = await startStub(startHello());
    const client = await stub.connect();
    const features = await client.qSupported(['multiprocess+', 'swbreak+', 'hwbreak+', 'vContSupported+']);
    expect(features.get('PacketSize')).toBe('4000');
    for (const f of [
      'qXfer:features:read',
      'qXfer:memory-map:read',
      'multiprocess',
      'vContSupported',
      'swbreak',
      'hwbreak',
      'QStartNoAckMode',
    ]) {
      expect(features.get(f), f).toBe(true);
    }
  });

  it('stops the machine on connection and reports the first thread', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const stop = await client.haltReason();
    expect(stop.code).toBe(5);
    expect(stop.info.get('thread')).toBe('01');
    expect(m.cpu.debugStopped).toBe(true);
    expect(m.runner.running).toBe(false);
    expect(stub.server.clientConnected).toBe(true);
  });

  it('describes an M-profile target with the system registers', async () => {
    const stub = await startStub(startHello());
    const client = await stub.connect();
    const xml = await client.readFeatures();
    expect(xml).toContain('<architecture>arm</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.arm.m-profile">');
    expect(xml).toContain('<feature name="org.gnu.gdb.arm.m-system">');
    for (const name of ['r0', 'r12', 'sp', 'lr', 'pc', 'xpsr', 'msp', 'psp', 'primask', 'control']) {
      expect(xml).toContain(`name="${name}"`);
    }
    expect(xml).toContain('<reg name="xpsr" bitsize="32" regnum="25"');
    expect(await client.request('qXfer:features:read:other.xml:0,ffb')).toBe('E00');
    expect(await client.request('qXfer:features:read:target.xml:100000,10')).toBe('l');
  });

  it('serves a memory map with the flash pages and the RAM', async () => {
    const stub = await startStub(startHello());
    const client = await stub.connect();
    let xml = '';
    for (;;) {
      const reply = await client.request(`qXfer:memory-map:read::${xml.length.toString(16)},200`);
      xml += reply.slice(1);
      if (reply[0] === 'l') break;
      expect(reply[0]).toBe('m');
    }
    expect(xml).toContain('<memory-map>');
    expect(xml).toMatch(
      /<memory type="flash" start="0x0" length="0x40000">\s*<property name="blocksize">0x400<\/property>/,
    );
    expect(xml).toContain('<memory type="ram" start="0x20000000" length="0x4000"/>');
    // UICR is flash too; the FICR registers are readable.
    expect(xml).toContain('<memory type="flash" start="0x10001000"');
    expect(xml).toContain('<memory type="ram" start="0x10000000"');
  });

  it('reads and writes registers with g, G, p and P', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.haltReason();
    const regs = await client.readRegisters();
    expect(regs.length).toBe(17 * 4);
    const word = (i: number): number =>
      readU32le(Buffer.from(regs.subarray(i * 4, i * 4 + 4)).toString('hex'));
    expect(word(15)).toBe(m.cpu.pc);
    expect(word(13)).toBe(m.cpu.readRegister(13));
    expect(word(16)).toBe(m.cpu.readRegister(16));
    expect(word(16) & 0x0100_0000).toBe(0x0100_0000); // Thumb bit
    expect(readU32le(Buffer.from(await client.readRegister(0x19)).toString('hex'))).toBe(word(16));
    expect(readU32le(Buffer.from(await client.readRegister(0x1a)).toString('hex'))).toBe(
      m.cpu.readRegister(17),
    );

    await client.writeRegister(0, Buffer.from(u32le(0x12345678), 'hex'));
    expect(m.cpu.readRegister(0)).toBe(0x12345678);
    await client.writeRegister(0x1c, Buffer.from(u32le(1), 'hex')); // primask
    expect(m.cpu.primask).toBe(1);

    const changed = Uint8Array.from(regs);
    changed.set(Buffer.from(u32le(0xcafef00d), 'hex'), 4 * 3);
    await client.writeRegisters(changed);
    expect(m.cpu.readRegister(3)).toBe(0xcafef00d);
    expect(m.cpu.pc).toBe(word(15));

    expect(await client.request('p10')).toBe('E14'); // an old FPA register: not there
    expect(await client.request('P10=00000000')).toBe('E14');
  });

  it('reads memory with m and writes it with M and X (binary, escaped)', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const vectors = await client.readMemory(0, 8);
    expect(Buffer.from(vectors)).toEqual(Buffer.from(m.addressSpace.readDebug(0, 8)!));

    await client.writeMemory(0x2000_1000, Uint8Array.of(1, 2, 3, 4));
    expect([...m.addressSpace.readDebug(0x2000_1000, 4)!]).toEqual([1, 2, 3, 4]);
    const special = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x00, 0x03, 0xff]);
    await client.writeMemoryBinary(0x2000_1010, special);
    expect([...m.addressSpace.readDebug(0x2000_1010, special.length)!]).toEqual([...special]);
    expect(await client.request('X20001020,0:')).toBe('OK');

    // Run-length encoded replies come back intact.
    m.addressSpace.writeDebug(0x2000_1100, new Uint8Array(64));
    expect([...(await client.readMemory(0x2000_1100, 64))]).toEqual(new Array(64).fill(0));
  });

  it('answers E14 for memory that is not mapped', async () => {
    const stub = await startStub(startHello());
    const client = await stub.connect();
    expect(await client.request('m30000000,4')).toBe('E14');
    expect(await client.request('M30000000,1:00')).toBe('E14');
  });

  it('stops at a breakpoint after continue and reports swbreak when GDB asked for it', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.qSupported(['multiprocess+', 'swbreak+', 'hwbreak+']);
    await reset(client);
    const main = symbol(m, 'main');
    await client.insertBreakpoint(main);
    const stop = await client.continue();
    expect(stop.code).toBe(5);
    expect(stop.info.get('thread')).toBe('p01.01');
    expect(stop.info.has('swbreak')).toBe(true);
    expect(m.cpu.pc).toBe(main);
    expect(m.runner.running).toBe(false);

    // A hardware breakpoint reports hwbreak; continuing from the first breakpoint runs on.
    await client.removeBreakpoint(main);
    expect(await client.request(`Z1,${(main + 8).toString(16)},2`)).toBe('OK');
    const stop2 = await client.continue();
    expect(stop2.info.has('hwbreak')).toBe(true);
    expect(m.cpu.pc).toBe(main + 8);
    expect(await client.request(`z1,${(main + 8).toString(16)},2`)).toBe('OK');
    expect(m.cpu.breakpoints).toEqual([]);
    expect(await client.request(`z0,${main.toString(16)},2`)).toBe('E22');
  });

  it('continues at a given address with c ADDR', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const main = symbol(m, 'main');
    await client.insertBreakpoint(main + 4);
    await client.continue(main);
    expect(m.cpu.pc).toBe(main + 4);
  });

  it('steps one instruction with s', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await reset(client);
    const start = m.cpu.pc;
    const stop = await client.step();
    expect(stop.code).toBe(5);
    expect(stop.info.get('thread')).toBe('01');
    expect(m.cpu.pc).not.toBe(start);
    expect(m.cpu.debugStopped).toBe(true);
    // vCont step of the thread does the same.
    const pc = m.cpu.pc;
    expect(await client.request('vCont?')).toBe('vCont;c;C;s;S');
    const reply = await client.request('vCont;s:01');
    expect(reply).toBe('T05thread:01;');
    expect(m.cpu.pc).not.toBe(pc);
  });

  it('reports write, read and access watchpoints with the watched address', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await reset(client);
    const message = symbol(m, 'message');
    // The start-up code copies .data (the message) to RAM: a store hits a write watchpoint.
    expect(await client.request(`Z2,${(message + 5).toString(16)},1`)).toBe('OK');
    const write = await client.continue();
    expect(write.info.get('watch')).toBe((message + 5).toString(16));
    expect(await client.request(`z2,${(message + 5).toString(16)},1`)).toBe('OK');

    // main reads the message byte by byte: a read watchpoint on its first byte.
    expect(await client.request(`Z3,${message.toString(16)},1`)).toBe('OK');
    const read = await client.continue();
    expect(read.info.get('rwatch')).toBe(message.toString(16));
    expect(await client.request(`z3,${message.toString(16)},1`)).toBe('OK');

    // GDB then steps over the access it thinks is still to come: that step is already done.
    const pc = m.cpu.pc;
    expect(await client.request('vCont;s:01;c')).toBe('T05thread:01;');
    expect(m.cpu.pc).toBe(pc);
    const next = await client.step();
    expect(next.code).toBe(5);
    expect(m.cpu.pc).not.toBe(pc);

    expect(await client.request(`Z4,${(message + 1).toString(16)},1`)).toBe('OK');
    const access = await client.continue();
    expect(access.info.get('awatch')).toBe((message + 1).toString(16));
    expect(access.info.get('thread')).toBe('01');
  });

  it('stops a running guest on Ctrl-C with SIGINT', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const running = client.continue();
    await until(() => m.runner.running);
    client.interrupt();
    const stop = await running;
    expect(stop.code).toBe(2);
    expect(stop.info.get('thread')).toBe('01');
    expect(m.runner.running).toBe(false);
    expect(m.cpu.debugStopped).toBe(true);
  });

  it('runs monitor commands in the human monitor', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const mtree = await client.monitor('info mtree');
    expect(mtree).toContain('address-space: memory');
    expect(mtree).not.toContain('\r');
  });

  it('resets the machine with monitor system_reset and stays stopped', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.haltReason();
    const resetPc = m.addressSpace.read32(4) & ~1;
    await client.writeRegister(15, Buffer.from(u32le(symbol(m, 'main')), 'hex'));
    expect(m.cpu.pc).toBe(symbol(m, 'main'));
    expect(await client.monitor('system_reset')).toBe('');
    expect(m.cpu.pc).toBe(resetPc);
    expect(m.cpu.debugStopped).toBe(true);
  });

  it('programs flash with vFlashErase, vFlashWrite and vFlashDone', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    const page = 0x3_fc00;
    m.addressSpace.writeDebug(page, new Uint8Array(0x400));
    expect(await client.request(`vFlashErase:${page.toString(16)},400`)).toBe('OK');
    expect([...m.addressSpace.readDebug(page, 4)!]).toEqual([0xff, 0xff, 0xff, 0xff]);
    const data = Uint8Array.from([0x11, 0x23, 0x24, 0x7d, 0x2a, 0x22]);
    const head = Buffer.from(`vFlashWrite:${page.toString(16)}:`, 'latin1');
    expect(await client.request(Buffer.concat([head, escapeForTest(data)]))).toBe('OK');
    expect(await client.request('vFlashDone')).toBe('OK');
    expect([...(await client.readMemory(page, 8))]).toEqual([...data, 0xff, 0xff]);
    // Not flash: refused.
    expect(await client.request('vFlashErase:20000000,400')).toBe('E14');
    expect(await client.request('vFlashWrite:20000000:\x01')).toBe('E.memtype');
  });

  it('detaches (the machine runs again) and lets a new client attach', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const first = await stub.connect();
    await first.haltReason();
    await first.insertBreakpoint(0x100);
    expect(await first.request('D')).toBe('OK');
    expect(m.runner.running).toBe(true);
    expect(m.cpu.debugStopped).toBe(false);
    expect(m.cpu.breakpoints).toEqual([]);
    await first.close();
    await until(() => !stub.server.clientConnected);

    const second = await stub.connect();
    const stop = await second.haltReason();
    expect(stop.code).toBe(5);
    expect(m.cpu.debugStopped).toBe(true);
  });

  it('lets the machine run on when a client goes away without detaching', async () => {
    const m = startHello();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.haltReason();
    await client.insertBreakpoint(0x100);
    await client.close();
    await until(() => !stub.server.clientConnected);
    expect(m.runner.running).toBe(true);
    expect(m.cpu.debugStopped).toBe(false);
    expect(m.cpu.breakpoints).toEqual([]);
  });

  it('keeps a -S machine stopped when the client goes away', async () => {
    const m = createMachine('microbit', {
      mode: 'fast',
      devices: [{ driver: 'loader', props: { file: requireFirmware('hello.elf') } }],
    });
    cleanups.push(() => m.shutdown('host-qmp-quit'));
    const stub = await startStub(m, { startStopped: true });
    const client = await stub.connect();
    await client.haltReason();
    await client.close();
    await until(() => !stub.server.clientConnected);
    expect(m.runner.running).toBe(false);
    expect(m.runState).toBe('prelaunch');
    // The monitor's `cont` still starts it.
    m.start();
    expect(m.cpu.debugStopped).toBe(false);
  });

  it('ends the emulator on k and vKill', async () => {
    const stub = await startStub(startHello());
    const a = await stub.connect();
    expect(await a.request('vKill;1')).toBe('OK');
    expect(stub.kills).toEqual([1]);
    await a.close();
    await until(() => !stub.server.clientConnected);
    const b = await stub.connect();
    await b.haltReason();
    void b.request('k').catch(() => undefined);
    await until(() => stub.kills.length === 2);
  });

  it('answers unknown packets with an empty reply and malformed ones with E22', async () => {
    const stub = await startStub(startHello(), { hmp: false });
    const client = await stub.connect();
    expect(await client.request('vMustReplyEmpty')).toBe('');
    expect(await client.request('qNoSuchThing')).toBe('');
    expect(await client.request('J')).toBe('');
    expect(await client.request('qRcmd,696e666f')).toBe(''); // no monitor given
    for (const bad of [
      'mzz,4',
      'm0',
      'M0,2:00',
      'M0,1:0g',
      'X0,2:a',
      'p',
      'P1',
      'P1=12',
      'Z0,zz,2',
      'Hq1',
      'Hgzz',
    ]) {
      expect(await client.request(bad), bad).toBe('E22');
    }
    expect(await client.request('Z9,0,2')).toBe('');
    expect(await client.request('Z2,20000000,0')).toBe('E22');
    expect(await client.request('Hg5')).toBe('E22'); // no such thread
    expect(await client.request('T1')).toBe('OK');
    expect(await client.request('T7')).toBe('E22');
    expect(await client.request('qAttached')).toBe('1');
    expect(await client.request('qC')).toBe('QC01');
    expect(await client.request('qfThreadInfo')).toBe('m01');
    expect(await client.request('qsThreadInfo')).toBe('l');
    expect(await client.request('qThreadExtraInfo,01')).toBe(hexText('CPU#0 [running]'));
  });

  it('works without acknowledgements after QStartNoAckMode', async () => {
    const stub = await startStub(startHello());
    const client = await stub.connect();
    expect(await client.startNoAckMode()).toBe(true);
    expect(await client.request('qAttached')).toBe('1');
    expect((await client.readRegisters()).length).toBe(68);
  });
});

/** The escaping of binary data, written out for the test (independent of the module). */
function escapeForTest(data: Uint8Array): Buffer {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return Buffer.from(out);
}

describe.skipIf(!firmwareAvailable('hello.elf'))('GDB stub packet integrity on the wire', () => {
  /** A raw connection: what the stub sends back, byte for byte. */
  async function raw(port: number): Promise<{ socket: net.Socket; received: () => string }> {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    cleanups.push(() => {
      socket.destroy();
    });
    return { socket, received: () => data };
  }

  it('NACKs a packet with a bad checksum, then handles it when sent again correctly', async () => {
    const stub = await startStub(startHello());
    const { socket, received } = await raw(stub.port);
    socket.write('$qAttached#00');
    await until(() => received().length >= 1);
    expect(received()).toBe('-');
    socket.write(Buffer.from(encodePacket('qAttached', false)));
    await until(() => received().includes('#'));
    expect(received()).toBe(`-+${Buffer.from(encodePacket('1')).toString('latin1')}`);
  });

  it('sends its reply again when GDB NACKs it', async () => {
    const stub = await startStub(startHello());
    const { socket, received } = await raw(stub.port);
    socket.write(Buffer.from(encodePacket('qAttached')));
    await until(() => received() === '+$1#31');
    socket.write('-');
    await until(() => received().length > 6);
    expect(received()).toBe('+$1#31$1#31');
  });

  it('run-length encodes long runs in replies', async () => {
    const m = startHello();
    m.addressSpace.writeDebug(0x2000_2000, new Uint8Array(16));
    const stub = await startStub(m);
    const { socket, received } = await raw(stub.port);
    socket.write(Buffer.from(encodePacket('m20002000,10')));
    await until(() => received().includes('#'));
    // 32 '0' digits: one '0' and 31 repeats ('*' + chr(31 + 29) = '<').
    expect(received()).toMatch(/^\+\$0\*<#[0-9a-f]{2}$/);
  });
});

// ---- multiprocess: a machine with two clusters of one CPU each ----------------------------------

/** Two Cortex-M0 cores, each in its own cluster, running the same loop from a small ROM. */
class TwoClusterMachine extends Machine {
  readonly cores: CortexM0[] = [];

  constructor() {
    super('two-cluster-test-machine', { mode: 'fast' });
  }

  protected build(): void {
    const rom = this.addMemory(0, MemoryRegion.rom('rom', 0x1000));
    this.addMemory(0x2000_0000, MemoryRegion.ram('ram', 0x1000));
    const image = new Uint8Array(0x200);
    const view = new DataView(image.buffer);
    view.setUint32(0, 0x2000_1000, true); // initial SP
    view.setUint32(4, 0x101, true); // reset: 0x100, Thumb
    view.setUint16(0x100, 0x3001, true); // adds r0, #1
    view.setUint16(0x102, 0xe7fd, true); // b 0x100
    rom.data.set(image);
    for (let i = 0; i < 2; i++) {
      const cluster = this.addChild(`cluster${i}`, new ObjectNode('cpu-cluster'));
      cluster.declareProperty({ name: 'cluster-id', type: 'int', get: () => i });
      const cpu = new CortexM0(`cpu${i}`, this.addressSpace);
      cluster.addChild('cpu', new CpuNode(cpu, i));
      this.addExecutor(cpu);
      this.cores.push(cpu);
    }
  }

  protected override afterDeviceReset(): void {
    for (const c of this.cores) c.reset();
  }
}

function startTwoClusters(): TwoClusterMachine {
  const m = new TwoClusterMachine().init();
  m.powerOnReset();
  cleanups.push(() => m.shutdown('host-qmp-quit'));
  m.start();
  return m;
}

describe('GDB stub multiprocess model (two clusters)', () => {
  it('finds one process per cluster with pid = cluster-id + 1 and global thread ids', () => {
    const m = new TwoClusterMachine().init();
    const processes = discoverProcesses(m);
    expect(processes.map((p) => p.pid)).toEqual([1, 2]);
    expect(processes.map((p) => p.cpus.map((c) => c.index + 1))).toEqual([[1], [2]]);
  });

  it('attaches the first process only, then the second with vAttach, as QEMU', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.qSupported(['multiprocess+', 'swbreak+', 'hwbreak+']);
    expect(await client.request('vMustReplyEmpty')).toBe('');
    expect(await client.request('!')).toBe('OK');
    expect(await client.request('Hgp0.0')).toBe('OK');
    expect(await client.readFeatures()).toContain('<architecture>arm</architecture>');
    expect(await client.request('?')).toBe('T05thread:p01.01;');
    expect(m.cores.every((c) => c.debugStopped)).toBe(true);
    expect(await client.request('qfThreadInfo')).toBe('mp01.01');
    expect(await client.request('qsThreadInfo')).toBe('l');
    expect(await client.request('qAttached:1')).toBe('1');
    expect(await client.request('Hgp2.2')).toBe('E22'); // not attached yet

    expect(await client.request('vAttach;2')).toBe('T05thread:p02.02;');
    expect(await client.request('qC')).toBe('QCp02.02');
    expect(await client.request('Hgp2.2')).toBe('OK');
    expect(await client.readFeatures()).toContain('org.gnu.gdb.arm.m-profile');
    expect(await client.request('qfThreadInfo')).toBe('mp01.01');
    expect(await client.request('qsThreadInfo')).toBe('mp02.02');
    expect(await client.request('qsThreadInfo')).toBe('l');
    expect(await client.request('qThreadExtraInfo,p2.2')).toBe(hexText('cortex-m0-arm-cpu cpu [running]'));
    expect(await client.request('vAttach;3')).toBe('E22');
  });

  it('steps one cluster and leaves the other where it was', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.qSupported(['multiprocess+']);
    await client.request('vAttach;2');
    const [a, b] = m.cores as [CortexM0, CortexM0];
    const pcA = a.pc;
    const pcB = b.pc;
    const r0B = b.readRegister(0);
    expect(await client.request('vCont;s:p1.1;c:p1.-1')).toBe('T05thread:p01.01;');
    expect(a.pc).toBe(pcA === 0x100 ? 0x102 : 0x100);
    expect(b.pc).toBe(pcB);
    expect(b.readRegister(0)).toBe(r0B);

    // Registers follow Hg.
    expect(await client.request('Hgp2.2')).toBe('OK');
    const regs = await client.readRegisters();
    expect(readU32le(Buffer.from(regs.subarray(60, 64)).toString('hex'))).toBe(pcB);
  });

  it('reports the thread of the CPU that hit a breakpoint and stops the others', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.qSupported(['multiprocess+']);
    await client.request('vAttach;2');
    // A breakpoint inserted for process 2 applies to its CPU only.
    expect(await client.request('Hgp2.2')).toBe('OK');
    await client.insertBreakpoint(0x102);
    expect(m.cores[0]!.breakpoints).toEqual([]);
    expect(m.cores[1]!.breakpoints).toEqual([0x102]);
    const stop = await client.continue();
    expect(stop.info.get('thread')).toBe('p02.02');
    expect(m.cores[1]!.pc).toBe(0x102);
    expect(m.cores.every((c) => c.debugStopped)).toBe(true);
  });

  it('stops an interrupted CPU at the start of a basic block, as QEMU does', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    for (let i = 0; i < 5; i++) {
      const running = client.continue();
      await until(() => m.runner.running);
      await until(() => m.cores[0]!.cycles > 1000 * (i + 1));
      client.interrupt();
      const stop = await running;
      expect(stop.code).toBe(2);
      expect(stop.info.get('thread')).toBe('01');
      expect(m.cores[0]!.pc).toBe(0x100);
    }
  });

  it('stops running CPUs between basic blocks when GDB connects', async () => {
    const m = startTwoClusters();
    await until(() => m.cores[1]!.cycles > 10_000);
    const stub = await startStub(m);
    const client = await stub.connect();
    expect(await client.request('?')).toBe('T05thread:01;');
    expect(m.cores.map((c) => c.pc)).toEqual([0x100, 0x100]);
  });

  it('reports SIGINT when the monitor stops a machine GDB is waiting for', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    const running = client.continue();
    await until(() => m.cores[0]!.cycles > 10_000);
    await new HumanMonitor({ machine: m }).execute('stop');
    const stop = await running;
    expect(stop.raw).toBe('T02thread:01;');
    expect(m.cores.every((c) => c.debugStopped)).toBe(true);
  });

  it('detaches processes one by one (D;pid) and runs the machine when none is left', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    await client.qSupported(['multiprocess+']);
    await client.request('vAttach;2');
    expect(await client.request('D')).toBe('E22'); // multiprocess: the pid is needed
    expect(await client.request('Hgp1.1')).toBe('OK');
    expect(await client.request('D;1')).toBe('OK');
    expect(m.runner.running).toBe(false);
    expect(await client.request('qfThreadInfo')).toBe('mp02.02');
    expect(await client.request('Hgp2.2')).toBe('OK');
    expect(await client.request('D;2')).toBe('OK');
    expect(m.runner.running).toBe(true);
    expect(m.cores.some((c) => c.debugStopped)).toBe(false);
  });

  it('formats thread ids without the process when GDB did not offer multiprocess', async () => {
    const m = startTwoClusters();
    const stub = await startStub(m);
    const client = await stub.connect();
    expect(await client.request('?')).toBe('T05thread:01;');
    expect(await client.request('vAttach;2')).toBe('T05thread:02;');
    expect(await client.request('Hg2')).toBe('OK');
    expect(await client.request('qThreadExtraInfo,2')).toBe(hexText('cortex-m0-arm-cpu cpu [running]'));
  });
});

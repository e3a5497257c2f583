/**
 * The client library against a scripted stand-in emulator (test-support/fake-emulator.mjs): the
 * libqtest launch line, the handshake, request/reply framing with IRQ lines, errors, QMP events,
 * serial, and the exit-status check of quit(). The nRF51 tests drive the real tsemu.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QmpError, QTestError } from './errors.js';
import { QTestSession } from './session.js';

const fakeScript = fileURLToPath(new URL('./test-support/fake-emulator.mjs', import.meta.url));
let dir = '';
let binary = '';
let session: QTestSession | null = null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qtest-lib-'));
  // Named like a QEMU binary (libqtest takes the arch from the text after "-system-").
  binary = join(dir, 'fake-system-arm');
  writeFileSync(
    binary,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fakeScript)} "$@"\n`,
  );
  chmodSync(binary, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await session?.kill();
  session = null;
});

async function start(extra: { serial?: boolean; env?: Record<string, string> } = {}): Promise<QTestSession> {
  session = await QTestSession.start({ binary, machine: 'fake', args: ['-nodefaults'], ...extra });
  return session;
}

describe('QTestSession launch', () => {
  it('runs the binary with libqtest command line and negotiates', async () => {
    const argvFile = join(dir, 'argv.json');
    const s = await start({ serial: true, env: { FAKE_ARGV_FILE: argvFile } });
    const argv = JSON.parse(readFileSync(argvFile, 'utf8')) as string[];
    const tmp = process.env.TMPDIR || tmpdir();
    expect(argv.slice(0, 10)).toEqual([
      '-qtest',
      `unix:${join(tmp, `qtest-${process.pid}.sock`)}`,
      '-qtest-log',
      '/dev/null',
      '-chardev',
      `socket,path=${join(tmp, `qtest-${process.pid}.qmp`)},id=char0`,
      '-mon',
      'chardev=char0,mode=control',
      '-display',
      'none',
    ]);
    expect(argv[10]).toBe('-chardev');
    expect(argv[11]).toMatch(/^socket,id=s0,path=.*\/qtest-serial-[^/]+\/sock$/);
    expect(argv.slice(12)).toEqual(['-serial', 'chardev:s0', '-M', 'fake', '-nodefaults', '-accel', 'qtest']);
    expect(s.endianness).toBe('little');
    expect(s.commandLine.startsWith('exec ')).toBe(true);
    await s.quit();
    expect(s.status).toEqual({ code: 0, signal: null });
  });

  it('quit() fails when the emulator exits non-zero on SIGTERM', async () => {
    const s = await start({ env: { FAKE_EXIT_STATUS: '3' } });
    await expect(s.quit()).rejects.toThrow(/exited with status 3 on SIGTERM, expected exit status 0/);
  });

  it('reports an emulator that exits before connecting, with its output', async () => {
    const bad = join(dir, 'broken-system-arm');
    writeFileSync(bad, '#!/bin/sh\necho "no such machine" >&2\nexit 1\n');
    chmodSync(bad, 0o755);
    await expect(QTestSession.start({ binary: bad, machine: 'x' })).rejects.toThrow(
      /exited with status 1; its output:\nno such machine/,
    );
  });

  it('sessions started concurrently get their own sockets', async () => {
    const [a, b] = await Promise.all([start(), QTestSession.start({ binary, machine: 'fake' })]);
    await a.qtest.writel(0x100, 1);
    await b.qtest.writel(0x100, 2);
    expect(await a.qtest.readl(0x100)).toBe(1);
    expect(await b.qtest.readl(0x100)).toBe(2);
    await b.quit();
  });
});

describe('QTestClient', () => {
  it('formats memory accesses and parses 16-digit replies', async () => {
    const { qtest } = await start();
    await qtest.writeq(0x10, 0x1122_3344_5566_7788n);
    expect(await qtest.readq(0x10)).toBe(0x1122_3344_5566_7788n);
    expect(await qtest.readl(0x10)).toBe(0x5566_7788);
    expect(await qtest.readw(0x16)).toBe(0x1122);
    expect(await qtest.readb(0x17)).toBe(0x11);
    await qtest.writel(0x20, -1);
    expect(await qtest.readl(0x20)).toBe(0xffff_ffff);
    await qtest.write(0x30, Uint8Array.of(1, 2, 0xfe));
    expect(await qtest.read(0x30, 3)).toEqual(Uint8Array.of(1, 2, 0xfe));
    await qtest.b64write(0x40, Uint8Array.of(9, 8, 7, 6));
    expect(await qtest.b64read(0x40, 4)).toEqual(Uint8Array.of(9, 8, 7, 6));
    await qtest.memset(0x50, 3, 0xab);
    expect(await qtest.read(0x50, 4)).toEqual(Uint8Array.of(0xab, 0xab, 0xab, 0));
    expect(await qtest.read(0x50, 0)).toEqual(new Uint8Array(0));
  });

  it('steps and sets the clock, returning the new time', async () => {
    const { qtest } = await start();
    expect(await qtest.clockStep(250)).toBe(250);
    expect(await qtest.clockStep()).toBe(1250);
    expect(await qtest.clockSet(5000)).toBe(5000);
  });

  it('consumes IRQ lines sent before a reply and tracks the levels', async () => {
    const { qtest } = await start();
    await qtest.irqInterceptOut('/machine/fake');
    await qtest.writel(0xf000, 0b101);
    expect(qtest.irqLevel(0)).toBe(true);
    expect(qtest.irqLevel(1)).toBe(false);
    expect(qtest.irqLevel(2)).toBe(true);
    await qtest.writel(0xf000, 0b100);
    expect(await qtest.getIrq(0)).toBe(false);
    expect(qtest.takeIrqChanges()).toEqual([
      { line: 0, raised: true },
      { line: 2, raised: true },
      { line: 0, raised: false },
    ]);
  });

  it('drives inputs with set_irq_in', async () => {
    const { qtest } = await start();
    await qtest.setIrqIn('/machine/fake', null, 3, 1);
    await qtest.setIrqIn('/machine/fake', 'unnamed-gpio-in', 5, true);
    expect(await qtest.readl(0xf004)).toBe((1 << 3) | (1 << 5));
  });

  it('throws QTestError naming the request and the reason on FAIL', async () => {
    const { qtest } = await start();
    await expect(qtest.irqInterceptOut('/machine/nope')).rejects.toThrow(
      "qtest request 'irq_intercept_out /machine/nope' failed: FAIL Unknown device",
    );
    const error = await qtest.command('frobnicate 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QTestError);
    expect((error as QTestError).reply).toBe("FAIL Unknown command 'frobnicate'");
    expect(await qtest.request('frobnicate')).toBe("FAIL Unknown command 'frobnicate'");
  });

  it('explains a crash during the handshake with the exit status and output', async () => {
    await expect(start({ env: { FAKE_CRASH_ON: 'endianness' } })).rejects.toThrow(
      /exited with status 2; its output:\nfake crash/,
    );
  });

  it('explains a crash during a request with the exit status and output', async () => {
    const s = await start({ env: { FAKE_CRASH_ON: 'readl' } });
    await expect(s.qtest.readl(0)).rejects.toThrow(
      /qtest request 'readl 0x0' not answered: .*exited with status 2; its output:\nfake crash/,
    );
  });

  it('rejects pending requests when the emulator dies', async () => {
    const s = await start();
    s.child.kill('SIGKILL');
    await expect(s.qtest.readl(0)).rejects.toThrow(/not answered/);
  });
});

describe('QmpClient', () => {
  it('returns results, throws QmpError with class and desc', async () => {
    const { qmp } = await start();
    expect(await qmp.execute('query-status')).toEqual({
      status: 'running',
      singlestep: false,
      running: true,
    });
    const error = await qmp.execute('qom-get', { path: '/nope', property: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpError);
    expect(error).toMatchObject({
      command: 'qom-get',
      errorClass: 'DeviceNotFound',
      desc: "Device '/nope' not found",
    });
    await expect(qmp.execute('qmp_capabilities')).rejects.toThrow(
      /CommandNotFound: Capabilities negotiation/,
    );
  });

  it('queues events that come before the return and waits for them', async () => {
    const { qmp } = await start();
    await qmp.execute('stop');
    const event = await qmp.waitEvent('STOP');
    expect(event).toEqual({ timestamp: { seconds: 1, microseconds: 2 }, event: 'STOP' });
    expect(qmp.takeEvents()).toEqual([]);
    await expect(qmp.waitEvent('RESUME', 50)).rejects.toThrow('QMP event RESUME not received within 50 ms');
  });

  it('passes raw requests and echoes ids', async () => {
    const { qmp } = await start();
    expect(await qmp.request({ execute: 'query-status', id: 'v1' })).toMatchObject({ id: 'v1' });
  });
});

describe('SerialPort', () => {
  it('reads what the emulator sends and delivers what the test writes', async () => {
    const s = await start({ serial: true });
    for (const c of 'hi\n') await s.qtest.writeb(0xe000, c.charCodeAt(0));
    expect(await s.serial.readUntil('\n')).toBe('hi\n');
    await s.serial.write('Z');
    // The byte travels on its own socket: poll the emulator until it has arrived.
    let got = 0;
    for (let i = 0; i < 1000 && got === 0; i++) got = await s.qtest.readb(0xe004);
    expect(got).toBe(0x5a);
  });

  it('is only there when asked for', async () => {
    const s = await start();
    expect(() => s.serial).toThrow('started without `serial: true`');
  });
});

/**
 * End-to-end tests of the `tsemu-system-arm` program (the built one, as QEMU's test harness
 * runs it): the libqtest launch line, exit statuses and error lines.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '../../bin/tsemu-system-arm');
const DIST = join(here, '../../dist/cli/system-arm.js');

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('packages/emu is not built: run `npm run build` (npm test does)');
});

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 15000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsemu-cli-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Listens on a Unix socket as libqtest does; resolves with the first connection. */
function listen(path: string): { server: Server; connection: Promise<Socket> } {
  let resolve!: (s: Socket) => void;
  const connection = new Promise<Socket>((r) => {
    resolve = r;
  });
  const server = createServer((sock) => resolve(sock));
  server.listen(path);
  cleanups.push(() => server.close());
  return { server, connection };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('tsemu-system-arm errors', () => {
  it('rejects an unknown option with one line and status 1', () => {
    const r = run(['-M', 'none', '-bogus']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tsemu-system-arm: -bogus: invalid option\n');
  });

  it('rejects a missing argument', () => {
    const r = run(['-M']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tsemu-system-arm: -M: requires an argument\n');
  });

  it('names a missing firmware file without a stack trace', () => {
    const r = run(['-M', 'none', '-m', '64K', '-device', 'loader,file=/nonexistent/fw.hex']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsemu-system-arm: .*\/nonexistent\/fw\.hex.*No such file or directory\n$/);
  });

  it('refuses to connect to a socket nobody listens on', () => {
    const dir = tempDir();
    const r = run(['-M', 'none', '-chardev', `socket,path=${dir}/nobody,id=c0`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Failed to connect to '${dir}/nobody'`);
  });
});

describe('tsemu-system-arm help', () => {
  it('lists machines and log items and prints its version', () => {
    expect(run(['-M', 'help']).stdout).toMatch(/^none\s+empty machine$/m);
    expect(run(['-d', 'help']).stdout).toContain('guest_errors');
    const v = run(['-version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^tsemu-system-arm version \d+\.\d+\.\d+/);
  });
});

describe('tsemu-system-arm as QTEST_QEMU_BINARY', () => {
  it('connects to the qtest and QMP sockets of the libqtest launch line and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    const qtest = listen(join(dir, 'qtest-1.sock'));
    const qmp = listen(join(dir, 'qtest-1.qmp'));
    const child = spawn(
      'sh',
      [
        '-c',
        `exec ${BIN} -qtest unix:${dir}/qtest-1.sock -qtest-log /dev/null ` +
          `-chardev socket,path=${dir}/qtest-1.qmp,id=char0 -mon chardev=char0,mode=control ` +
          '-display none -audio none -run-with exit-with-parent=on -M none -accel qtest',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const done = exited(child);
    const [q, m] = await Promise.all([qtest.connection, qmp.connection]);
    expect(q).toBeDefined();
    expect(m).toBeDefined();
    child.kill('SIGTERM');
    expect(await done).toEqual({ code: 0, signal: null });
  });

  it('also connects the serial socket of qtest_init_with_serial', async () => {
    const dir = tempDir();
    const qtest = listen(join(dir, 'q.sock'));
    const qmp = listen(join(dir, 'q.qmp'));
    const serial = listen(join(dir, 'serial.sock'));
    const child = spawn(
      BIN,
      [
        '-qtest',
        `unix:${dir}/q.sock`,
        '-qtest-log',
        '/dev/null',
        '-chardev',
        `socket,path=${dir}/q.qmp,id=char0`,
        '-mon',
        'chardev=char0,mode=control',
        '-display',
        'none',
        '-chardev',
        `socket,id=s0,path=${dir}/serial.sock`,
        '-serial',
        'chardev:s0',
        '-machine',
        'none',
        '-accel',
        'qtest',
      ],
      { stdio: 'ignore' },
    );
    const done = exited(child);
    await Promise.all([qtest.connection, qmp.connection, serial.connection]);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });
});

describe('tsemu-system-arm running the test machine', () => {
  it('writes its pid file, runs until SIGINT, then says so and exits 0', async () => {
    const dir = tempDir();
    const pidfile = join(dir, 'tsemu.pid');
    const child = spawn(
      BIN,
      [
        '-M',
        'none',
        '-display',
        'none',
        '-chardev',
        'socket,id=s0,host=127.0.0.1,port=0,server=on,wait=off',
        '-device',
        'tsemu-testdev,chardev=s0',
        '-icount',
        'shift=4,sleep=off',
        '-pidfile',
        pidfile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const done = exited(child);
    for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 50));
    expect(Number(readFileSync(pidfile, 'utf8'))).toBe(child.pid);
    child.kill('SIGINT');
    expect((await done).code).toBe(0);
    expect(stderr).toBe('tsemu-system-arm: terminating on signal 2\n');
  });
});

import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PipeChardev } from './pipe.js';
import { bytesOf, RecordingFrontend } from './testing.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsemu-pipe-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Reads a FIFO without blocking the event loop. */
function readFifo(path: string): { socket: Socket; data: () => string; until: (s: string) => Promise<void> } {
  const socket = new Socket({
    fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  });
  let text = '';
  const waiters: Array<{ s: string; resolve: () => void }> = [];
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const w of waiters.splice(0)) {
      if (text.includes(w.s)) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    socket,
    data: () => text,
    until: (s) =>
      text.includes(s) ? Promise.resolve() : new Promise((resolve) => waiters.push({ s, resolve })),
  };
}

describe('PipeChardev', () => {
  it('uses PATH.in for input and PATH.out for output when both exist', async () => {
    const base = join(dir, 'guest');
    execFileSync('mkfifo', [`${base}.in`, `${base}.out`]);
    const chr = new PipeChardev('p', { path: base });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    expect(chr.paths).toEqual([`${base}.in`, `${base}.out`]);

    writeFileSync(`${base}.in`, 'to guest');
    await fe.untilBytes(8);
    expect(fe.text).toBe('to guest');

    const out = readFifo(`${base}.out`);
    chr.write(bytesOf('from guest'));
    await out.until('from guest');
    expect(out.data()).toBe('from guest');
    out.socket.destroy();
    await chr.close();
  });

  it('falls back to PATH itself when PATH.in/PATH.out do not both exist', async () => {
    const base = join(dir, 'single');
    execFileSync('mkfifo', [base, `${base}.in`]);
    const chr = new PipeChardev('p', { path: base });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    expect(chr.paths).toEqual([base, base]);
    writeFileSync(base, 'abc');
    await fe.untilBytes(3);
    expect(fe.text).toBe('abc');
    await chr.close();
  });

  it('reports a missing pipe with the path', async () => {
    const base = join(dir, 'none');
    await expect(new PipeChardev('p', { path: base }).open()).rejects.toThrow(
      `Could not open '${base}': No such file or directory`,
    );
  });

  it('refuses a regular file', async () => {
    const base = join(dir, 'plain');
    writeFileSync(base, '');
    await expect(new PipeChardev('p', { path: base }).open()).rejects.toThrow('is not a FIFO');
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { FileChardev } from './file.js';
import { bytesOf, RecordingFrontend } from './testing.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsemu-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileChardev', () => {
  it('writes guest output to the file, truncating what was there', async () => {
    const path = join(dir, 'out.txt');
    writeFileSync(path, 'old contents');
    const chr = new FileChardev('f', { path });
    await chr.open();
    chr.write(bytesOf('hello '));
    chr.write(bytesOf('world\n'));
    await chr.close();
    expect(readFileSync(path, 'latin1')).toBe('hello world\n');
  });

  it('appends with append=on', async () => {
    const path = join(dir, 'out.txt');
    writeFileSync(path, 'line1\n');
    const chr = new FileChardev('f', { path, append: true });
    await chr.open();
    chr.write(bytesOf('line2\n'));
    await chr.close();
    expect(readFileSync(path, 'latin1')).toBe('line1\nline2\n');
  });

  it('reads input from input-path', async () => {
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'typed keys');
    const chr = new FileChardev('f', { path: join(dir, 'out.txt'), inputPath: input });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    await fe.untilBytes(10);
    expect(fe.text).toBe('typed keys');
    await chr.close();
  });

  it('fails with a UserError naming the file when it cannot be created', async () => {
    const path = join(dir, 'missing-dir', 'out.txt');
    const chr = new FileChardev('f', { path });
    await expect(chr.open()).rejects.toThrow(UserError);
    await expect(chr.open()).rejects.toThrow(`Could not open '${path}': No such file or directory`);
  });

  it('fails when input-path does not exist', async () => {
    const input = join(dir, 'nope.txt');
    const chr = new FileChardev('f', { path: join(dir, 'out.txt'), inputPath: input });
    await expect(chr.open()).rejects.toThrow(`Could not open '${input}': No such file or directory`);
  });
});

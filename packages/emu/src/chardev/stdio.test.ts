import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StdioChardev } from './stdio.js';
import { bytesOf, RecordingFrontend } from './testing.js';

/** A stand-in for a terminal stdin: records raw-mode changes. */
class FakeTty extends PassThrough {
  isTTY = true;
  isRaw = false;
  readonly modes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.modes.push(mode);
    return this;
  }
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  return () => text;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('StdioChardev', () => {
  it('passes input to the frontend and output to the output stream', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const written = collect(output);
    const chr = new StdioChardev('serial0', { input, output });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    input.write('keys');
    await fe.untilBytes(4);
    expect(fe.text).toBe('keys');
    chr.write(bytesOf('hello\n'));
    expect(written()).toBe('hello\n');
    expect(chr.rawMode).toBe(false);
    expect(chr.info()).toBe('serial0: filename=stdio');
    await chr.close();
  });

  it('puts a terminal in raw mode on open and restores it on close', async () => {
    const tty = new FakeTty();
    const chr = new StdioChardev('s', { input: tty, output: new PassThrough() });
    await chr.open();
    expect(chr.rawMode).toBe(true);
    expect(tty.modes).toEqual([true]);
    await chr.close();
    expect(tty.modes).toEqual([true, false]);
    expect(chr.rawMode).toBe(false);
  });

  it('with signal=on, turns Ctrl-C from the terminal into SIGINT instead of guest input', async () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const tty = new FakeTty();
    const chr = new StdioChardev('s', { input: tty, output: new PassThrough() });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    tty.write('a\x03b');
    await fe.untilBytes(2);
    expect(fe.text).toBe('ab');
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
    await chr.close();
  });

  it('with signal=off, passes Ctrl-C to the guest', async () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const tty = new FakeTty();
    const chr = new StdioChardev('s', { input: tty, output: new PassThrough(), signal: false });
    const fe = new RecordingFrontend();
    chr.attach(fe);
    await chr.open();
    tty.write('a\x03b');
    await fe.untilBytes(3);
    expect(fe.bytes).toEqual([0x61, 0x03, 0x62]);
    expect(kill).not.toHaveBeenCalled();
    await chr.close();
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chardev, InputQueue } from './chardev.js';
import { RecordingFrontend } from './testing.js';

/** A backend whose input the test drives directly and whose output it records. */
class LoopChardev extends Chardev {
  readonly written: number[] = [];
  constructor(id = 'c0', logfile?: string) {
    super('chardev-null', id, logfile ? { logfile } : {});
  }
  get filename(): string {
    return 'loop';
  }
  push(data: Uint8Array): void {
    this.deliver(data);
  }
  protected output(data: Uint8Array): void {
    for (const b of data) this.written.push(b);
  }
}

function burst(n: number): Uint8Array {
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return data;
}

describe('Chardev flow control', () => {
  it('hands a 10 KiB burst to a one-byte-at-a-time frontend byte for byte, in order', () => {
    const chr = new LoopChardev();
    const fe = new RecordingFrontend(1);
    chr.attach(fe);
    const data = burst(10 * 1024);
    chr.push(data);
    expect(fe.bytes.length).toBe(1);
    let calls = 0;
    while (fe.bytes.length < data.length) {
      fe.budget = 1;
      chr.acceptInput();
      calls++;
      expect(fe.bytes.length).toBe(calls + 1);
    }
    expect(fe.largestChunk).toBe(1);
    expect(Uint8Array.from(fe.bytes)).toEqual(data);
    expect(chr.queuedInput).toBe(0);
  });

  it('keeps input that arrives before any frontend is attached', () => {
    const chr = new LoopChardev();
    chr.push(Uint8Array.of(1, 2, 3));
    chr.push(Uint8Array.of(4));
    expect(chr.queuedInput).toBe(4);
    const fe = new RecordingFrontend();
    chr.attach(fe);
    expect(fe.bytes).toEqual([1, 2, 3, 4]);
  });

  it('queues new input behind older queued input', () => {
    const chr = new LoopChardev();
    const fe = new RecordingFrontend(2);
    chr.attach(fe);
    chr.push(Uint8Array.of(1, 2, 3, 4));
    chr.push(Uint8Array.of(5, 6));
    expect(fe.bytes).toEqual([1, 2]);
    fe.budget = 10;
    chr.acceptInput();
    expect(fe.bytes).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('does not reuse the producer buffer for queued bytes', () => {
    const chr = new LoopChardev();
    const fe = new RecordingFrontend(0);
    chr.attach(fe);
    const buf = Uint8Array.of(9, 9);
    chr.push(buf);
    buf.fill(0);
    fe.budget = 2;
    chr.acceptInput();
    expect(fe.bytes).toEqual([9, 9]);
  });

  it('copes with a frontend that asks for more input from inside receive', () => {
    const chr = new LoopChardev();
    const got: number[] = [];
    const fe = {
      canReceive: () => 1,
      receive(data: Uint8Array) {
        got.push(...data);
        chr.acceptInput();
      },
    };
    chr.attach(fe);
    chr.push(Uint8Array.of(1, 2, 3, 4, 5));
    expect(got).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the queue across detach and gives it to the next frontend', () => {
    const chr = new LoopChardev();
    const a = new RecordingFrontend(1);
    chr.attach(a);
    chr.push(Uint8Array.of(1, 2, 3));
    chr.detach();
    const b = new RecordingFrontend();
    chr.attach(b);
    expect(a.bytes).toEqual([1]);
    expect(b.bytes).toEqual([2, 3]);
  });

  it('refuses a second frontend', () => {
    const chr = new LoopChardev('ser');
    chr.attach(new RecordingFrontend());
    expect(() => chr.attach(new RecordingFrontend())).toThrow("Device 'ser' is in use");
  });
});

describe('Chardev basics', () => {
  it('tells a frontend attached after open that the chardev is open', async () => {
    const chr = new LoopChardev();
    await chr.open();
    const fe = new RecordingFrontend();
    chr.attach(fe);
    expect(fe.events).toEqual(['opened']);
    await chr.close();
    expect(fe.events).toEqual(['opened', 'closed']);
  });

  it('formats info like QEMU: "ID: filename=..."', () => {
    expect(new LoopChardev('serial0').info()).toBe('serial0: filename=loop');
  });

  it('copies output to logfile= as well', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-chr-'));
    try {
      const log = join(dir, 'log.txt');
      const chr = new LoopChardev('c0', log);
      await chr.open();
      chr.write(Uint8Array.from([0x68, 0x69]));
      await chr.close();
      expect(chr.written).toEqual([0x68, 0x69]);
      expect(readFileSync(log, 'latin1')).toBe('hi');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('InputQueue', () => {
  it('moves its bytes, partially consumed, to another queue in order', () => {
    const a = new InputQueue();
    a.push(Uint8Array.of(1, 2, 3));
    a.push(Uint8Array.of(4));
    const fe = new RecordingFrontend(1);
    a.drainTo(fe);
    const b = new InputQueue();
    b.push(Uint8Array.of(0));
    a.moveTo(b);
    expect(a.length).toBe(0);
    expect(b.length).toBe(4);
    const out = new RecordingFrontend();
    b.drainTo(out);
    expect(out.bytes).toEqual([0, 2, 3, 4]);
  });
});

import { describe, expect, it } from 'vitest';
import { RingbufChardev } from './ringbuf.js';
import { bytesOf, RecordingFrontend } from './testing.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('RingbufChardev', () => {
  it('keeps only the last N bytes of output when it wraps around', () => {
    const rb = new RingbufChardev('rb', 8);
    rb.write(bytesOf('0123456'));
    rb.write(bytesOf('789'));
    expect(rb.count).toBe(8);
    expect(text(rb.readAll())).toBe('23456789');
    expect(rb.count).toBe(0);
  });

  it('keeps the tail of a single write longer than the buffer', () => {
    const rb = new RingbufChardev('rb', 4);
    rb.write(bytesOf('abcdefghij'));
    expect(text(rb.readAll())).toBe('ghij');
  });

  it('reads in pieces and keeps the rest', () => {
    const rb = new RingbufChardev('rb', 16);
    rb.write(bytesOf('hello world'));
    expect(text(rb.read(5))).toBe('hello');
    expect(rb.count).toBe(6);
    expect(text(rb.read(100))).toBe(' world');
    expect(rb.read(3).length).toBe(0);
  });

  it('wraps correctly across many reads and writes', () => {
    const rb = new RingbufChardev('rb', 8);
    let expected = '';
    for (let i = 0; i < 50; i++) {
      const chunk = String.fromCharCode(65 + (i % 26)).repeat((i % 5) + 1);
      rb.write(bytesOf(chunk));
      expected = (expected + chunk).slice(-8);
      if (i % 3 === 0) {
        expect(text(rb.readAll())).toBe(expected);
        expected = '';
      }
    }
  });

  it('defaults to 64 KiB and rejects sizes that are not a power of two', () => {
    expect(new RingbufChardev('rb').size).toBe(65536);
    expect(() => new RingbufChardev('rb', 1000)).toThrow('size of ringbuf chardev must be power of two');
  });

  it('injects input to the frontend with flow control', () => {
    const rb = new RingbufChardev('rb', 8);
    const fe = new RecordingFrontend(2);
    rb.attach(fe);
    rb.inject('abcd');
    expect(fe.text).toBe('ab');
    fe.budget = 10;
    rb.acceptInput();
    expect(fe.text).toBe('abcd');
  });

  it('reports filename=ringbuf or memory', () => {
    expect(new RingbufChardev('r').info()).toBe('r: filename=ringbuf');
    expect(new RingbufChardev('m', 16, {}, 'chardev-memory').info()).toBe('m: filename=memory');
  });
});

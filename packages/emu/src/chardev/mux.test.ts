import { describe, expect, it } from 'vitest';
import { MAX_MUX, MUX_HELP, MuxChardev } from './mux.js';
import { RingbufChardev } from './ringbuf.js';
import { RecordingFrontend } from './testing.js';

/** Drops focus events, for tests about other events. */
const notFocus = (e: string): boolean => e !== 'mux-in' && e !== 'mux-out';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** serial0 on a ring buffer, shared by a monitor (attached first) and a serial port. */
function setup(opts: { now?: () => number } = {}) {
  const base = new RingbufChardev('serial0-base', 4096);
  let quits = 0;
  const mux = new MuxChardev('serial0', base, { onQuit: () => quits++, ...opts });
  const monitor = new RecordingFrontend();
  const serial = new RecordingFrontend();
  mux.attach(monitor);
  mux.attach(serial);
  return { base, mux, monitor, serial, quits: () => quits };
}

describe('MuxChardev', () => {
  it('gives focus to the frontend attached last and routes input only to it', () => {
    const { base, mux, monitor, serial } = setup();
    expect(mux.focused).toBe(serial);
    base.inject('ls\r');
    expect(serial.text).toBe('ls\r');
    expect(monitor.text).toBe('');
  });

  it('C-a c rotates focus between the frontends', () => {
    const { base, mux, monitor, serial } = setup();
    base.inject('a\x01cinfo\r');
    expect(serial.text).toBe('a');
    expect(monitor.text).toBe('info\r');
    expect(mux.focused).toBe(monitor);
    base.inject('\x01c');
    base.inject('b');
    expect(serial.text).toBe('ab');
  });

  it('C-a x writes the termination note and calls onQuit', () => {
    const { base, serial, quits } = setup();
    base.inject('\x01x');
    expect(quits()).toBe(1);
    expect(text(base.readAll())).toBe('tsemu: Terminated\n\r');
    expect(serial.bytes).toEqual([]);
  });

  it('C-a h writes the help text to the backend', () => {
    const { base, serial } = setup();
    base.inject('\x01h');
    const help = text(base.readAll());
    expect(help).toBe(MUX_HELP);
    expect(help).toContain('C-a x    exit emulator\n\r');
    expect(help).toContain('C-a c    switch between console and monitor\n\r');
    expect(serial.bytes).toEqual([]);
  });

  it('C-a C-a sends one literal C-a to the focused frontend', () => {
    const { base, serial } = setup();
    base.inject('x\x01\x01y');
    expect(serial.bytes).toEqual([0x78, 0x01, 0x79]);
  });

  it("tells frontends when they gain ('mux-in') and lose ('mux-out') the focus, as QEMU's mux does", () => {
    const { base, monitor, serial } = setup();
    // The serial port attached last and has the focus.
    expect(serial.events.at(-1)).toBe('mux-in');
    monitor.events.length = 0;
    serial.events.length = 0;
    base.inject('\x01c');
    expect(serial.events).toEqual(['mux-out']);
    expect(monitor.events).toEqual(['mux-in']);
  });

  it('handles an escape split across two reads', () => {
    const { base, mux, monitor } = setup();
    base.inject('\x01');
    base.inject('c');
    expect(mux.focused).toBe(monitor);
  });

  it('C-a b sends a break event to the focused frontend only', () => {
    const { base, monitor, serial } = setup();
    base.inject('\x01b');
    expect(serial.events.filter(notFocus)).toEqual(['break']);
    expect(monitor.events.filter(notFocus)).toEqual([]);
  });

  it('drops an unknown escape key', () => {
    const { base, serial } = setup();
    base.inject('\x01zq');
    expect(serial.text).toBe('q');
  });

  it('sends output from every frontend to the backend', () => {
    const { base, mux } = setup();
    mux.write(Uint8Array.from([0x41]));
    mux.write(Uint8Array.from([0x42]));
    expect(text(base.readAll())).toBe('AB');
  });

  it('C-a t prefixes each following output line with the time since the first stamp', () => {
    let now = 10_000;
    const { base, mux } = setup({ now: () => now });
    mux.write(Uint8Array.from(Buffer.from('partial')));
    base.inject('\x01t');
    mux.write(Uint8Array.from(Buffer.from(' line\n')));
    now += 1500;
    mux.write(Uint8Array.from(Buffer.from('next\n')));
    now += 3_723_000; // 1 h 2 min 3 s after the first stamp
    mux.write(Uint8Array.from(Buffer.from('later')));
    expect(text(base.readAll())).toBe('partial line\n[00:00:00.000] next\n[01:02:03.000] later');
    expect(mux.timestampsEnabled).toBe(true);
    base.inject('\x01t');
    mux.write(Uint8Array.from(Buffer.from('\nplain\n')));
    expect(text(base.readAll())).toBe('\nplain\n');
  });

  it('keeps each frontend input queue across focus switches (flow control per frontend)', () => {
    const { base, mux, monitor, serial } = setup();
    serial.budget = 1;
    base.inject('abc');
    expect(serial.text).toBe('a');
    base.inject('\x01cm');
    expect(monitor.text).toBe('m');
    base.inject('\x01c');
    serial.budget = 10;
    mux.acceptInput();
    expect(serial.text).toBe('abc');
  });

  it('keeps input that arrives before any frontend and gives it to the first one', () => {
    const base = new RingbufChardev('b', 64);
    const mux = new MuxChardev('m', base);
    base.inject('early');
    const fe = new RecordingFrontend();
    mux.attach(fe);
    expect(fe.text).toBe('early');
  });

  it('limits the number of frontends as QEMU does', () => {
    const mux = new MuxChardev('m', new RingbufChardev('b', 64));
    for (let i = 0; i < MAX_MUX; i++) mux.attach(new RecordingFrontend());
    expect(() => mux.attach(new RecordingFrontend())).toThrow(
      "too many uses of multiplexed chardev 'm' (maximum is 4)",
    );
  });

  it('forwards open and close of the backend to every frontend', async () => {
    const { mux, monitor, serial } = setup();
    await mux.open();
    expect(monitor.events.filter(notFocus)).toEqual(['opened']);
    expect(serial.events.filter(notFocus)).toEqual(['opened']);
    await mux.close();
    expect(serial.events.filter(notFocus)).toEqual(['opened', 'closed']);
    expect(mux.info()).toBe('serial0: filename=mux');
  });
});

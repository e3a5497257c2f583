import { describe, expect, it } from 'vitest';
import { createMachine, MemTx, SerialStream } from './index.js';

describe('library API', () => {
  it('builds a machine, steps it and runs it for a span of virtual time', () => {
    const m = createMachine('none', { ramSize: 4096 });
    expect(m.runner.mode).toBe('fast');
    m.step();
    expect(m.clock.now).toBe(m.runner.nsPerInstruction);
    m.runFor(1000);
    expect(m.clock.now).toBe(1000 + m.runner.nsPerInstruction);
    expect(m.addressSpace.write8(0, 7)).toBe(MemTx.Ok);
  });

  it('gives embedders a SerialStream that keeps the output and queues input', () => {
    const s = new SerialStream('serial0');
    const m = createMachine('none', {
      chardevs: [s],
      devices: [{ driver: 'tsemu-testdev', props: { chardev: 'serial0', addr: 0x1000_0000 } }],
    });
    const seen: number[] = [];
    s.onData((d) => seen.push(...d));
    for (const c of 'ok\n') m.addressSpace.write32(0x1000_0028, c.charCodeAt(0));
    expect(s.text()).toBe('ok\n');
    expect(seen).toEqual([0x6f, 0x6b, 0x0a]);
    s.send('xy');
    expect(s.queuedInput).toBe(1); // the device holds one byte; the other waits
    expect(m.addressSpace.read32(0x1000_002c)).toBe(0x78);
    expect(m.addressSpace.read32(0x1000_002c)).toBe(0x79);
  });
});

describe('library API on the micro:bit (the README example)', () => {
  it('runs MicroPython, drives the board and snapshots it, all typed without casts', async () => {
    const { createMachine: create } = await import('./index.js');
    const m = create('microbit', {
      devices: [
        { driver: 'loader', props: { file: '/usr/share/firmware-microbit-micropython/firmware.hex' } },
      ],
    });
    m.runFor(1_000_000_000);
    m.buttonA.click();
    m.accelerometer.set(0, 0, -1024);
    m.serialStream!.send('print(1 + 1)\r');
    m.runFor(100_000_000);
    expect(m.serialStream!.text()).toContain('print(1 + 1)\r\n2\r\n>>> ');
    expect(m.display.frame()).toHaveLength(25);
    const snap = m.snapshot();
    expect(snap.machine).toBe('microbit-machine');
    expect(Object.keys(snap.cpus)).toEqual(['cpu0']);
  });
});

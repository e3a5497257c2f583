import { describe, expect, it } from 'vitest';
import { RingbufChardev } from '../../chardev/ringbuf.js';
import { Log } from '../../core/log.js';
import type { Machine } from '../../core/machine.js';
import { MemTx } from '../../core/memory.js';
import { createMachine } from '../../machine/create.js';
import { TESTDEV_ID, type TestDevice } from './tsemu-testdev.js';

const BASE = 0x4000_0000;
const REG = {
  ID: 0x000,
  VERSION: 0x004,
  SCRATCH: 0x008,
  CTRL: 0x00c,
  PERIOD: 0x010,
  COUNTER: 0x014,
  STATUS: 0x018,
  INTEN: 0x01c,
  INTENSET: 0x020,
  INTENCLR: 0x024,
  TXD: 0x028,
  RXD: 0x02c,
  EXPIRIES: 0x030,
  TASK_CLEAR: 0x034,
  INPUTS: 0x038,
};

function machineWithTestdev(withSerial = false): { m: Machine; dev: TestDevice; serial: RingbufChardev } {
  const serial = new RingbufChardev('serial0', 1024);
  const m = createMachine('none', {
    chardevs: [serial],
    devices: [{ driver: 'tsemu-testdev', id: 'td', props: withSerial ? { chardev: 'serial0' } : {} }],
  });
  const dev = m.resolve('/machine/peripheral/td') as TestDevice;
  return { m, dev, serial };
}

describe('tsemu-testdev registers', () => {
  it('identifies itself through read-only ID and VERSION registers', () => {
    const { m } = machineWithTestdev();
    const as = m.addressSpace;
    expect(as.read32(BASE + REG.ID)).toBe(TESTDEV_ID);
    expect(as.write32(BASE + REG.ID, 0)).toBe(MemTx.Ok);
    expect(as.read32(BASE + REG.ID)).toBe(TESTDEV_ID);
    expect(as.read32(BASE + REG.VERSION)).toBe(1);
  });

  it('keeps SCRATCH and restores reset values on machine reset', () => {
    const { m } = machineWithTestdev();
    const as = m.addressSpace;
    as.write32(BASE + REG.SCRATCH, 0xdeadbeef);
    expect(as.read32(BASE + REG.SCRATCH)).toBe(0xdeadbeef);
    expect(as.read32(BASE + REG.PERIOD)).toBe(1000);
    m.reset();
    expect(as.read32(BASE + REG.SCRATCH)).toBe(0);
  });

  it('latches its input lines into INPUTS', () => {
    const { m, dev } = machineWithTestdev();
    dev.gpioIn('', 2).set(1);
    dev.gpioIn('', 0).set(1);
    expect(m.addressSpace.read32(BASE + REG.INPUTS)).toBe(0b101);
    dev.gpioIn('', 0).set(0);
    expect(m.addressSpace.read32(BASE + REG.INPUTS)).toBe(0b100);
  });
});

describe('tsemu-testdev tracing', () => {
  it('emits register access trace events under -d trace:tsemu_testdev_*', () => {
    const log = new Log();
    const lines: string[] = [];
    log.sink = (l) => lines.push(l);
    log.configure('trace:tsemu_testdev_w*');
    const m = createMachine('none', { log, devices: [{ driver: 'tsemu-testdev' }] });
    m.addressSpace.write32(BASE + REG.SCRATCH, 0x42);
    m.addressSpace.read32(BASE + REG.SCRATCH);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsemu_testdev_write .*0x8.*0x42/);
  });
});

describe('tsemu-testdev timer and IRQ on the virtual clock', () => {
  it('expires after PERIOD microseconds of virtual time and raises its IRQ when enabled', () => {
    const { m, dev } = machineWithTestdev();
    const as = m.addressSpace;
    const levels: Array<[number, number]> = [];
    dev.gpioOut('', 0).watch((level) => levels.push([m.clock.now, level]));
    as.write32(BASE + REG.PERIOD, 250);
    as.write32(BASE + REG.INTENSET, 1);
    as.write32(BASE + REG.CTRL, 1);
    m.runFor(249_999);
    expect(as.read32(BASE + REG.STATUS) & 1).toBe(0);
    expect(as.read32(BASE + REG.COUNTER)).toBe(249);
    m.runFor(1);
    expect(as.read32(BASE + REG.STATUS) & 1).toBe(1);
    expect(levels).toEqual([[250_000, 1]]);
    // One-shot: the timer stopped and CTRL.TIMER_EN cleared itself.
    expect(as.read32(BASE + REG.CTRL) & 1).toBe(0);
    // Write-1-to-clear STATUS lowers the IRQ.
    as.write32(BASE + REG.STATUS, 1);
    expect(dev.gpioOut('', 0).level).toBe(0);
  });

  it('counts periodic expiries exactly over a long run', () => {
    const { m } = machineWithTestdev();
    const as = m.addressSpace;
    as.write32(BASE + REG.PERIOD, 30);
    as.write32(BASE + REG.CTRL, 0b11);
    m.runFor(1_000_000_000); // one virtual second
    expect(as.read32(BASE + REG.EXPIRIES)).toBe(Math.floor(1_000_000 / 30));
    expect(as.read32(BASE + REG.COUNTER)).toBe(1_000_000);
    as.write32(BASE + REG.TASK_CLEAR, 1);
    expect(as.read32(BASE + REG.EXPIRIES)).toBe(0);
    expect(as.read32(BASE + REG.TASK_CLEAR)).toBe(0);
  });
});

describe('tsemu-testdev serial port', () => {
  it('sends TXD bytes to its chardev', () => {
    const { m, serial } = machineWithTestdev(true);
    for (const c of 'hi!') m.addressSpace.write32(BASE + REG.TXD, c.charCodeAt(0));
    expect(new TextDecoder().decode(serial.readAll())).toBe('hi!');
  });

  it('holds one received byte and leaves the rest queued in the chardev until RXD is read', () => {
    const { m, serial } = machineWithTestdev(true);
    const as = m.addressSpace;
    serial.inject('abc');
    expect(serial.queuedInput).toBe(2);
    let text = '';
    while (as.read32(BASE + REG.STATUS) & 2) text += String.fromCharCode(as.read32(BASE + REG.RXD));
    expect(text).toBe('abc');
    expect(serial.queuedInput).toBe(0);
  });

  it('echoes input back when CTRL.ECHO is set', () => {
    const { m, serial } = machineWithTestdev(true);
    m.addressSpace.write32(BASE + REG.CTRL, 0b100);
    serial.inject('ping');
    expect(new TextDecoder().decode(serial.readAll())).toBe('ping');
  });
});

describe('tsemu-testdev snapshot', () => {
  it('round-trips its state, including a pending timer', () => {
    const a = machineWithTestdev();
    const as = a.m.addressSpace;
    as.write32(BASE + REG.SCRATCH, 0x1234);
    as.write32(BASE + REG.PERIOD, 100);
    as.write32(BASE + REG.INTEN, 1);
    as.write32(BASE + REG.CTRL, 0b11);
    a.m.runFor(250_000);
    const snap = JSON.parse(JSON.stringify(a.m.snapshot()));

    const b = machineWithTestdev();
    b.m.restore(snap);
    expect(b.dev.saveState()).toEqual(a.dev.saveState());
    expect(b.m.clock.now).toBe(a.m.clock.now);
    // Both continue identically.
    a.m.runFor(1_000_000);
    b.m.runFor(1_000_000);
    expect(b.m.addressSpace.read32(BASE + REG.EXPIRIES)).toBe(a.m.addressSpace.read32(BASE + REG.EXPIRIES));
    expect(b.m.addressSpace.read32(BASE + REG.EXPIRIES)).toBe(12);
    expect(b.m.addressSpace.read32(BASE + REG.SCRATCH)).toBe(0x1234);
  });
});

describe('tsemu-testdev in realtime mode', () => {
  it('derives COUNTER and timer expiries from the same virtual clock, which never runs ahead of the host', async () => {
    const m = createMachine('none', { mode: 'realtime', devices: [{ driver: 'tsemu-testdev' }] });
    const as = m.addressSpace;
    as.write32(BASE + REG.PERIOD, 2000); // 2 ms
    as.write32(BASE + REG.CTRL, 0b11);
    const hostStart = performance.now();
    m.start();
    await new Promise((r) => setTimeout(r, 60));
    m.stop();
    const hostElapsedNs = (performance.now() - hostStart) * 1e6;
    const now = m.clock.now;
    expect(now).toBeGreaterThan(0);
    expect(now).toBeLessThanOrEqual(hostElapsedNs);
    expect(as.read32(BASE + REG.COUNTER)).toBe(Math.floor(now / 1000));
    expect(as.read32(BASE + REG.EXPIRIES)).toBe(Math.floor(now / 2_000_000));
    expect(m.runState).toBe('paused');
  });
});

import { describe, expect, it } from 'vitest';
import { I2CBus, type I2CEvent, type I2CSlave } from './i2c-bus.js';

/** A slave that records what it sees and answers from a list. */
class FakeSlave implements I2CSlave {
  seen: string[] = [];
  accept = true;
  ackData = true;
  next = 0x40;
  event(kind: I2CEvent): boolean {
    this.seen.push(kind);
    return this.accept;
  }
  send(byte: number): boolean {
    this.seen.push(`send ${byte}`);
    return this.ackData;
  }
  recv(): number {
    this.seen.push('recv');
    return this.next++;
  }
}

describe('I2C bus', () => {
  it('ACKs the address of an attached slave and NACKs an empty address', () => {
    const bus = new I2CBus();
    const s = new FakeSlave();
    bus.attach(s, 0x1d);
    expect(bus.start(0x1e, false)).toBe(false);
    expect(bus.busy).toBe(false);
    expect(bus.start(0x1d, false)).toBe(true);
    expect(bus.busy).toBe(true);
    expect(s.seen).toEqual(['start-send']);
  });

  it('NACKs the address when the slave refuses the transfer', () => {
    const bus = new I2CBus();
    const s = new FakeSlave();
    s.accept = false;
    bus.attach(s, 0x10);
    expect(bus.start(0x10, true)).toBe(false);
    expect(bus.send(1)).toBe(false);
  });

  it('passes data bytes with the slave ACK, reads bytes, and reports NACK and STOP to the slave', () => {
    const bus = new I2CBus();
    const s = new FakeSlave();
    bus.attach(s, 0x0e);
    bus.start(0x0e, false);
    expect(bus.send(0x07)).toBe(true);
    s.ackData = false;
    expect(bus.send(0x08)).toBe(false);
    expect(bus.start(0x0e, true)).toBe(true); // repeated START, same slave
    expect(bus.recv()).toBe(0x40);
    expect(bus.recv()).toBe(0x41);
    bus.nack();
    bus.stop();
    expect(s.seen).toEqual(['start-send', 'send 7', 'send 8', 'start-recv', 'recv', 'recv', 'nack', 'stop']);
    expect(bus.busy).toBe(false);
  });

  it('on a repeated START to another address the previous slave sees STOP', () => {
    const bus = new I2CBus();
    const a = new FakeSlave();
    const b = new FakeSlave();
    bus.attach(a, 1);
    bus.attach(b, 2);
    bus.start(1, false);
    bus.start(2, true);
    expect(a.seen).toEqual(['start-send', 'stop']);
    expect(b.seen).toEqual(['start-recv']);
  });

  it('reads 0xFF and refuses writes when no slave is addressed', () => {
    const bus = new I2CBus();
    expect(bus.recv()).toBe(0xff);
    expect(bus.send(0)).toBe(false);
  });

  it('rejects two slaves at one address and addresses above 7 bits', () => {
    const bus = new I2CBus();
    bus.attach(new FakeSlave(), 0x1d);
    expect(() => bus.attach(new FakeSlave(), 0x1d)).toThrow(/two slaves/);
    expect(() => bus.attach(new FakeSlave(), 0x80)).toThrow(/7-bit/);
    expect(bus.addresses()).toEqual([0x1d]);
  });

  it('round-trips the transfer in progress', () => {
    const bus = new I2CBus();
    const s = new FakeSlave();
    bus.attach(s, 5);
    bus.start(5, true);
    const state = JSON.parse(JSON.stringify(bus.saveState()));
    const other = new I2CBus();
    other.attach(s, 5);
    other.loadState(state);
    expect(other.busy).toBe(true);
    expect(other.recv()).toBe(0x40);
  });
});

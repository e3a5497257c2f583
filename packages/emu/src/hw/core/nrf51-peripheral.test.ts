import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from './nrf51-peripheral.js';

/** A peripheral with the shape of a real one: START makes READY, STOP makes STOPPED. */
class FakeBlock extends Nrf51Peripheral {
  started = 0;
  stopped = 0;
  constructor() {
    super('fake-nrf51-block', 'fake');
  }
  protected traceName(): string {
    return 'fake';
  }
  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
      ],
      events: [
        { name: 'READY', offset: 0x100 },
        { name: 'STOPPED', offset: 0x104 },
        { name: 'DATA', offset: 0x108 },
      ],
      shorts: [{ bit: 0, event: 'READY', task: 'STOP' }],
      hasPower: true,
      registers: [{ name: 'CONFIG', offset: 0x504, reset: 7 }],
    };
  }
  private start(): void {
    this.started++;
    this.generateEvent(0);
  }
  private stop(): void {
    this.stopped++;
    this.generateEvent(1);
  }
  protected onResetPeripheral(): void {}
}

function make(): FakeBlock {
  const b = new FakeBlock();
  b.realize({ clock: new VirtualClock(), log: new Log() });
  return b;
}

describe('nRF51 peripheral interface', () => {
  it('runs a task on a write of 1 to TASKS_ and reads TASKS_ as 0', () => {
    const b = make();
    b.registers.write(0x000, 1, 4);
    expect(b.started).toBe(1);
    expect(b.registers.read(0x000, 4)).toBe(0);
    expect(b.registers.read(0x100, 4)).toBe(1);
  });

  it('raises the IRQ only for events enabled with INTENSET, and lowers it when the event is cleared', () => {
    const b = make();
    const irq = b.gpioOut('', 0);
    b.registers.write(0x000, 1, 4); // READY set, not enabled
    expect(irq.level).not.toBe(1);
    b.registers.write(0x304, 1, 4); // INTENSET.READY
    expect(irq.level).toBe(1);
    expect(b.registers.read(0x308, 4)).toBe(1); // INTENCLR reads INTEN
    b.registers.write(0x100, 0, 4); // clear EVENTS_READY
    expect(irq.level).toBe(0);
  });

  it('ignores INTEN bits of events the block does not have', () => {
    const b = make();
    b.registers.write(0x304, 0xffff_ffff, 4);
    expect(b.registers.read(0x304, 4)).toBe(0b111);
  });

  it('has no writable INTEN at 0x300 unless the block declares one', () => {
    const b = make();
    b.registers.write(0x300, 1, 4);
    expect(b.registers.read(0x304, 4)).toBe(0);
  });

  it('fires an enabled shortcut when the event is generated', () => {
    const b = make();
    b.registers.write(0x200, 1, 4); // SHORTS READY_STOP
    b.registers.write(0x000, 1, 4);
    expect(b.stopped).toBe(1);
    expect(b.registers.read(0x104, 4)).toBe(1);
  });

  it('pulses the event line for the PPI and triggers tasks from the task line', () => {
    const b = make();
    const seen: number[] = [];
    b.eventLine(b.eventIndexAt(0x100)).watch((l) => seen.push(l));
    b.taskLine(b.taskIndexAt(0x000)).set(1);
    expect(b.started).toBe(1);
    expect(seen).toEqual([1, 0]);
    expect(b.eventIndexAt(0x108)).toBe(2);
    expect(b.taskIndexAt(0x008)).toBe(-1);
  });

  it('a software write of 1 to EVENTS_ sets it without driving the PPI line', () => {
    const b = make();
    const seen: number[] = [];
    b.eventLine(2).watch((l) => seen.push(l));
    b.registers.write(0x304, 0b100, 4);
    b.registers.write(0x108, 1, 4);
    expect(b.gpioOut('', 0).level).toBe(1);
    expect(seen).toEqual([]);
  });

  it('resets POWER to 1 and device registers to their reset values, and round-trips its state', () => {
    const b = make();
    expect(b.registers.read(0xffc, 4)).toBe(1);
    b.registers.write(0x504, 3, 4);
    b.registers.write(0x304, 1, 4);
    b.registers.write(0x000, 1, 4);
    const state = JSON.parse(JSON.stringify(b.saveState()));
    const c = make();
    c.loadState(state);
    expect(c.registers.read(0x504, 4)).toBe(3);
    expect(c.gpioOut('', 0).level).toBe(1);
    b.reset();
    expect(b.registers.read(0x504, 4)).toBe(7);
    expect(b.registers.read(0x100, 4)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { UserError } from '../../core/errors.js';
import { Log } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Rng, RNG_BYTE_DERCEN_NS, RNG_BYTE_NS } from './nrf51-rng.js';

const START = 0x000;
const STOP = 0x004;
const VALRDY = 0x100;
const SHORTS = 0x200;
const INTENSET = 0x304;
const INTENCLR = 0x308;
const CONFIG = 0x504;
const VALUE = 0x508;

function make(seed?: string): { rng: Nrf51Rng; clock: VirtualClock } {
  const clock = new VirtualClock();
  const rng = new Nrf51Rng();
  if (seed !== undefined) rng.setProperty('seed', seed);
  rng.realize({ clock, log: new Log() });
  return { rng, clock };
}

/** Reads `n` bytes the way a driver polls: wait for VALRDY, read VALUE, clear VALRDY. */
function readBytes(rng: Nrf51Rng, clock: VirtualClock, n: number): number[] {
  const out: number[] = [];
  rng.registers.write(START, 1, 4);
  for (let i = 0; i < n; i++) {
    clock.advanceBy(RNG_BYTE_NS);
    expect(rng.registers.read(VALRDY, 4)).toBe(1);
    out.push(rng.registers.read(VALUE, 4));
    rng.registers.write(VALRDY, 0, 4);
  }
  rng.registers.write(STOP, 1, 4);
  return out;
}

describe('nRF51 RNG', () => {
  it('resets its registers to the manual values', () => {
    const { rng } = make();
    expect(rng.registers.read(VALRDY, 4)).toBe(0);
    expect(rng.registers.read(SHORTS, 4)).toBe(0);
    expect(rng.registers.read(INTENSET, 4)).toBe(0);
    expect(rng.registers.read(CONFIG, 4)).toBe(0);
    expect(rng.registers.read(VALUE, 4)).toBe(0);
    expect(rng.registers.read(0xffc, 4)).toBe(1);
  });

  it('generates VALRDY 167 µs after START without bias correction', () => {
    const { rng, clock } = make();
    rng.registers.write(START, 1, 4);
    clock.advanceTo(RNG_BYTE_NS - 1);
    expect(rng.registers.read(VALRDY, 4)).toBe(0);
    clock.advanceTo(RNG_BYTE_NS);
    expect(rng.registers.read(VALRDY, 4)).toBe(1);
  });

  it('takes 677 µs per byte with bias correction (CONFIG.DERCEN)', () => {
    const { rng, clock } = make();
    rng.registers.write(CONFIG, 1, 4);
    rng.registers.write(START, 1, 4);
    clock.advanceTo(RNG_BYTE_DERCEN_NS - 1);
    expect(rng.registers.read(VALRDY, 4)).toBe(0);
    clock.advanceTo(RNG_BYTE_DERCEN_NS);
    expect(rng.registers.read(VALRDY, 4)).toBe(1);
  });

  it('keeps producing bytes while started and stops on STOP', () => {
    const { rng, clock } = make();
    const pulses: number[] = [];
    rng.eventLine(0).watch((l) => {
      if (l) pulses.push(clock.now);
    });
    rng.registers.write(START, 1, 4);
    clock.advanceTo(3 * RNG_BYTE_NS);
    expect(pulses).toEqual([RNG_BYTE_NS, 2 * RNG_BYTE_NS, 3 * RNG_BYTE_NS]);
    rng.registers.write(STOP, 1, 4);
    clock.advanceTo(10 * RNG_BYTE_NS);
    expect(pulses.length).toBe(3);
  });

  it('stops after one byte with the VALRDY_STOP shortcut', () => {
    const { rng, clock } = make();
    let count = 0;
    rng.eventLine(0).watch((l) => {
      if (l) count++;
    });
    rng.registers.write(SHORTS, 1, 4);
    rng.registers.write(START, 1, 4);
    clock.advanceTo(10 * RNG_BYTE_NS);
    expect(count).toBe(1);
  });

  it('gives the same byte sequence for the same seed and a different one for another seed', () => {
    const a = make('0x1234');
    const b = make('4660');
    const c = make('4661');
    const sa = readBytes(a.rng, a.clock, 16);
    expect(readBytes(b.rng, b.clock, 16)).toEqual(sa);
    expect(readBytes(c.rng, c.clock, 16)).not.toEqual(sa);
    for (const v of sa) expect(v).toBeLessThan(256);
    expect(new Set(sa).size).toBeGreaterThan(8);
  });

  it('replays the sequence after a reset', () => {
    const { rng, clock } = make('7');
    const first = readBytes(rng, clock, 4);
    rng.reset();
    expect(readBytes(rng, clock, 4)).toEqual(first);
  });

  it('rejects a seed that is not a 64-bit integer at realize', () => {
    const rng = new Nrf51Rng();
    rng.setProperty('seed', 'banana');
    expect(() => rng.realize({ clock: new VirtualClock(), log: new Log() })).toThrow(UserError);
  });

  it('raises its IRQ on VALRDY only when enabled', () => {
    const { rng, clock } = make();
    const irq = rng.gpioOut('', 0);
    rng.registers.write(START, 1, 4);
    clock.advanceBy(RNG_BYTE_NS);
    expect(irq.level).not.toBe(1);
    rng.registers.write(INTENSET, 1, 4);
    expect(irq.level).toBe(1);
    rng.registers.write(INTENCLR, 1, 4);
    expect(irq.level).toBe(0);
  });

  it('starts from the PPI task line', () => {
    const { rng, clock } = make();
    rng.taskLine(rng.taskIndexAt(START)).set(1);
    clock.advanceBy(RNG_BYTE_NS);
    expect(rng.registers.read(VALRDY, 4)).toBe(1);
  });

  it('round-trips its state with a pending byte and continues the same sequence', () => {
    const a = make('99');
    a.rng.registers.write(START, 1, 4);
    a.clock.advanceTo(RNG_BYTE_NS + 1000);
    const state = JSON.parse(JSON.stringify(a.rng.saveState()));
    const clockState = a.clock.saveState();
    a.clock.advanceTo(2 * RNG_BYTE_NS);
    const second = a.rng.registers.read(VALUE, 4);
    a.clock.advanceTo(3 * RNG_BYTE_NS);
    const third = a.rng.registers.read(VALUE, 4);

    const b = make('1');
    b.clock.loadState(clockState);
    b.rng.loadState(state);
    b.clock.advanceTo(2 * RNG_BYTE_NS);
    expect(b.rng.registers.read(VALUE, 4)).toBe(second);
    b.clock.advanceTo(3 * RNG_BYTE_NS);
    expect(b.rng.registers.read(VALUE, 4)).toBe(third);
  });

  it('is registered as nrf51_soc.rng', () => {
    const t = findDeviceType('nrf51_soc.rng');
    expect(t?.userCreatable).toBe(false);
    expect(t?.create?.()).toBeInstanceOf(Nrf51Rng);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { NOT_DRIVEN } from '../../core/lines.js';
import { Log, LogCat } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Gpio } from './nrf51-gpio.js';
import { connectGpiote, Nrf51Gpiote } from './nrf51-gpiote.js';

const TASKS_OUT = (n: number) => 4 * n;
const EVENTS_IN = (n: number) => 0x100 + 4 * n;
const EVENTS_PORT = 0x17c;
const INTENSET = 0x304;
const INTENCLR = 0x308;
const CONFIG = (n: number) => 0x510 + 4 * n;
const POWER = 0xffc;

const GPIO_OUT = 0x504;
const GPIO_DIR = 0x514;
const GPIO_CNF = (n: number) => 0x700 + 4 * n;

const MODE_EVENT = 1;
const MODE_TASK = 3;
const LOTOHI = 1;
const HITOLO = 2;
const TOGGLE = 3;
const config = (mode: number, pin: number, polarity: number, outinit = 0) =>
  (mode | (pin << 8) | (polarity << 16) | (outinit << 20)) >>> 0;

function make(log = new Log()): { gpio: Nrf51Gpio; te: Nrf51Gpiote } {
  const ctx = { clock: new VirtualClock(), log };
  const gpio = new Nrf51Gpio();
  const te = new Nrf51Gpiote();
  gpio.realize(ctx);
  te.realize(ctx);
  connectGpiote(gpio, te);
  return { gpio, te };
}

describe('nRF51 GPIOTE registers', () => {
  it('resets CONFIG to 0, POWER to 1, and keeps only the defined CONFIG fields', () => {
    const { te } = make();
    for (let n = 0; n < 4; n++) expect(te.registers.read(CONFIG(n), 4)).toBe(0);
    expect(te.registers.read(POWER, 4)).toBe(1);
    te.registers.write(CONFIG(2), 0xffff_fffc, 4); // MODE 0 (disabled), every other bit set
    expect(te.registers.read(CONFIG(2), 4)).toBe(0x0013_1f00);
  });

  it('enables interrupts for IN[n] at bit n and PORT at bit 31', () => {
    const { te } = make();
    te.registers.write(INTENSET, 0xffff_ffff, 4);
    expect(te.registers.read(INTENSET, 4)).toBe(0x8000_000f);
    te.registers.write(INTENCLR, 0x8000_0000, 4);
    expect(te.registers.read(INTENSET, 4)).toBe(0x0000_000f);
  });

  it('logs the reserved MODE value 2 and treats the channel as disabled', () => {
    const log = new Log();
    const lines: string[] = [];
    log.sink = (l) => lines.push(l);
    log.mask = LogCat.GuestErrors;
    const { te, gpio } = make(log);
    te.registers.write(CONFIG(0), config(2, 4, LOTOHI), 4);
    expect(lines.some((l) => l.includes('MODE 2 is reserved'))).toBe(true);
    gpio.setPinInput(4, 1);
    expect(te.registers.read(EVENTS_IN(0), 4)).toBe(0);
  });

  it('is registered as nrf51_soc.gpiote', () => {
    expect(findDeviceType('nrf51_soc.gpiote')?.create?.()).toBeInstanceOf(Nrf51Gpiote);
  });
});

describe('nRF51 GPIOTE event mode', () => {
  it('generates IN[n] on a rising edge with POLARITY LoToHi, not on the falling one', () => {
    const { gpio, te } = make();
    gpio.setPinInput(17, 0);
    te.registers.write(CONFIG(1), config(MODE_EVENT, 17, LOTOHI), 4);
    expect(te.registers.read(EVENTS_IN(1), 4)).toBe(0);
    gpio.setPinInput(17, 1);
    expect(te.registers.read(EVENTS_IN(1), 4)).toBe(1);
    te.registers.write(EVENTS_IN(1), 0, 4);
    gpio.setPinInput(17, 0);
    expect(te.registers.read(EVENTS_IN(1), 4)).toBe(0);
  });

  it('generates IN[n] on a falling edge with POLARITY HiToLo', () => {
    const { gpio, te } = make();
    gpio.setPinInput(26, 1);
    te.registers.write(CONFIG(0), config(MODE_EVENT, 26, HITOLO), 4);
    gpio.setPinInput(26, 1);
    expect(te.registers.read(EVENTS_IN(0), 4)).toBe(0);
    gpio.setPinInput(26, 0);
    expect(te.registers.read(EVENTS_IN(0), 4)).toBe(1);
  });

  it('generates IN[n] on both edges with POLARITY Toggle, pulsing its PPI line each time', () => {
    const { gpio, te } = make();
    const pulses: number[] = [];
    te.eventLine(te.eventIndexAt(EVENTS_IN(3))).watch((l) => pulses.push(l));
    gpio.setPinInput(2, 0);
    te.registers.write(CONFIG(3), config(MODE_EVENT, 2, TOGGLE), 4);
    gpio.setPinInput(2, 1);
    gpio.setPinInput(2, 0);
    expect(pulses).toEqual([1, 0, 1, 0]);
    expect(te.registers.read(EVENTS_IN(3), 4)).toBe(1);
  });

  it('raises its interrupt for an enabled IN event', () => {
    const { gpio, te } = make();
    const irq = te.gpioOut('', 0);
    te.registers.write(CONFIG(0), config(MODE_EVENT, 5, LOTOHI), 4);
    te.registers.write(INTENSET, 1, 4);
    gpio.setPinInput(5, 1);
    expect(irq.level).toBe(1);
    te.registers.write(EVENTS_IN(0), 0, 4);
    expect(irq.level).toBe(0);
  });

  it('makes its pin an input: the GPIO output driver is disconnected', () => {
    const { gpio, te } = make();
    gpio.registers.write(GPIO_CNF(8), 1, 4); // output, buffer connected
    gpio.registers.write(GPIO_OUT, 1 << 8, 4);
    expect(gpio.pinOutput(8)).toBe(1);
    te.registers.write(CONFIG(0), config(MODE_EVENT, 8, LOTOHI), 4);
    expect(gpio.pinOutput(8)).toBe(NOT_DRIVEN);
    te.registers.write(CONFIG(0), 0, 4);
    expect(gpio.pinOutput(8)).toBe(1);
  });
});

describe('nRF51 GPIOTE task mode', () => {
  it('takes the pin as an output starting at OUTINIT, whatever the GPIO DIR and OUT say', () => {
    const { gpio, te } = make();
    expect(gpio.registers.read(GPIO_DIR, 4)).toBe(0);
    te.registers.write(CONFIG(0), config(MODE_TASK, 13, TOGGLE, 1), 4);
    expect(gpio.pinOutput(13)).toBe(1);
    gpio.registers.write(GPIO_OUT, 0, 4);
    gpio.registers.write(GPIO_DIR, 1 << 13, 4);
    expect(gpio.pinOutput(13)).toBe(1);
    te.registers.write(CONFIG(0), config(MODE_TASK, 13, TOGGLE, 0), 4);
    expect(gpio.pinOutput(13)).toBe(0);
  });

  it('sets, clears or toggles the pin on TASKS_OUT according to POLARITY', () => {
    const { gpio, te } = make();
    te.registers.write(CONFIG(0), config(MODE_TASK, 4, LOTOHI, 0), 4);
    te.registers.write(TASKS_OUT(0), 1, 4);
    expect(gpio.pinOutput(4)).toBe(1);
    te.registers.write(CONFIG(1), config(MODE_TASK, 5, HITOLO, 1), 4);
    te.registers.write(TASKS_OUT(1), 1, 4);
    expect(gpio.pinOutput(5)).toBe(0);
    te.registers.write(CONFIG(2), config(MODE_TASK, 6, TOGGLE, 0), 4);
    const seen: number[] = [];
    gpio.gpioOut('', 6).watch((l) => seen.push(l));
    te.registers.write(TASKS_OUT(2), 1, 4);
    te.registers.write(TASKS_OUT(2), 1, 4);
    te.registers.write(TASKS_OUT(2), 1, 4);
    expect(seen).toEqual([1, 0, 1]);
  });

  it('runs TASKS_OUT from its PPI task line', () => {
    const { gpio, te } = make();
    te.registers.write(CONFIG(3), config(MODE_TASK, 20, TOGGLE, 0), 4);
    const task = te.taskLine(te.taskIndexAt(TASKS_OUT(3)));
    task.set(1);
    task.set(0);
    expect(gpio.pinLevel(20)).toBe(1);
  });

  it('ignores TASKS_OUT in event or disabled mode', () => {
    const { gpio, te } = make();
    te.registers.write(CONFIG(0), config(0, 4, TOGGLE, 1), 4);
    te.registers.write(TASKS_OUT(0), 1, 4);
    expect(gpio.pinOutput(4)).toBe(NOT_DRIVEN);
    te.registers.write(CONFIG(0), config(MODE_EVENT, 4, TOGGLE), 4);
    te.registers.write(TASKS_OUT(0), 1, 4);
    expect(gpio.pinOutput(4)).toBe(NOT_DRIVEN);
  });

  it('gives the pin back to the GPIO when the channel is disabled or moved', () => {
    const { gpio, te } = make();
    gpio.registers.write(GPIO_CNF(9), 1, 4);
    te.registers.write(CONFIG(0), config(MODE_TASK, 9, TOGGLE, 1), 4);
    expect(gpio.pinOutput(9)).toBe(1);
    te.registers.write(CONFIG(0), config(MODE_TASK, 10, TOGGLE, 1), 4);
    expect(gpio.pinOutput(9)).toBe(0); // the GPIO's own OUT (0) again
    expect(gpio.pinOutput(10)).toBe(1);
    te.registers.write(CONFIG(0), 0, 4);
    expect(gpio.pinOutput(10)).toBe(NOT_DRIVEN);
  });
});

describe('nRF51 GPIOTE PORT event', () => {
  it('generates PORT on the rising edge of the GPIO DETECT signal (button press with SENSE low)', () => {
    const { gpio, te } = make();
    gpio.registers.write(GPIO_CNF(17), (3 << 2) | (3 << 16), 4); // input, pull-up, SENSE low
    te.registers.write(INTENSET, 0x8000_0000, 4);
    expect(te.registers.read(EVENTS_PORT, 4)).toBe(0);
    gpio.setPinInput(17, 0);
    expect(te.registers.read(EVENTS_PORT, 4)).toBe(1);
    expect(te.gpioOut('', 0).level).toBe(1);
    te.registers.write(EVENTS_PORT, 0, 4);
    gpio.setPinInput(26, 0); // DETECT stays high: no new edge
    expect(te.registers.read(EVENTS_PORT, 4)).toBe(0);
    gpio.setPinInput(17, 1);
    gpio.setPinInput(17, 0);
    expect(te.registers.read(EVENTS_PORT, 4)).toBe(1);
  });
});

describe('nRF51 GPIOTE snapshot', () => {
  it('round-trips channel state: the task-driven pin level and the event edge detector', () => {
    const a = make();
    a.te.registers.write(CONFIG(0), config(MODE_TASK, 3, TOGGLE, 0), 4);
    a.te.registers.write(TASKS_OUT(0), 1, 4);
    a.gpio.setPinInput(7, 1);
    a.te.registers.write(CONFIG(1), config(MODE_EVENT, 7, HITOLO), 4);
    const savedTe = JSON.parse(JSON.stringify(a.te.saveState()));
    const savedGpio = JSON.parse(JSON.stringify(a.gpio.saveState()));

    const b = make();
    b.te.loadState(savedTe);
    b.gpio.loadState(savedGpio);
    expect(b.te.saveState()).toEqual(savedTe);
    expect(b.gpio.pinOutput(3)).toBe(1);
    expect(b.te.registers.read(EVENTS_IN(1), 4)).toBe(0);
    b.gpio.setPinInput(7, 0);
    expect(b.te.registers.read(EVENTS_IN(1), 4)).toBe(1);
    b.te.registers.write(TASKS_OUT(0), 1, 4);
    expect(b.gpio.pinOutput(3)).toBe(0);
  });
});

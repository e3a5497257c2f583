/**
 * nRF51 TIMER and RTC through qtest (nRF51 Series Reference Manual v3.0, chapters "TIMER —
 * Timer/counter" and "RTC — Real time counter"). Time only moves with clock_step, so compare
 * events are checked at the exact virtual instant the manual's frequencies give.
 */
import { describe, expect, it } from 'vitest';
import type { QTestClient } from './qtest.js';
import { microbitPerTest } from './test-support/lifecycle.js';
import { alignClock, CLOCK, RTC0, RTC1, TIMER0, TIMER1 } from './test-support/nrf51.js';

const T = {
  START: 0x000,
  STOP: 0x004,
  COUNT: 0x008,
  CLEAR: 0x00c,
  CAPTURE: (n: number) => 0x040 + 4 * n,
  COMPARE: (n: number) => 0x140 + 4 * n,
  MODE: 0x504,
  BITMODE: 0x508,
  PRESCALER: 0x510,
  CC: (n: number) => 0x540 + 4 * n,
};
/** A grid every prescaled TIMER clock and 1 us divide. */
const GRID_NS = 1_024_000;

/** Captures the counter of the timer at `base` into CC[3] and reads it. */
async function counter(qtest: QTestClient, base: number): Promise<number> {
  await qtest.writel(base + T.CAPTURE(3), 1);
  return qtest.readl(base + T.CC(3));
}

describe('nRF51 TIMER', () => {
  const session = microbitPerTest();

  it('generates COMPARE after CC ticks of 16 MHz / 2^PRESCALER', async () => {
    const { qtest } = session();
    // RM TIMER "Functional description": f_TIMER = 16 MHz / 2^PRESCALER; COMPARE[n] when the counter equals CC[n].
    for (const [prescaler, cc] of [
      [4, 1000],
      [9, 10],
      [0, 16],
    ] as const) {
      const tickNs = 2 ** prescaler * 62.5;
      await qtest.writel(TIMER1 + T.STOP, 1);
      await qtest.writel(TIMER1 + T.CLEAR, 1);
      await qtest.writel(TIMER1 + T.COMPARE(0), 0);
      await qtest.writel(TIMER1 + T.PRESCALER, prescaler);
      await qtest.writel(TIMER1 + T.CC(0), cc);
      await alignClock(qtest, GRID_NS);
      await qtest.writel(TIMER1 + T.START, 1);
      await qtest.clockStep(cc * tickNs - 1);
      expect(await qtest.readl(TIMER1 + T.COMPARE(0))).toBe(0);
      expect(await counter(qtest, TIMER1)).toBe(cc - 1);
      await qtest.clockStep(1);
      expect(await qtest.readl(TIMER1 + T.COMPARE(0))).toBe(1);
      expect(await counter(qtest, TIMER1)).toBe(cc);
    }
  });

  it('counts and wraps at 8, 16, 24 and 32 bits (BITMODE)', async () => {
    const { qtest } = session();
    // RM TIMER register BITMODE: 1 = 8, 0 = 16, 2 = 24, 3 = 32 bits; TIMER0 has all four widths.
    for (const [bitmode, width] of [
      [1, 8],
      [0, 16],
      [2, 24],
      [3, 32],
    ] as const) {
      await qtest.writel(TIMER0 + T.STOP, 1);
      await qtest.writel(TIMER0 + T.CLEAR, 1);
      await qtest.writel(TIMER0 + T.BITMODE, bitmode);
      await qtest.writel(TIMER0 + T.PRESCALER, 4); // 1 MHz
      await alignClock(qtest, GRID_NS);
      await qtest.writel(TIMER0 + T.START, 1);
      await qtest.clockStep((2 ** width - 1) * 1000);
      expect(await counter(qtest, TIMER0)).toBe(2 ** width - 1);
      await qtest.clockStep(6 * 1000);
      expect(await counter(qtest, TIMER0)).toBe(5);
    }
  });

  it('TIMER1 counts at most 16 bits', async () => {
    const { qtest } = session();
    // RM TIMER, instance table: TIMER1 and TIMER2 are 16-bit timers.
    await qtest.writel(TIMER1 + T.BITMODE, 3);
    await qtest.writel(TIMER1 + T.PRESCALER, 4);
    await alignClock(qtest, GRID_NS);
    await qtest.writel(TIMER1 + T.START, 1);
    await qtest.clockStep((65536 + 7) * 1000);
    expect(await counter(qtest, TIMER1)).toBe(7);
  });

  it('counts COUNT tasks in counter mode and compares', async () => {
    const { qtest } = session();
    // RM TIMER "Functional description": in counter mode the counter increments on each COUNT task; time does nothing.
    await qtest.writel(TIMER0 + T.MODE, 1);
    await qtest.writel(TIMER0 + T.BITMODE, 1); // 8 bits
    await qtest.writel(TIMER0 + T.CC(0), 5);
    await qtest.writel(TIMER0 + T.START, 1);
    for (let i = 0; i < 4; i++) await qtest.writel(TIMER0 + T.COUNT, 1);
    await qtest.clockStep(1_000_000);
    expect(await counter(qtest, TIMER0)).toBe(4);
    expect(await qtest.readl(TIMER0 + T.COMPARE(0))).toBe(0);
    await qtest.writel(TIMER0 + T.COUNT, 1);
    expect(await qtest.readl(TIMER0 + T.COMPARE(0))).toBe(1);
    // 256 counts in total wrap the 8-bit counter to 0.
    await Promise.all(Array.from({ length: 251 }, () => qtest.writel(TIMER0 + T.COUNT, 1)));
    expect(await counter(qtest, TIMER0)).toBe(0);
    // STOP: COUNT has no effect.
    await qtest.writel(TIMER0 + T.STOP, 1);
    await qtest.writel(TIMER0 + T.COUNT, 1);
    expect(await counter(qtest, TIMER0)).toBe(0);
  });
});

const R = {
  START: 0x000,
  STOP: 0x004,
  CLEAR: 0x008,
  COMPARE: (n: number) => 0x140 + 4 * n,
  INTENSET: 0x304,
  EVTENSET: 0x344,
  COUNTER: 0x504,
  PRESCALER: 0x508,
  CC: (n: number) => 0x540 + 4 * n,
};
const LFCLK_HZ = 32768;

/** Starts the 32.768 kHz LFCLK from its RC oscillator and waits for LFCLKSTARTED. */
async function startLfclk(qtest: QTestClient): Promise<void> {
  await qtest.writel(CLOCK + 0x518, 0); // LFCLKSRC = RC
  await qtest.writel(CLOCK + 0x008, 1); // LFCLKSTART
  await qtest.clockStep(1_000_000);
  expect(await qtest.readl(CLOCK + 0x104)).toBe(1); // EVENTS_LFCLKSTARTED
}

describe('nRF51 RTC', () => {
  const session = microbitPerTest();

  it('counts at 32768 Hz / (PRESCALER + 1) once LFCLK runs', async () => {
    const { qtest } = session();
    // RM RTC "Functional description": the RTC runs from LFCLK; COUNTER increments at f_RTC = 32768 / (PRESCALER + 1).
    await qtest.writel(RTC1 + R.START, 1);
    await qtest.clockStep(10_000_000);
    expect(await qtest.readl(RTC1 + R.COUNTER)).toBe(0); // LFCLK not running yet
    await qtest.writel(RTC1 + R.STOP, 1);
    await startLfclk(qtest);
    await qtest.writel(RTC1 + R.CLEAR, 1);
    await qtest.writel(RTC1 + R.START, 1);
    await qtest.clockStep(1_000_000_000);
    expect(await qtest.readl(RTC1 + R.COUNTER)).toBe(LFCLK_HZ);
    // PRESCALER may only be written while stopped (RM RTC "Clock source" / PRESCALER register).
    await qtest.writel(RTC1 + R.STOP, 1);
    await qtest.writel(RTC1 + R.CLEAR, 1);
    await qtest.writel(RTC1 + R.PRESCALER, 3);
    await qtest.writel(RTC1 + R.START, 1);
    await qtest.clockStep(1_000_000_000);
    expect(await qtest.readl(RTC1 + R.COUNTER)).toBe(LFCLK_HZ / 4);
    // STOP holds the counter.
    await qtest.writel(RTC1 + R.STOP, 1);
    await qtest.clockStep(1_000_000_000);
    expect(await qtest.readl(RTC1 + R.COUNTER)).toBe(LFCLK_HZ / 4);
  });

  it('generates COMPARE when COUNTER reaches CC, if the event is enabled', async () => {
    const { qtest } = session();
    await startLfclk(qtest);
    await qtest.writel(RTC0 + R.PRESCALER, 7); // 4096 Hz
    await qtest.writel(RTC0 + R.START, 1);
    await qtest.clockStep(10_000_000);
    const now = await qtest.readl(RTC0 + R.COUNTER);
    // RM RTC "Event control": an event is recorded in EVENTS_COMPARE when enabled in INTEN or EVTEN.
    await qtest.writel(RTC0 + R.CC(0), now + 10);
    await qtest.writel(RTC0 + R.EVTENSET, 1 << 16);
    await qtest.writel(RTC0 + R.CC(1), now + 10);
    const tickNs = 1e9 / 4096;
    // At most 9 increments in 9 tick periods: not there yet.
    await qtest.clockStep(Math.floor(9 * tickNs));
    expect(await qtest.readl(RTC0 + R.COMPARE(0))).toBe(0);
    // At least 10 increments in 10 periods.
    await qtest.clockStep(Math.ceil(10 * tickNs) - Math.floor(9 * tickNs));
    expect(await qtest.readl(RTC0 + R.COUNTER)).toBe(now + 10);
    expect(await qtest.readl(RTC0 + R.COMPARE(0))).toBe(1);
    // CC[1] matched too, but its event is disabled: nothing recorded.
    expect(await qtest.readl(RTC0 + R.COMPARE(1))).toBe(0);
  });
});

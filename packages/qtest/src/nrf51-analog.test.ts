/**
 * nRF51 RNG, TEMP, ADC and CLOCK through qtest, with the board's inputs set over QMP (nRF51
 * Series Reference Manual v3.0, chapters "RNG — Random number generator", "TEMP — Temperature
 * sensor", "ADC — Analog to digital converter" and "CLOCK — Clock control"; the conversion and
 * start-up times are the nRF51822 Product Specification's typical values).
 */
import { describe, expect, it } from 'vitest';
import type { QTestClient } from './qtest.js';
import type { QTestSession } from './session.js';
import { microbitPerTest } from './test-support/lifecycle.js';
import { ADC, CLOCK, RNG, startMicrobit, TEMP } from './test-support/nrf51.js';

async function rngBytes(qtest: QTestClient, count: number): Promise<number[]> {
  const values: number[] = [];
  await qtest.writel(RNG + 0x000, 1); // START
  for (let i = 0; i < count; i++) {
    await qtest.clockStep(1_000_000);
    expect(await qtest.readl(RNG + 0x100)).toBe(1); // EVENTS_VALRDY
    await qtest.writel(RNG + 0x100, 0);
    values.push(await qtest.readl(RNG + 0x508)); // VALUE
  }
  return values;
}

describe('nRF51 RNG', () => {
  const session = microbitPerTest({ args: ['-seed', '42'] });

  it('generates VALRDY with a new byte in VALUE while started', async () => {
    const { qtest } = session();
    // "Operation": START begins generating; VALRDY for each new value; VALUE is 8 bits.
    await qtest.writel(RNG + 0x000, 1);
    expect(await qtest.readl(RNG + 0x100)).toBe(0);
    const values = await rngBytes(qtest, 32);
    for (const v of values) expect(v).toBeLessThanOrEqual(0xff);
    expect(new Set(values).size).toBeGreaterThan(8);
    // STOP: no more values.
    await qtest.writel(RNG + 0x004, 1);
    await qtest.clockStep(10_000_000);
    expect(await qtest.readl(RNG + 0x100)).toBe(0);
  });

  it('stops after one value with the VALRDY_STOP shortcut', async () => {
    const { qtest } = session();
    await qtest.writel(RNG + 0x200, 1);
    await qtest.writel(RNG + 0x000, 1);
    await qtest.clockStep(1_000_000);
    expect(await qtest.readl(RNG + 0x100)).toBe(1);
    await qtest.writel(RNG + 0x100, 0);
    await qtest.clockStep(10_000_000);
    expect(await qtest.readl(RNG + 0x100)).toBe(0);
  });

  it('gives the same bytes for the same -seed', async () => {
    const first = await rngBytes(session().qtest, 8);
    const other = await startMicrobit({ args: ['-seed', '42'] });
    try {
      expect(await rngBytes(other.qtest, 8)).toEqual(first);
    } finally {
      await other.quit();
    }
  });
});

describe('nRF51 TEMP', () => {
  const session = microbitPerTest();

  async function measure(s: QTestSession, milliCelsius: number): Promise<number> {
    await s.qmp.execute('qom-set', {
      path: '/machine/nrf51/temp',
      property: 'temperature',
      value: milliCelsius,
    });
    await s.qtest.writel(TEMP + 0x000, 1); // START
    expect(await s.qtest.readl(TEMP + 0x100)).toBe(0);
    await s.qtest.clockStep(36_000); // conversion time
    expect(await s.qtest.readl(TEMP + 0x100)).toBe(1); // EVENTS_DATARDY
    await s.qtest.writel(TEMP + 0x100, 0);
    return s.qtest.readl(TEMP + 0x508);
  }

  it('reports the board temperature in 0.25 degC units after DATARDY', async () => {
    const s = session();
    // "TEMP: die temperature in °C, two's complement format, 0.25 °C steps".
    expect(await measure(s, 25_250)).toBe(101);
    expect(await measure(s, 0)).toBe(0);
    expect(await measure(s, -5_000)).toBe(0xffff_ffec); // -20 as a 32-bit two's complement
    expect(await s.qmp.execute('qom-get', { path: '/machine/nrf51/temp', property: 'temperature' })).toBe(
      -5000,
    );
  });
});

describe('nRF51 ADC', () => {
  const session = microbitPerTest();
  // CONFIG fields: RES 1:0 (2 = 10 bit), INPSEL 4:2 (0 = AIN no prescaling, 2 = AIN 1/3),
  // REFSEL 6:5 (0 = VBG 1.2 V), PSEL 15:8 (one-hot AIN0-7).
  const TEN_BIT = 2;
  const AIN4 = (1 << 4) << 8;

  async function convert(qtest: QTestClient, config: number): Promise<number> {
    await qtest.writel(ADC + 0x500, 1); // ENABLE
    await qtest.writel(ADC + 0x504, config);
    await qtest.writel(ADC + 0x000, 1); // START
    expect(await qtest.readl(ADC + 0x400)).toBe(1); // BUSY during the conversion
    await qtest.clockStep(68_000); // 10-bit conversion time
    expect(await qtest.readl(ADC + 0x100)).toBe(1); // EVENTS_END
    expect(await qtest.readl(ADC + 0x400)).toBe(0);
    await qtest.writel(ADC + 0x100, 0);
    return qtest.readl(ADC + 0x508);
  }

  it('converts the input voltage as RESULT = VIN x prescale / VREF x (2^n - 1)', async () => {
    const { qtest, qmp } = session();
    await qmp.execute('qom-set', { path: '/machine/nrf51/adc', property: 'ain4', value: 900 });
    // 0.9 V / 1.2 V x 1023 = 767.25
    expect(await convert(qtest, TEN_BIT | AIN4)).toBe(767);
    await qmp.execute('qom-set', { path: '/machine/nrf51/adc', property: 'ain4', value: 2400 });
    // With 1/3 prescaling: 0.8 V / 1.2 V x 1023 = 682
    expect(await convert(qtest, TEN_BIT | (2 << 2) | AIN4)).toBe(682);
    // 8 bits: 0.8 / 1.2 x 255 = 170
    expect(await convert(qtest, 0 | (2 << 2) | AIN4)).toBe(170);
    // Above the reference: full scale.
    expect(await convert(qtest, TEN_BIT | AIN4)).toBe(1023);
  });
});

describe('nRF51 CLOCK', () => {
  const session = microbitPerTest();

  it('starts the HFCLK crystal: HFCLKSTARTED after the start-up time, HFCLKSTAT.SRC = Xtal', async () => {
    const { qtest } = session();
    // At reset the CPU runs from the 16 MHz RC oscillator: HFCLKSTAT.STATE running, SRC RC.
    expect(await qtest.readl(CLOCK + 0x40c)).toBe(0x0001_0000);
    await qtest.writel(CLOCK + 0x000, 1); // HFCLKSTART
    expect(await qtest.readl(CLOCK + 0x408)).toBe(1); // HFCLKRUN: the task was triggered
    expect(await qtest.readl(CLOCK + 0x100)).toBe(0);
    await qtest.clockStep(800_000); // crystal oscillator start-up, typical
    expect(await qtest.readl(CLOCK + 0x100)).toBe(1); // EVENTS_HFCLKSTARTED
    expect(await qtest.readl(CLOCK + 0x40c)).toBe(0x0001_0001);
    // HFCLKSTOP: back to the RC oscillator.
    await qtest.writel(CLOCK + 0x004, 1);
    expect(await qtest.readl(CLOCK + 0x40c)).toBe(0x0001_0000);
  });

  it('starts the LFCLK from the selected source and reports it in LFCLKSTAT', async () => {
    const { qtest } = session();
    expect(await qtest.readl(CLOCK + 0x418)).toBe(0); // not running
    await qtest.writel(CLOCK + 0x518, 1); // LFCLKSRC = Xtal
    await qtest.writel(CLOCK + 0x008, 1); // LFCLKSTART
    expect(await qtest.readl(CLOCK + 0x414)).toBe(1); // LFCLKRUN
    expect(await qtest.readl(CLOCK + 0x41c)).toBe(1); // LFCLKSRCCOPY: the source at LFCLKSTART
    expect(await qtest.readl(CLOCK + 0x104)).toBe(0);
    await qtest.clockStep(300_000_000); // 32.768 kHz crystal start-up, typical
    expect(await qtest.readl(CLOCK + 0x104)).toBe(1); // EVENTS_LFCLKSTARTED
    expect(await qtest.readl(CLOCK + 0x418)).toBe(0x0001_0001); // STATE running, SRC Xtal
    await qtest.writel(CLOCK + 0x00c, 1); // LFCLKSTOP
    expect((await qtest.readl(CLOCK + 0x418)) & 0x0001_0000).toBe(0);
  });
});

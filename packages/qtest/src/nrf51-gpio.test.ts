/**
 * nRF51 GPIO, GPIOTE and PPI through qtest (nRF51 Series Reference Manual v3.0, chapters
 * "GPIO — General purpose input/output", "GPIOTE — GPIO tasks and events" and "PPI —
 * Programmable peripheral interconnect"; "RM GPIO: X" below names a section of a chapter). Pins are observed as QEMU's tests do: the SoC's unnamed
 * GPIO outputs intercepted with `irq_intercept_out /machine/nrf51`, inputs driven with
 * `set_irq_in /machine/nrf51 unnamed-gpio-in PIN LEVEL`. The pins used (P0.01-P0.03, the edge
 * connector's P2, P1, P0) have nothing on the board driving them.
 */
import { describe, expect, it } from 'vitest';
import { microbitPerTest } from './test-support/lifecycle.js';
import { alignClock, GPIO, GPIOTE, PPI, SOC, TIMER0 } from './test-support/nrf51.js';

const OUT = GPIO + 0x504;
const OUTSET = GPIO + 0x508;
const OUTCLR = GPIO + 0x50c;
const IN = GPIO + 0x510;
const DIR = GPIO + 0x514;
const DIRSET = GPIO + 0x518;
const DIRCLR = GPIO + 0x51c;
const PIN_CNF = (n: number) => GPIO + 0x700 + 4 * n;
// PIN_CNF fields (RM GPIO: register PIN_CNF[n]): DIR bit 0, INPUT bit 1 (1 = buffer disconnected), PULL bits 3:2.
const CNF_OUTPUT = 1;
const CNF_INPUT_DISCONNECT = 2;
const CNF_PULLDOWN = 1 << 2;
const CNF_PULLUP = 3 << 2;

const GPIOTE_OUT = (n: number) => GPIOTE + 4 * n;
const GPIOTE_IN = (n: number) => GPIOTE + 0x100 + 4 * n;
const GPIOTE_CONFIG = (n: number) => GPIOTE + 0x510 + 4 * n;
// CONFIG fields (RM GPIOTE: register CONFIG[n]): MODE 1:0 (1 event, 3 task), PSEL 12:8, POLARITY 17:16, OUTINIT 20.
const MODE_EVENT = 1;
const MODE_TASK = 3;
const LO_TO_HI = 1 << 16;
const HI_TO_LO = 2 << 16;
const TOGGLE = 3 << 16;
const OUTINIT_HIGH = 1 << 20;

describe('nRF51 GPIO', () => {
  const session = microbitPerTest();

  it('resets as the manual states', async () => {
    const { qtest } = session();
    // RM GPIO, register tables: OUT and DIR reset to 0; PIN_CNF resets to 0x00000002 (input, buffer disconnected).
    expect(await qtest.readl(OUT)).toBe(0);
    expect(await qtest.readl(DIR)).toBe(0);
    for (const n of [0, 3, 31]) expect(await qtest.readl(PIN_CNF(n))).toBe(0x0000_0002);
  });

  it('drives outputs from OUT/DIR and reports them on the intercepted lines', async () => {
    const { qtest } = session();
    await qtest.irqInterceptOut(SOC);
    // RM GPIO: "Pin configuration": DIRSET/OUTSET set bits of DIR/OUT; DIR is the same bit as PIN_CNF[n].DIR.
    await qtest.writel(DIRSET, 1 << 3);
    expect(await qtest.readl(DIR)).toBe(1 << 3);
    expect((await qtest.readl(PIN_CNF(3))) & 1).toBe(1);
    await qtest.writel(OUTSET, 1 << 3);
    expect(await qtest.readl(OUT)).toBe(1 << 3);
    expect(qtest.irqLevel(3)).toBe(true);
    await qtest.writel(OUTCLR, 1 << 3);
    expect(await qtest.readl(OUT)).toBe(0);
    expect(qtest.irqLevel(3)).toBe(false);
    await qtest.writel(OUT, (1 << 3) | (1 << 2));
    expect(qtest.irqLevel(3)).toBe(true);
    // P0.02 is not an output: OUT alone does not drive it.
    expect(qtest.irqLevel(2)).toBe(false);
    // PIN_CNF[n].DIR = output is seen in DIR.
    await qtest.writel(PIN_CNF(2), CNF_OUTPUT);
    expect(await qtest.readl(DIR)).toBe((1 << 3) | (1 << 2));
    expect(qtest.irqLevel(2)).toBe(true);
    await qtest.writel(DIRCLR, 1 << 2);
    expect((await qtest.readl(PIN_CNF(2))) & 1).toBe(0);
    // Every change came as IRQ lines, in order, for pins 2 and 3 only.
    const changes = qtest.takeIrqChanges().filter((c) => c.line === 3);
    expect(changes).toEqual([
      { line: 3, raised: true },
      { line: 3, raised: false },
      { line: 3, raised: true },
    ]);
  });

  it('reads an output pin back through IN when its input buffer is connected', async () => {
    const { qtest } = session();
    await qtest.writel(PIN_CNF(3), CNF_OUTPUT);
    await qtest.writel(OUTSET, 1 << 3);
    expect((await qtest.readl(IN)) & (1 << 3)).toBe(1 << 3);
    await qtest.writel(OUTCLR, 1 << 3);
    expect((await qtest.readl(IN)) & (1 << 3)).toBe(0);
  });

  it('reads inputs driven from outside with set_irq_in', async () => {
    const { qtest } = session();
    // Input with the buffer connected, no pull (RM GPIO: PIN_CNF INPUT = Connect).
    await qtest.writel(PIN_CNF(1), 0);
    await qtest.setIrqIn(SOC, null, 1, 1);
    expect((await qtest.readl(IN)) & (1 << 1)).toBe(1 << 1);
    await qtest.setIrqIn(SOC, null, 1, 0);
    expect((await qtest.readl(IN)) & (1 << 1)).toBe(0);
    await qtest.setIrqIn(SOC, null, 1, 1);
    // With the input buffer disconnected and no pull the pin is not sampled: IN reads 0.
    await qtest.writel(PIN_CNF(1), CNF_INPUT_DISCONNECT);
    expect((await qtest.readl(IN)) & (1 << 1)).toBe(0);
  });

  it('pulls an undriven input up or down as PIN_CNF.PULL selects', async () => {
    const { qtest } = session();
    // RM GPIO: "Pin configuration" and PIN_CNF: PULL = Pullup (3) / Pulldown (1) on an input pin.
    await qtest.writel(PIN_CNF(2), CNF_PULLUP);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(1 << 2);
    await qtest.writel(PIN_CNF(2), CNF_PULLDOWN);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(0);
    await qtest.writel(PIN_CNF(2), CNF_PULLUP);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(1 << 2);
    // An external drive overrides the pull.
    await qtest.setIrqIn(SOC, null, 2, 0);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(0);
    // Released again (level -1: not driven): the pull decides.
    await qtest.setIrqIn(SOC, null, 2, -1);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(1 << 2);
  });
});

describe('nRF51 GPIOTE', () => {
  const session = microbitPerTest();

  it('generates IN events on the edges POLARITY selects in event mode', async () => {
    const { qtest } = session();
    await qtest.setIrqIn(SOC, null, 1, 0);
    // RM GPIOTE: "Pin events and tasks", event mode on P0.01, rising edges.
    await qtest.writel(GPIOTE_CONFIG(0), MODE_EVENT | (1 << 8) | LO_TO_HI);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(0);
    await qtest.setIrqIn(SOC, null, 1, 1);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(1);
    await qtest.writel(GPIOTE_IN(0), 0);
    await qtest.setIrqIn(SOC, null, 1, 0);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(0);
    // Falling edges only.
    await qtest.writel(GPIOTE_CONFIG(0), MODE_EVENT | (1 << 8) | HI_TO_LO);
    await qtest.setIrqIn(SOC, null, 1, 1);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(0);
    await qtest.setIrqIn(SOC, null, 1, 0);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(1);
    // Toggle: both edges.
    await qtest.writel(GPIOTE_IN(0), 0);
    await qtest.writel(GPIOTE_CONFIG(0), MODE_EVENT | (1 << 8) | TOGGLE);
    await qtest.setIrqIn(SOC, null, 1, 1);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(1);
    await qtest.writel(GPIOTE_IN(0), 0);
    await qtest.setIrqIn(SOC, null, 1, 0);
    expect(await qtest.readl(GPIOTE_IN(0))).toBe(1);
  });

  it('drives the pin from TASKS_OUT in task mode, starting at OUTINIT', async () => {
    const { qtest } = session();
    await qtest.irqInterceptOut(SOC);
    // RM GPIOTE: "Pin events and tasks": in task mode the channel owns the pin; OUTINIT is its level when configured.
    await qtest.writel(GPIOTE_CONFIG(1), MODE_TASK | (2 << 8) | TOGGLE | OUTINIT_HIGH);
    expect(qtest.irqLevel(2)).toBe(true);
    expect((await qtest.readl(IN)) & (1 << 2)).toBe(0); // buffer disconnected (reset PIN_CNF)
    await qtest.writel(GPIOTE_OUT(1), 1);
    expect(qtest.irqLevel(2)).toBe(false);
    await qtest.writel(GPIOTE_OUT(1), 1);
    expect(qtest.irqLevel(2)).toBe(true);
    // LoToHi sets, HiToLo clears.
    await qtest.writel(GPIOTE_CONFIG(1), MODE_TASK | (2 << 8) | HI_TO_LO | OUTINIT_HIGH);
    await qtest.writel(GPIOTE_OUT(1), 1);
    expect(qtest.irqLevel(2)).toBe(false);
    await qtest.writel(GPIOTE_OUT(1), 1);
    expect(qtest.irqLevel(2)).toBe(false);
    await qtest.writel(GPIOTE_CONFIG(1), MODE_TASK | (2 << 8) | LO_TO_HI);
    expect(qtest.irqLevel(2)).toBe(false);
    await qtest.writel(GPIOTE_OUT(1), 1);
    expect(qtest.irqLevel(2)).toBe(true);
    // The GPIO registers do not take the pin back while the channel owns it.
    await qtest.writel(PIN_CNF(2), CNF_OUTPUT);
    await qtest.writel(OUTCLR, 1 << 2);
    expect(qtest.irqLevel(2)).toBe(true);
  });
});

describe('nRF51 PPI', () => {
  const session = microbitPerTest();

  it('toggles a GPIOTE pin from TIMER0 COMPARE[0] through a channel', async () => {
    const { qtest } = session();
    await qtest.irqInterceptOut(SOC);
    // GPIOTE channel 0: task mode, P0.03, toggle, starting low.
    await qtest.writel(GPIOTE_CONFIG(0), MODE_TASK | (3 << 8) | TOGGLE);
    // TIMER0: 1 MHz (PRESCALER 4), 32 bits, CC[0] = 100, COMPARE0_CLEAR shortcut: period 100 us.
    await qtest.writel(TIMER0 + 0x510, 4);
    await qtest.writel(TIMER0 + 0x508, 3);
    await qtest.writel(TIMER0 + 0x540, 100);
    await qtest.writel(TIMER0 + 0x200, 1);
    // RM PPI: "Overview": CH[0].EEP = the event's address, CH[0].TEP = the task's address; CHENSET enables.
    await qtest.writel(PPI + 0x510, TIMER0 + 0x140);
    await qtest.writel(PPI + 0x514, GPIOTE_OUT(0));
    await qtest.writel(PPI + 0x504, 1);
    expect(await qtest.readl(PPI + 0x500)).toBe(1);
    await alignClock(qtest, 1_024_000);
    qtest.takeIrqChanges();
    await qtest.writel(TIMER0, 1); // START
    await qtest.clockStep(99_999);
    expect(qtest.irqLevel(3)).toBe(false);
    await qtest.clockStep(1);
    expect(qtest.irqLevel(3)).toBe(true);
    await qtest.clockStep(100_000);
    expect(qtest.irqLevel(3)).toBe(false);
    await qtest.clockStep(300_000);
    expect(qtest.takeIrqChanges().filter((c) => c.line === 3)).toEqual([
      { line: 3, raised: true },
      { line: 3, raised: false },
      { line: 3, raised: true },
      { line: 3, raised: false },
      { line: 3, raised: true },
    ]);
    // CHENCLR disables the channel: the pin stops toggling.
    await qtest.writel(PPI + 0x508, 1);
    await qtest.clockStep(500_000);
    expect(qtest.takeIrqChanges().filter((c) => c.line === 3)).toEqual([]);
  });
});

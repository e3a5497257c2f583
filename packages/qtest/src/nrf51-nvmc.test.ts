/**
 * nRF51 NVMC through qtest memory writes (nRF51 Series Reference Manual v3.0, chapter "NVMC —
 * Non-volatile memory controller": "Writing to flash", "Erasing a page in code region 1",
 * "Erase all", "Writing to user information configuration registers (UICR)"). Flash is NOR:
 * a write can only turn bits from 1 to 0; only an erase brings them back to 1.
 */
import { describe, expect, it } from 'vitest';
import { microbitPerTest } from './test-support/lifecycle.js';
import { NVMC, UICR } from './test-support/nrf51.js';

const READY = NVMC + 0x400;
const CONFIG = NVMC + 0x504;
const ERASEPAGE = NVMC + 0x508;
const ERASEALL = NVMC + 0x50c;
const ERASEUICR = NVMC + 0x514;
const WEN = 1;
const EEN = 2;
/** The last 1 KiB page of the 256 KiB flash, and the one before it. */
const PAGE = 0x3_fc00;
const PREVIOUS_PAGE = 0x3_f800;
const UICR_CUSTOMER0 = UICR + 0x080;

describe('nRF51 NVMC', () => {
  const session = microbitPerTest();

  it('programs flash words only with CONFIG.WEN, with NOR semantics', async () => {
    const { qtest } = session();
    expect(await qtest.readl(READY)).toBe(1);
    expect(await qtest.readl(PAGE)).toBe(0xffff_ffff); // erased
    // CONFIG.WEN = Ren (0): writes to flash are ignored.
    await qtest.writel(PAGE, 0x1234_5678);
    expect(await qtest.readl(PAGE)).toBe(0xffff_ffff);
    await qtest.writel(CONFIG, WEN);
    expect(await qtest.readl(CONFIG)).toBe(WEN);
    await qtest.writel(PAGE, 0x1234_5678);
    expect(await qtest.readl(PAGE)).toBe(0x1234_5678);
    // A second write can only clear bits: the result is the AND of old and new.
    await qtest.writel(PAGE, 0xffff_0f0f);
    expect(await qtest.readl(PAGE)).toBe(0x1234_0608);
    await qtest.writel(PAGE + 4, 0xa5a5_a5a5);
    expect(await qtest.read(PAGE, 8)).toEqual(Uint8Array.of(0x08, 0x06, 0x34, 0x12, 0xa5, 0xa5, 0xa5, 0xa5));
  });

  it('erases a page with ERASEPAGE only with CONFIG.EEN', async () => {
    const { qtest } = session();
    await qtest.writel(CONFIG, WEN);
    await qtest.writel(PAGE, 0);
    await qtest.writel(PAGE + 0x3fc, 0);
    await qtest.writel(PREVIOUS_PAGE + 0x3fc, 0);
    // Erase is not enabled: nothing happens.
    await qtest.writel(ERASEPAGE, PAGE);
    expect(await qtest.readl(PAGE)).toBe(0);
    await qtest.writel(CONFIG, EEN);
    await qtest.writel(ERASEPAGE, PAGE);
    expect(await qtest.readl(PAGE)).toBe(0xffff_ffff);
    expect(await qtest.readl(PAGE + 0x3fc)).toBe(0xffff_ffff);
    // Only that page.
    expect(await qtest.readl(PREVIOUS_PAGE + 0x3fc)).toBe(0);
    // Erased words can be programmed again.
    await qtest.writel(CONFIG, WEN);
    await qtest.writel(PAGE, 0xcafe_f00d);
    expect(await qtest.readl(PAGE)).toBe(0xcafe_f00d);
  });

  it('programs and erases the UICR', async () => {
    const { qtest } = session();
    await qtest.writel(CONFIG, WEN);
    await qtest.writel(UICR_CUSTOMER0, 0x0000_00aa);
    expect(await qtest.readl(UICR_CUSTOMER0)).toBe(0x0000_00aa);
    await qtest.writel(CONFIG, EEN);
    await qtest.writel(ERASEUICR, 1);
    expect(await qtest.readl(UICR_CUSTOMER0)).toBe(0xffff_ffff);
  });

  it('erases flash and UICR with ERASEALL', async () => {
    const { qtest } = session();
    await qtest.writel(CONFIG, WEN);
    await qtest.writel(PAGE, 0);
    await qtest.writel(0x1000, 0);
    await qtest.writel(UICR_CUSTOMER0, 0);
    await qtest.writel(CONFIG, EEN);
    await qtest.writel(ERASEALL, 1);
    for (const addr of [PAGE, 0x1000, UICR_CUSTOMER0]) expect(await qtest.readl(addr)).toBe(0xffff_ffff);
  });
});

/**
 * nRF51 TWI0 with the micro:bit's real sensors on the bus (nRF51 Series Reference Manual v3.0,
 * chapter "TWI — I2C compatible two-wire interface": "Master write sequence", "Master read
 * sequence", "Master repeated start sequence"; sensors: MMA8653FC datasheet WHO_AM_I 0x0D = 0x5A
 * at 7-bit address 0x1D, MAG3110 datasheet WHO_AM_I 0x07 = 0xC4 at 0x0E). The clock is stepped
 * byte by byte: at 100 kbit/s a byte and its acknowledge take 9 bit times, 90 us.
 */
import { describe, expect, it } from 'vitest';
import type { QTestClient } from './qtest.js';
import { microbitPerTest } from './test-support/lifecycle.js';
import { TWI0 } from './test-support/nrf51.js';

const STARTRX = TWI0 + 0x000;
const STARTTX = TWI0 + 0x008;
const STOP = TWI0 + 0x014;
const EVENTS_STOPPED = TWI0 + 0x104;
const EVENTS_RXDREADY = TWI0 + 0x108;
const EVENTS_TXDSENT = TWI0 + 0x11c;
const EVENTS_ERROR = TWI0 + 0x124;
const SHORTS = TWI0 + 0x200;
const ERRORSRC = TWI0 + 0x4c4;
const ENABLE = TWI0 + 0x500;
const PSELSCL = TWI0 + 0x508;
const PSELSDA = TWI0 + 0x50c;
const RXD = TWI0 + 0x518;
const TXD = TWI0 + 0x51c;
const FREQUENCY = TWI0 + 0x524;
const ADDRESS = TWI0 + 0x588;
const K100 = 0x0198_0000;
const BB_STOP = 1 << 1;
const ERRORSRC_ANACK = 1 << 1;
const BYTE_NS = 90_000;
const BIT_NS = 10_000;

async function setUpTwi(qtest: QTestClient, address: number): Promise<void> {
  // The micro:bit's I2C lines: SCL P0.00, SDA P0.30. ENABLE = 5 selects the TWI.
  await qtest.writel(PSELSCL, 0);
  await qtest.writel(PSELSDA, 30);
  await qtest.writel(FREQUENCY, K100);
  await qtest.writel(ENABLE, 5);
  await qtest.writel(ADDRESS, address);
}

/** Reads one register of the slave at `address`: write the register number, repeated START, read. */
async function readRegister(qtest: QTestClient, address: number, register: number): Promise<number> {
  await setUpTwi(qtest, address);
  // Master write sequence: STARTTX sends the address; TXD is sent; TXDSENT after its ACK.
  await qtest.writel(TXD, register);
  await qtest.writel(STARTTX, 1);
  await qtest.clockStep(BYTE_NS); // address byte
  expect(await qtest.readl(EVENTS_TXDSENT)).toBe(0);
  await qtest.clockStep(BYTE_NS); // register byte
  expect(await qtest.readl(EVENTS_TXDSENT)).toBe(1);
  await qtest.writel(EVENTS_TXDSENT, 0);
  // Master read sequence for one byte: the BB_STOP shortcut ends the transfer after it.
  await qtest.writel(SHORTS, BB_STOP);
  await qtest.writel(STARTRX, 1); // repeated START
  await qtest.clockStep(BYTE_NS); // address byte
  expect(await qtest.readl(EVENTS_RXDREADY)).toBe(0);
  await qtest.clockStep(BYTE_NS); // data byte
  expect(await qtest.readl(EVENTS_RXDREADY)).toBe(1);
  const value = await qtest.readl(RXD);
  await qtest.clockStep(BIT_NS); // STOP condition
  expect(await qtest.readl(EVENTS_STOPPED)).toBe(1);
  expect(await qtest.readl(EVENTS_ERROR)).toBe(0);
  expect(await qtest.readl(ERRORSRC)).toBe(0);
  return value;
}

describe('nRF51 TWI with the micro:bit sensors', () => {
  const session = microbitPerTest();

  it('reads the MMA8653FC accelerometer WHO_AM_I (0x5A at 0x1D)', async () => {
    expect(await readRegister(session().qtest, 0x1d, 0x0d)).toBe(0x5a);
  });

  it('reads the MAG3110 magnetometer WHO_AM_I (0xC4 at 0x0E)', async () => {
    expect(await readRegister(session().qtest, 0x0e, 0x07)).toBe(0xc4);
  });

  it('reads consecutive registers in one read transfer', async () => {
    const { qtest } = session();
    await setUpTwi(qtest, 0x1d);
    await qtest.writel(TXD, 0x0d);
    await qtest.writel(STARTTX, 1);
    await qtest.clockStep(2 * BYTE_NS);
    expect(await qtest.readl(EVENTS_TXDSENT)).toBe(1);
    await qtest.writel(STARTRX, 1);
    await qtest.clockStep(2 * BYTE_NS);
    expect(await qtest.readl(EVENTS_RXDREADY)).toBe(1);
    await qtest.writel(EVENTS_RXDREADY, 0);
    // The next byte is the last: BB_STOP must be set before reading RXD starts it, so that the
    // BB event at its start triggers STOP; the master then NACKs that byte and sends STOP.
    await qtest.writel(SHORTS, BB_STOP);
    // Reading RXD lets the master acknowledge and clock in the next byte.
    expect(await qtest.readl(RXD)).toBe(0x5a);
    await qtest.clockStep(BYTE_NS);
    expect(await qtest.readl(EVENTS_RXDREADY)).toBe(1);
    // MMA8653FC register 0x0E (XYZ_DATA_CFG) resets to 0.
    expect(await qtest.readl(RXD)).toBe(0x00);
    await qtest.clockStep(BIT_NS);
    expect(await qtest.readl(EVENTS_STOPPED)).toBe(1);
  });

  it('reports ERRORSRC.ANACK and ERROR when no slave answers the address', async () => {
    const { qtest } = session();
    await setUpTwi(qtest, 0x50);
    await qtest.writel(TXD, 0);
    await qtest.writel(STARTTX, 1);
    await qtest.clockStep(BYTE_NS);
    expect(await qtest.readl(EVENTS_ERROR)).toBe(1);
    expect(await qtest.readl(ERRORSRC)).toBe(ERRORSRC_ANACK);
    expect(await qtest.readl(EVENTS_TXDSENT)).toBe(0);
    // The master holds the bus until STOP; then STOPPED.
    await qtest.writel(STOP, 1);
    await qtest.clockStep(BIT_NS);
    expect(await qtest.readl(EVENTS_STOPPED)).toBe(1);
    // ERRORSRC bits are cleared by writing 1.
    await qtest.writel(ERRORSRC, ERRORSRC_ANACK);
    expect(await qtest.readl(ERRORSRC)).toBe(0);
  });
});

/**
 * nRF51 UART0 on the micro:bit, through qtest and the serial socket (nRF51 Series Reference
 * Manual v3.0, chapter "UART — Universal asynchronous receiver/transmitter"). The board wires
 * the USB serial bridge to P0.24 (TX) and P0.25 (RX), so PSELTXD/PSELRXD select those pins.
 */
import { describe, expect, it } from 'vitest';
import { microbitPerTest } from './test-support/lifecycle.js';
import { stepUntil, UART0 } from './test-support/nrf51.js';

const STARTRX = UART0 + 0x000;
const STARTTX = UART0 + 0x008;
const EVENTS_RXDRDY = UART0 + 0x108;
const EVENTS_TXDRDY = UART0 + 0x11c;
const ENABLE = UART0 + 0x500;
const PSELTXD = UART0 + 0x50c;
const PSELRXD = UART0 + 0x514;
const RXD = UART0 + 0x518;
const TXD = UART0 + 0x51c;
const BAUDRATE = UART0 + 0x524;
const BAUD_115200 = 0x01d7_e000;

describe('nRF51 UART', () => {
  const session = microbitPerTest({ serial: true });

  it('transmits TXD bytes on the serial port with TXDRDY after one character time', async () => {
    const { qtest, serial } = session();
    // RM UART register ENABLE: 4 enables the UART; "Pin configuration": PSELTXD selects the TXD pin.
    await qtest.writel(ENABLE, 4);
    await qtest.writel(PSELTXD, 24);
    await qtest.writel(BAUDRATE, BAUD_115200);
    // RM UART "UART transmission": STARTTX, then each byte written to TXD is sent; TXDRDY follows it.
    await qtest.writel(STARTTX, 1);
    await qtest.writel(TXD, 'H'.charCodeAt(0));
    expect(await qtest.readl(EVENTS_TXDRDY)).toBe(0);
    // One character = start + 8 data + stop bits at 115200 baud.
    await qtest.clockStep(Math.ceil(10e9 / 115200));
    expect(await qtest.readl(EVENTS_TXDRDY)).toBe(1);
    await qtest.writel(EVENTS_TXDRDY, 0);
    await qtest.writel(TXD, 'i'.charCodeAt(0));
    await qtest.clockStep(Math.ceil(10e9 / 115200));
    expect(await qtest.readl(EVENTS_TXDRDY)).toBe(1);
    expect(await serial.read(2)).toEqual(Uint8Array.from(Buffer.from('Hi')));
  });

  it('sends nothing while TX is not started', async () => {
    const { qtest, serial } = session();
    await qtest.writel(ENABLE, 4);
    await qtest.writel(PSELTXD, 24);
    await qtest.writel(TXD, 0x41);
    await qtest.clockStep(1_000_000);
    expect(await qtest.readl(EVENTS_TXDRDY)).toBe(0);
    // RM UART "UART transmission": the byte written before STARTTX goes out once TX is started.
    await qtest.writel(STARTTX, 1);
    await qtest.clockStep(1_000_000);
    expect(await qtest.readl(EVENTS_TXDRDY)).toBe(1);
    expect(await serial.read(1)).toEqual(Uint8Array.of(0x41));
    expect(serial.bufferedLength).toBe(0);
  });

  it('receives serial bytes into RXD with RXDRDY per byte', async () => {
    const { qtest, serial } = session();
    await qtest.writel(ENABLE, 4);
    await qtest.writel(PSELRXD, 25);
    // RM UART "UART reception": STARTRX; RXDRDY when a byte is available in RXD.
    await qtest.writel(STARTRX, 1);
    await serial.write('ok');
    const rxdrdy = async () => (await qtest.readl(EVENTS_RXDRDY)) === 1;
    expect(await stepUntil(qtest, rxdrdy, 100_000, 500)).toBe(true);
    await qtest.writel(EVENTS_RXDRDY, 0);
    expect(await qtest.readl(RXD)).toBe('o'.charCodeAt(0));
    expect(await stepUntil(qtest, rxdrdy, 100_000, 500)).toBe(true);
    await qtest.writel(EVENTS_RXDRDY, 0);
    expect(await qtest.readl(RXD)).toBe('k'.charCodeAt(0));
    // Nothing more arrives.
    await qtest.clockStep(10_000_000);
    expect(await qtest.readl(EVENTS_RXDRDY)).toBe(0);
  });

  it('keeps received bytes in order through the RX FIFO', async () => {
    const { qtest, serial } = session();
    await qtest.writel(ENABLE, 4);
    await qtest.writel(PSELRXD, 25);
    await qtest.writel(STARTRX, 1);
    // RM UART "UART reception": the receiver has a 6-byte FIFO; reading RXD takes the oldest byte and the next one
    // moves into RXD with a new RXDRDY. More bytes than the FIFO holds are sent here: tsemu holds
    // the excess back (its serial flow control stands in for RTS), so none is lost.
    const text = 'ABCDEFGHIJ';
    await serial.write(text);
    // Let the line run long enough for the FIFO to fill (10 characters at 250 kbaud = 400 us).
    await stepUntil(qtest, async () => (await qtest.readl(EVENTS_RXDRDY)) === 1, 100_000, 500);
    await qtest.clockStep(1_000_000);
    let got = '';
    for (let i = 0; i < text.length; i++) {
      const ready = await stepUntil(
        qtest,
        async () => (await qtest.readl(EVENTS_RXDRDY)) === 1,
        100_000,
        500,
      );
      expect(ready).toBe(true);
      await qtest.writel(EVENTS_RXDRDY, 0);
      got += String.fromCharCode(await qtest.readl(RXD));
    }
    expect(got).toBe(text);
  });
});

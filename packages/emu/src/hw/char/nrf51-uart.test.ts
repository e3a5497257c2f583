import { describe, expect, it } from 'vitest';
import { RingbufChardev } from '../../chardev/ringbuf.js';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { ObjectNode } from '../../core/object.js';
import { NRF51_UART_FIFO_SIZE, Nrf51Uart, nrf51UartCharNs } from './nrf51-uart.js';

const R = {
  STARTRX: 0x000,
  STOPRX: 0x004,
  STARTTX: 0x008,
  STOPTX: 0x00c,
  SUSPEND: 0x01c,
  CTS: 0x100,
  NCTS: 0x104,
  RXDRDY: 0x108,
  TXDRDY: 0x11c,
  ERROR: 0x124,
  RXTO: 0x144,
  SHORTS: 0x200,
  INTENSET: 0x304,
  INTENCLR: 0x308,
  ERRORSRC: 0x480,
  ENABLE: 0x500,
  PSELRTS: 0x508,
  PSELTXD: 0x50c,
  PSELCTS: 0x510,
  PSELRXD: 0x514,
  RXD: 0x518,
  TXD: 0x51c,
  BAUDRATE: 0x524,
  CONFIG: 0x56c,
  POWER: 0xffc,
};
const BAUD_115200 = 0x01d7_e000;
/** One 10-bit character at 115200 baud: 86805.6 ns, rounded up. */
const CHAR_115200 = 86_806;

function make(clock = new VirtualClock()) {
  const root = new ObjectNode('container');
  const chardevs = root.addChild('chardevs', new ObjectNode('container'));
  const serial = chardevs.addChild('serial0', new RingbufChardev('serial0', 4096));
  const dev = root.addChild('uart0', new Nrf51Uart());
  dev.setProperty('chardev', 'serial0');
  dev.realize({ clock, log: new Log() });
  const r = dev.registers;
  const w = (off: number, v: number) => r.write(off, v, 4);
  const rd = (off: number) => r.read(off, 4);
  return { dev, clock, serial, w, rd };
}

/** An enabled UART at 115200 baud. */
function ready(clock?: VirtualClock) {
  const u = make(clock);
  u.w(R.BAUDRATE, BAUD_115200);
  u.w(R.ENABLE, 4);
  return u;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('nRF51 UART registers', () => {
  it('has the manual reset values', () => {
    const { rd } = make();
    for (const off of [R.PSELRTS, R.PSELTXD, R.PSELCTS, R.PSELRXD]) expect(rd(off)).toBe(0xffff_ffff);
    expect(rd(R.BAUDRATE)).toBe(0x0400_0000);
    expect(rd(R.ENABLE)).toBe(0);
    expect(rd(R.CONFIG)).toBe(0);
    expect(rd(R.ERRORSRC)).toBe(0);
    expect(rd(R.SHORTS)).toBe(0);
    expect(rd(R.INTENSET)).toBe(0);
    expect(rd(R.POWER)).toBe(1);
  });

  it('enables interrupts only for its events and shortcuts only CTS_STARTRX and NCTS_STOPRX', () => {
    const { w, rd } = make();
    w(R.INTENSET, 0xffff_ffff);
    expect(rd(R.INTENSET)).toBe((1 << 0) | (1 << 1) | (1 << 2) | (1 << 7) | (1 << 9) | (1 << 17));
    w(R.SHORTS, 0xffff_ffff);
    expect(rd(R.SHORTS)).toBe(0b11000);
  });

  it('computes the character time from the nominal baud rate, the formula otherwise, and parity', () => {
    expect(nrf51UartCharNs(BAUD_115200, 10)).toBe(CHAR_115200);
    expect(nrf51UartCharNs(0x0400_0000, 10)).toBe(40_000); // 250 kbaud
    expect(nrf51UartCharNs(0x0ebe_dfa4, 10)).toBe(Math.ceil(1e10 / 921_600));
    // Unlisted value: baud = 0x02000000 · 16 MHz / 2^32 = 125000.
    expect(nrf51UartCharNs(0x0200_0000, 10)).toBe(80_000);
    const { w, dev } = ready();
    expect(dev.characterTimeNs).toBe(CHAR_115200);
    w(R.CONFIG, 0b1110); // parity included: 11 bits
    expect(dev.characterTimeNs).toBe(Math.ceil(11e9 / 115_200));
  });

  it('fails to realize with a chardev id that does not exist', () => {
    const dev = new Nrf51Uart();
    dev.setProperty('chardev', 'nope');
    expect(() => dev.realize({ clock: new VirtualClock(), log: new Log() })).toThrow(
      /chardev 'nope' not found/,
    );
  });
});

describe('nRF51 UART transmitter', () => {
  it('sends TXD to the chardev and generates TXDRDY one character time later at 115200 baud', () => {
    const { w, rd, clock, serial } = ready();
    w(R.STARTTX, 1);
    clock.advanceTo(1000);
    w(R.TXD, 0x41);
    clock.advanceTo(1000 + CHAR_115200 - 1);
    expect(rd(R.TXDRDY)).toBe(0);
    expect(serial.count).toBe(0);
    clock.advanceTo(1000 + CHAR_115200);
    expect(rd(R.TXDRDY)).toBe(1);
    expect(text(serial.readAll())).toBe('A');
  });

  it('sends a byte written before STARTTX once TX starts', () => {
    const { w, rd, clock, serial } = ready();
    w(R.TXD, 0x42);
    clock.advanceTo(1_000_000);
    expect(rd(R.TXDRDY)).toBe(0);
    w(R.STARTTX, 1);
    clock.advanceTo(1_000_000 + CHAR_115200);
    expect(text(serial.readAll())).toBe('B');
    expect(rd(R.TXDRDY)).toBe(1);
  });

  it('sends a byte written while another is shifted out right after it (one holding byte)', () => {
    const { dev, w, clock, serial } = ready();
    const times: number[] = [];
    dev.eventLine(3).watch((l) => l === 1 && times.push(clock.now));
    w(R.STARTTX, 1);
    w(R.TXD, 0x31);
    w(R.TXD, 0x32);
    clock.advanceTo(10 * CHAR_115200);
    expect(times).toEqual([CHAR_115200, 2 * CHAR_115200]);
    expect(text(serial.readAll())).toBe('12');
  });

  it('raises the interrupt on TXDRDY when enabled', () => {
    const { dev, w, clock } = ready();
    w(R.INTENSET, 1 << 7);
    w(R.STARTTX, 1);
    w(R.TXD, 0x20);
    expect(dev.gpioOut('', 0).level).not.toBe(1);
    clock.advanceTo(CHAR_115200);
    expect(dev.gpioOut('', 0).level).toBe(1);
    w(R.TXDRDY, 0);
    expect(dev.gpioOut('', 0).level).toBe(0);
  });

  it('SUSPEND finishes the byte in progress, then holds the next until STARTTX', () => {
    const { w, rd, clock, serial } = ready();
    w(R.STARTTX, 1);
    w(R.TXD, 0x61);
    w(R.TXD, 0x62);
    w(R.SUSPEND, 1);
    clock.advanceTo(5 * CHAR_115200);
    expect(text(serial.readAll())).toBe('a');
    w(R.TXDRDY, 0);
    w(R.STARTTX, 1);
    clock.advanceTo(6 * CHAR_115200);
    expect(text(serial.readAll())).toBe('b');
    expect(rd(R.TXDRDY)).toBe(1);
  });

  it('STOPTX aborts the byte in progress: it is not sent and TXDRDY does not come', () => {
    const { w, rd, clock, serial } = ready();
    w(R.STARTTX, 1);
    w(R.TXD, 0x78);
    clock.advanceTo(CHAR_115200 / 2);
    w(R.STOPTX, 1);
    clock.advanceTo(10 * CHAR_115200);
    expect(serial.count).toBe(0);
    expect(rd(R.TXDRDY)).toBe(0);
  });

  it('does not transmit while disabled', () => {
    const { w, clock, serial } = make();
    w(R.STARTTX, 1);
    w(R.TXD, 0x41);
    clock.advanceTo(1_000_000);
    expect(serial.count).toBe(0);
    w(R.ENABLE, 4); // the held byte goes now
    clock.advanceTo(2_000_000);
    expect(text(serial.readAll())).toBe('A');
  });
});

describe('nRF51 UART receiver', () => {
  it('holds received bytes in the chardev until RX is started', () => {
    const { w, rd, clock, serial, dev } = ready();
    serial.inject('abc');
    clock.advanceTo(10_000_000);
    expect(serial.queuedInput).toBe(3);
    expect(dev.rxFifoLevel).toBe(0);
    expect(rd(R.RXDRDY)).toBe(0);
    w(R.STARTRX, 1);
    clock.advanceTo(10_000_000 + CHAR_115200 - 1);
    expect(rd(R.RXDRDY)).toBe(0);
    clock.advanceTo(10_000_000 + CHAR_115200);
    expect(rd(R.RXDRDY)).toBe(1);
    expect(rd(R.RXD)).toBe(0x61);
  });

  it('generates RXDRDY again when reading RXD moves the next byte into RXD', () => {
    const { w, rd, clock, serial, dev } = ready();
    w(R.STARTRX, 1);
    serial.inject('xy');
    clock.advanceTo(2 * CHAR_115200);
    expect(dev.rxFifoLevel).toBe(2);
    w(R.RXDRDY, 0);
    expect(rd(R.RXD)).toBe(0x78);
    expect(rd(R.RXDRDY)).toBe(1);
    w(R.RXDRDY, 0);
    expect(rd(R.RXD)).toBe(0x79);
    expect(rd(R.RXDRDY)).toBe(0); // FIFO empty: nothing moved in
    expect(rd(R.RXD)).toBe(0x79); // RXD keeps its last byte
  });

  it('fills the 6-byte FIFO, then leaves the rest queued in the chardev (never dropped)', () => {
    const { w, rd, clock, serial, dev } = ready();
    const burst = Uint8Array.from({ length: 100 }, (_, i) => 0x20 + i);
    w(R.STARTRX, 1);
    serial.inject(burst);
    clock.advanceTo(1_000_000_000); // one virtual second without reading
    expect(dev.rxFifoLevel).toBe(NRF51_UART_FIFO_SIZE);
    expect(serial.queuedInput).toBe(100 - NRF51_UART_FIFO_SIZE);
    expect(rd(R.ERRORSRC)).toBe(0);
    const got: number[] = [];
    let t = 1_000_000_000;
    while (got.length < 100 && t < 2_000_000_000) {
      if (rd(R.RXDRDY)) {
        w(R.RXDRDY, 0);
        got.push(rd(R.RXD));
      } else {
        t += CHAR_115200;
        clock.advanceTo(t);
      }
    }
    expect(got).toEqual(Array.from(burst));
    expect(serial.queuedInput).toBe(0);
    expect(rd(R.ERROR)).toBe(0);
  });

  it('receives at the line rate: one byte per character time', () => {
    const { dev, w, clock, serial } = ready();
    const times: number[] = [];
    dev.eventLine(2).watch((l) => l === 1 && times.push(clock.now));
    w(R.STARTRX, 1);
    serial.inject('hello');
    clock.advanceTo(10 * CHAR_115200);
    expect(dev.rxFifoLevel).toBe(5);
    // Only the byte that lands in an empty FIFO moves straight into RXD.
    expect(times).toEqual([CHAR_115200]);
  });

  it('STOPRX generates RXTO, after the byte on the wire has arrived', () => {
    const { w, rd, clock, serial, dev } = ready();
    w(R.STOPRX, 1);
    expect(rd(R.RXTO)).toBe(1);
    w(R.RXTO, 0);
    w(R.STARTRX, 1);
    serial.inject('pq');
    clock.advanceTo(CHAR_115200 / 2); // 'p' on the wire
    w(R.STOPRX, 1);
    expect(rd(R.RXTO)).toBe(0);
    clock.advanceTo(10 * CHAR_115200);
    expect(rd(R.RXTO)).toBe(1);
    expect(dev.rxFifoLevel).toBe(1);
    expect(serial.queuedInput).toBe(1); // 'q' waits for the next STARTRX
  });

  it('SUSPEND stops reception until STARTRX', () => {
    const { w, clock, serial, dev } = ready();
    w(R.STARTRX, 1);
    w(R.SUSPEND, 1);
    serial.inject('z');
    clock.advanceTo(10 * CHAR_115200);
    expect(dev.rxFifoLevel).toBe(0);
    w(R.STARTRX, 1);
    clock.advanceTo(20 * CHAR_115200);
    expect(dev.rxFifoLevel).toBe(1);
  });

  it('does not receive while disabled', () => {
    const { w, clock, serial, dev } = make();
    w(R.STARTRX, 1);
    serial.inject('k');
    clock.advanceTo(1_000_000_000);
    expect(dev.rxFifoLevel).toBe(0);
    expect(serial.queuedInput).toBe(1);
  });

  it('reports a break from the chardev in ERRORSRC and with ERROR; ERRORSRC is write-1-to-clear', () => {
    const { w, rd, dev } = ready();
    w(R.INTENSET, 1 << 9);
    w(R.STARTRX, 1);
    dev.event('break');
    expect(rd(R.ERRORSRC)).toBe(1 << 3);
    expect(rd(R.ERROR)).toBe(1);
    expect(dev.gpioOut('', 0).level).toBe(1);
    w(R.ERRORSRC, 1 << 3);
    expect(rd(R.ERRORSRC)).toBe(0);
  });
});

describe('nRF51 UART snapshot', () => {
  it('round-trips FIFO contents and pending TX and RX characters', () => {
    const a = ready();
    a.w(R.STARTTX, 1);
    a.w(R.STARTRX, 1);
    a.serial.inject('12');
    a.clock.advanceTo(CHAR_115200 + 10); // '1' in the FIFO, '2' on the wire
    a.w(R.TXD, 0x54);
    const snap = JSON.parse(JSON.stringify(a.dev.saveState()));

    const clock = new VirtualClock();
    clock.loadState(a.clock.saveState());
    const b = ready(clock);
    b.dev.loadState(snap);
    expect(b.dev.saveState()).toEqual(a.dev.saveState());
    b.clock.advanceTo(3 * CHAR_115200);
    expect(b.dev.rxFifoLevel).toBe(2);
    expect(b.rd(R.RXD)).toBe(0x31);
    expect(b.rd(R.RXD)).toBe(0x32);
    expect(text(b.serial.readAll())).toBe('T');
    expect(b.rd(R.TXDRDY)).toBe(1);
  });
});

describe('nRF51 UART pin selection', () => {
  /** A UART whose chardev is wired to P0.24 (TX) and P0.25 (RX), as on the micro:bit. */
  function wired() {
    const clock = new VirtualClock();
    const root = new ObjectNode('container');
    const chardevs = root.addChild('chardevs', new ObjectNode('container'));
    const serial = chardevs.addChild('serial0', new RingbufChardev('serial0', 4096));
    const dev = root.addChild('uart0', new Nrf51Uart());
    dev.setProperty('chardev', 'serial0');
    dev.setProperty('tx-pin', 24);
    dev.setProperty('rx-pin', 25);
    dev.realize({ clock, log: new Log() });
    const w = (off: number, v: number) => dev.registers.write(off, v, 4);
    w(R.BAUDRATE, BAUD_115200);
    w(R.ENABLE, 4);
    return { dev, clock, serial, w, rd: (off: number) => dev.registers.read(off, 4) };
  }

  it('sends to the serial port only while TXD is on the pin the port listens on', () => {
    const u = wired();
    u.w(R.STARTTX, 1);
    u.w(R.PSELTXD, 3); // another pin: the byte goes out there, not to the USB serial
    u.w(R.TXD, 0x41);
    u.clock.advanceTo(CHAR_115200);
    expect(u.rd(R.TXDRDY)).toBe(1);
    expect(u.serial.readAll()).toHaveLength(0);
    u.w(R.PSELTXD, 24);
    u.w(R.TXD, 0x42);
    u.clock.advanceTo(2 * CHAR_115200);
    expect(text(u.serial.readAll())).toBe('B');
  });

  it('keeps serial input queued until RXD is on the pin the port drives', () => {
    const u = wired();
    u.w(R.PSELRXD, 1);
    u.w(R.STARTRX, 1);
    u.serial.inject('x');
    u.clock.advanceTo(10 * CHAR_115200);
    expect(u.rd(R.RXDRDY)).toBe(0);
    expect(u.serial.queuedInput).toBe(1);
    u.w(R.PSELRXD, 25);
    u.clock.advanceTo(u.clock.now + CHAR_115200);
    expect(u.rd(R.RXDRDY)).toBe(1);
    expect(u.rd(R.RXD)).toBe(0x78);
  });
});

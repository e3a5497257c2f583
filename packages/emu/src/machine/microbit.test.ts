/**
 * The micro:bit machine as a whole: the memory map firmware relies on, the board wiring, and
 * snapshots of a running MicroPython (CPU, devices and memory together).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMachine } from './create.js';
import type { MicrobitMachine } from './microbit.js';

const MICROPYTHON = '/usr/share/firmware-microbit-micropython/firmware.hex';

function boot(): MicrobitMachine {
  if (!existsSync(MICROPYTHON)) throw new Error(`${MICROPYTHON} missing: run scripts/install-deps`);
  return createMachine('microbit', {
    mode: 'fast',
    devices: [{ driver: 'loader', props: { file: MICROPYTHON } }],
  }) as MicrobitMachine;
}

describe('micro:bit memory map', () => {
  it('has flash, FICR, UICR, RAM and the peripherals where the nRF51 manual puts them', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    const as = m.addressSpace;
    expect(as.rangeAt(0x0)?.region.kind).toBe('rom');
    expect(as.rangeAt(0x3ffff)?.region.kind).toBe('rom');
    expect(as.read32(0x1000_0010)).toBe(1024); // FICR.CODEPAGESIZE
    expect(as.read32(0x1000_0014)).toBe(256); // FICR.CODESIZE
    expect(as.rangeAt(0x2000_3fff)?.region.kind).toBe('ram');
    expect(as.read32(0x2000_4000)).toBeLessThan(0); // past the 16 KiB of RAM: bus error
    expect(as.read32(0xe000_ed00)).toBe(0x410c_c200); // CPUID of a Cortex-M0 r0p0
    expect(as.read32(0x4000_2500)).toBe(0); // UART0 ENABLE after reset
    expect(as.read32(0xf000_0fe0) & 0xff).toBe(1); // ROM table: nRF51 part
  });

  it('wires the buttons active low to P0.17 and P0.26 and the display to the GPIO', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    const IN = 0x5000_0510;
    // As firmware does: connect the input buffers (PIN_CNF.INPUT = 0; reset leaves them off).
    m.addressSpace.write32(0x5000_0700 + 4 * 17, 0);
    m.addressSpace.write32(0x5000_0700 + 4 * 26, 0);
    expect((m.addressSpace.read32(IN) >>> 17) & 1).toBe(1);
    m.buttonA.press();
    expect((m.addressSpace.read32(IN) >>> 17) & 1).toBe(0);
    m.buttonB.press();
    expect((m.addressSpace.read32(IN) >>> 26) & 1).toBe(0);
    m.buttonA.release();
    expect((m.addressSpace.read32(IN) >>> 17) & 1).toBe(1);
    // Row 1 (P0.13) high and column 1 (P0.4) low light the top-left LED.
    m.addressSpace.write32(0x5000_0514, (1 << 13) | (1 << 4)); // DIR
    m.addressSpace.write32(0x5000_0504, 1 << 13); // OUT
    expect(m.display.litNow()[0]).toBe(true);
  });
});

describe('micro:bit running MicroPython', () => {
  it('boots to the REPL prompt with the MicroPython banner', () => {
    const m = boot();
    m.runFor(1_000_000_000);
    const text = m.serialStream!.text();
    expect(text).toContain('MicroPython v1.9.2');
    expect(text.endsWith('>>> ')).toBe(true);
  });

  it('restores a snapshot of a running board into a fresh machine that then behaves identically', () => {
    const a = boot();
    a.runFor(1_000_000_000);
    a.serialStream!.send('x = 6 * 7\r');
    a.runFor(200_000_000);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = boot();
    b.restore(snap);
    for (const m of [a, b]) {
      m.serialStream!.send('print(x + 1)\r');
      m.runFor(200_000_000);
    }
    const tailA = a.serialStream!.text().split('x = 6 * 7').pop()!;
    const tailB = b.serialStream!.text();
    expect(tailA).toContain('43');
    expect(tailB).toContain('print(x + 1)\r\n43\r\n>>> ');
    expect(b.cpu.pc).toBe(a.cpu.pc);
    expect(b.clock.now).toBe(a.clock.now);
  });
});

describe('micro:bit object tree', () => {
  it('has the SoC and its CPU at the paths QEMU uses', () => {
    const m = createMachine('microbit') as MicrobitMachine;
    expect(m.resolve('/machine/nrf51')?.typeName).toBe('nrf51-soc');
    const cpu = m.resolve('/machine/nrf51/armv6m/cpu');
    expect(cpu?.typeName).toBe('cortex-m0-arm-cpu');
    expect(cpu?.getProperty('pc')).toBe(m.cpu.pc);
    expect(cpu?.isA('cpu')).toBe(true);
  });
});

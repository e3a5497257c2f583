#!/usr/bin/env node
/**
 * `npm run demo`: the README's main job. Until the micro:bit machine lands, it runs the test
 * machine: the `none` machine with 256 KiB of RAM at 0, the real MicroPython micro:bit firmware
 * loaded into it, and the test device, whose timer, IRQ line and serial port are driven on the
 * virtual clock in fast (deterministic) mode. Everything printed is read back from the machine.
 */
import { existsSync } from 'node:fs';
import { RingbufChardev } from '../chardev/ringbuf.js';
import { MemoryRegion } from '../core/memory.js';
import type { TestDevice } from '../hw/misc/tsemu-testdev.js';
import { loadImageFile, placeImage } from '../loader/index.js';
import { createMachine } from '../machine/create.js';
import { reportError } from './run-program.js';

const FIRMWARE = '/usr/share/firmware-microbit-micropython/firmware.hex';
const TESTDEV = 0x4000_0000;

function hex(n: number, width = 8): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

function main(): void {
  const firmware = process.argv[2] ?? FIRMWARE;
  if (!existsSync(firmware)) {
    process.stderr.write(`demo: ${firmware} is missing: run scripts/install-deps first\n`);
    process.exitCode = 1;
    return;
  }
  const serial = new RingbufChardev('serial0', 4096);
  const m = createMachine('none', {
    mode: 'fast',
    ramSize: 256 * 1024,
    chardevs: [serial],
    devices: [{ driver: 'tsemu-testdev', id: 'testdev', props: { chardev: 'serial0', addr: TESTDEV } }],
  });
  // The firmware also writes UICR words (0x10001000): give them a page, as the nRF51 has.
  m.addMemory(0x1000_1000, MemoryRegion.rom('uicr', 0x1000));
  const image = loadImageFile(firmware);
  placeImage(m.addressSpace, image);
  const as = m.addressSpace;
  const bytes = image.segments.reduce((n, s) => n + s.data.length, 0);
  console.log(`tsemu demo: the test machine ('none' + tsemu-testdev)`);
  console.log(
    `loaded ${image.file} (${image.format}): ${bytes} bytes in ${image.segments.length} segment(s)`,
  );
  console.log(`  vector table: initial SP ${hex(as.read32(0))}, reset handler ${hex(as.read32(4))}`);
  console.log('\nmemory map (info mtree):');
  console.log(
    as
      .mtree()
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );

  // Drive the test device as firmware would: a periodic 100 ms timer with its IRQ enabled.
  const testdev = m.resolve('/machine/peripheral/testdev') as TestDevice;
  const edges: string[] = [];
  testdev.gpioOut('', 0).watch((level) => {
    edges.push(`${(m.clock.now / 1e6).toFixed(3)} ms: IRQ ${level ? 'raised' : 'lowered'}`);
    if (level) {
      as.write32(TESTDEV + 0x18, 1); // acknowledge (STATUS is write-1-to-clear)
      const n = as.read32(TESTDEV + 0x30);
      for (const c of `tick ${n}\n`) as.write32(TESTDEV + 0x28, c.charCodeAt(0));
    }
  });
  as.write32(TESTDEV + 0x10, 100_000); // PERIOD: 100 000 µs
  as.write32(TESTDEV + 0x20, 1); // INTENSET.EXPIRED
  as.write32(TESTDEV + 0x0c, 0b11); // CTRL: TIMER_EN | PERIODIC
  m.runFor(500_000_000);
  console.log('\ntest device over 500 ms of virtual time:');
  for (const e of edges) console.log(`  ${e}`);
  console.log(`  COUNTER = ${as.read32(TESTDEV + 0x14)} µs, EXPIRIES = ${as.read32(TESTDEV + 0x30)}`);
  console.log('\nserial0 output:');
  process.stdout.write(
    new TextDecoder()
      .decode(serial.readAll())
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n'),
  );
  console.log('\nNext: the Cortex-M0 CPU and the micro:bit machine will run this firmware for real.');
}

try {
  main();
} catch (e) {
  process.exitCode = reportError(e, 'demo');
}

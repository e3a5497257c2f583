import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../core/address-space.js';
import { UserError } from '../core/errors.js';
import { Log } from '../core/log.js';
import { MemoryRegion } from '../core/memory.js';
import { formatHexRecord, parseIntelHex } from './ihex.js';
import { placeImage } from './image.js';
import { createUniversalHex, parseUniversalHex } from './universal-hex.js';

const MICROPYTHON_HEX = readFileSync('/usr/share/firmware-microbit-micropython/firmware.hex', 'utf8');

/** The nRF51 layout the loader meets in practice: flash, UICR, RAM and one device. */
function nrf51Space(): AddressSpace {
  const root = MemoryRegion.container('system', 0x1_0000_0000);
  root.addSubregion(0x00000000, MemoryRegion.rom('nrf51.flash', 256 * 1024));
  root.addSubregion(0x10001000, MemoryRegion.rom('nrf51.uicr', 0x1000));
  root.addSubregion(0x20000000, MemoryRegion.ram('nrf51.sram', 16 * 1024));
  root.addSubregion(
    0x40002000,
    MemoryRegion.mmio('nrf51.uart', 0x1000, { read: () => 0, write: () => undefined }),
  );
  return new AddressSpace('memory', root, new Log());
}

describe('placeImage into the engine address space', () => {
  it('writes the MicroPython runtime into flash and UICR', () => {
    const space = nrf51Space();
    const image = parseIntelHex(MICROPYTHON_HEX, 'firmware.hex');
    placeImage(space, image);
    const flash = image.segments[0]!;
    expect(space.readDebug(0, flash.data.length)).toEqual(flash.data);
    expect(space.read32(0)).toBe(0x20004000);
    expect(space.read32(4)).toBe(image.entry);
    expect(space.readDebug(0x100010c0, 28)).toEqual(image.segments[1]!.data);
  });

  it('loads the v1 part of a Universal Hex', () => {
    const space = nrf51Space();
    const other = `${formatHexRecord(0x00, 0, [0x11, 0x22, 0x33, 0x44])}\n:00000001FF\n`;
    const universal = createUniversalHex([
      { hex: MICROPYTHON_HEX, boardId: 0x9900 },
      { hex: other, boardId: 0x9903 },
    ]);
    placeImage(space, parseUniversalHex(universal, 'uni.hex', [0x9900, 0x9901]));
    expect(space.read32(0)).toBe(0x20004000);
  });

  it('refuses data aimed at a device', () => {
    const text = [
      formatHexRecord(0x04, 0, [0x40, 0x00]),
      formatHexRecord(0x00, 0x2000, [1, 0, 0, 0]),
      ':00000001FF',
    ];
    const image = parseIntelHex(text.join('\n'), 'uart.hex');
    expect(() => placeImage(nrf51Space(), image)).toThrow(
      new UserError(
        "uart.hex: data at 0x40002000-0x40002003 (line 2) lies in mmio region 'nrf51.uart' at 0x40002000, " +
          'which cannot hold loaded data (only RAM and ROM can)',
      ),
    );
  });
});

/**
 * The text layouts of QEMU 7.2's memory_dump (monitor `x`/`xp`) and the object tree dump
 * (`info qom-tree`), checked field by field against the printf formats QEMU uses.
 */
import { describe, expect, it } from 'vitest';
import { ObjectNode } from '../../core/object.js';
import { type DebugReader, type MemoryFormat, memoryDump, qomTree, qtreeValue } from './dump.js';

/** 64 bytes of memory at 0x1000: byte i holds i, except a few chosen characters. */
function reader(): DebugReader {
  const mem = new Uint8Array(64);
  for (let i = 0; i < mem.length; i++) mem[i] = i;
  mem.set([0x41, 0x27, 0x5c, 0x0a, 0x0d, 0x7f, 0x80, 0xff], 32);
  return (addr, length) => {
    if (addr < 0x1000 || addr + length > 0x1000 + mem.length) return null;
    return mem.slice(addr - 0x1000, addr - 0x1000 + length);
  };
}

const fmt = (count: number, format: MemoryFormat['format'], size: number): MemoryFormat => ({
  count,
  format,
  size,
});

describe('memoryDump', () => {
  it('prints words in hex, four per line, with an 8-digit address for x', () => {
    expect(memoryDump(reader(), fmt(5, 'x', 4), 0x1000n, false)).toBe(
      '00001000: 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c\n00001010: 0x13121110\n',
    );
  });

  it('prints a 16-digit address for xp and eight bytes per line for byte units', () => {
    expect(memoryDump(reader(), fmt(10, 'x', 1), 0x1000n, true)).toBe(
      '0000000000001000: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07\n0000000000001008: 0x08 0x09\n',
    );
  });

  it('prints halfwords and giant words little-endian', () => {
    expect(memoryDump(reader(), fmt(2, 'x', 2), 0x1000n, false)).toBe('00001000: 0x0100 0x0302\n');
    expect(memoryDump(reader(), fmt(2, 'x', 8), 0x1000n, false)).toBe(
      '00001000: 0x0706050403020100 0x0f0e0d0c0b0a0908\n',
    );
  });

  it('pads decimal fields to ceil(bits*10/33) and reads units unsigned', () => {
    // 0xff as a byte: 3 columns; unsigned even for /d (QEMU reads the unit unsigned).
    expect(memoryDump(reader(), fmt(2, 'd', 1), 0x1026n, false)).toBe('00001026: 128 255\n');
    expect(memoryDump(reader(), fmt(1, 'u', 4), 0x1000n, false)).toBe('00001000:   50462976\n');
    expect(memoryDump(reader(), fmt(1, 'u', 2), 0x1000n, false)).toBe('00001000:   256\n');
  });

  it('prints /d of 8-byte units signed, 20 columns wide', () => {
    const allOnes: DebugReader = (_a, n) => new Uint8Array(n).fill(0xff);
    expect(memoryDump(allOnes, fmt(1, 'd', 8), 0n, false)).toBe(`00000000: ${'-1'.padStart(20)}\n`);
  });

  it('prints octal with a leading 0 padded to ceil(bits/3), and 0 alone', () => {
    expect(memoryDump(reader(), fmt(2, 'o', 1), 0x1000n, false)).toBe('00001000:   0  01\n');
    expect(memoryDump(reader(), fmt(1, 'o', 4), 0x1008n, false)).toBe('00001008: 01302404410\n');
  });

  it('quotes characters with C escapes, and /c keeps the byte count of the requested size', () => {
    expect(memoryDump(reader(), fmt(8, 'c', 1), 0x1020n, false)).toBe(
      "00001020: 'A' '\\'' '\\\\' '\\n' '\\r' '\\x7f' '\\x80' '\\xff'\n",
    );
    // x/2c with the default word size dumps 2 * 4 bytes, one character each.
    expect(memoryDump(reader(), fmt(2, 'c', 4), 0x1000n, false)).toBe(
      "00001000: '\\x00' '\\x01' '\\x02' '\\x03' '\\x04' '\\x05' '\\x06' '\\x07'\n",
    );
  });

  it('stops with " Cannot access memory" at the first unreadable line', () => {
    expect(memoryDump(reader(), fmt(8, 'x', 4), 0x1030n, false)).toBe(
      '00001030: 0x33323130 0x37363534 0x3b3a3938 0x3f3e3d3c\n00001040: Cannot access memory\n',
    );
    expect(memoryDump(reader(), fmt(1, 'x', 4), 0x1_0000_1000n, true)).toBe(
      '0000000100001000: Cannot access memory\n',
    );
  });

  it('wraps virtual addresses to 32 bits', () => {
    expect(memoryDump(reader(), fmt(1, 'x', 4), 0x1_0000_1000n, false)).toBe('00001000: 0x03020100\n');
    expect(memoryDump(reader(), fmt(1, 'x', 4), -1n, false)).toBe('ffffffff: Cannot access memory\n');
  });
});

describe('qomTree', () => {
  it('prints /name (type) with children sorted by name, two spaces per level', () => {
    const root = new ObjectNode('container', '');
    const machine = root.addChild('machine', new ObjectNode('microbit-machine'));
    const soc = machine.addChild('nrf51', new ObjectNode('nrf51-soc'));
    soc.addChild('uart', new ObjectNode('nrf51_soc.uart'));
    soc.addChild('adc', new ObjectNode('nrf51_soc.adc'));
    machine.addChild('peripheral', new ObjectNode('container'));
    expect(qomTree(machine)).toBe(
      '/machine (microbit-machine)\n' +
        '  /nrf51 (nrf51-soc)\n' +
        '    /adc (nrf51_soc.adc)\n' +
        '    /uart (nrf51_soc.uart)\n' +
        '  /peripheral (container)\n',
    );
    expect(qomTree(root).split('\n')[0]).toBe('/ (container)');
  });
});

describe('qtreeValue', () => {
  it('prints values as QEMU human output does', () => {
    expect(qtreeValue({ name: 'a', type: 'uint' }, 16384)).toBe('16384 (0x4000)');
    expect(qtreeValue({ name: 'a', type: 'int' }, -1)).toBe('-1 (0xffffffffffffffff)');
    expect(qtreeValue({ name: 'a', type: 'bool' }, true)).toBe('true');
    expect(qtreeValue({ name: 'a', type: 'string' }, 'x')).toBe('"x"');
    expect(qtreeValue({ name: 'a', type: 'link' }, null)).toBe('""');
  });
});

/**
 * What the GDB stub tells GDB about the target: the register layout (target description XML,
 * `qXfer:features:read`) and the memory map (`qXfer:memory-map:read`, which makes GDB's `load`
 * program flash with `vFlashErase`/`vFlashWrite`/`vFlashDone`).
 *
 * Registers follow GDB's M-profile convention (the numbering QEMU uses too): r0-r12, sp, lr, pc
 * are 0-15 and xpsr is 25 (16-24 were the old FPA registers, absent here), all in the feature
 * `org.gnu.gdb.arm.m-profile`. The system registers msp, psp, primask and control follow as
 * 26-29 in `org.gnu.gdb.arm.m-system` (the feature name GDB looks for msp/psp in). The `g`
 * packet carries the core feature only (r0-r15 then xpsr, 68 bytes, as QEMU's); GDB reads the
 * system registers with `p`.
 *
 * The memory map is built from the address space's flat view: ROM regions become `flash` (with
 * their erase block size), everything else that is mapped (RAM, device registers) becomes
 * `ram` so that GDB may still read device registers; unmapped holes are left out, which makes
 * GDB refuse accesses there itself.
 */
import type { AddressSpace } from '../core/address-space.js';
import { DebugReg } from '../cpu/arm/cortex-m0.js';

export interface GdbRegister {
  name: string;
  /** GDB's register number (`p`/`P`, the `regnum` attribute). */
  regnum: number;
  /** The CPU's debugger register number (CortexM0.readRegister). */
  cpuReg: number;
  type: string;
  group?: string;
  /** Part of the `g`/`G` packet. */
  inG: boolean;
}

function core(name: string, regnum: number, type = 'int'): GdbRegister {
  return { name, regnum, cpuReg: regnum, type, inG: true };
}

/** org.gnu.gdb.arm.m-profile, in `g` order. */
export const CORE_REGISTERS: readonly GdbRegister[] = [
  ...Array.from({ length: 13 }, (_, i) => core(`r${i}`, i)),
  core('sp', 13, 'data_ptr'),
  core('lr', 14),
  core('pc', 15, 'code_ptr'),
  { name: 'xpsr', regnum: 25, cpuReg: DebugReg.XPSR, type: 'int', inG: true },
];

/** org.gnu.gdb.arm.m-system: read and written with `p`/`P` only. */
export const SYSTEM_REGISTERS: readonly GdbRegister[] = [
  { name: 'msp', regnum: 26, cpuReg: DebugReg.MSP, type: 'data_ptr', group: 'system', inG: false },
  { name: 'psp', regnum: 27, cpuReg: DebugReg.PSP, type: 'data_ptr', group: 'system', inG: false },
  { name: 'primask', regnum: 28, cpuReg: DebugReg.PRIMASK, type: 'int', group: 'system', inG: false },
  { name: 'control', regnum: 29, cpuReg: DebugReg.CONTROL, type: 'int', group: 'system', inG: false },
];

/** The registers of `g`, in order. */
export const G_REGISTERS: readonly GdbRegister[] = CORE_REGISTERS;

const BY_REGNUM = new Map<number, GdbRegister>(
  [...CORE_REGISTERS, ...SYSTEM_REGISTERS].map((r) => [r.regnum, r]),
);

/** The register GDB numbers `regnum`, or undefined when the target has none. */
export function registerByNumber(regnum: number): GdbRegister | undefined {
  return BY_REGNUM.get(regnum);
}

function regXml(r: GdbRegister): string {
  const group = r.group ? ` group="${r.group}"` : '';
  return `    <reg name="${r.name}" bitsize="32" regnum="${r.regnum}" type="${r.type}"${group}/>`;
}

/**
 * The target description of a CPU of type `cpuType` (QOM type name). Every CPU tsemu has is an
 * M-profile core, so the type only goes into a comment; a machine with other cores would
 * branch here.
 */
export function targetDescription(cpuType: string): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    `<!-- tsemu: ${cpuType} -->`,
    '<target version="1.0">',
    '  <architecture>arm</architecture>',
    '  <feature name="org.gnu.gdb.arm.m-profile">',
    ...CORE_REGISTERS.map(regXml),
    '  </feature>',
    '  <feature name="org.gnu.gdb.arm.m-system">',
    ...SYSTEM_REGISTERS.map(regXml),
    '  </feature>',
    '</target>',
    '',
  ].join('\n');
}

export interface MemoryMapEntry {
  type: 'flash' | 'ram';
  start: number;
  length: number;
  /** Flash only: the erase block size in bytes. */
  blockSize?: number;
}

/**
 * The memory map of `space`: ROM as flash (erase blocks of `flashBlockSize` bytes), any other
 * mapped range as ram; neighbours of the same kind are merged.
 */
export function memoryMap(space: AddressSpace, flashBlockSize: number): MemoryMapEntry[] {
  const out: MemoryMapEntry[] = [];
  for (const r of space.flatRanges()) {
    const type = r.region.kind === 'rom' ? 'flash' : 'ram';
    const last = out[out.length - 1];
    if (last && last.type === type && last.start + last.length === r.start) {
      last.length += r.end - r.start;
      continue;
    }
    const entry: MemoryMapEntry = { type, start: r.start, length: r.end - r.start };
    if (type === 'flash') entry.blockSize = flashBlockSize;
    out.push(entry);
  }
  return out;
}

/** The memory map as GDB's memory-map XML. */
export function memoryMapXml(entries: readonly MemoryMapEntry[]): string {
  const lines = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN" "http://sourceware.org/gdb/gdb-memory-map.dtd">',
    '<memory-map>',
  ];
  for (const e of entries) {
    const attrs = `type="${e.type}" start="0x${e.start.toString(16)}" length="0x${e.length.toString(16)}"`;
    if (e.type === 'flash') {
      lines.push(`  <memory ${attrs}>`);
      lines.push(`    <property name="blocksize">0x${(e.blockSize ?? 1).toString(16)}</property>`);
      lines.push('  </memory>');
    } else {
      lines.push(`  <memory ${attrs}/>`);
    }
  }
  lines.push('</memory-map>', '');
  return lines.join('\n');
}

/** True when [addr, addr + length) lies entirely in flash entries of `map`. */
export function isFlashRange(map: readonly MemoryMapEntry[], addr: number, length: number): boolean {
  let a = addr;
  const end = addr + length;
  while (a < end) {
    const e = map.find((m) => m.type === 'flash' && a >= m.start && a < m.start + m.length);
    if (!e) return false;
    a = e.start + e.length;
  }
  return true;
}

/**
 * `vFlashErase`: sets [addr, addr + length) to the erased value 0xFF (debug writes reach ROM).
 * False when the range is not all flash.
 */
export function eraseFlash(
  space: AddressSpace,
  map: readonly MemoryMapEntry[],
  addr: number,
  length: number,
): boolean {
  if (!isFlashRange(map, addr, length)) return false;
  return space.writeDebug(addr, new Uint8Array(length).fill(0xff));
}

/** `vFlashWrite`: programs bytes into flash; false when the range is not all flash. */
export function writeFlash(
  space: AddressSpace,
  map: readonly MemoryMapEntry[],
  addr: number,
  data: Uint8Array,
): boolean {
  if (!isFlashRange(map, addr, data.length)) return false;
  return space.writeDebug(addr, data);
}

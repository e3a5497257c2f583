/**
 * Text renderers behind the HMP `x`/`xp`, `info registers`, `info qtree` and `info qom-tree`
 * commands, laid out as QEMU 7.2 prints them (the facts are listed in each function's comment).
 * Every function returns whole lines ending in `\n`; the monitor turns `\n` into `\r\n`.
 */
import type { Device } from '../../core/device.js';
import type { Machine } from '../../core/machine.js';
import type { MemoryRegion } from '../../core/memory.js';
import type { ObjectNode, PropertyDef, PropertyValue } from '../../core/object.js';
import type { CortexM0 } from '../../cpu/arm/cortex-m0.js';

/** `/fmt` of `x` and `xp`: QEMU's count, format letter and unit size (-1: none given, `i` only). */
export interface MemoryFormat {
  count: number;
  format: 'x' | 'd' | 'u' | 'o' | 'c' | 'i';
  size: number;
}

/** Reads guest bytes without side conditions; null when any byte is unmapped. */
export type DebugReader = (addr: number, length: number) => Uint8Array | null;

const hexPad = (v: bigint | number, width: number): string => v.toString(16).padStart(width, '0');

/** One character as QEMU's monitor prints it for `/c`: quoted, with C-like escapes. */
function quoteChar(c: number): string {
  switch (c) {
    case 0x27:
      return "'\\''";
    case 0x5c:
      return "'\\\\'";
    case 0x0a:
      return "'\\n'";
    case 0x0d:
      return "'\\r'";
    default:
      return c >= 32 && c <= 126 ? `'${String.fromCharCode(c)}'` : `'\\x${hexPad(c, 2)}'`;
  }
}

/**
 * QEMU's memory_dump: lines of at most 16 bytes (8 for byte units), each starting with the
 * address (`%08x:` for `x` on a 32-bit target, `%016x:` for `xp`), then one field per unit:
 * `0x` + zero-padded hex, `%#o` padded to ceil(bits/3), `%u`/`%d` padded to ceil(bits*10/33)
 * (the unit is read unsigned, so `d` only goes negative for 8-byte units), or a quoted char.
 * `/c` forces byte units but keeps the line length and byte count computed from the requested
 * size (QEMU's behaviour). An unreadable line prints ` Cannot access memory` and stops.
 */
export function memoryDump(read: DebugReader, fmt: MemoryFormat, addr: bigint, physical: boolean): string {
  let wsize = fmt.size;
  let len = wsize * fmt.count;
  const lineSize = wsize === 1 ? 8 : 16;
  let digits = 0;
  switch (fmt.format) {
    case 'o':
      digits = Math.ceil((wsize * 8) / 3);
      break;
    case 'u':
    case 'd':
      digits = Math.ceil((wsize * 8 * 10) / 33);
      break;
    case 'c':
      wsize = 1;
      break;
    default:
      digits = (wsize * 8) / 4;
      break;
  }
  const out: string[] = [];
  let a = physical ? BigInt.asUintN(64, addr) : BigInt.asUintN(32, addr);
  while (len > 0) {
    let line = `${hexPad(a, physical ? 16 : 8)}:`;
    const l = Math.min(len, lineSize);
    const bytes = a + BigInt(l) <= 0x1_0000_0000n ? read(Number(a), l) : null;
    if (bytes === null) {
      out.push(`${line} Cannot access memory\n`);
      break;
    }
    for (let i = 0; i < l; i += wsize) {
      let v = 0n;
      for (let b = Math.min(wsize, l - i) - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[i + b]!);
      line += ` ${formatUnit(v, fmt.format, digits)}`;
    }
    out.push(`${line}\n`);
    a += BigInt(l);
    if (!physical) a = BigInt.asUintN(32, a);
    len -= l;
  }
  return out.join('');
}

function formatUnit(v: bigint, format: MemoryFormat['format'], digits: number): string {
  switch (format) {
    case 'o':
      return (v === 0n ? '0' : `0${v.toString(8)}`).padStart(digits, ' ');
    case 'u':
      return v.toString(10).padStart(digits, ' ');
    case 'd':
      return BigInt.asIntN(64, v).toString(10).padStart(digits, ' ');
    case 'c':
      return quoteChar(Number(v));
    default:
      return `0x${hexPad(v, digits)}`;
  }
}

/**
 * `info registers` for an M-profile core, as QEMU's arm_cpu_dump_state: R00..R15 four per line
 * (`R%02d=%08x`, space separated), then `XPSR=%08x NZCV T mode` with `-` for clear flags, `T`
 * (Thumb) or `A`, and `handler`, `priv-thread` or `unpriv-thread`. Cortex-M0 has no FPU, so no
 * FPSCR line follows. The caller prints the `\nCPU#n\n` header.
 */
export function armMRegisters(cpu: CortexM0): string {
  const s = cpu.state();
  let text = '';
  for (let i = 0; i < 16; i++) {
    text += `R${String(i).padStart(2, '0')}=${hexPad(s.r[i]! >>> 0, 8)}${i % 4 === 3 ? '\n' : ' '}`;
  }
  const x = s.xpsr >>> 0;
  const flag = (bit: number, ch: string): string => ((x >>> bit) & 1 ? ch : '-');
  const mode = (x & 0x1ff) !== 0 ? 'handler' : (s.control & 1) !== 0 ? 'unpriv-thread' : 'priv-thread';
  text += `XPSR=${hexPad(x, 8)} ${flag(31, 'N')}${flag(30, 'Z')}${flag(29, 'C')}${flag(28, 'V')} ${(x >>> 24) & 1 ? 'T' : 'A'} ${mode}\n`;
  return text;
}

/**
 * `info qom-tree [path]`: `/name (type)` for the object and, two spaces deeper per level, its
 * children sorted by name (QEMU sorts them since 5.1; the root itself prints as `/`).
 */
export function qomTree(node: ObjectNode): string {
  const lines: string[] = [];
  const visit = (n: ObjectNode, indent: number): void => {
    const name = n.parent === null ? '' : n.name;
    lines.push(`${' '.repeat(indent)}/${name} (${n.typeName})\n`);
    const kids = [...n.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const k of kids) visit(k, indent + 2);
  };
  visit(node, 0);
  return lines.join('');
}

/** A property value as QEMU's human-mode string visitor prints it in `info qtree`. */
export function qtreeValue(def: PropertyDef, value: PropertyValue): string {
  switch (def.type) {
    case 'bool':
      return value ? 'true' : 'false';
    case 'int':
    case 'uint': {
      const n = BigInt(typeof value === 'number' ? Math.trunc(value) : 0);
      return `${n} (0x${BigInt.asUintN(64, n).toString(16)})`;
    }
    default:
      return `"${value === null ? '' : String(value)}"`;
  }
}

/** Where `region` sits in `root` (null: not mapped there), walking up its containers. */
function absoluteAddress(region: MemoryRegion, root: MemoryRegion): number | null {
  let addr = 0;
  let r = region;
  while (r !== root) {
    const parent = r.parent;
    if (parent === null) return null;
    const sub = parent.subregions.find((s) => s.region === r);
    if (!sub) return null;
    addr += sub.offset;
    r = parent;
  }
  return addr;
}

/**
 * `info qtree`. tsemu has no qdev buses, so every device is listed on QEMU's `main-system-bus`
 * (type `System`), newest first as QEMU's bus lists are: `dev: TYPE, id "ID"` (the id of
 * `-device ...,id=`), its GPIO arrays (`gpio-in "NAME" N` / `gpio-out "NAME" N`), its properties
 * (`name = value`, human form) and its MMIO regions (`mmio %016x/%016x`, address / size, the
 * address all ones when the region is not mapped in system memory).
 */
export function qtree(machine: Machine): string {
  const lines = ['bus: main-system-bus\n', '  type System\n'];
  const devices = [...machine.devices].reverse();
  for (const dev of devices) lines.push(...deviceLines(dev, machine, '    '));
  return lines.join('');
}

function deviceLines(dev: Device, machine: Machine, indent: string): string[] {
  const id = dev.parent === machine.peripherals ? dev.name : '';
  const out = [`${indent.slice(2)}dev: ${dev.typeName}, id "${id}"\n`];
  const names: string[] = [];
  for (const n of dev.lines.inputs.keys()) names.push(n);
  for (const n of dev.lines.outputs.keys()) if (!names.includes(n)) names.push(n);
  // QEMU keeps named GPIO lists newest first.
  for (const n of names.reverse()) {
    const ins = dev.lines.inputs.get(n)?.length ?? 0;
    const outs = dev.lines.outputs.get(n)?.length ?? 0;
    if (ins > 0) out.push(`${indent}gpio-in "${n}" ${ins}\n`);
    if (outs > 0) out.push(`${indent}gpio-out "${n}" ${outs}\n`);
  }
  for (const def of dev.propertyDefs()) {
    let value: PropertyValue;
    try {
      value = dev.getProperty(def.name);
    } catch {
      continue;
    }
    out.push(`${indent}${def.name} = ${qtreeValue(def, value)}\n`);
  }
  for (const region of dev.mmioRegions) {
    const at = absoluteAddress(region, machine.sysmem);
    const addr = at === null ? 'ffffffffffffffff' : hexPad(at, 16);
    out.push(`${indent}mmio ${addr}/${hexPad(region.size, 16)}\n`);
  }
  return out;
}

import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { friendlyHelpText, parseFriendlyCommandLine, pickMachineForFile } from './friendly.js';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  throw new Error('expected a UserError');
}

describe('parseFriendlyCommandLine', () => {
  it('takes a bare file with defaults', () => {
    expect(parseFriendlyCommandLine(['prog.hex'])).toEqual({
      file: 'prog.hex',
      speed: 'realtime',
      waitGdb: false,
      help: false,
      version: false,
    });
  });

  it('reads every option in both value forms', () => {
    const cl = parseFriendlyCommandLine([
      '-M',
      'microbit',
      '--speed=fast',
      '--display',
      'term',
      '--gdb=3333',
      '--wait-gdb',
      '-d',
      'unimp,guest_errors',
      '--seed',
      '0x2a',
      '--timeout=2.5',
      '--serial-out',
      'out.txt',
      'prog.elf',
    ]);
    expect(cl).toEqual({
      file: 'prog.elf',
      machine: 'microbit',
      speed: 'fast',
      display: 'term',
      gdbPort: 3333,
      waitGdb: true,
      logItems: 'unimp,guest_errors',
      seed: 42n,
      timeoutSeconds: 2.5,
      serialOut: 'out.txt',
      help: false,
      version: false,
    });
  });

  it('uses port 1234 for --gdb and for --wait-gdb alone', () => {
    expect(parseFriendlyCommandLine(['--gdb', 'a.hex']).gdbPort).toBe(1234);
    expect(parseFriendlyCommandLine(['--wait-gdb', 'a.hex']).gdbPort).toBe(1234);
    expect(parseFriendlyCommandLine(['a.hex']).gdbPort).toBeUndefined();
  });

  it('turns --monitor shorthands into QMP chardev specs', () => {
    expect(parseFriendlyCommandLine(['--monitor', '4444', 'a.hex']).qmp).toBe(
      'tcp:127.0.0.1:4444,server=on,wait=off',
    );
    expect(parseFriendlyCommandLine(['--monitor', '/tmp/q,x.sock', 'a.hex']).qmp).toBe(
      'unix:/tmp/q,,x.sock,server=on,wait=off',
    );
    expect(parseFriendlyCommandLine(['--monitor=unix:/tmp/q.sock,server=on', 'a.hex']).qmp).toBe(
      'unix:/tmp/q.sock,server=on',
    );
  });

  it('stops at --help and --version without needing a file', () => {
    expect(parseFriendlyCommandLine(['--help', '--bogus']).help).toBe(true);
    expect(parseFriendlyCommandLine(['-h']).help).toBe(true);
    expect(parseFriendlyCommandLine(['--version']).version).toBe(true);
  });

  it('takes files after -- even when they start with a dash', () => {
    expect(parseFriendlyCommandLine(['--', '-odd.hex']).file).toBe('-odd.hex');
  });

  it('rejects mistakes with clear messages', () => {
    expect(errorOf(() => parseFriendlyCommandLine(['--bogus', 'a.hex']))).toBe(
      "unknown option '--bogus'; see 'tsemu --help'",
    );
    expect(errorOf(() => parseFriendlyCommandLine(['a.hex', '--speed']))).toBe(
      "option '--speed' requires a value (realtime|fast)",
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--speed', 'slow', 'a.hex']))).toBe(
      "option '--speed' expects 'realtime' or 'fast', not 'slow'",
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--display=gtk', 'a.hex']))).toMatch(
      /^option '--display' expects/,
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--gdb=0', 'a.hex']))).toMatch(
      /port number from 1 to 65535/,
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--wait-gdb=1', 'a.hex']))).toBe(
      "option '--wait-gdb' takes no value",
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--seed', 'x', 'a.hex']))).toBe(
      "option '--seed' expects an unsigned 64-bit integer, not 'x'",
    );
    expect(errorOf(() => parseFriendlyCommandLine(['--timeout', '0', 'a.hex']))).toMatch(
      /positive number of seconds/,
    );
    expect(errorOf(() => parseFriendlyCommandLine([]))).toMatch(/^no firmware file given; usage: tsemu/);
    expect(errorOf(() => parseFriendlyCommandLine(['a.hex', 'b.hex']))).toBe(
      "only one firmware file may be given, not 'a.hex' and 'b.hex'",
    );
  });

  it('has a help text listing its options', () => {
    const text = friendlyHelpText();
    expect(text.split('\n')[0]).toBe('usage: tsemu [options] FILE.hex|FILE.elf|FILE.bin');
    for (const option of [
      '--machine',
      '--speed',
      '--display',
      '--gdb[=PORT]',
      '--wait-gdb',
      '--monitor',
      '--trace',
      '--seed',
      '--timeout',
      '--serial-out',
    ]) {
      expect(text).toContain(option);
    }
  });
});

// --- Synthetic files -------------------------------------------------------------------------

function hexRecord(type: number, address: number, data: number[]): string {
  const bytes = [data.length, (address >> 8) & 0xff, address & 0xff, type, ...data];
  const sum = bytes.reduce((a, b) => (a + b) & 0xff, 0);
  const all = [...bytes, (0x100 - sum) & 0xff];
  return `:${all.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('')}`;
}

function text(lines: string[]): Uint8Array {
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

const EOF_RECORD = hexRecord(0x01, 0, []);

/**
 * A 32-bit little-endian ELF with the given e_machine and program headers [type, paddr, filesz];
 * each segment's file contents follow the headers.
 */
function elf(machine: number, segments: Array<[number, number, number]>, elfClass = 1): Uint8Array {
  const phoff = 52;
  let dataAt = phoff + segments.length * 32;
  const bytes = new Uint8Array(dataAt + segments.reduce((n, [, , filesz]) => n + filesz, 0));
  const view = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, elfClass, 1, 1]);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, machine, true);
  view.setUint32(20, 1, true); // EV_CURRENT
  view.setUint32(28, phoff, true);
  view.setUint16(40, 52, true); // e_ehsize
  view.setUint16(42, 32, true);
  view.setUint16(44, segments.length, true);
  segments.forEach(([type, paddr, filesz], i) => {
    const at = phoff + i * 32;
    view.setUint32(at, type, true);
    view.setUint32(at + 4, dataAt, true);
    view.setUint32(at + 8, paddr, true);
    view.setUint32(at + 12, paddr, true);
    view.setUint32(at + 16, filesz, true);
    view.setUint32(at + 20, filesz, true);
    dataAt += filesz;
  });
  return bytes;
}

describe('pickMachineForFile', () => {
  it('picks the micro:bit for an Intel HEX in the first 256 KiB of flash', () => {
    const file = text([
      hexRecord(0x04, 0, [0x00, 0x00]),
      hexRecord(0x00, 0x0000, [0x00, 0x40, 0x00, 0x20, 0xc1, 0x00, 0x00, 0x00]),
      hexRecord(0x04, 0, [0x00, 0x03]),
      hexRecord(0x00, 0xfff0, [1, 2, 3, 4]),
      EOF_RECORD,
    ]);
    expect(pickMachineForFile('prog.hex', file)).toBe('microbit');
  });

  it('accepts UICR data and ignores records after the end-of-file record', () => {
    const file = text([
      hexRecord(0x00, 0x0000, [1, 2, 3, 4]),
      hexRecord(0x04, 0, [0x10, 0x00]),
      hexRecord(0x00, 0x1014, [0x00, 0xc0, 0x03, 0x00]),
      EOF_RECORD,
      hexRecord(0x04, 0, [0x20, 0x00]),
      hexRecord(0x0e, 0x0000, [0x41, 0x42]),
    ]);
    expect(pickMachineForFile('makecode.hex', file)).toBe('microbit');
  });

  it('refuses a hex with data beyond 256 KiB and asks for --machine', () => {
    const file = text([hexRecord(0x04, 0, [0x00, 0x07]), hexRecord(0x00, 0x3000, [1, 2]), EOF_RECORD]);
    expect(errorOf(() => pickMachineForFile('v2.hex', file))).toBe(
      "v2.hex: line 2 puts data at 0x73000, outside the micro:bit's 256 KiB flash; " +
        'cannot tell which machine it is for: pass --machine NAME',
    );
  });

  it('reports a corrupt hex record with its line', () => {
    const good = hexRecord(0x00, 0, [1, 2]);
    const bad = `${good.slice(0, -2)}00`;
    expect(errorOf(() => pickMachineForFile('bad.hex', text([good, bad])))).toBe(
      'bad.hex:2: checksum mismatch (record says 0x00, computed 0xfb)',
    );
  });

  it('picks the micro:bit for a universal hex with a V1 block', () => {
    const file = text([
      hexRecord(0x04, 0, [0x00, 0x00]),
      hexRecord(0x0a, 0, [0x99, 0x01, 0xc0, 0xde]),
      hexRecord(0x00, 0, [1, 2, 3, 4]),
      hexRecord(0x0b, 0, [0xff, 0xff]),
      hexRecord(0x04, 0, [0x00, 0x00]),
      hexRecord(0x0a, 0, [0x99, 0x03, 0xc0, 0xde]),
      hexRecord(0x0d, 0, [1, 2, 3, 4]),
      hexRecord(0x0b, 0, [0xff, 0xff]),
      EOF_RECORD,
    ]);
    expect(pickMachineForFile('universal.hex', file)).toBe('microbit');
  });

  it('refuses a universal hex that is only for the V2', () => {
    const file = text([
      hexRecord(0x04, 0, [0x00, 0x00]),
      hexRecord(0x0a, 0, [0x99, 0x03, 0xc0, 0xde]),
      hexRecord(0x0d, 0, [1, 2, 3, 4]),
      EOF_RECORD,
    ]);
    expect(errorOf(() => pickMachineForFile('v2u.hex', file))).toMatch(
      /^v2u\.hex: .*only for the micro:bit V2/,
    );
  });

  it('picks the micro:bit for an ARM ELF whose first loaded segment is in flash', () => {
    const file = elf(40, [
      [6, 0x34, 0x40], // PT_PHDR: not a load segment
      [1, 0x20000000, 0], // PT_LOAD without file contents (.bss)
      [1, 0x00000000, 0x1000],
      [1, 0x20000000, 0x100],
    ]);
    expect(pickMachineForFile('prog.elf', file)).toBe('microbit');
  });

  it('refuses ELF files for other machines, other places and other classes', () => {
    expect(errorOf(() => pickMachineForFile('x86.elf', elf(3, [[1, 0, 16]])))).toMatch(
      /^x86\.elf: not an ARM ELF file \(e_machine 3\)$/,
    );
    expect(errorOf(() => pickMachineForFile('high.elf', elf(40, [[1, 0x8000000, 16]])))).toMatch(
      /first loadable segment is at 0x8000000/,
    );
    expect(errorOf(() => pickMachineForFile('none.elf', elf(40, [])))).toMatch(/no loadable segment/);
    expect(errorOf(() => pickMachineForFile('e64.elf', elf(40, [[1, 0, 16]], 2)))).toMatch(/64-bit ELF/);
    expect(errorOf(() => pickMachineForFile('short.elf', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1])))).toBe(
      'short.elf: truncated ELF header (file is 5 bytes)',
    );
  });

  it('picks the micro:bit for a raw image starting with a fitting vector table', () => {
    const image = new Uint8Array(0x100);
    const view = new DataView(image.buffer);
    view.setUint32(0, 0x20004000, true);
    view.setUint32(4, 0xc1, true);
    expect(pickMachineForFile('prog.bin', image)).toBe('microbit');
  });

  it('refuses a raw image it cannot place', () => {
    const image = new Uint8Array(0x100);
    new DataView(image.buffer).setUint32(0, 0x20020000, true);
    expect(errorOf(() => pickMachineForFile('other.bin', image))).toMatch(
      /^other\.bin: a raw binary without a micro:bit vector table at its start; .*--machine NAME$/,
    );
    expect(errorOf(() => pickMachineForFile('empty.bin', new Uint8Array(0)))).toMatch(/--machine NAME$/);
  });
});

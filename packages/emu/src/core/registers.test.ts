import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { UserError } from './errors.js';
import { Log } from './log.js';
import { MemoryRegion, MemTx } from './memory.js';
import { RegisterBlock, type RegisterDef } from './registers.js';

function setup(registers: RegisterDef[], spec = 'guest_errors') {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.configure(spec);
  const block = new RegisterBlock({ name: 'test-dev', size: 0x1000, registers, log: () => log });
  return { block, log, lines };
}

describe('RegisterBlock table validation', () => {
  it('rejects duplicate offsets, naming both registers', () => {
    expect(() =>
      setup([
        { name: 'A', offset: 0x10 },
        { name: 'B', offset: 0x10 },
      ]),
    ).toThrow("register 'B': offset 0x10 already used by 'A'");
  });

  it('rejects offsets outside the block and unaligned offsets', () => {
    expect(() => setup([{ name: 'FAR', offset: 0x1000 }])).toThrow(/'FAR'.*outside the block/);
    expect(() => setup([{ name: 'ODD', offset: 0x6 }])).toThrow(/'ODD'.*not 4-byte aligned/);
  });

  it('rejects duplicate names and aliases of unknown registers', () => {
    expect(() =>
      setup([
        { name: 'A', offset: 0 },
        { name: 'A', offset: 4 },
      ]),
    ).toThrow(/'A': duplicate name/);
    expect(() => setup([{ name: 'XSET', offset: 0, setOf: 'X' }])).toThrow(
      /'XSET': aliases unknown register 'X'/,
    );
  });
});

describe('RegisterBlock guest accesses', () => {
  it('reads reset values, and reset() restores them', () => {
    const { block } = setup([
      { name: 'CONFIG', offset: 0x0, reset: 0x0000_0a0b },
      { name: 'ID', offset: 0x4, reset: 0xfeed_f00d, writeMask: 0 },
    ]);
    expect(block.read(0x0, 4)).toBe(0xa0b);
    expect(block.read(0x4, 4)).toBe(0xfeedf00d);
    block.write(0x0, 0xffffffff, 4);
    expect(block.read(0x0, 4)).toBe(0xffffffff);
    block.reset();
    expect(block.get('CONFIG')).toBe(0xa0b);
  });

  it('applies readMask to reads and writeMask to writes', () => {
    const { block } = setup([
      { name: 'CTRL', offset: 0x0, writeMask: 0x0000_00ff },
      { name: 'MIXED', offset: 0x4, readMask: 0x0000_ffff },
    ]);
    block.write(0x0, 0x1234_5678, 4);
    expect(block.get('CTRL')).toBe(0x78);
    block.write(0x4, 0xaaaa_bbbb, 4);
    expect(block.get('MIXED')).toBe(0xaaaabbbb);
    expect(block.read(0x4, 4)).toBe(0xbbbb);
  });

  it('logs writes that try to change read-only bits under guest_errors', () => {
    const { block, lines } = setup([{ name: 'STATUS', offset: 0x8, reset: 1, writeMask: 0 }]);
    block.write(0x8, 1, 4); // writing back the current value is harmless
    expect(lines).toEqual([]);
    block.write(0x8, 0x3, 4);
    expect(block.get('STATUS')).toBe(1);
    expect(lines).toEqual([
      'test-dev: write to read-only bits 0x2 of register STATUS (offset 0x8, value 0x3)',
    ]);
  });

  it('clears write-1-to-clear bits written as 1 and leaves the others', () => {
    const { block, lines } = setup([{ name: 'EVENTS', offset: 0x0, w1c: 0xf, writeMask: 0, reset: 0b1011 }]);
    block.write(0x0, 0b0011, 4);
    expect(block.read(0x0, 4)).toBe(0b1000);
    block.write(0x0, 0, 4);
    expect(block.read(0x0, 4)).toBe(0b1000);
    expect(lines).toEqual([]);
  });

  it('sets write-1-to-set bits written as 1, writing 0 has no effect', () => {
    const { block } = setup([{ name: 'FLAGS', offset: 0x0, w1s: 0xf0, writeMask: 0x0f }]);
    block.write(0x0, 0x3f, 4);
    expect(block.get('FLAGS')).toBe(0x3f);
    block.write(0x0, 0x01, 4);
    expect(block.get('FLAGS')).toBe(0x31);
  });

  it('implements SET/CLR aliases on their target register', () => {
    const seen: string[] = [];
    const { block } = setup([
      {
        name: 'INTEN',
        offset: 0x300,
        writeMask: 0x0000_00ff,
        onWrite: (v, old) => seen.push(`${old.toString(16)}->${v.toString(16)}`),
      },
      { name: 'INTENSET', offset: 0x304, setOf: 'INTEN' },
      { name: 'INTENCLR', offset: 0x308, clearOf: 'INTEN' },
    ]);
    block.write(0x304, 0x05, 4);
    block.write(0x304, 0x02, 4);
    expect(block.get('INTEN')).toBe(0x07);
    expect(block.read(0x304, 4)).toBe(0x07);
    expect(block.read(0x308, 4)).toBe(0x07);
    block.write(0x308, 0x04, 4);
    expect(block.read(0x300, 4)).toBe(0x03);
    expect(seen).toEqual(['0->5', '5->7', '7->3']);
  });

  it('lets an alias with its own writeMask change a target that is read-only to direct writes', () => {
    const { block } = setup([
      { name: 'INTEN', offset: 0x300, writeMask: 0 },
      { name: 'INTENSET', offset: 0x304, setOf: 'INTEN', writeMask: 0x3 },
      { name: 'INTENCLR', offset: 0x308, clearOf: 'INTEN', writeMask: 0x3 },
    ]);
    block.write(0x300, 0x3, 4);
    expect(block.get('INTEN')).toBe(0);
    block.write(0x304, 0xff, 4);
    expect(block.get('INTEN')).toBe(0x3);
    block.write(0x308, 0x1, 4);
    expect(block.get('INTEN')).toBe(0x2);
  });

  it('ignores SET/CLR alias writes to bits the target does not have, without logging them', () => {
    // INTENCLR = 0xFFFFFFFF is how firmware disables every interrupt of a block.
    const { block, lines } = setup([
      { name: 'INTEN', offset: 0x0, writeMask: 0x1 },
      { name: 'INTENSET', offset: 0x4, setOf: 'INTEN' },
      { name: 'INTENCLR', offset: 0x8, clearOf: 'INTEN' },
    ]);
    block.write(0x4, 0x3, 4);
    expect(block.get('INTEN')).toBe(0x1);
    block.write(0x8, 0xffff_ffff, 4);
    expect(block.get('INTEN')).toBe(0);
    expect(lines).toEqual([]);
  });

  it('calls a task hook on a non-zero write, stores nothing and reads 0', () => {
    const triggered: number[] = [];
    const { block } = setup([
      { name: 'TASKS_START', offset: 0x0, task: true, onWrite: (v) => triggered.push(v) },
    ]);
    block.write(0x0, 0, 4);
    expect(triggered).toEqual([]);
    block.write(0x0, 1, 4);
    expect(triggered).toEqual([1]);
    expect(block.read(0x0, 4)).toBe(0);
    expect(block.get('TASKS_START')).toBe(0);
  });

  it('merges narrow writes into the addressed byte lanes and reads lanes back', () => {
    const { block } = setup([{ name: 'DATA', offset: 0x10, reset: 0x1122_3344 }]);
    block.write(0x12, 0xab, 1);
    expect(block.get('DATA')).toBe(0x11ab3344);
    block.write(0x10, 0xcdef, 2);
    expect(block.get('DATA')).toBe(0x11abcdef);
    expect(block.read(0x13, 1)).toBe(0x11);
    expect(block.read(0x12, 2)).toBe(0x11ab);
  });

  it('does not clear w1c bits in lanes a narrow write does not address', () => {
    const { block } = setup([
      { name: 'PENDING', offset: 0x0, w1c: 0xffffffff, writeMask: 0, reset: 0xff00ff },
    ]);
    block.write(0x2, 0xff, 1);
    expect(block.get('PENDING')).toBe(0xff);
  });

  it('logs reads and writes of unknown offsets under guest_errors; reads return 0', () => {
    const { block, lines } = setup([{ name: 'A', offset: 0x0 }]);
    expect(block.read(0x44, 4)).toBe(0);
    block.write(0x48, 0x5, 4);
    expect(lines).toEqual([
      'test-dev: read of unknown register at offset 0x44',
      'test-dev: write of unknown register at offset 0x48, value 0x5',
    ]);
  });

  it('logs nothing for unknown offsets when guest_errors is off', () => {
    const { block, lines } = setup([{ name: 'A', offset: 0x0 }], 'unimp');
    expect(block.read(0x44, 4)).toBe(0);
    expect(lines).toEqual([]);
  });

  it('passes reads through onRead after the read mask', () => {
    const { block } = setup([
      { name: 'COUNT', offset: 0x0, reset: 0xff, readMask: 0xf, onRead: (v) => v + 1 },
    ]);
    expect(block.read(0x0, 4)).toBe(0x10);
  });

  it('emits trace events when a trace name is given and the event is enabled', () => {
    const log = new Log();
    const lines: string[] = [];
    log.sink = (l) => lines.push(l);
    log.configure('trace:dev_write');
    const block = new RegisterBlock({
      name: 'dev',
      size: 0x10,
      registers: [{ name: 'R', offset: 0x4 }],
      log: () => log,
      trace: 'dev',
    });
    block.read(0x4, 4);
    block.write(0x4, 0x2a, 4);
    expect(lines).toEqual(['dev_write offset 0x4 (R) value 0x2a size 4']);
  });
});

describe('RegisterBlock device-side access and state', () => {
  it('sets values without hooks or masks and gives fast indexed access', () => {
    let writes = 0;
    const { block } = setup([
      { name: 'A', offset: 0x0 },
      { name: 'RO', offset: 0x4, writeMask: 0, onWrite: () => writes++ },
      { name: 'ROSET', offset: 0x8, setOf: 'RO' },
    ]);
    block.set('RO', 0xdead);
    expect(block.read(0x4, 4)).toBe(0xdead);
    const i = block.index('RO');
    block.setValue(i, block.value(i) | 0x10000);
    expect(block.get('RO')).toBe(0x1dead);
    expect(block.get('ROSET')).toBe(0x1dead);
    expect(writes).toBe(0);
    expect(() => block.index('NOPE')).toThrow(/no register 'NOPE'/);
  });

  it('round-trips its state through saveState and loadState', () => {
    const defs: RegisterDef[] = [
      { name: 'A', offset: 0x0, reset: 1 },
      { name: 'B', offset: 0x4 },
      { name: 'BSET', offset: 0x8, setOf: 'B' },
    ];
    const { block } = setup(defs);
    block.write(0x0, 0x12345678, 4);
    block.write(0x8, 0x80000001, 4);
    const state = JSON.parse(JSON.stringify(block.saveState())) as number[];
    const other = setup(defs).block;
    other.loadState(state);
    expect(other.describe()).toEqual(block.describe());
    expect(other.get('B')).toBe(0x80000001);
    expect(() => other.loadState([1, 2])).toThrow(UserError);
    expect(() => other.loadState([1, 2, -1])).toThrow(UserError);
  });

  it('describes registers in offset order for HMP dumps', () => {
    const { block } = setup([
      { name: 'B', offset: 0x8, reset: 2 },
      { name: 'A', offset: 0x0, reset: 1 },
    ]);
    expect(block.describe()).toEqual([
      { name: 'A', offset: 0x0, value: 1 },
      { name: 'B', offset: 0x8, value: 2 },
    ]);
  });

  it('maps as an mmio region that accepts aligned 1-, 2- and 4-byte accesses', () => {
    const log = new Log();
    const block = new RegisterBlock({
      name: 'uart',
      size: 0x1000,
      registers: [{ name: 'BAUDRATE', offset: 0x524, reset: 0x04000000 }],
      log: () => log,
    });
    const root = MemoryRegion.container('system', 0x1_0000_0000);
    root.addSubregion(0x40002000, block.toRegion('nrf51_soc.uart'));
    const as = new AddressSpace('memory', root, log);
    expect(as.read32(0x40002524)).toBe(0x04000000);
    expect(as.read8(0x40002527)).toBe(0x04);
    expect(as.write16(0x40002524, 0x1234)).toBe(MemTx.Ok);
    expect(block.get('BAUDRATE')).toBe(0x04001234);
    expect(as.read32(0x40002526)).toBe(MemTx.DeviceError);
  });
});

import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../core/address-space.js';
import { Log } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { CortexM0, DebugReg, type DebugStopEvent, Exc } from './cortex-m0.js';
import { createBareMachine, DATA_BASE, SNIPPET_ENTRY, SVC_HANDLER } from './snippet.js';
import { assembleThumb } from './thumb-asm.js';

/** A bare machine running `source` (assembled at SNIPPET_ENTRY), with its stop events collected. */
function setup(source: string) {
  const m = createBareMachine();
  const asm = assembleThumb(source, SNIPPET_ENTRY);
  m.bus.writeDebug(SNIPPET_ENTRY, asm.bytes);
  m.cpu.reset();
  const events: DebugStopEvent[] = [];
  m.cpu.onDebugStop = (e) => {
    events.push(e);
  };
  return { ...m, labels: asm.labels, events };
}

const STRAIGHT = `
    movs r0, #1
second:
    movs r1, #2
    movs r2, #3
end:
    b end
`;

const COUNTER = `
loop:
    adds r0, #1
    b loop
`;

describe('breakpoints', () => {
  it('stop before the instruction at the address and report it', () => {
    const { cpu, labels, events } = setup(STRAIGHT);
    cpu.addBreakpoint(labels.second!);
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.pc).toBe(labels.second);
    expect(cpu.r[0]).toBe(1);
    expect(cpu.r[1]).toBe(0);
    expect(cpu.halted).toBe(true);
    expect(cpu.debugStopped).toBe(true);
    expect(events).toEqual([{ reason: 'breakpoint', addr: labels.second }]);
    expect(cpu.lastDebugStop).toEqual(events[0]);
    // A stopped CPU executes nothing (the runner idles).
    expect(cpu.execute(100)).toBe(0);
  });

  it('hit even when the code around them was already cached', () => {
    const { cpu, labels, events } = setup(COUNTER);
    expect(cpu.execute(1000)).toBe(1000);
    cpu.addBreakpoint(labels.loop! + 2);
    cpu.execute(1000);
    expect(cpu.pc).toBe(labels.loop! + 2);
    expect(events.map((e) => e.reason)).toEqual(['breakpoint']);
  });

  it('on resume, run the instruction at the stop address first, then hit again', () => {
    const { cpu, labels, events } = setup(COUNTER);
    cpu.addBreakpoint(labels.loop!);
    // Reset put the PC on the breakpoint: nothing runs.
    expect(cpu.execute(100)).toBe(0);
    expect(cpu.r[0]).toBe(0);
    cpu.resume();
    expect(cpu.execute(100)).toBe(2);
    expect(cpu.r[0]).toBe(1);
    expect(cpu.pc).toBe(labels.loop);
    expect(events).toHaveLength(2);
  });

  it('once removed, no longer stop the CPU', () => {
    const { cpu, labels } = setup(COUNTER);
    cpu.addBreakpoint(labels.loop!);
    cpu.addBreakpoint(labels.loop!); // twice: still one breakpoint
    expect(cpu.breakpoints).toEqual([labels.loop]);
    cpu.execute(100);
    expect(cpu.removeBreakpoint(labels.loop!)).toBe(true);
    expect(cpu.removeBreakpoint(labels.loop!)).toBe(false);
    cpu.resume();
    expect(cpu.execute(100)).toBe(100);
    expect(cpu.r[0]).toBe(50);
    expect(cpu.halted).toBe(false);
  });

  it('on the second halfword of a 32-bit instruction do not stop it', () => {
    const { cpu, labels, events } = setup(`
    bl target
target:
    b target`);
    cpu.addBreakpoint(SNIPPET_ENTRY + 2);
    expect(cpu.execute(10)).toBe(10);
    expect(cpu.pc).toBe(labels.target);
    expect(events).toEqual([]);
  });
});

describe('single step', () => {
  it('executes exactly one instruction, then stops with reason step', () => {
    const { cpu, labels, events } = setup(STRAIGHT);
    cpu.step();
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.pc).toBe(labels.second);
    expect(cpu.r[0]).toBe(1);
    expect(cpu.debugStopped).toBe(true);
    expect(events).toEqual([{ reason: 'step' }]);
    cpu.step();
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.r[1]).toBe(2);
    expect(cpu.r[2]).toBe(0);
  });

  it('follows a taken branch', () => {
    const { cpu, labels } = setup(`
    b far
    movs r0, #1
far:
    movs r0, #2`);
    cpu.step();
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.pc).toBe(labels.far);
    expect(cpu.r[0]).toBe(0);
  });

  it('steps over a 32-bit BL as one instruction', () => {
    const { cpu, labels } = setup(`
    bl target
    movs r0, #1
target:
    movs r0, #2`);
    cpu.step();
    cpu.execute(100);
    expect(cpu.pc).toBe(labels.target);
    expect(cpu.r[14]).toBe((SNIPPET_ENTRY + 4) | 1);
  });

  it('into an exception stops at the handler entry, before its first instruction', () => {
    const { cpu, events } = setup(`
    svc #1
    movs r0, #1`);
    cpu.step();
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.pc).toBe(SVC_HANDLER);
    expect(cpu.ipsr).toBe(Exc.SVCall);
    expect(events).toEqual([{ reason: 'step' }]);
  });

  it('from a breakpoint address executes that instruction', () => {
    const { cpu, labels, events } = setup(STRAIGHT);
    cpu.addBreakpoint(labels.second!);
    cpu.execute(100);
    cpu.step();
    expect(cpu.execute(100)).toBe(1);
    expect(cpu.r[1]).toBe(2);
    expect(cpu.pc).toBe(labels.second! + 2);
    expect(events.map((e) => e.reason)).toEqual(['breakpoint', 'step']);
  });
});

describe('watchpoints', () => {
  // r0 = DATA_BASE; r1 = a value; the first access is at `access`.
  const program = (access: string) => `
    ldr r0, data
    ldr r1, value
access:
    ${access}
after:
    movs r7, #1
end:
    b end
    .align 2
data:  .word ${DATA_BASE}
value: .word 0x11223344
`;

  it('a word store overlapping a 1-byte write watch stops after the store, reporting both addresses', () => {
    const { cpu, bus, labels, events } = setup(program('str r1, [r0]'));
    cpu.addWatchpoint(DATA_BASE + 2, 1, 'write');
    cpu.execute(100);
    expect(cpu.pc).toBe(labels.after);
    expect(bus.read32(DATA_BASE)).toBe(0x11223344);
    expect(cpu.r[7]).toBe(0);
    expect(events).toEqual([
      {
        reason: 'watchpoint',
        addr: DATA_BASE + 2,
        watchKind: 'write',
        accessAddr: DATA_BASE,
        accessSize: 4,
        accessWrite: true,
      },
    ]);
  });

  it('a write watch ignores reads and a read watch ignores writes', () => {
    const w = setup(program('ldr r2, [r0]'));
    w.cpu.addWatchpoint(DATA_BASE, 4, 'write');
    expect(w.cpu.execute(10)).toBe(10);
    expect(w.events).toEqual([]);
    const r = setup(program('str r1, [r0]'));
    r.cpu.addWatchpoint(DATA_BASE, 4, 'read');
    expect(r.cpu.execute(10)).toBe(10);
    expect(r.events).toEqual([]);
  });

  it('a read watch hits a byte load inside its length', () => {
    const { cpu, labels, events } = setup(program('ldrb r2, [r0, #3]'));
    cpu.addWatchpoint(DATA_BASE, 4, 'read');
    cpu.execute(100);
    expect(cpu.pc).toBe(labels.after);
    expect(events[0]).toMatchObject({ reason: 'watchpoint', addr: DATA_BASE, watchKind: 'read' });
    expect(events[0]).toMatchObject({ accessAddr: DATA_BASE + 3, accessSize: 1, accessWrite: false });
  });

  it('an access watch hits both reads and writes', () => {
    const read = setup(program('ldrh r2, [r0, #2]'));
    read.cpu.addWatchpoint(DATA_BASE + 3, 1, 'access');
    read.cpu.execute(100);
    expect(read.events[0]).toMatchObject({ reason: 'watchpoint', watchKind: 'access', accessWrite: false });
    const write = setup(program('strb r1, [r0, #3]'));
    write.cpu.addWatchpoint(DATA_BASE + 3, 1, 'access');
    write.cpu.execute(100);
    expect(write.events[0]).toMatchObject({ reason: 'watchpoint', watchKind: 'access', accessWrite: true });
  });

  it('an access next to the watched range does not hit', () => {
    const { cpu, events } = setup(program('strb r1, [r0, #2]'));
    cpu.addWatchpoint(DATA_BASE + 3, 1, 'write');
    cpu.addWatchpoint(DATA_BASE, 2, 'write');
    expect(cpu.execute(10)).toBe(10);
    expect(events).toEqual([]);
  });

  it('watch the stores of PUSH and stop after the whole instruction', () => {
    const { cpu, bus, events } = setup(`
    movs r1, #5
    movs r2, #6
    push {r1, r2}
after:
    b after`);
    const sp = cpu.sp;
    cpu.addWatchpoint(sp - 8, 4, 'write');
    cpu.execute(100);
    expect(cpu.sp).toBe(sp - 8);
    expect(bus.read32(sp - 4)).toBe(6);
    expect(events[0]).toMatchObject({ reason: 'watchpoint', addr: sp - 8 });
  });

  it('once removed, no longer hit', () => {
    const { cpu, events } = setup(program('str r1, [r0]'));
    cpu.addWatchpoint(DATA_BASE, 4, 'write');
    expect(cpu.removeWatchpoint(DATA_BASE, 4, 'read')).toBe(false);
    expect(cpu.removeWatchpoint(DATA_BASE, 4, 'write')).toBe(true);
    expect(cpu.execute(10)).toBe(10);
    expect(events).toEqual([]);
  });

  it('reject a zero length', () => {
    const { cpu } = setup(STRAIGHT);
    expect(() => cpu.addWatchpoint(DATA_BASE, 0, 'write')).toThrow(RangeError);
  });
});

describe('halt and resume', () => {
  it('halt while idle stops at once; resume continues where it stopped', () => {
    const { cpu, events } = setup(COUNTER);
    cpu.execute(10);
    cpu.halt();
    expect(events).toEqual([{ reason: 'halt' }]);
    expect(cpu.halted).toBe(true);
    expect(cpu.execute(100)).toBe(0);
    cpu.halt(); // already stopped: no second event
    expect(events).toHaveLength(1);
    cpu.resume();
    expect(cpu.halted).toBe(false);
    expect(cpu.debugStopped).toBe(false);
    expect(cpu.execute(10)).toBe(10);
    expect(cpu.r[0]).toBe(10);
  });

  it('halt during execute (from a device) stops after the current instruction', () => {
    const root = MemoryRegion.container('system', 0x1_0000_0000);
    const code = MemoryRegion.ram('code', 0x1000);
    root.addSubregion(0, code);
    root.addSubregion(0x2000_0000, MemoryRegion.ram('data', 0x1000));
    let cpu: CortexM0 | null = null;
    root.addSubregion(
      0x4000_0000,
      MemoryRegion.mmio('halter', 0x100, {
        read: () => 0,
        write: () => cpu?.halt(),
      }),
    );
    const bus = new AddressSpace('cpu-memory', root, new Log());
    const asm = assembleThumb(
      `
    ldr r0, dev
    str r0, [r0]
after:
    adds r1, #1
    b after
    .align 2
dev: .word 0x40000000`,
      0x100,
    );
    bus.writeDebug(0x100, asm.bytes);
    bus.write32(0, 0x2000_1000);
    bus.write32(4, 0x101);
    cpu = new CortexM0('cpu0', bus);
    cpu.reset();
    const reasons: string[] = [];
    cpu.onDebugStop = (e) => reasons.push(e.reason);
    expect(cpu.execute(100)).toBe(2);
    expect(cpu.pc).toBe(asm.labels.after);
    expect(reasons).toEqual(['halt']);
  });

  it('a stop survives a reset', () => {
    const { cpu } = setup(COUNTER);
    cpu.halt();
    cpu.reset();
    expect(cpu.halted).toBe(true);
    expect(cpu.execute(10)).toBe(0);
  });
});

describe('debugger register access', () => {
  it('reads and writes r0-r15 and xPSR', () => {
    const { cpu, labels } = setup(STRAIGHT);
    cpu.writeRegister(3, 0xdeadbeef);
    expect(cpu.readRegister(3)).toBe(0xdeadbeef);
    cpu.writeRegister(DebugReg.XPSR, 0xf100_0000);
    expect(cpu.apsr).toBe(0xf000_0000);
    expect(cpu.readRegister(DebugReg.XPSR)).toBe(0xf100_0000);
    // A new PC (bit 0 dropped) is where execution continues.
    cpu.writeRegister(15, labels.end! | 1);
    expect(cpu.readRegister(15)).toBe(labels.end);
    cpu.execute(5);
    expect(cpu.pc).toBe(labels.end);
    expect(cpu.r[0]).toBe(0);
  });

  it('banks SP: r13 is the SP in use, MSP and PSP each their own', () => {
    const { cpu } = setup(STRAIGHT);
    cpu.writeRegister(DebugReg.MSP, 0x2000_8000);
    cpu.writeRegister(DebugReg.PSP, 0x2000_4002);
    expect(cpu.readRegister(13)).toBe(0x2000_8000);
    expect(cpu.readRegister(DebugReg.PSP)).toBe(0x2000_4000);
    cpu.writeRegister(DebugReg.CONTROL, 2);
    expect(cpu.readRegister(DebugReg.CONTROL)).toBe(2);
    expect(cpu.readRegister(13)).toBe(0x2000_4000);
    cpu.writeRegister(13, 0x2000_3000);
    expect(cpu.readRegister(DebugReg.PSP)).toBe(0x2000_3000);
    expect(cpu.readRegister(DebugReg.MSP)).toBe(0x2000_8000);
    cpu.writeRegister(DebugReg.PRIMASK, 3);
    expect(cpu.readRegister(DebugReg.PRIMASK)).toBe(1);
    expect(() => cpu.readRegister(21)).toThrow(RangeError);
  });
});

describe('debugger memory access', () => {
  it('patches ROM through writeDebug, and the guest sees the new code and data at once', () => {
    const root = MemoryRegion.container('system', 0x1_0000_0000);
    root.addSubregion(0, MemoryRegion.rom('flash', 0x1000));
    root.addSubregion(0x2000_0000, MemoryRegion.ram('sram', 0x1000));
    const bus = new AddressSpace('cpu-memory', root, new Log());
    const asm = assembleThumb(
      `
loop:
    movs r0, #1
    ldr r1, konst
    b loop
    .align 2
konst: .word 0x12345678`,
      0x100,
    );
    bus.writeDebug(0, Uint8Array.of(0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x00, 0x00));
    bus.writeDebug(0x100, asm.bytes);
    const cpu = new CortexM0('cpu0', bus);
    cpu.reset();
    cpu.execute(30);
    expect(cpu.r[0]).toBe(1);
    expect(cpu.r[1]).toBe(0x12345678);
    // movs r0, #2 over movs r0, #1; a new literal; the CPU's cached windows must not hide them.
    expect(bus.writeDebug(0x100, Uint8Array.of(0x02, 0x20))).toBe(true);
    expect(bus.writeDebug(asm.labels.konst!, Uint8Array.of(0xef, 0xbe, 0xad, 0xde))).toBe(true);
    cpu.execute(30);
    expect(cpu.r[0]).toBe(2);
    expect(cpu.r[1] >>> 0).toBe(0xdeadbeef);
    expect(Array.from(bus.readDebug(0x100, 2)!)).toEqual([0x02, 0x20]);
  });
});

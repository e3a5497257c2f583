import { describe, expect, it } from 'vitest';
import { Exc } from './cortex-m0.js';
import { createM0System, DEFAULT_HANDLER, type M0System, STACK_TOP, SYSTEM_ENTRY } from './m0-system.js';
import { IRQ_BASE } from './nvic.js';

const ISER = 0xe000_e100;
const ISPR = 0xe000_e200;
const ICPR = 0xe000_e280;
const IPR = 0xe000_e400;
const ICSR = 0xe000_ed04;
const SCR = 0xe000_ed10;
const SHPR3 = 0xe000_ed20;
const HANDLER = 0x400;
const HANDLER2 = 0x500;

/** A system whose thread code is `source` at SYSTEM_ENTRY. */
function system(source: string): M0System {
  const s = createM0System();
  s.load(SYSTEM_ENTRY, source);
  return s;
}

function enableIrq(s: M0System, irq: number, priority = 0): void {
  s.bus.write32(ISER, 1 << irq);
  const word = IPR + (irq & ~3);
  const shift = (irq & 3) * 8;
  s.bus.write32(word, (s.bus.read32(word) & ~(0xff << shift)) | (priority << shift));
}

/** Executes `n` instructions across slice exits (an exit after CPSIE/MSR or an NVIC write). */
function run(s: M0System, n: number): void {
  let left = n;
  for (let i = 0; i < 100 && left > 0 && !s.cpu.sleeping && !s.cpu.halted; i++) left -= s.cpu.execute(left);
}

function frameAt(s: M0System, addr: number): number[] {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(s.bus.read32(addr + i * 4));
  return words;
}

describe('exception entry and return through the NVIC', () => {
  it('stacks r0-r3, r12, lr, return address, xPSR on an 8-byte aligned frame and returns (with padding)', () => {
    const s = system('nop\nmovs r7, #2\nb .');
    s.load(HANDLER, 'movs r0, #0\nmov r4, lr\nbx lr');
    s.setVector(IRQ_BASE + 3, HANDLER);
    enableIrq(s, 3);
    const cpu = s.cpu;
    cpu.r.set([10, 11, 12, 13], 0);
    cpu.r[12] = 0x1212;
    cpu.r[14] = 0x1414;
    cpu.r[13] = STACK_TOP - 4; // not 8-byte aligned: a padding word is needed
    cpu.apsr = 0x8000_0000;
    expect(cpu.execute(1)).toBe(1); // nop
    s.bus.write32(ISPR, 1 << 3);
    const cycles = cpu.cycles;
    expect(cpu.execute(1)).toBe(1); // entry, then the handler's first instruction
    expect(cpu.ipsr).toBe(IRQ_BASE + 3);
    expect(cpu.sp).toBe(0x2000_ffd8);
    expect(frameAt(s, 0x2000_ffd8)).toEqual([
      10,
      11,
      12,
      13,
      0x1212,
      0x1414,
      SYSTEM_ENTRY + 2,
      (0x8000_0000 | (1 << 24) | (1 << 9)) >>> 0, // N, T, padding bit 9
    ]);
    expect(s.bus.read32(ISPR)).toBe(0); // pending cleared on entry
    expect(cpu.cycles - cycles).toBe(16 + 1);
    expect(cpu.execute(2)).toBe(2); // mov r4, lr; bx lr
    expect(cpu.r[4]! >>> 0).toBe(0xffff_fff9);
    expect(cpu.ipsr).toBe(0);
    expect(cpu.sp).toBe(STACK_TOP - 4);
    expect(cpu.r[0]).toBe(10);
    expect(cpu.apsr >>> 0).toBe(0x8000_0000);
    expect(cpu.pc).toBe(SYSTEM_ENTRY + 2);
    expect(cpu.execute(1)).toBe(1);
    expect(cpu.r[7]).toBe(2);
  });

  it('needs no padding when SP is 8-byte aligned; exception return costs 16 cycles', () => {
    const s = system('nop\nnop\nb .');
    s.load(HANDLER, 'bx lr');
    s.setVector(IRQ_BASE, HANDLER);
    enableIrq(s, 0);
    s.bus.write32(ISPR, 1);
    s.cpu.execute(1); // entry + bx lr (the return)
    expect(s.cpu.sp).toBe(STACK_TOP);
    expect(s.bus.read32(STACK_TOP - 4)).toBe(1 << 24); // stacked xPSR: T, no padding bit
    expect(s.cpu.cycles).toBe(16 + 3 + 16);
    expect(s.cpu.pc).toBe(SYSTEM_ENTRY);
  });

  it('from thread mode on PSP: EXC_RETURN 0xFFFFFFFD, handler on MSP, return to PSP', () => {
    const s = system('nop\nb .');
    s.load(HANDLER, 'mov r4, lr\nmov r5, sp\nbx lr');
    s.setVector(IRQ_BASE + 1, HANDLER);
    enableIrq(s, 1);
    const cpu = s.cpu;
    cpu.psp = 0x2000_8000;
    cpu.setSpsel(1);
    s.bus.write32(ISPR, 2);
    cpu.execute(3);
    expect(cpu.r[4]! >>> 0).toBe(0xffff_fffd);
    expect(cpu.r[5]! >>> 0).toBe(STACK_TOP); // MSP untouched by the frame
    expect(s.bus.read32(0x2000_8000 - 8)).toBe(SYSTEM_ENTRY); // return address on the PSP frame
    expect(cpu.ipsr).toBe(0);
    expect(cpu.control).toBe(2);
    expect(cpu.sp).toBe(0x2000_8000);
  });

  it('a higher-priority IRQ preempts a handler: EXC_RETURN 0xFFFFFFF1 returns to the handler', () => {
    const s = system('b .');
    // IRQ 3 (priority 128) pends IRQ 5 (priority 0), which preempts it at once.
    s.load(
      HANDLER,
      'ldr r0, ispr\nmovs r1, #32\nstr r1, [r0]\nmovs r6, #1\nbx lr\n.align 2\nispr: .word 0xe000e200',
    );
    s.load(HANDLER2, 'mov r4, lr\nmov r5, r6\nbx lr');
    s.setVector(IRQ_BASE + 3, HANDLER);
    s.setVector(IRQ_BASE + 5, HANDLER2);
    enableIrq(s, 3, 128);
    enableIrq(s, 5, 0);
    s.bus.write32(ISPR, 1 << 3);
    s.cpu.execute(3); // ldr, movs, str: IRQ 5 pending now
    s.cpu.execute(1); // entry of IRQ 5 + mov r4, lr
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 5);
    expect(s.cpu.r[4]! >>> 0).toBe(0xffff_fff1);
    s.cpu.execute(2); // mov r5, r6 (r6 not yet set); bx lr back to IRQ 3's handler
    expect(s.cpu.r[5]).toBe(0);
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 3);
    s.cpu.execute(2);
    expect(s.cpu.ipsr).toBe(0);
    expect(s.cpu.sp).toBe(STACK_TOP);
  });
});

describe('priorities', () => {
  it('at equal priority the lower exception number is taken first, then the other tail-chains', () => {
    const s = system('b .');
    s.load(HANDLER, 'mrs r0, ipsr\nmov r8, r0\nbx lr');
    s.load(HANDLER2, 'mrs r0, ipsr\nmov r9, r0\nmov r10, sp\nbx lr');
    s.setVector(IRQ_BASE + 1, HANDLER);
    s.setVector(IRQ_BASE + 2, HANDLER2);
    enableIrq(s, 1, 64);
    enableIrq(s, 2, 64);
    // Sentinel below the frame: a second frame would overwrite it.
    s.bus.write32(STACK_TOP - 0x24, 0xdead_beef);
    s.bus.write32(ISPR, (1 << 1) | (1 << 2));
    s.cpu.execute(3); // IRQ 1's handler, its return tail-chains into IRQ 2
    expect(s.cpu.r[8]).toBe(IRQ_BASE + 1);
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 2);
    expect(s.cpu.sp).toBe(STACK_TOP - 32); // the first frame is still there, not re-pushed
    expect(s.cpu.r[14]! >>> 0).toBe(0xffff_fff9);
    s.cpu.execute(4);
    expect(s.cpu.r[9]).toBe(IRQ_BASE + 2);
    expect(s.cpu.r[10]! >>> 0).toBe(STACK_TOP - 32);
    expect(s.bus.read32(STACK_TOP - 0x24)).toBe(0xdead_beef);
    expect(s.cpu.ipsr).toBe(0);
    expect(s.cpu.sp).toBe(STACK_TOP);
    // Entry 16 + 3 instructions (bx 3 cycles, mrs 4) + tail-chain 16 + 4 + return 16.
    expect(s.cpu.cycles).toBe(16 + (4 + 1 + 3) + 16 + (4 + 1 + 1 + 3) + 16);
  });

  it('a lower priority IRQ waits for the running handler; the same priority does not preempt', () => {
    const s = system('b .');
    s.load(
      HANDLER,
      'ldr r0, ispr\nmovs r1, #6\nstr r1, [r0]\nmovs r6, #1\nmovs r6, #2\nbx lr\n.align 2\nispr: .word 0xe000e200',
    );
    s.load(HANDLER2, 'mov r5, r6\nb .');
    s.setVector(IRQ_BASE + 0, HANDLER);
    s.setVector(IRQ_BASE + 1, HANDLER2);
    s.setVector(IRQ_BASE + 2, HANDLER2);
    enableIrq(s, 0, 64);
    enableIrq(s, 1, 64); // same priority
    enableIrq(s, 2, 192); // lower priority
    s.bus.write32(ISPR, 1);
    s.cpu.execute(3);
    s.cpu.execute(2);
    expect(s.cpu.ipsr).toBe(IRQ_BASE);
    expect(s.cpu.r[6]).toBe(2);
    s.cpu.execute(2); // bx lr: tail-chain into IRQ 1 (same priority, lower number than 2)
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 1);
    expect(s.cpu.r[5]).toBe(2);
  });

  it('PRIMASK masks configurable exceptions but not NMI or HardFault; CPSIE lets them in at the next instruction', () => {
    const s = system('cpsid i\nnop\nnop\ncpsie i\nmovs r7, #1\nb .');
    s.load(HANDLER, 'mov r4, lr\nbx lr');
    s.setVector(IRQ_BASE + 4, HANDLER);
    s.setVector(Exc.NMI, HANDLER2);
    s.load(HANDLER2, 'movs r6, #6\nbx lr');
    enableIrq(s, 4, 0);
    s.cpu.execute(1); // cpsid i
    s.bus.write32(ISPR, 1 << 4);
    expect(s.cpu.execute(1)).toBe(1); // nop: masked
    expect(s.cpu.ipsr).toBe(0);
    s.bus.write32(ICSR, 1 << 31); // NMIPENDSET
    s.cpu.execute(1);
    expect(s.cpu.ipsr).toBe(Exc.NMI);
    s.cpu.execute(1); // bx lr
    expect(s.cpu.r[6]).toBe(6);
    expect(s.cpu.ipsr).toBe(0);
    s.cpu.execute(2); // nop, cpsie i: the loop stops at the boundary after CPSIE
    expect(s.cpu.ipsr).toBe(0);
    s.cpu.execute(1); // IRQ taken before movs r7
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 4);
    expect(s.bus.read32(s.cpu.sp + 24)).toBe(SYSTEM_ENTRY + 8); // return address: movs r7
    expect(s.cpu.r[7]).toBe(0);
  });

  it('MSR PRIMASK clearing it takes a pending interrupt at the next boundary', () => {
    const s = system('cpsid i\nmovs r0, #0\nmsr primask, r0\nmovs r7, #1\nb .');
    s.setVector(IRQ_BASE, HANDLER);
    s.load(HANDLER, 'b .');
    enableIrq(s, 0);
    s.cpu.execute(1);
    s.bus.write32(ISPR, 1);
    run(s, 10);
    expect(s.cpu.ipsr).toBe(IRQ_BASE);
    expect(s.cpu.r[7]).toBe(0);
  });

  it('a fault with PRIMASK set or inside a priority-0 handler is still taken as HardFault', () => {
    const s = system('cpsid i\nldr r0, [r1]\nb .');
    s.setVector(Exc.HardFault, HANDLER);
    s.load(HANDLER, 'mrs r0, ipsr\nb .');
    s.cpu.r[1] = 0x2000_0002; // unaligned word load
    s.cpu.execute(3);
    expect(s.cpu.lastFault).toBe('unaligned');
    expect(s.cpu.r[0]).toBe(Exc.HardFault);

    const t = system('b .');
    t.setVector(IRQ_BASE + 2, HANDLER2);
    t.setVector(Exc.HardFault, HANDLER);
    t.load(HANDLER, 'mrs r0, ipsr\nb .');
    t.load(HANDLER2, 'ldr r0, [r1]\nb .');
    t.cpu.r[1] = 0x1000_0000; // unmapped: bus error
    enableIrq(t, 2, 0);
    t.bus.write32(ISPR, 1 << 2);
    t.cpu.execute(3);
    expect(t.cpu.lastFault).toBe('bus-error');
    expect(t.cpu.r[0]).toBe(Exc.HardFault);
    expect(t.cpu.active[IRQ_BASE + 2]).toBe(1);
  });

  it('SVC at or below the priority of the running handler escalates to HardFault', () => {
    const s = system('b .');
    s.setVector(IRQ_BASE, HANDLER);
    s.setVector(Exc.HardFault, HANDLER2);
    s.load(HANDLER, 'svc #1');
    s.load(HANDLER2, 'b .');
    enableIrq(s, 0, 64);
    s.bus.write32(0xe000_ed1c, 0x8000_0000); // SHPR2: SVCall priority 128
    s.bus.write32(ISPR, 1);
    s.cpu.execute(2);
    expect(s.cpu.lastFault).toBe('escalation');
    expect(s.cpu.ipsr).toBe(Exc.HardFault);
  });
});

describe('PendSV and SysTick through ICSR', () => {
  it('PENDSVSET pends PendSV at its SHPR3 priority; VECTACTIVE reads the handler; PENDSVCLR clears', () => {
    const s = system('b .');
    s.setVector(Exc.PendSV, HANDLER);
    s.setVector(Exc.SysTick, HANDLER2);
    s.load(HANDLER, 'ldr r0, icsr\nldr r1, [r0]\nb .\n.align 2\nicsr: .word 0xe000ed04');
    s.load(HANDLER2, 'b .');
    s.bus.write32(SHPR3, 0xc080_0000); // SysTick 192, PendSV 128
    s.bus.write32(ICSR, (1 << 28) | (1 << 26)); // PENDSVSET, PENDSTSET
    expect((s.bus.read32(ICSR) >>> 12) & 0x3f).toBe(Exc.PendSV); // VECTPENDING
    s.cpu.execute(2);
    expect(s.cpu.ipsr).toBe(Exc.PendSV);
    const icsr = s.cpu.r[1]! >>> 0;
    expect(icsr & 0x3f).toBe(Exc.PendSV); // VECTACTIVE
    expect((icsr >>> 26) & 1).toBe(1); // SysTick still pending
    expect((icsr >>> 28) & 1).toBe(0); // PendSV no longer pending
    s.bus.write32(ICSR, 1 << 25); // PENDSTCLR
    expect((s.bus.read32(ICSR) >>> 26) & 1).toBe(0);
  });
});

describe('level-sensitive interrupt lines', () => {
  it('a high line pends; pending survives the line dropping; ICPR cannot clear it while high', () => {
    const s = system('cpsid i\nb .');
    const line = s.scs.gpioIn('', 6);
    s.cpu.execute(1);
    line.set(1);
    expect(s.bus.read32(ISPR)).toBe(1 << 6); // pending even while disabled
    s.bus.write32(ICPR, 1 << 6);
    expect(s.bus.read32(ISPR)).toBe(1 << 6);
    line.set(0);
    expect(s.bus.read32(ISPR)).toBe(1 << 6);
    s.bus.write32(ICPR, 1 << 6);
    expect(s.bus.read32(ISPR)).toBe(0);
  });

  it('a line still high when the handler returns pends again and is re-entered', () => {
    const s = system('b .');
    s.setVector(IRQ_BASE + 6, HANDLER);
    s.load(HANDLER, 'adds r5, #1\nbx lr');
    enableIrq(s, 6);
    const line = s.scs.gpioIn('', 6);
    line.set(1);
    s.cpu.execute(2); // entry, adds, bx lr: re-pended and tail-chained
    expect(s.cpu.r[5]).toBe(1);
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 6);
    line.set(0);
    s.cpu.execute(2);
    expect(s.cpu.r[5]).toBe(2);
    expect(s.cpu.ipsr).toBe(0);
    s.cpu.execute(5);
    expect(s.cpu.r[5]).toBe(2);
  });
});

describe('lockup', () => {
  it('a fault in the HardFault handler locks up with one log line; the clock keeps running', () => {
    const s = system('udf #0');
    s.setVector(Exc.HardFault, HANDLER);
    s.load(HANDLER, 'udf #1');
    let fired = 0;
    s.clock.createTimer('t', () => fired++).modAbs(10_000);
    s.runner.runFor(20_000);
    expect(s.cpu.lockup).toBe(true);
    expect(s.cpu.halted).toBe(true);
    expect(s.cpu.pc).toBe(0xffff_fffe);
    expect(s.logLines).toEqual([
      'tsemu: cpu0 locked up: HardFault while in HardFault (PC 0x00000400, undefined)',
    ]);
    expect(fired).toBe(1);
    expect(s.clock.now).toBe(20_000);
  });

  it('a fault in the NMI handler locks up too', () => {
    const s = system('b .');
    s.setVector(Exc.NMI, HANDLER);
    s.load(HANDLER, 'nop\nudf #1');
    s.bus.write32(ICSR, 1 << 31);
    s.cpu.execute(10);
    expect(s.cpu.lockup).toBe(true);
    expect(s.logLines[0]).toBe('tsemu: cpu0 locked up: HardFault while in NMI (PC 0x00000402, undefined)');
  });
});

describe('sleep', () => {
  it('WFI sleeps and an IRQ raised by a timer during an idle jump wakes it at that exact time', () => {
    const s = system('wfi\nb .');
    s.setVector(IRQ_BASE + 9, HANDLER);
    s.load(HANDLER, 'adds r5, #1\nb .');
    enableIrq(s, 9);
    const line = s.scs.gpioIn('', 9);
    const wakes: number[] = [];
    s.scs.onWake = () => wakes.push(s.clock.now);
    s.clock.createTimer('irq', () => line.set(1)).modAbs(1000);
    s.runner.runFor(1000);
    expect(s.cpu.r[5]).toBe(0);
    expect(wakes).toEqual([1000]);
    // The handler's first instruction runs in the first instruction period after 1000 ns.
    s.runner.runFor(62);
    expect(s.cpu.r[5]).toBe(1);
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 9);
  });

  it('WFI with PRIMASK set wakes on a pending interrupt but does not take it until CPSIE', () => {
    const s = system('cpsid i\nwfi\nmovs r6, #1\ncpsie i\nmovs r7, #1\nb .');
    s.setVector(IRQ_BASE + 1, HANDLER);
    s.load(HANDLER, 'b .');
    enableIrq(s, 1);
    s.cpu.execute(10);
    expect(s.cpu.sleeping).toBe(true);
    s.scs.gpioIn('', 1).set(1);
    expect(s.cpu.sleeping).toBe(false);
    run(s, 10);
    expect(s.cpu.r[6]).toBe(1);
    expect(s.cpu.r[7]).toBe(0);
    expect(s.cpu.ipsr).toBe(IRQ_BASE + 1);
  });

  it('WFI does not sleep when an interrupt is already pending with PRIMASK set', () => {
    const s = system('cpsid i\nwfi\nmovs r6, #1\nb .');
    enableIrq(s, 0);
    s.cpu.execute(1); // cpsid i
    s.bus.write32(ISPR, 1);
    s.cpu.execute(2);
    expect(s.cpu.sleeping).toBe(false);
    expect(s.cpu.r[6]).toBe(1);
  });

  it('WFE consumes the event register set by SEV; exception entry and return set it too', () => {
    const s = system('sev\nwfe\nwfe\nmovs r6, #1\nsvc #0\nwfe\nmovs r7, #1\nwfe\nb .');
    s.setVector(Exc.SVCall, HANDLER);
    s.load(HANDLER, 'bx lr');
    s.cpu.execute(10);
    expect(s.cpu.sleeping).toBe(true); // the second WFE
    expect(s.cpu.pc).toBe(SYSTEM_ENTRY + 6);
    s.cpu.wake(true);
    s.cpu.execute(10); // movs r6, svc, bx lr, wfe (event from the exception: no sleep), movs r7, wfe
    expect(s.cpu.r[6]).toBe(1);
    expect(s.cpu.r[7]).toBe(1);
    expect(s.cpu.sleeping).toBe(true);
  });

  it('WFE wakes for a new pending interrupt only with SEVONPEND, even a disabled one', () => {
    const s = system('wfe\nmovs r6, #1\nwfe\nmovs r7, #1\nb .');
    s.cpu.eventRegister = 0;
    s.cpu.execute(10);
    expect(s.cpu.sleeping).toBe(true);
    s.scs.gpioIn('', 3).set(1); // disabled IRQ, no SEVONPEND: stays asleep
    expect(s.cpu.sleeping).toBe(true);
    s.bus.write32(SCR, 1 << 4); // SEVONPEND
    s.scs.gpioIn('', 3).set(0);
    s.bus.write32(ICPR, 1 << 3);
    s.scs.gpioIn('', 3).set(1); // becomes pending: an event
    expect(s.cpu.sleeping).toBe(false);
    s.cpu.execute(10);
    expect(s.cpu.r[6]).toBe(1);
    expect(s.cpu.sleeping).toBe(true);
    expect(s.cpu.r[7]).toBe(0);
  });

  it('SLEEPONEXIT sleeps on return to thread mode; the next interrupt runs the handler again', () => {
    const s = system('wfi\nmovs r7, #1\nb .');
    s.setVector(IRQ_BASE, HANDLER);
    s.load(HANDLER, 'adds r5, #1\nbx lr');
    enableIrq(s, 0);
    s.bus.write32(SCR, 1 << 1);
    s.cpu.execute(10);
    expect(s.cpu.sleeping).toBe(true);
    s.bus.write32(ISPR, 1);
    s.cpu.execute(10);
    expect(s.cpu.r[5]).toBe(1);
    expect(s.cpu.sleeping).toBe(true);
    expect(s.cpu.ipsr).toBe(0);
    expect(s.cpu.r[7]).toBe(0);
    s.bus.write32(ISPR, 1);
    s.cpu.execute(10);
    expect(s.cpu.r[5]).toBe(2);
    expect(s.cpu.r[7]).toBe(0);
  });
});

describe('reset', () => {
  it('takes SP and PC from the vector table and starts in thread mode on MSP', () => {
    const s = system('b .');
    expect(s.cpu.sp).toBe(STACK_TOP);
    expect(s.cpu.pc).toBe(SYSTEM_ENTRY);
    expect(s.cpu.ipsr).toBe(0);
    expect(s.cpu.control).toBe(0);
    expect(DEFAULT_HANDLER).toBe(0xf00);
  });
});

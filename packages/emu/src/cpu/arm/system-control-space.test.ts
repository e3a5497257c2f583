import { describe, expect, it } from 'vitest';
import { LogCat } from '../../core/log.js';
import { NoneMachine } from '../../machine/none.js';
import { CortexM0, Exc } from './cortex-m0.js';
import { createM0System, SYSTEM_ENTRY } from './m0-system.js';
import { IRQ_BASE } from './nvic.js';
import { installScs, SCS_BASE, SystemControlSpace } from './system-control-space.js';

const ISER = 0xe000_e100;
const ICER = 0xe000_e180;
const ISPR = 0xe000_e200;
const ICPR = 0xe000_e280;
const IPR0 = 0xe000_e400;
const CPUID = 0xe000_ed00;
const ICSR = 0xe000_ed04;
const VTOR = 0xe000_ed08;
const AIRCR = 0xe000_ed0c;
const SCR = 0xe000_ed10;
const CCR = 0xe000_ed14;
const SHPR2 = 0xe000_ed1c;
const SHPR3 = 0xe000_ed20;

describe('SCB identification and fixed registers', () => {
  it('CPUID is the Cortex-M0 r0p0 value, CCR has STKALIGN and UNALIGN_TRP, AIRCR reads VECTKEYSTAT', () => {
    const { bus } = createM0System();
    expect(bus.read32(CPUID)).toBe(0x410c_c200);
    expect(bus.read32(CCR)).toBe(0x208);
    expect(bus.read32(AIRCR)).toBe(0xfa05_0000);
    bus.write32(CPUID, 0);
    bus.write32(CCR, 0);
    expect(bus.read32(CPUID)).toBe(0x410c_c200);
    expect(bus.read32(CCR)).toBe(0x208);
  });

  it('VTOR and SHCSR are RAZ/WI on the Cortex-M0, logged under -d unimp', () => {
    const s = createM0System();
    s.log.mask = LogCat.Unimp;
    s.bus.write32(VTOR, 0x1000);
    expect(s.bus.read32(VTOR)).toBe(0);
    s.bus.write32(0xe000_ed24, 0x7); // SHCSR
    expect(s.bus.read32(0xe000_ed24)).toBe(0);
    expect(s.logLines).toHaveLength(2);
    expect(s.logLines[0]).toContain('VTOR');
  });

  it('unmodelled SCS addresses read 0, ignore writes and log under -d unimp', () => {
    const s = createM0System({ systick: false });
    s.log.mask = LogCat.Unimp;
    expect(s.bus.read32(0xe000_edf0)).toBe(0); // DHCSR (debug)
    expect(s.bus.read32(0xe000_e010)).toBe(0); // SysTick CSR, absent
    expect(s.bus.write32(0xe000_e014, 5)).toBe(0);
    expect(s.logLines).toHaveLength(3);
    expect(s.logLines[0]).toContain('unimplemented device read');
  });

  it('byte accesses honour lanes but are logged as UNPREDICTABLE under guest_errors', () => {
    const s = createM0System();
    s.log.mask = LogCat.GuestErrors;
    s.bus.write8(IPR0 + 1, 0xff);
    expect(s.bus.read32(IPR0)).toBe(0x0000_c000);
    expect(s.logLines).toHaveLength(1);
    expect(s.logLines[0]).toContain('word-access only');
  });
});

describe('NVIC registers', () => {
  it('ISER and ICER both read back the enables; ISPR and ICPR both read back the pending bits', () => {
    const { bus } = createM0System();
    bus.write32(ISER, 0x8000_0005);
    bus.write32(ISER, 0x10);
    expect(bus.read32(ISER)).toBe(0x8000_0015);
    expect(bus.read32(ICER)).toBe(0x8000_0015);
    bus.write32(ICER, 0x8000_0001);
    expect(bus.read32(ISER)).toBe(0x14);
    bus.write32(0xe000_e000 + 0x104, 1); // beyond the 32 IRQs: unmodelled
    bus.write32(ISPR, 0x0000_0300);
    bus.write32(ISPR, 0x1);
    expect(bus.read32(ICPR)).toBe(0x301);
    bus.write32(ICPR, 0x100);
    expect(bus.read32(ISPR)).toBe(0x201);
  });

  it('IPR keeps bits [7:6] of each byte lane; each lane is one IRQ priority', () => {
    const s = createM0System();
    s.bus.write32(IPR0 + 4, 0xffff_7f40); // IRQ 4: 0x40, IRQ 5: 0x7f → 0x40, IRQ 6, 7: 0xc0
    expect(s.bus.read32(IPR0 + 4)).toBe(0xc0c0_4040);
    expect([4, 5, 6, 7].map((i) => s.scs.nvic.priorityOf(IRQ_BASE + i))).toEqual([64, 64, 192, 192]);
    expect(s.cpu.exceptionPriority(IRQ_BASE + 7)).toBe(192);
  });

  it('SHPR2 holds the SVCall priority, SHPR3 PendSV and SysTick', () => {
    const s = createM0System();
    s.bus.write32(SHPR2, 0xffff_ffff);
    s.bus.write32(SHPR3, 0x40ff_ffff);
    expect(s.bus.read32(SHPR2)).toBe(0xc000_0000);
    expect(s.bus.read32(SHPR3)).toBe(0x40c0_0000);
    expect(s.cpu.exceptionPriority(Exc.SVCall)).toBe(192);
    expect(s.cpu.exceptionPriority(Exc.PendSV)).toBe(192);
    expect(s.cpu.exceptionPriority(Exc.SysTick)).toBe(64);
    expect(s.cpu.exceptionPriority(Exc.HardFault)).toBe(-1);
  });

  it('ICSR: VECTPENDING ignores PRIMASK, ISRPENDING counts disabled IRQs, SET/CLR pairs act on PendSV and SysTick', () => {
    const s = createM0System();
    s.cpu.primask = 1;
    s.bus.write32(ISPR, 1 << 4); // disabled IRQ 4
    expect(s.bus.read32(ICSR)).toBe(1 << 22);
    s.bus.write32(ISER, 1 << 4);
    expect(s.bus.read32(ICSR)).toBe(((1 << 22) | ((IRQ_BASE + 4) << 12)) >>> 0);
    s.bus.write32(ICSR, (1 << 28) | (1 << 26));
    expect(s.bus.read32(ICSR) >>> 25).toBe(0b0101_0); // PENDSVSET (28), PENDSTSET (26)
    expect((s.bus.read32(ICSR) >>> 12) & 0x3f).toBe(Exc.PendSV); // same priority 0: lower number
    s.bus.write32(ICSR, (1 << 27) | (1 << 25));
    expect(s.bus.read32(ICSR) >>> 25).toBe(0);
  });
});

describe('AIRCR.SYSRESETREQ', () => {
  it('requests a reset after the current instruction only with VECTKEY 0x05FA', () => {
    const s = createM0System();
    s.log.mask = LogCat.GuestErrors;
    s.load(
      SYSTEM_ENTRY,
      'ldr r0, aircr\nldr r1, bad\nstr r1, [r0]\nldr r1, good\nstr r1, [r0]\nmovs r7, #1\nloop: b loop\n.align 2\naircr: .word 0xe000ed0c\nbad: .word 0x05fb0004\ngood: .word 0x05fa0004',
    );
    const requestedAt: number[] = [];
    s.scs.onSystemResetRequest = () => requestedAt.push(s.cpu.pc);
    s.runner.runFor(187); // three instructions of 62.5 ns: up to the bad store
    expect(requestedAt).toEqual([]);
    expect(s.logLines).toEqual([expect.stringContaining('without VECTKEY')]);
    s.runner.runFor(125);
    // The request ends the slice at the store and is served before the next instruction.
    expect(requestedAt).toEqual([SYSTEM_ENTRY + 10]);
  });
});

describe('snapshot', () => {
  it('restores enables, pending state, priorities and SCR', () => {
    const a = createM0System();
    a.bus.write32(ISER, 0x30);
    a.bus.write32(ISPR, 0x20);
    a.bus.write32(IPR0 + 4, 0x8000);
    a.bus.write32(SCR, 0x12);
    a.bus.write32(SHPR3, 0x4000_0000);
    const saved = JSON.parse(JSON.stringify(a.scs.saveState()));
    const b = createM0System();
    b.scs.loadState(saved);
    expect(b.bus.read32(ISER)).toBe(0x30);
    expect(b.bus.read32(ISPR)).toBe(0x20);
    expect(b.scs.nvic.priorityOf(IRQ_BASE + 5)).toBe(128);
    expect(b.scs.nvic.sleepOnExit).toBe(true);
    expect(b.scs.nvic.sevOnPend).toBe(true);
    expect(b.cpu.exceptionPriority(Exc.SysTick)).toBe(64);
    expect(b.scs.saveState()).toEqual(saved);
  });

  it('reset clears enables, pending state, priorities and SCR', () => {
    const s = createM0System();
    s.bus.write32(ISER, 1);
    s.bus.write32(ISPR, 1);
    s.bus.write32(IPR0, 0xc0);
    s.bus.write32(SCR, 0x2);
    s.scs.reset();
    expect([s.bus.read32(ISER), s.bus.read32(ISPR), s.bus.read32(IPR0), s.bus.read32(SCR)]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(s.scs.nvic.sleepOnExit).toBe(false);
  });
});

describe('machine integration', () => {
  it('installScs maps the SCS at 0xE000E000 and turns SYSRESETREQ into a guest reset', () => {
    const m = new NoneMachine({ mode: 'fast' }).init();
    const cpu = new CortexM0('cpu0', m.addressSpace);
    const scs = installScs(m, new SystemControlSpace(cpu, { systick: false }));
    expect(scs.path).toBe('/machine/scs');
    expect(m.addressSpace.read32(SCS_BASE + 0xd00)).toBe(0x410c_c200);
    const resets: boolean[] = [];
    m.events.on('reset', (guest) => resets.push(guest));
    m.addressSpace.write32(AIRCR, 0x05fa_0004);
    m.runFor(1);
    expect(resets).toEqual([true]);
  });
});

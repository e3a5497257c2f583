import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { findDeviceType } from '../../core/registry.js';
import {
  CAL_NS,
  CTIV_UNIT_NS,
  EV_HFCLKSTARTED,
  EV_LFCLKSTARTED,
  HFXO_START_NS,
  LFRC_START_NS,
  LFXO_START_NS,
  Nrf51Clock,
  RESETREAS_DOG,
  RESETREAS_SREQ,
} from './nrf51-clock.js';

// CLOCK
const HFCLKSTART = 0x000;
const HFCLKSTOP = 0x004;
const LFCLKSTART = 0x008;
const LFCLKSTOP = 0x00c;
const CAL = 0x010;
const CTSTART = 0x014;
const CTSTOP = 0x018;
const EV_HF = 0x100;
const EV_LF = 0x104;
const EV_DONE = 0x10c;
const EV_CTTO = 0x110;
const INTENSET = 0x304;
const HFCLKRUN = 0x408;
const HFCLKSTAT = 0x40c;
const LFCLKRUN = 0x414;
const LFCLKSTAT = 0x418;
const LFCLKSRCCOPY = 0x41c;
const LFCLKSRC = 0x518;
const CTIV = 0x538;
const XTALFREQ = 0x550;
// POWER
const RESETREAS = 0x400;
const RAMSTATUS = 0x428;
const SYSTEMOFF = 0x500;
const POFCON = 0x510;
const GPREGRET = 0x51c;
const RAMON = 0x524;
const RESET = 0x544;
const RAMONB = 0x554;
const DCDCEN = 0x578;
const DCDCFORCE = 0xa08;
// MPU
const PERR0 = 0x528;
const RLENR0 = 0x52c;
const PROTENSET0 = 0x600;
const PROTENSET1 = 0x604;
const DISABLEINDEBUG = 0x608;
const PROTBLOCKSIZE = 0x60c;

function make(logSpec = '') {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  if (logSpec) log.configure(logSpec);
  const dev = new Nrf51Clock();
  dev.realize({ clock, log });
  const r = dev.registers;
  return {
    dev,
    clock,
    lines,
    read: (o: number) => r.read(o, 4),
    write: (o: number, v: number) => r.write(o, v, 4),
  };
}

describe('nRF51 CLOCK', () => {
  it('resets with the CPU on the RC oscillator and both crystal clocks stopped', () => {
    const { dev, read } = make();
    expect(read(HFCLKRUN)).toBe(0);
    expect(read(HFCLKSTAT)).toBe(0x00010000);
    expect(read(LFCLKRUN)).toBe(0);
    expect(read(LFCLKSTAT)).toBe(0);
    expect(read(LFCLKSRC)).toBe(0);
    expect(read(XTALFREQ)).toBe(0xff);
    expect(dev.hfclkRunning).toBe(false);
    expect(dev.lfclkRunning).toBe(false);
    expect(dev.gpioOut('hfclk', 0).level).toBe(0);
    expect(dev.gpioOut('lfclk', 0).level).toBe(0);
  });

  it('starts the HF crystal 800 µs after HFCLKSTART, then sets HFCLKSTAT and HFCLKSTARTED', () => {
    const { dev, clock, read, write } = make();
    write(HFCLKSTART, 1);
    expect(read(HFCLKRUN)).toBe(1);
    clock.advanceTo(HFXO_START_NS - 1);
    expect(read(EV_HF)).toBe(0);
    expect(read(HFCLKSTAT)).toBe(0x00010000);
    clock.advanceTo(HFXO_START_NS);
    expect(read(EV_HF)).toBe(1);
    expect(read(HFCLKSTAT)).toBe(0x00010001);
    expect(dev.hfclkRunning).toBe(true);
    expect(dev.gpioOut('hfclk', 0).level).toBe(1);
  });

  it('HFCLKSTOP cancels a pending start and returns to the RC oscillator', () => {
    const { dev, clock, read, write } = make();
    write(HFCLKSTART, 1);
    clock.advanceTo(100_000);
    write(HFCLKSTOP, 1);
    clock.advanceTo(10 * HFXO_START_NS);
    expect(read(EV_HF)).toBe(0);
    expect(read(HFCLKRUN)).toBe(0);
    write(HFCLKSTART, 1);
    clock.advanceTo(11 * HFXO_START_NS);
    expect(dev.hfclkRunning).toBe(true);
    write(HFCLKSTOP, 1);
    expect(read(HFCLKSTAT)).toBe(0x00010000);
    expect(dev.gpioOut('hfclk', 0).level).toBe(0);
  });

  it('starts LFCLK from the RC oscillator 250 µs after LFCLKSTART with LFCLKSTAT bit 16 set', () => {
    const { dev, clock, read, write } = make();
    const levels: number[] = [];
    dev.gpioOut('lfclk', 0).watch((l) => levels.push(l));
    write(LFCLKSTART, 1);
    expect(read(LFCLKRUN)).toBe(1);
    expect(read(LFCLKSRCCOPY)).toBe(0);
    clock.advanceTo(LFRC_START_NS - 1);
    expect(read(LFCLKSTAT)).toBe(0);
    expect(read(EV_LF)).toBe(0);
    clock.advanceTo(LFRC_START_NS);
    expect(read(LFCLKSTAT)).toBe(0x00010000);
    expect(read(EV_LF)).toBe(1);
    expect(dev.lfclkRunning).toBe(true);
    expect(levels).toEqual([1]);
    write(LFCLKSTOP, 1);
    expect(read(LFCLKSTAT)).toBe(0);
    expect(read(LFCLKRUN)).toBe(0);
    expect(levels).toEqual([1, 0]);
  });

  it('starts LFCLK from the crystal after its longer start-up and reports SRC = Xtal', () => {
    const { clock, read, write } = make();
    write(LFCLKSRC, 1);
    write(LFCLKSTART, 1);
    expect(read(LFCLKSRCCOPY)).toBe(1);
    write(LFCLKSRC, 0); // changing LFCLKSRC afterwards does not affect the running start
    clock.advanceTo(LFXO_START_NS - 1);
    expect(read(LFCLKSTAT)).toBe(0);
    clock.advanceTo(LFXO_START_NS);
    expect(read(LFCLKSTAT)).toBe(0x00010001);
    expect(read(LFCLKSRCCOPY)).toBe(1);
  });

  it('reports the synthesized source in LFCLKSTAT.SRC', () => {
    const { clock, read, write } = make();
    write(LFCLKSRC, 2);
    write(LFCLKSTART, 1);
    clock.advanceBy(LFRC_START_NS);
    expect(read(LFCLKSTAT)).toBe(0x00010002);
  });

  it('reports STARTED at once when a start task hits a clock that already runs', () => {
    const { clock, read, write } = make();
    write(HFCLKSTART, 1);
    write(LFCLKSTART, 1);
    clock.advanceBy(HFXO_START_NS);
    write(EV_HF, 0);
    write(EV_LF, 0);
    write(HFCLKSTART, 1);
    write(LFCLKSTART, 1);
    expect(read(EV_HF)).toBe(1);
    expect(read(EV_LF)).toBe(1);
  });

  it('raises the POWER_CLOCK interrupt for STARTED events enabled in INTENSET', () => {
    const { dev, clock, write } = make();
    const irq = dev.gpioOut('', 0);
    write(INTENSET, 0b11);
    write(LFCLKSTART, 1);
    clock.advanceBy(LFRC_START_NS);
    expect(irq.level).toBe(1);
    write(EV_LF, 0);
    expect(irq.level).toBe(0);
  });

  it('pulses the STARTED event lines for the PPI', () => {
    const { dev, clock, write } = make();
    const hf: number[] = [];
    const lf: number[] = [];
    dev.eventLine(EV_HFCLKSTARTED).watch((l) => hf.push(l));
    dev.eventLine(EV_LFCLKSTARTED).watch((l) => lf.push(l));
    write(HFCLKSTART, 1);
    write(LFCLKSTART, 1);
    clock.advanceBy(HFXO_START_NS);
    expect(hf).toEqual([1, 0]);
    expect(lf).toEqual([1, 0]);
  });

  it('generates DONE 16 ms after CAL and CTTO after CTIV × 0.25 s; CTSTOP cancels the timer', () => {
    const { clock, read, write } = make();
    write(CAL, 1);
    clock.advanceTo(CAL_NS - 1);
    expect(read(EV_DONE)).toBe(0);
    clock.advanceTo(CAL_NS);
    expect(read(EV_DONE)).toBe(1);
    write(CTIV, 0xff);
    expect(read(CTIV)).toBe(0x7f);
    write(CTIV, 4);
    write(CTSTART, 1);
    clock.advanceBy(4 * CTIV_UNIT_NS - 1);
    expect(read(EV_CTTO)).toBe(0);
    clock.advanceBy(1);
    expect(read(EV_CTTO)).toBe(1);
    write(EV_CTTO, 0);
    write(CTSTART, 1);
    write(CTSTOP, 1);
    clock.advanceBy(10 * CTIV_UNIT_NS);
    expect(read(EV_CTTO)).toBe(0);
  });

  it('a reset stops the clocks and cancels pending start-ups', () => {
    const { dev, clock, read, write } = make();
    write(LFCLKSTART, 1);
    clock.advanceBy(LFRC_START_NS);
    write(HFCLKSTART, 1);
    dev.reset();
    clock.advanceBy(HFXO_START_NS);
    expect(read(EV_HF)).toBe(0);
    expect(read(LFCLKSTAT)).toBe(0);
    expect(dev.gpioOut('lfclk', 0).level).toBe(0);
  });

  it('round-trips its state with a pending LFCLK start-up', () => {
    const a = make();
    a.write(INTENSET, 2);
    a.write(HFCLKSTART, 1);
    a.clock.advanceTo(HFXO_START_NS);
    a.write(LFCLKSRC, 1);
    a.write(LFCLKSTART, 1);
    a.clock.advanceTo(HFXO_START_NS + 1000);
    const saved = JSON.parse(JSON.stringify(a.dev.saveState()));
    const b = make();
    b.clock.advanceTo(HFXO_START_NS + 1000);
    b.dev.loadState(saved);
    expect(b.dev.saveState()).toEqual(saved);
    expect(b.dev.hfclkRunning).toBe(true);
    expect(b.dev.gpioOut('hfclk', 0).level).toBe(1);
    b.clock.advanceTo(HFXO_START_NS + LFXO_START_NS);
    expect(b.read(LFCLKSTAT)).toBe(0x00010001);
    expect(b.dev.gpioOut('', 0).level).toBe(1);
  });
});

describe('nRF51 POWER', () => {
  it('has the documented reset values', () => {
    const { read } = make();
    expect(read(RESETREAS)).toBe(0);
    expect(read(RAMON)).toBe(3);
    expect(read(RAMONB)).toBe(3);
    expect(read(RAMSTATUS)).toBe(3);
    expect(read(GPREGRET)).toBe(0);
    expect(read(POFCON)).toBe(0);
    expect(read(RESET)).toBe(0);
    expect(read(DCDCEN)).toBe(0);
    expect(read(DCDCFORCE)).toBe(0);
  });

  it('accumulates reset reasons set by the machine, keeps them across a system reset, and clears them by writing 1', () => {
    const { dev, read, write } = make();
    dev.setResetReason(RESETREAS_SREQ);
    dev.reset();
    dev.setResetReason(RESETREAS_DOG);
    expect(read(RESETREAS)).toBe(RESETREAS_SREQ | RESETREAS_DOG);
    write(RESETREAS, RESETREAS_SREQ);
    expect(read(RESETREAS)).toBe(RESETREAS_DOG);
    write(RESETREAS, 0);
    expect(read(RESETREAS)).toBe(RESETREAS_DOG);
    dev.powerOnReset();
    expect(read(RESETREAS)).toBe(0);
  });

  it('retains GPREGRET and RESET across system resets but not across a power-on reset', () => {
    const { dev, read, write } = make();
    write(GPREGRET, 0x1b5);
    write(RESET, 1);
    write(POFCON, 7);
    expect(read(GPREGRET)).toBe(0xb5);
    dev.reset();
    expect(read(GPREGRET)).toBe(0xb5);
    expect(read(RESET)).toBe(1);
    expect(read(POFCON)).toBe(0);
    dev.powerOnReset();
    expect(read(GPREGRET)).toBe(0);
    expect(read(RESET)).toBe(0);
  });

  it('calls the onSystemOff hook when firmware writes 1 to SYSTEMOFF', () => {
    const { dev, read, write } = make();
    let calls = 0;
    dev.onSystemOff = () => calls++;
    write(SYSTEMOFF, 0);
    expect(calls).toBe(0);
    write(SYSTEMOFF, 1);
    expect(calls).toBe(1);
    expect(read(SYSTEMOFF)).toBe(0);
  });

  it('records CONSTLAT/LOWPWR and stores DCDC and POFCON settings', () => {
    const { dev, read, write } = make();
    write(0x078, 1);
    expect(dev.constantLatency).toBe(true);
    write(0x07c, 1);
    expect(dev.constantLatency).toBe(false);
    write(DCDCEN, 1);
    write(DCDCFORCE, 0xff);
    write(POFCON, 0x5);
    expect([read(DCDCEN), read(DCDCFORCE), read(POFCON)]).toEqual([1, 3, 5]);
  });

  it('RAMSTATUS follows RAMON, and powering RAM down is logged under -d unimp', () => {
    const { read, write, lines } = make('unimp');
    write(RAMON, 0x00030001);
    expect(read(RAMON)).toBe(0x00030001);
    expect(read(RAMSTATUS)).toBe(1);
    write(RAMON, 0x00030003);
    expect(lines).toEqual([
      'nrf51_clock: RAMON = 0x00030001 powers RAM down: not modelled (RAM keeps its contents)',
    ]);
  });
});

describe('nRF51 MPU', () => {
  it('stores the protection registers, PROTENSET bits sticking until reset', () => {
    const { dev, read, write } = make();
    expect(read(DISABLEINDEBUG)).toBe(1);
    write(PERR0, 0x00000842);
    write(RLENR0, 0x18000);
    write(PROTENSET0, 0x0000000f);
    write(PROTENSET0, 0x00000030);
    write(PROTENSET0, 0);
    write(PROTENSET1, 0x80000000);
    write(DISABLEINDEBUG, 0);
    write(PROTBLOCKSIZE, 0);
    expect(read(PERR0)).toBe(0x842);
    expect(read(RLENR0)).toBe(0x18000);
    expect(read(PROTENSET0)).toBe(0x3f);
    expect(read(PROTENSET1)).toBe(0x80000000);
    expect(read(DISABLEINDEBUG)).toBe(0);
    dev.reset();
    expect(read(PROTENSET0)).toBe(0);
    expect(read(RLENR0)).toBe(0);
  });

  it('logs that protection is not enforced under -d unimp', () => {
    const { write, lines } = make('unimp');
    write(RLENR0, 0x18000);
    write(PROTENSET0, 1);
    expect(lines).toEqual([
      'nrf51_clock: MPU RLENR0 = 0x00018000 stored; memory protection is not enforced',
      'nrf51_clock: MPU PROTENSET0 = 0x00000001 stored; memory protection is not enforced',
    ]);
  });

  it('is registered as nrf51_soc.clock', () => {
    expect(findDeviceType('nrf51_soc.clock')?.userCreatable).toBe(false);
  });
});

/**
 * nRF51 WDT — watchdog timer (nRF51 Series Reference Manual v3.0, chapter "WDT — Watchdog timer").
 * The nRF51822 has one at 0x40010000 (ID 16).
 *
 * Interface
 * - MMIO region 0 (4 KiB): task START 0x000; event TIMEOUT 0x100; INTENSET/INTENCLR 0x304/0x308
 *   (TIMEOUT bit 0); RUNSTATUS 0x400 (1 while running); REQSTATUS 0x404 (bit n: RR[n] still has to
 *   be written before the next reload; reset 1); CRV 0x504 (reload value in 32.768 kHz cycles,
 *   reset 0xFFFFFFFF); RREN 0x508 (RR[n] enables, reset 1); CONFIG 0x50C (SLEEP bit 0, reset 1 =
 *   run while the CPU sleeps; HALT bit 3, 0 = pause while halted by the debugger); RR[0..7]
 *   0x600+4n (write 0x6E524635); POWER 0xFFC.
 * - Lines: the common nRF51 peripheral lines (IRQ `''[0]`, `event[0]` = TIMEOUT, `task[0]` =
 *   START) and the output `reset[0]`, pulsed when the watchdog resets the system (the machine
 *   wires it to a system reset, which also resets the WDT).
 *
 * Behaviour: START loads the down-counter with CRV; it times out (CRV + 1) / 32768 s later, on
 * the LFCLK grid of the virtual clock (edge k at k / 32768 s). Writing 0x6E524635 to every RR[n]
 * enabled in RREN reloads it. At the timeout the TIMEOUT event is generated and the system is
 * reset: at once, or two 32.768 kHz cycles later when the TIMEOUT interrupt is enabled (so its
 * handler can run). Once started the watchdog cannot be stopped, and CRV, RREN and CONFIG ignore
 * writes (logged under `-d guest_errors`). The WDT runs on its own 32.768 kHz oscillator: it does
 * not depend on the CLOCK block's LFCLK.
 *
 * Accuracy
 * - Modelled: START, TIMEOUT with exact virtual timing, reload requests, REQSTATUS, RUNSTATUS,
 *   the configuration lock, the two-cycle reset delay with the interrupt enabled, the reset line.
 * - CONFIG.SLEEP = 0 (pause while the CPU sleeps) is not modelled: the device cannot see CPU sleep,
 *   so the watchdog keeps counting; starting it so configured is logged under `-d unimp`.
 *   CONFIG.HALT needs no model for "pause" (virtual time stands still while a debugger halts the
 *   machine); HALT = 1 (keep running while halted) is therefore not modelled and logged likewise.
 * - After the reset pulse, if nothing resets the WDT, it stops counting (RUNSTATUS stays 1).
 * - CRV values below the manual's minimum 0xF are used as written (logged as guest errors).
 */
import type { Timer } from '../../core/clock.js';
import { mulDivCeil, mulDivFloor } from '../../core/counter.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import type { OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import type { RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** The value that must be written to RR[n] to request a reload. */
export const NRF51_WDT_RELOAD_VALUE = 0x6e52_4635;
const RR_COUNT = 8;
const CRV_MIN = 0xf;
const CONFIG_SLEEP_RUN = 1 << 0;
const CONFIG_HALT_RUN = 1 << 3;
const INTEN_TIMEOUT = 1 << 0;
const EV_TIMEOUT = 0;
/** 32768 Hz edges per ns as a reduced fraction (64 / 1953125). */
const LF_NUM = 64;
const LF_DEN = 1_953_125;
/** 32.768 kHz cycles between TIMEOUT and the reset when the interrupt is enabled. */
const RESET_DELAY_CYCLES = 2;

export class Nrf51Wdt extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.wdt';
  private timeoutTimer!: Timer;
  private resetTimer!: Timer;
  private resetLine!: OutputLine;
  private running = false;
  /** The 32 kHz edge at which the counter was last loaded with CRV. */
  private reloadEdge = 0;
  private crvIndex = 0;
  private rrenIndex = 0;
  private reqIndex = 0;
  private runIndex = 0;
  private intenRegIndex = 0;

  constructor() {
    super(Nrf51Wdt.typeName);
  }

  protected traceName(): string {
    return 'nrf51_wdt';
  }

  protected layout(): NrfPeripheralLayout {
    const registers: RegisterDef[] = [
      { name: 'RUNSTATUS', offset: 0x400, writeMask: 0 },
      { name: 'REQSTATUS', offset: 0x404, reset: 1, writeMask: 0 },
      { name: 'CRV', offset: 0x504, reset: 0xffff_ffff, onWrite: (v, o) => this.configWritten('CRV', v, o) },
      {
        name: 'RREN',
        offset: 0x508,
        reset: 1,
        writeMask: 0xff,
        onWrite: (v, o) => this.configWritten('RREN', v, o),
      },
      {
        name: 'CONFIG',
        offset: 0x50c,
        reset: CONFIG_SLEEP_RUN,
        writeMask: CONFIG_SLEEP_RUN | CONFIG_HALT_RUN,
        onWrite: (v, o) => this.configWritten('CONFIG', v, o),
      },
    ];
    for (let n = 0; n < RR_COUNT; n++) {
      // Write-only: a task-style register hands the written value over and reads 0.
      registers.push({
        name: `RR${n}`,
        offset: 0x600 + 4 * n,
        task: true,
        onWrite: (v) => this.reloadRequest(n, v),
      });
    }
    return {
      tasks: [{ name: 'START', offset: 0x000, run: () => this.start() }],
      events: [{ name: 'TIMEOUT', offset: 0x100 }],
      hasPower: true,
      registers,
    };
  }

  protected override onRealizePeripheral(): void {
    this.crvIndex = this.regs.index('CRV');
    this.rrenIndex = this.regs.index('RREN');
    this.reqIndex = this.regs.index('REQSTATUS');
    this.runIndex = this.regs.index('RUNSTATUS');
    this.intenRegIndex = this.regs.index('INTEN');
    this.timeoutTimer = this.clock.createTimer(`${this.path}.timeout`, () => this.timeout());
    this.resetTimer = this.clock.createTimer(`${this.path}.reset`, () => this.resetSystem());
    this.resetLine = this.addGpioOut('reset', 1)[0]!;
  }

  protected onResetPeripheral(): void {
    this.running = false;
    this.reloadEdge = 0;
    this.timeoutTimer.cancel();
    this.resetTimer.cancel();
  }

  /** Whether the watchdog has been started (RUNSTATUS). */
  get isRunning(): boolean {
    return this.running;
  }

  private edgeNow(): number {
    return mulDivFloor(this.clock.now, LF_NUM, LF_DEN);
  }

  private armTimeout(): void {
    const cycles = this.regs.value(this.crvIndex) + 1;
    this.timeoutTimer.modAbs(mulDivCeil(this.reloadEdge + cycles, LF_DEN, LF_NUM));
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.regs.setValue(this.runIndex, 1);
    this.regs.setValue(this.reqIndex, this.regs.value(this.rrenIndex));
    this.reloadEdge = this.edgeNow();
    const config = this.regs.get('CONFIG');
    const log = this.log;
    if ((config & CONFIG_SLEEP_RUN) === 0 && log.on(LogCat.Unimp)) {
      log.write(`${this.path}: CONFIG.SLEEP=Pause not modelled; the watchdog counts while the CPU sleeps`);
    }
    if ((config & CONFIG_HALT_RUN) !== 0 && log.on(LogCat.Unimp)) {
      log.write(`${this.path}: CONFIG.HALT=Run not modelled; virtual time stops while the debugger halts`);
    }
    if (this.regs.value(this.crvIndex) < CRV_MIN && log.on(LogCat.GuestErrors)) {
      log.write(`${this.path}: CRV ${this.regs.value(this.crvIndex)} is below the minimum ${CRV_MIN}`);
    }
    this.armTimeout();
  }

  private configWritten(name: string, value: number, old: number): void {
    if (!this.running || value === old) return;
    this.regs.set(name, old);
    if (this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: ${name} written while the watchdog runs; ignored`);
    }
  }

  private reloadRequest(n: number, value: number): void {
    if (!this.running || value >>> 0 !== NRF51_WDT_RELOAD_VALUE) return;
    const rren = this.regs.value(this.rrenIndex);
    if ((rren & (1 << n)) === 0) return;
    const pending = this.regs.value(this.reqIndex) & ~(1 << n);
    if ((pending & rren) !== 0) {
      this.regs.setValue(this.reqIndex, pending);
      return;
    }
    // Every enabled register has been written: reload the counter.
    this.regs.setValue(this.reqIndex, rren);
    if (this.timeoutTimer.pending) {
      this.reloadEdge = this.edgeNow();
      this.armTimeout();
    }
  }

  private timeout(): void {
    this.generateEvent(EV_TIMEOUT);
    if (this.regs.value(this.intenRegIndex) & INTEN_TIMEOUT) {
      const edge = mulDivFloor(this.clock.now, LF_NUM, LF_DEN);
      this.resetTimer.modAbs(mulDivCeil(edge + RESET_DELAY_CYCLES, LF_DEN, LF_NUM));
    } else {
      this.resetSystem();
    }
  }

  private resetSystem(): void {
    this.resetLine.pulse();
  }

  // ---- snapshot --------------------------------------------------------------------------------

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      running: this.running,
      reloadEdge: this.reloadEdge,
      timeoutAt: this.timeoutTimer.pending ? this.timeoutTimer.expires : -1,
      resetAt: this.resetTimer.pending ? this.resetTimer.expires : -1,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.reloadEdge = stateField(state, 'reloadEdge', isNum);
    const timeoutAt = stateField(state, 'timeoutAt', isNum);
    if (timeoutAt >= 0) this.timeoutTimer.modAbs(timeoutAt);
    else this.timeoutTimer.cancel();
    const resetAt = stateField(state, 'resetAt', isNum);
    if (resetAt >= 0) this.resetTimer.modAbs(resetAt);
    else this.resetTimer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Wdt.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 WDT watchdog timer',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Wdt(),
});

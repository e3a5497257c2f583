/**
 * nRF51 QDEC: the quadrature decoder (nRF51 Series Reference Manual v3.0, chapter "QDEC —
 * Quadrature decoder"; instance at 0x40012000, peripheral ID 18).
 *
 * Interface
 * - MMIO region 0: TASKS_START 0x000, TASKS_STOP 0x004, TASKS_READCLRACC 0x008;
 *   EVENTS_SAMPLERDY 0x100, EVENTS_REPORTRDY 0x104, EVENTS_ACCOF 0x108; SHORTS 0x200 (bit 0
 *   REPORTRDY_READCLRACC, bit 1 SAMPLERDY_STOP); INTENSET/INTENCLR 0x304/0x308; ENABLE 0x500;
 *   LEDPOL 0x504; SAMPLEPER 0x508 (2:0, 128 µs << n); SAMPLE 0x50C (signed, read-only);
 *   REPORTPER 0x510 (2:0: 10, 40, 80 ... 280 samples); ACC 0x514, ACCREAD 0x518 (signed,
 *   read-only); PSELLED 0x51C, PSELA 0x520, PSELB 0x524 (reset 0xFFFFFFFF = disconnected);
 *   DBFEN 0x528; LEDPRE 0x540 (8:0, reset 16 µs); ACCDBL 0x544, ACCDBLREAD 0x548 (3:0);
 *   POWER 0xFFC.
 * - Lines: the IRQ, `event[0..2]` for the PPI, `task[0..2]`.
 * - Board input: `rotate(steps)` queues signed quadrature transitions (positive = phase A
 *   leading). `pendingSteps` tells how many are still queued.
 *
 * Behaviour: while started (START with ENABLE = 1) the decoder samples every SAMPLEPER on the
 * virtual clock. Each sample takes at most one queued transition: SAMPLE becomes -1, 0 or 1,
 * SAMPLERDY is generated, and ACC accumulates it (range -1024..1023; a sample that would leave
 * that range is dropped and ACCOF is generated). After REPORTPER samples, REPORTRDY is
 * generated if ACC is not 0. READCLRACC copies ACC/ACCDBL to ACCREAD/ACCDBLREAD and clears
 * them. STOP stops sampling.
 *
 * Accuracy: the phase inputs come from `rotate()`, not from the pins named by PSELA/PSELB, and
 * the LED output (PSELLED, LEDPOL, LEDPRE) is not driven: a START with any of those pins
 * connected is logged once per START under -d unimp. Transitions are delivered one per sample,
 * so double transitions (SAMPLE = 2, ACCDBL) never occur; the debounce filter (DBFEN) has
 * nothing to filter. START while disabled is ignored and logged under -d guest_errors.
 */
import type { Timer } from '../../core/clock.js';
import { isBool, isNum, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** Sample period in ns for SAMPLEPER 0-7. */
export const QDEC_SAMPLE_NS = [128, 256, 512, 1024, 2048, 4096, 8192, 16384].map((us) => us * 1000);
/** Samples per report for REPORTPER 0-7. */
export const QDEC_REPORT_SAMPLES = [10, 40, 80, 120, 160, 200, 240, 280];

const EV_SAMPLERDY = 0;
const EV_REPORTRDY = 1;
const EV_ACCOF = 2;
const DISCONNECTED = 0xffff_ffff;

export class Nrf51Qdec extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.qdec';
  private timer!: Timer;
  private running = false;
  private pending = 0;
  private samplesSinceReport = 0;
  private ix = {
    enable: 0,
    sampleper: 0,
    sample: 0,
    reportper: 0,
    acc: 0,
    accread: 0,
    accdbl: 0,
    accdblread: 0,
    pselled: 0,
    psela: 0,
    pselb: 0,
  };

  constructor() {
    super(Nrf51Qdec.typeName);
  }

  /** Queues `steps` quadrature transitions (negative = the other direction). */
  rotate(steps: number): void {
    if (!Number.isSafeInteger(steps))
      throw new UserError(`${this.path}: rotate() needs an integer step count`);
    this.pending += steps;
  }

  /** Transitions queued by `rotate()` and not yet sampled. */
  get pendingSteps(): number {
    return this.pending;
  }

  protected traceName(): string {
    return 'nrf51_qdec';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
        { name: 'READCLRACC', offset: 0x008, run: () => this.readClearAcc() },
      ],
      events: [
        { name: 'SAMPLERDY', offset: 0x100 },
        { name: 'REPORTRDY', offset: 0x104 },
        { name: 'ACCOF', offset: 0x108 },
      ],
      shorts: [
        { bit: 0, event: 'REPORTRDY', task: 'READCLRACC' },
        { bit: 1, event: 'SAMPLERDY', task: 'STOP' },
      ],
      hasPower: true,
      registers: [
        { name: 'ENABLE', offset: 0x500, writeMask: 1 },
        { name: 'LEDPOL', offset: 0x504, writeMask: 1 },
        { name: 'SAMPLEPER', offset: 0x508, writeMask: 7 },
        { name: 'SAMPLE', offset: 0x50c, writeMask: 0 },
        { name: 'REPORTPER', offset: 0x510, writeMask: 7 },
        { name: 'ACC', offset: 0x514, writeMask: 0 },
        { name: 'ACCREAD', offset: 0x518, writeMask: 0 },
        { name: 'PSELLED', offset: 0x51c, reset: DISCONNECTED },
        { name: 'PSELA', offset: 0x520, reset: DISCONNECTED },
        { name: 'PSELB', offset: 0x524, reset: DISCONNECTED },
        { name: 'DBFEN', offset: 0x528, writeMask: 1 },
        { name: 'LEDPRE', offset: 0x540, reset: 0x10, writeMask: 0x1ff },
        { name: 'ACCDBL', offset: 0x544, writeMask: 0 },
        { name: 'ACCDBLREAD', offset: 0x548, writeMask: 0 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    const r = this.regs;
    this.ix = {
      enable: r.index('ENABLE'),
      sampleper: r.index('SAMPLEPER'),
      sample: r.index('SAMPLE'),
      reportper: r.index('REPORTPER'),
      acc: r.index('ACC'),
      accread: r.index('ACCREAD'),
      accdbl: r.index('ACCDBL'),
      accdblread: r.index('ACCDBLREAD'),
      pselled: r.index('PSELLED'),
      psela: r.index('PSELA'),
      pselb: r.index('PSELB'),
    };
    this.timer = this.clock.createTimer(`${this.path}:sample`, () => this.takeSample());
  }

  protected onResetPeripheral(): void {
    this.timer.cancel();
    this.running = false;
    this.samplesSinceReport = 0;
  }

  private samplePeriod(): number {
    return QDEC_SAMPLE_NS[this.regs.value(this.ix.sampleper) & 7]!;
  }

  private start(): void {
    if ((this.regs.value(this.ix.enable) & 1) === 0) {
      if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: START while ENABLE = 0: ignored`);
      return;
    }
    if (this.log.on(LogCat.Unimp)) {
      const r = this.regs;
      if (r.value(this.ix.psela) !== DISCONNECTED || r.value(this.ix.pselb) !== DISCONNECTED) {
        this.log.write(
          `${this.path}: phase inputs PSELA/PSELB are not read from pins (motion comes from rotate())`,
        );
      }
      if (r.value(this.ix.pselled) !== DISCONNECTED) {
        this.log.write(`${this.path}: LED output PSELLED/LEDPOL/LEDPRE is not modelled`);
      }
    }
    if (this.running) return;
    this.running = true;
    this.timer.modRel(this.samplePeriod());
  }

  private stop(): void {
    this.running = false;
    this.timer.cancel();
  }

  private readClearAcc(): void {
    const r = this.regs;
    r.setValue(this.ix.accread, r.value(this.ix.acc));
    r.setValue(this.ix.accdblread, r.value(this.ix.accdbl));
    r.setValue(this.ix.acc, 0);
    r.setValue(this.ix.accdbl, 0);
  }

  private takeSample(): void {
    const r = this.regs;
    const step = this.pending > 0 ? 1 : this.pending < 0 ? -1 : 0;
    this.pending -= step;
    r.setValue(this.ix.sample, step >>> 0);
    // Re-arm first: a SAMPLERDY_STOP shortcut cancels it.
    this.timer.modRel(this.samplePeriod());
    this.generateEvent(EV_SAMPLERDY);
    const acc = (r.value(this.ix.acc) | 0) + step;
    if (acc > 1023 || acc < -1024) this.generateEvent(EV_ACCOF);
    else r.setValue(this.ix.acc, acc >>> 0);
    this.samplesSinceReport++;
    if (this.samplesSinceReport >= QDEC_REPORT_SAMPLES[r.value(this.ix.reportper) & 7]!) {
      this.samplesSinceReport = 0;
      if (r.value(this.ix.acc) !== 0) this.generateEvent(EV_REPORTRDY);
    }
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      running: this.running,
      pending: this.pending,
      samplesSinceReport: this.samplesSinceReport,
      expires: this.timer.pending ? this.timer.expires : -1,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.pending = stateField(state, 'pending', isNum);
    this.samplesSinceReport = stateField(state, 'samplesSinceReport', isNum);
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Qdec.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 quadrature decoder',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Qdec(),
});

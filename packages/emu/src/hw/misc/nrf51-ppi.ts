/**
 * nRF51 PPI: programmable peripheral interconnect (nRF51 Series Reference Manual v3.0, chapter
 * "PPI — Programmable peripheral interconnect"). Type `nrf51_soc.ppi`, at 0x4001F000, ID 31.
 *
 * Interface (besides the common nRF51 peripheral interface, see Nrf51Peripheral)
 * - Tasks CHG[0..3].EN at 0x000 + 8n and CHG[0..3].DIS at 0x004 + 8n: enable / disable every
 *   channel of group n (the PPI can trigger them itself). No events.
 * - CHEN 0x500, CHENSET 0x504, CHENCLR 0x508: channel enables; bits 0-15 are the programmable
 *   channels, bits 20-31 the fixed ones; bits 16-19 (no such channels on the nRF51) read 0.
 * - CH[0..15].EEP 0x510 + 8n, CH[0..15].TEP 0x514 + 8n: event and task end-point addresses.
 * - CHG[0..3] 0x800 + 4n: channel group masks (same bits as CHEN).
 * - Fixed channels 20-31: end points wired in hardware (`FIXED_CHANNELS`); the nRF51 has no
 *   registers showing them, `channelEndpoints(ch)` reports them.
 * - `setResolver(resolver)`: the SoC's map from an address to a peripheral's event output line
 *   or task input line (`peripheralResolver` builds one from Nrf51Peripheral blocks).
 * - Input lines `channel-event[0..31]`: where an enabled channel's event line is connected; a
 *   rising level there triggers the channel's task.
 *
 * Behaviour: an enabled channel whose EEP and TEP both resolve connects the event line to the
 * task: every time the event is generated, the task runs, synchronously. Wiring is recomputed
 * whenever CHEN, EEP, TEP or the resolver change. Enabled channels with a non-zero end point that
 * names no event/task register are logged under `-d guest_errors` (once per configuration).
 *
 * Accuracy: the chip synchronises PPI signals to the 16 MHz clock (up to one cycle of delay);
 * here the task runs at once. A channel that re-triggers itself (its task generates its own event
 * again, directly or through other channels) would oscillate at 16 MHz on the chip and recurse
 * forever here: the nested firing is dropped and logged under `-d guest_errors`. The block has no
 * interrupt; INTENSET/INTENCLR of the common interface read 0 (writes are logged under
 * `-d guest_errors` as writes to read-only bits).
 */

import { UserError } from '../../core/errors.js';
import type { InputLine, OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import type { RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';
import {
  Nrf51Peripheral,
  type NrfPeripheralLayout,
  type NrfPpiEndpoints,
  type NrfTaskDef,
} from '../core/nrf51-peripheral.js';

/** How the PPI finds the line behind an end-point address (implemented by the SoC). */
export interface Nrf51PpiResolver {
  /** The event output line of the EVENTS_ register at `addr`, or null. */
  eventAt(addr: number): OutputLine | null;
  /** The task input line of the TASKS_ register at `addr`, or null. */
  taskAt(addr: number): InputLine | null;
}

export const PPI_CHANNELS = 32;
export const PPI_PROGRAMMABLE_CHANNELS = 16;
export const PPI_GROUPS = 4;
/** Channels that exist: 0-15 and 20-31. */
const CHANNEL_MASK = 0xfff0_ffff;
const REG_CHEN = 0x500;
const REG_CH_EEP = 0x510;
const REG_CHG = 0x800;

const TIMER0 = 0x4000_8000;
const RADIO = 0x4000_1000;
const RTC0 = 0x4000_b000;
const AAR_CCM = 0x4000_f000;

/** The pre-programmed channels 20-31 (manual, table "Pre-programmed channels"). */
export const FIXED_CHANNELS: ReadonlyArray<{ channel: number; eep: number; tep: number; what: string }> = [
  { channel: 20, eep: TIMER0 + 0x140, tep: RADIO + 0x000, what: 'TIMER0 COMPARE[0] -> RADIO TXEN' },
  { channel: 21, eep: TIMER0 + 0x140, tep: RADIO + 0x004, what: 'TIMER0 COMPARE[0] -> RADIO RXEN' },
  { channel: 22, eep: TIMER0 + 0x144, tep: RADIO + 0x010, what: 'TIMER0 COMPARE[1] -> RADIO DISABLE' },
  { channel: 23, eep: RADIO + 0x128, tep: AAR_CCM + 0x000, what: 'RADIO BCMATCH -> AAR START' },
  { channel: 24, eep: RADIO + 0x100, tep: AAR_CCM + 0x000, what: 'RADIO READY -> CCM KSGEN' },
  { channel: 25, eep: RADIO + 0x104, tep: AAR_CCM + 0x004, what: 'RADIO ADDRESS -> CCM CRYPT' },
  { channel: 26, eep: RADIO + 0x104, tep: TIMER0 + 0x044, what: 'RADIO ADDRESS -> TIMER0 CAPTURE[1]' },
  { channel: 27, eep: RADIO + 0x10c, tep: TIMER0 + 0x048, what: 'RADIO END -> TIMER0 CAPTURE[2]' },
  { channel: 28, eep: RTC0 + 0x140, tep: RADIO + 0x000, what: 'RTC0 COMPARE[0] -> RADIO TXEN' },
  { channel: 29, eep: RTC0 + 0x140, tep: RADIO + 0x004, what: 'RTC0 COMPARE[0] -> RADIO RXEN' },
  { channel: 30, eep: RTC0 + 0x140, tep: TIMER0 + 0x00c, what: 'RTC0 COMPARE[0] -> TIMER0 CLEAR' },
  { channel: 31, eep: RTC0 + 0x140, tep: TIMER0 + 0x000, what: 'RTC0 COMPARE[0] -> TIMER0 START' },
];

function channelExists(ch: number): boolean {
  return Number.isInteger(ch) && ch >= 0 && ch < PPI_CHANNELS && ((CHANNEL_MASK >>> ch) & 1) !== 0;
}

export class Nrf51Ppi extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.ppi';
  private resolver: Nrf51PpiResolver | null = null;
  private chenIdx = 0;
  private eepIdx = new Int32Array(PPI_PROGRAMMABLE_CHANNELS);
  private tepIdx = new Int32Array(PPI_PROGRAMMABLE_CHANNELS);
  private chgIdx = new Int32Array(PPI_GROUPS);
  private channelInputs: InputLine[] = [];
  /** The event line each channel listens to and the task line it drives (null: not wired). */
  private readonly chEvent: Array<OutputLine | null> = new Array<OutputLine | null>(PPI_CHANNELS).fill(null);
  private readonly chTask: Array<InputLine | null> = new Array<InputLine | null>(PPI_CHANNELS).fill(null);
  /** The configuration each channel was last wired for (enabled, EEP, TEP), to skip no-op rewires. */
  private readonly wiredEnabled = new Uint8Array(PPI_CHANNELS);
  private readonly wiredEep = new Uint32Array(PPI_CHANNELS);
  private readonly wiredTep = new Uint32Array(PPI_CHANNELS);
  /** Channels whose task is running now (re-entry guard). */
  private readonly firing = new Uint8Array(PPI_CHANNELS);
  /**
   * Channels connected while their event line was in the middle of a pulse (a channel enabled by
   * a task that this very event triggered): that pulse happened before the channel existed, so it
   * is ignored until the line goes low again.
   */
  private readonly midPulse = new Uint8Array(PPI_CHANNELS);

  constructor() {
    super(Nrf51Ppi.typeName);
  }

  protected traceName(): string {
    return 'nrf51_ppi';
  }

  protected layout(): NrfPeripheralLayout {
    const tasks: NrfTaskDef[] = [];
    for (let g = 0; g < PPI_GROUPS; g++) {
      tasks.push({ name: `CHG[${g}].EN`, offset: 8 * g, run: () => this.groupTask(g, true) });
      tasks.push({ name: `CHG[${g}].DIS`, offset: 8 * g + 4, run: () => this.groupTask(g, false) });
    }
    const rewire = () => this.rewireAll(false);
    const registers: RegisterDef[] = [
      { name: 'CHEN', offset: REG_CHEN, writeMask: CHANNEL_MASK, onWrite: rewire },
      { name: 'CHENSET', offset: REG_CHEN + 4, setOf: 'CHEN' },
      { name: 'CHENCLR', offset: REG_CHEN + 8, clearOf: 'CHEN' },
    ];
    for (let n = 0; n < PPI_PROGRAMMABLE_CHANNELS; n++) {
      registers.push({ name: `CH[${n}].EEP`, offset: REG_CH_EEP + 8 * n, onWrite: rewire });
      registers.push({ name: `CH[${n}].TEP`, offset: REG_CH_EEP + 8 * n + 4, onWrite: rewire });
    }
    for (let g = 0; g < PPI_GROUPS; g++) {
      registers.push({ name: `CHG[${g}]`, offset: REG_CHG + 4 * g, writeMask: CHANNEL_MASK });
    }
    return { tasks, events: [], hasInten: false, hasPower: false, registers };
  }

  protected override onRealizePeripheral(): void {
    this.chenIdx = this.regs.index('CHEN');
    for (let n = 0; n < PPI_PROGRAMMABLE_CHANNELS; n++) {
      this.eepIdx[n] = this.regs.index(`CH[${n}].EEP`);
      this.tepIdx[n] = this.regs.index(`CH[${n}].TEP`);
    }
    for (let g = 0; g < PPI_GROUPS; g++) this.chgIdx[g] = this.regs.index(`CHG[${g}]`);
    this.channelInputs = this.addGpioIn('channel-event', PPI_CHANNELS, (level, ch) => {
      if (level <= 0) this.midPulse[ch] = 0;
      else if (!this.midPulse[ch]) this.fire(ch);
    });
  }

  protected onResetPeripheral(): void {
    this.rewireAll(false);
  }

  protected override loadPeripheralState(): void {
    this.rewireAll(false);
  }

  /** Installs the SoC's address resolver (null: nothing is wired) and rewires every channel. */
  setResolver(resolver: Nrf51PpiResolver | null): void {
    this.resolver = resolver;
    if (this.realized) this.rewireAll(true);
  }

  /** Channel `ch`'s end points: the EEP/TEP registers, or the fixed ones for channels 20-31. */
  channelEndpoints(ch: number): { eep: number; tep: number } {
    if (!channelExists(ch)) throw new UserError(`${this.path}: no PPI channel ${ch}`);
    if (ch < PPI_PROGRAMMABLE_CHANNELS) {
      return { eep: this.regs.value(this.eepIdx[ch]!), tep: this.regs.value(this.tepIdx[ch]!) };
    }
    const fixed = FIXED_CHANNELS[ch - 20]!;
    return { eep: fixed.eep, tep: fixed.tep };
  }

  /** Whether channel `ch` is connected (enabled, and both end points resolve). */
  channelWired(ch: number): boolean {
    return this.chEvent[ch] != null && this.chTask[ch] != null;
  }

  private groupTask(group: number, enable: boolean): void {
    const mask = this.regs.value(this.chgIdx[group]!);
    const chen = this.regs.value(this.chenIdx);
    this.regs.setValue(this.chenIdx, (enable ? chen | mask : chen & ~mask) >>> 0);
    this.rewireAll(false);
  }

  private fire(ch: number): void {
    const task = this.chTask[ch];
    if (!task) return;
    if (this.firing[ch]) {
      if (this.log.on(LogCat.GuestErrors)) {
        this.log.write(
          `${this.path}: PPI channel ${ch} re-triggered by its own task (a loop); event dropped`,
        );
      }
      return;
    }
    this.firing[ch] = 1;
    try {
      task.set(1);
      task.set(0);
    } finally {
      this.firing[ch] = 0;
    }
  }

  /** Rewires the channels whose configuration changed (all of them when `force`). */
  private rewireAll(force: boolean): void {
    const chen = this.regs.value(this.chenIdx);
    for (let ch = 0; ch < PPI_CHANNELS; ch++) {
      if (!channelExists(ch)) continue;
      const enabled = (chen >>> ch) & 1;
      let eep: number;
      let tep: number;
      if (ch < PPI_PROGRAMMABLE_CHANNELS) {
        eep = this.regs.value(this.eepIdx[ch]!);
        tep = this.regs.value(this.tepIdx[ch]!);
      } else {
        const fixed = FIXED_CHANNELS[ch - 20]!;
        eep = fixed.eep;
        tep = fixed.tep;
      }
      if (
        !force &&
        this.wiredEnabled[ch] === enabled &&
        this.wiredEep[ch] === eep &&
        this.wiredTep[ch] === tep
      ) {
        continue;
      }
      this.wiredEnabled[ch] = enabled;
      this.wiredEep[ch] = eep;
      this.wiredTep[ch] = tep;
      this.wire(ch, enabled !== 0, eep, tep);
    }
  }

  private wire(ch: number, enabled: boolean, eep: number, tep: number): void {
    let event: OutputLine | null = null;
    let task: InputLine | null = null;
    const resolver = this.resolver;
    if (enabled && resolver) {
      event = eep !== 0 ? resolver.eventAt(eep) : null;
      task = tep !== 0 ? resolver.taskAt(tep) : null;
      if (this.log.on(LogCat.GuestErrors)) {
        if (eep !== 0 && !event) {
          this.log.write(`${this.path}: PPI channel ${ch}: EEP 0x${hex(eep)} is not an event register`);
        }
        if (tep !== 0 && !task) {
          this.log.write(`${this.path}: PPI channel ${ch}: TEP 0x${hex(tep)} is not a task register`);
        }
      }
      if (!event || !task) {
        event = null;
        task = null;
      }
    }
    const input = this.channelInputs[ch]!;
    const oldEvent = this.chEvent[ch];
    if (oldEvent !== event) {
      oldEvent?.disconnect(input);
      this.chEvent[ch] = event;
      this.chTask[ch] = task;
      this.midPulse[ch] = 0;
      if (event) {
        if (event.level > 0) this.midPulse[ch] = 1;
        // Connecting forwards the line's present level: 0 at rest (fires nothing), 1 mid-pulse
        // (ignored through midPulse).
        event.connect(input);
      }
    } else {
      this.chTask[ch] = task;
    }
  }
}

/**
 * A resolver over nRF51 peripheral blocks: `addr & ~0xFFF` selects the block by its base address,
 * the low 12 bits the EVENTS_/TASKS_ register. Blocks sharing a base (AAR and CCM) are tried in
 * the order given.
 */
export function peripheralResolver(
  blocks: Iterable<{ base: number; peripheral: NrfPpiEndpoints }>,
): Nrf51PpiResolver {
  const byBase = new Map<number, NrfPpiEndpoints[]>();
  for (const { base, peripheral } of blocks) {
    const list = byBase.get(base >>> 0) ?? [];
    list.push(peripheral);
    byBase.set(base >>> 0, list);
  }
  return {
    eventAt(addr: number): OutputLine | null {
      for (const p of byBase.get((addr & ~0xfff) >>> 0) ?? []) {
        const i = p.eventIndexAt(addr & 0xfff);
        if (i >= 0) return p.eventLine(i);
      }
      return null;
    },
    taskAt(addr: number): InputLine | null {
      for (const p of byBase.get((addr & ~0xfff) >>> 0) ?? []) {
        const i = p.taskIndexAt(addr & 0xfff);
        if (i >= 0) return p.taskLine(i);
      }
      return null;
    },
  };
}

registerDeviceType({
  name: Nrf51Ppi.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 programmable peripheral interconnect',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Ppi(),
});

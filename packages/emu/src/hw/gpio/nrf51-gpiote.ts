/**
 * nRF51 GPIOTE: GPIO tasks and events (nRF51 Series Reference Manual v3.0, chapter "GPIOTE —
 * GPIO tasks and events"). Type `nrf51_soc.gpiote` (QEMU has no such model), at 0x40006000, ID 6.
 *
 * Interface (besides the common nRF51 peripheral interface, see Nrf51Peripheral)
 * - Tasks OUT[0..3] at 0x000 + 4n; events IN[0..3] at 0x100 + 4n and PORT at 0x17C;
 *   INTENSET/INTENCLR (bit n = IN[n], bit 31 = PORT; the block has no INTEN at 0x300);
 *   CONFIG[0..3] at 0x510 + 4n: MODE bits 1:0 (0 disabled, 1 event, 3 task), PSEL bits 12:8,
 *   POLARITY bits 17:16 (1 LoToHi, 2 HiToLo, 3 Toggle), OUTINIT bit 20; POWER at 0xFFC.
 * - Input lines `pin[0..31]`: the level on each pin (from the GPIO's `pin-level` outputs).
 * - Input line `detect[0]`: the GPIO's DETECT signal; its rising edge generates EVENTS_PORT.
 * - Output lines `pin-drive[0..31]`: to the GPIO's `override` inputs: NOT_DRIVEN leaves the pin
 *   to the GPIO, 0/1 drives it (task mode), OVERRIDE_INPUT makes it an input (event mode).
 * - `connectGpiote(gpio, gpiote)` makes those three connections (the SoC calls it).
 *
 * Behaviour: in event mode the channel's pin becomes an input and IN[n] is generated on the edge
 * POLARITY selects (Toggle: both). In task mode the channel owns its pin: it is driven as an
 * output whatever the GPIO's OUT and DIR say, starts at OUTINIT when CONFIG is written, and
 * TASKS_OUT[n] sets it (LoToHi), clears it (HiToLo) or toggles it (Toggle). A channel in event
 * or disabled mode ignores TASKS_OUT.
 *
 * Accuracy: modelled as above; events and pin changes are synchronous (the chip's edge
 * detection latency is not modelled). MODE value 2 is reserved: the channel is treated as
 * disabled and the write logged under `-d guest_errors`, as are two enabled channels on one pin
 * (the lower channel wins). The POWER register is stored without effect, like every block's.
 */
import { isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { NOT_DRIVEN, type OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import type { RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';
import {
  Nrf51Peripheral,
  type NrfEventDef,
  type NrfPeripheralLayout,
  type NrfTaskDef,
} from '../core/nrf51-peripheral.js';
import { NRF51_GPIO_PINS, type Nrf51Gpio, OVERRIDE_INPUT } from './nrf51-gpio.js';

export const GPIOTE_CHANNELS = 4;
/** Index of the PORT event (after IN[0..3]). */
const EVENT_PORT = GPIOTE_CHANNELS;
const REG_CONFIG = 0x510;
const CONFIG_WRITABLE = 0x0013_1f03; // MODE, PSEL, POLARITY, OUTINIT
const MODE_EVENT = 1;
const MODE_TASK = 3;
const POL_LOTOHI = 1;
const POL_HITOLO = 2;
const POL_TOGGLE = 3;

export class Nrf51Gpiote extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.gpiote';
  private configIdx = new Int32Array(GPIOTE_CHANNELS);
  private pinDrive: OutputLine[] = [];
  private readonly pinInputs: number[] = new Array<number>(NRF51_GPIO_PINS).fill(NOT_DRIVEN);
  /** Level each task-mode channel drives. */
  private readonly chOut = new Uint8Array(GPIOTE_CHANNELS);
  /** Last pin level each event-mode channel saw (edge detection). */
  private readonly chPrev = new Uint8Array(GPIOTE_CHANNELS);
  private detectLevel = 0;
  /** What each pin-drive line should carry; computed without allocating. */
  private readonly driveWanted = new Int8Array(NRF51_GPIO_PINS);

  constructor() {
    super(Nrf51Gpiote.typeName);
  }

  protected traceName(): string {
    return 'nrf51_gpiote';
  }

  protected layout(): NrfPeripheralLayout {
    const registers: RegisterDef[] = [];
    for (let n = 0; n < GPIOTE_CHANNELS; n++) {
      registers.push({
        name: `CONFIG[${n}]`,
        offset: REG_CONFIG + 4 * n,
        writeMask: CONFIG_WRITABLE,
        onWrite: (value) => this.configWritten(n, value),
      });
    }
    const tasks: NrfTaskDef[] = [];
    const events: NrfEventDef[] = [];
    for (let n = 0; n < GPIOTE_CHANNELS; n++) {
      tasks.push({ name: `OUT[${n}]`, offset: 4 * n, run: () => this.taskOut(n) });
      events.push({ name: `IN[${n}]`, offset: 0x100 + 4 * n });
    }
    events.push({ name: 'PORT', offset: 0x17c });
    return { tasks, events, hasInten: false, hasPower: true, registers };
  }

  protected override onRealizePeripheral(): void {
    for (let n = 0; n < GPIOTE_CHANNELS; n++) this.configIdx[n] = this.regs.index(`CONFIG[${n}]`);
    this.addGpioIn('pin', NRF51_GPIO_PINS, (level, pin) => this.pinChanged(pin, level));
    this.addGpioIn('detect', 1, (level) => {
      const high = level > 0 ? 1 : 0;
      const rising = high === 1 && this.detectLevel === 0;
      this.detectLevel = high;
      if (rising) this.generateEvent(EVENT_PORT);
    });
    this.pinDrive = this.addGpioOut('pin-drive', NRF51_GPIO_PINS);
  }

  protected onResetPeripheral(): void {
    this.chOut.fill(0);
    this.chPrev.fill(0);
    this.driveLines();
  }

  private config(n: number): number {
    return this.regs.value(this.configIdx[n]!);
  }

  private pinLevel(pin: number): number {
    return this.pinInputs[pin]! > 0 ? 1 : 0;
  }

  private configWritten(n: number, value: number): void {
    const mode = value & 3;
    const pin = (value >>> 8) & 0x1f;
    if (mode === 2 && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: CONFIG[${n}] MODE 2 is reserved; channel disabled`);
    }
    if (mode === MODE_TASK) this.chOut[n] = (value >>> 20) & 1;
    // A channel entering event mode starts from the pin's present level: no edge on configure.
    if (mode === MODE_EVENT) this.chPrev[n] = this.pinLevel(pin);
    if (mode === MODE_EVENT || mode === MODE_TASK) {
      for (let m = 0; m < GPIOTE_CHANNELS; m++) {
        if (m === n) continue;
        const other = this.config(m);
        const otherMode = other & 3;
        if ((otherMode === MODE_EVENT || otherMode === MODE_TASK) && ((other >>> 8) & 0x1f) === pin) {
          if (this.log.on(LogCat.GuestErrors)) {
            this.log.write(`${this.path}: CONFIG[${n}] selects pin ${pin}, already used by channel ${m}`);
          }
        }
      }
    }
    this.driveLines();
  }

  private taskOut(n: number): void {
    const cfg = this.config(n);
    if ((cfg & 3) !== MODE_TASK) return;
    const polarity = (cfg >>> 16) & 3;
    if (polarity === POL_LOTOHI) this.chOut[n] = 1;
    else if (polarity === POL_HITOLO) this.chOut[n] = 0;
    else if (polarity === POL_TOGGLE) this.chOut[n] ^= 1;
    this.driveLines();
  }

  private pinChanged(pin: number, level: number): void {
    this.pinInputs[pin] = level;
    const high = level > 0 ? 1 : 0;
    for (let n = 0; n < GPIOTE_CHANNELS; n++) {
      const cfg = this.config(n);
      if ((cfg & 3) !== MODE_EVENT || ((cfg >>> 8) & 0x1f) !== pin) continue;
      const prev = this.chPrev[n]!;
      if (prev === high) continue;
      this.chPrev[n] = high;
      const polarity = (cfg >>> 16) & 3;
      if (
        polarity === POL_TOGGLE ||
        (polarity === POL_LOTOHI && high === 1) ||
        (polarity === POL_HITOLO && high === 0)
      ) {
        this.generateEvent(n);
      }
    }
  }

  /** Drives each pin-drive line from the channel configuration (the lowest channel wins a pin). */
  private driveLines(): void {
    const wanted = this.driveWanted;
    wanted.fill(NOT_DRIVEN);
    for (let n = GPIOTE_CHANNELS - 1; n >= 0; n--) {
      const cfg = this.config(n);
      const mode = cfg & 3;
      const pin = (cfg >>> 8) & 0x1f;
      if (mode === MODE_TASK) wanted[pin] = this.chOut[n]!;
      else if (mode === MODE_EVENT) wanted[pin] = OVERRIDE_INPUT;
    }
    for (let pin = 0; pin < NRF51_GPIO_PINS; pin++) {
      const line = this.pinDrive[pin]!;
      const v = wanted[pin]!;
      if (line.level !== v) line.set(v);
    }
  }

  /** The channels' modes at a glance (tests, HMP): 'disabled' | 'event' | 'task' per channel. */
  channelMode(n: number): 'disabled' | 'event' | 'task' {
    if (!Number.isInteger(n) || n < 0 || n >= GPIOTE_CHANNELS) {
      throw new UserError(`${this.path}: no GPIOTE channel ${n}`);
    }
    const mode = this.config(n) & 3;
    return mode === MODE_EVENT ? 'event' : mode === MODE_TASK ? 'task' : 'disabled';
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      chOut: Array.from(this.chOut),
      chPrev: Array.from(this.chPrev),
      pinInputs: [...this.pinInputs],
      detectLevel: this.detectLevel,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const chOut = stateField(state, 'chOut', isNumArray);
    const chPrev = stateField(state, 'chPrev', isNumArray);
    const pinInputs = stateField(state, 'pinInputs', isNumArray);
    const detect = stateField(state, 'detectLevel', (v): v is number => v === 0 || v === 1);
    if (chOut.length !== GPIOTE_CHANNELS || chPrev.length !== GPIOTE_CHANNELS) {
      throw new UserError(`snapshot: ${this.path}: channel state needs ${GPIOTE_CHANNELS} entries`);
    }
    if (pinInputs.length !== NRF51_GPIO_PINS) {
      throw new UserError(`snapshot: ${this.path}: 'pinInputs' needs ${NRF51_GPIO_PINS} entries`);
    }
    this.chOut.set(chOut);
    this.chPrev.set(chPrev);
    for (let i = 0; i < NRF51_GPIO_PINS; i++) this.pinInputs[i] = pinInputs[i]!;
    this.detectLevel = detect;
    this.driveLines();
  }
}

/** Wires a GPIO port and its GPIOTE: pin levels and DETECT to GPIOTE, GPIOTE's drives to the pins. */
export function connectGpiote(gpio: Nrf51Gpio, gpiote: Nrf51Gpiote): void {
  for (let pin = 0; pin < NRF51_GPIO_PINS; pin++) {
    gpio.gpioOut('pin-level', pin).connect(gpiote.gpioIn('pin', pin));
    gpiote.gpioOut('pin-drive', pin).connect(gpio.gpioIn('override', pin));
  }
  gpio.gpioOut('detect', 0).connect(gpiote.gpioIn('detect', 0));
}

registerDeviceType({
  name: Nrf51Gpiote.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 GPIO tasks and events',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Gpiote(),
});

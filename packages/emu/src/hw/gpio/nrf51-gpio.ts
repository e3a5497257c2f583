/**
 * nRF51 GPIO port P0: 32 general purpose pins (nRF51 Series Reference Manual v3.0, chapter
 * "GPIO — General purpose input/output"). QEMU type `nrf51_soc.gpio`, at 0x50000000.
 *
 * This block is not a TASKS/EVENTS peripheral, so it is a plain Device with a register block.
 *
 * Interface
 * - MMIO region 0 (4 KiB): OUT 0x504, OUTSET 0x508, OUTCLR 0x50C, IN 0x510 (read-only),
 *   DIR 0x514, DIRSET 0x518, DIRCLR 0x51C, PIN_CNF[0..31] 0x700 + 4n (reset 0x00000002: input,
 *   input buffer disconnected). PIN_CNF fields: DIR bit 0, INPUT bit 1 (0 = buffer connected),
 *   PULL bits 3:2 (0 none, 1 pull-down, 3 pull-up), DRIVE bits 10:8, SENSE bits 17:16
 *   (0 disabled, 2 high, 3 low). DIR and PIN_CNF[n].DIR are one bit seen through two registers.
 * - Unnamed input lines [0..31] (as QEMU's micro:bit): the board's drive on each pin: 0, 1, or
 *   NOT_DRIVEN (-1) when nothing outside the chip drives it.
 * - Unnamed output lines [0..31]: what the chip puts on each pin, as QEMU's model reports it
 *   (qtest `irq_intercept_out` compatible): the OUT level while the output driver is connected
 *   (DIR output, and the DRIVE mode connects the driver at that level: D0/D1 modes disconnect
 *   it on 0/1); else, for a pin with its input buffer connected, not driven from outside and with
 *   a pull resistor, the pull level; else NOT_DRIVEN.
 * - Output line `detect[0]`: the DETECT signal, the OR over pins with SENSE enabled whose input
 *   reads the sensed level (GPIOTE turns its rising edge into EVENTS_PORT).
 * - Output lines `pin-level[0..31]`: the level on each pin as the chip's input circuits see it
 *   (GPIOTE's event mode watches these).
 * - Input lines `override[0..31]`: another block taking the pin (GPIOTE): NOT_DRIVEN releases it
 *   to the GPIO registers, 0/1 drives it as an output at that level whatever OUT/DIR say,
 *   OVERRIDE_INPUT (2) disconnects the output driver (GPIOTE event mode makes its pin an input).
 * - Board API: `setPinInput(n, level)`, `pinOutput(n)`, `pinLevel(n)`; watch the output lines
 *   for changes.
 * - Trace events `nrf51_gpio_read` / `nrf51_gpio_write`.
 *
 * Pin model: the level on a pin is the external drive when the board drives it, else the chip's
 * output when its driver is connected, else the pull level, else the level it last had (a
 * floating pin keeps its charge; this is also what QEMU's IN register does, and its qtest checks
 * it). IN reads that level for pins with the input buffer connected. With the buffer
 * disconnected IN reads the pull level when a pull is enabled (as QEMU, whose qtest checks it)
 * and 0 otherwise (QEMU keeps the last value; the chip's input is cut off, so we read 0).
 * An external drive that conflicts with the chip's connected output is a short circuit: logged
 * under `-d guest_errors` when it starts; the external drive wins.
 *
 * Accuracy: registers, direction, input buffer, pulls, DRIVE's disconnect modes (open drain /
 * open source) and SENSE/DETECT are modelled. Standard and high drive strength behave the same
 * (there are no analog levels). The external drive is kept across a chip reset (the board still
 * drives the pin). Every register of the block is modelled; nothing is logged as unimplemented.
 */
import { Device, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { NOT_DRIVEN, type OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { RegisterBlock, type RegisterDef } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';

export const NRF51_GPIO_PINS = 32;
/** Level on an `override` input that forces the pin to be an input (output driver off). */
export const OVERRIDE_INPUT = 2;

const REG_OUT = 0x504;
const REG_OUTSET = 0x508;
const REG_OUTCLR = 0x50c;
const REG_IN = 0x510;
const REG_DIR = 0x514;
const REG_DIRSET = 0x518;
const REG_DIRCLR = 0x51c;
const REG_PIN_CNF = 0x700;

const CNF_DIR = 1 << 0;
const CNF_INPUT_DISCONNECT = 1 << 1;
const CNF_WRITABLE = 0x0003_070f; // DIR, INPUT, PULL, DRIVE, SENSE
const CNF_RESET = CNF_INPUT_DISCONNECT;
const PULL_DOWN = 1;
const PULL_UP = 3;
const SENSE_HIGH = 2;
const SENSE_LOW = 3;
/** Output state changes settle within this many rounds, else the pins oscillate (a feedback loop). */
const MAX_SETTLE_ROUNDS = 64;

/** Whether DRIVE mode `drive` connects the output driver when it outputs `level`. */
function driverConnects(drive: number, level: number): boolean {
  if (drive <= 3) return true; // S0S1, H0S1, S0H1, H0H1
  if (drive <= 5) return level !== 0; // D0S1, D0H1: disconnected on 0 (open source)
  return level === 0; // S0D1, H0D1: disconnected on 1 (open drain)
}

export class Nrf51Gpio extends Device {
  static readonly typeName = 'nrf51_soc.gpio';
  private regs!: RegisterBlock;
  private outIdx = 0;
  private inIdx = 0;
  private dirIdx = 0;
  private cnfIdx = new Int32Array(NRF51_GPIO_PINS);
  private outputs: OutputLine[] = [];
  private levelLines: OutputLine[] = [];
  private detect!: OutputLine;

  /** Pins driven from outside (bit per pin) and their levels. */
  private extDriven = 0;
  private extLevel = 0;
  /** Override levels from GPIOTE, per pin (NOT_DRIVEN, 0, 1 or OVERRIDE_INPUT). */
  private readonly override = new Int8Array(NRF51_GPIO_PINS).fill(NOT_DRIVEN);
  /** The level on each pin (bit per pin); a floating pin keeps it. */
  private padLevel = 0;
  /** Pins currently short-circuited (for logging each short once). */
  private shorted = 0;
  /** Computed output line levels, per pin. */
  private readonly outLevel = new Int8Array(NRF51_GPIO_PINS).fill(NOT_DRIVEN);
  private detectLevel = 0;
  private updating = false;
  private updatePending = false;

  constructor() {
    super(Nrf51Gpio.typeName);
  }

  protected onRealize(): void {
    const update = () => this.update();
    const defs: RegisterDef[] = [
      { name: 'OUT', offset: REG_OUT, onWrite: update },
      { name: 'OUTSET', offset: REG_OUTSET, setOf: 'OUT' },
      { name: 'OUTCLR', offset: REG_OUTCLR, clearOf: 'OUT' },
      { name: 'IN', offset: REG_IN, writeMask: 0 },
      { name: 'DIR', offset: REG_DIR, onWrite: () => this.dirWritten() },
      { name: 'DIRSET', offset: REG_DIRSET, setOf: 'DIR' },
      { name: 'DIRCLR', offset: REG_DIRCLR, clearOf: 'DIR' },
    ];
    for (let n = 0; n < NRF51_GPIO_PINS; n++) {
      defs.push({
        name: `PIN_CNF[${n}]`,
        offset: REG_PIN_CNF + 4 * n,
        reset: CNF_RESET,
        writeMask: CNF_WRITABLE,
        onWrite: (value) => this.pinCnfWritten(n, value),
      });
    }
    this.regs = new RegisterBlock({
      name: this.path,
      size: 0x1000,
      registers: defs,
      log: () => this.log,
      trace: 'nrf51_gpio',
    });
    this.addMmio(this.regs.toRegion('nrf51_soc.gpio'));
    this.outIdx = this.regs.index('OUT');
    this.inIdx = this.regs.index('IN');
    this.dirIdx = this.regs.index('DIR');
    for (let n = 0; n < NRF51_GPIO_PINS; n++) this.cnfIdx[n] = this.regs.index(`PIN_CNF[${n}]`);

    this.addGpioIn('', NRF51_GPIO_PINS, (level, pin) => this.externalDrive(pin, level));
    this.outputs = this.addGpioOut('', NRF51_GPIO_PINS);
    this.detect = this.addGpioOut('detect', 1)[0]!;
    this.levelLines = this.addGpioOut('pin-level', NRF51_GPIO_PINS);
    this.addGpioIn('override', NRF51_GPIO_PINS, (level, pin) => {
      this.override[pin] = level === 0 || level === 1 || level === OVERRIDE_INPUT ? level : NOT_DRIVEN;
      this.update();
    });
  }

  protected onReset(): void {
    this.regs.reset();
    this.padLevel = 0;
    this.shorted = 0;
    this.update();
  }

  // ---- board API ----

  /** Drives pin `n` from the board: 0, 1, or NOT_DRIVEN (-1) to let it float. */
  setPinInput(n: number, level: number): void {
    this.checkPin(n);
    if (level !== 0 && level !== 1 && level !== NOT_DRIVEN) {
      throw new UserError(`${this.path}: pin level must be 0, 1 or -1 (not driven), got ${level}`);
    }
    this.gpioIn('', n).set(level);
  }

  /** What the chip drives on pin `n`: 0, 1, or NOT_DRIVEN (-1). */
  pinOutput(n: number): number {
    this.checkPin(n);
    return this.outLevel[n]!;
  }

  /** The level on pin `n` as the chip's inputs see it (0 or 1). */
  pinLevel(n: number): number {
    this.checkPin(n);
    return (this.padLevel >>> n) & 1;
  }

  /** The register block (tests, HMP register dumps). */
  get registers(): RegisterBlock {
    return this.regs;
  }

  private checkPin(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n >= NRF51_GPIO_PINS) {
      throw new UserError(`${this.path}: no GPIO pin ${n} (pins are 0-${NRF51_GPIO_PINS - 1})`);
    }
  }

  // ---- register side effects ----

  private dirWritten(): void {
    const dir = this.regs.value(this.dirIdx);
    for (let n = 0; n < NRF51_GPIO_PINS; n++) {
      const i = this.cnfIdx[n]!;
      this.regs.setValue(i, ((this.regs.value(i) & ~CNF_DIR) | ((dir >>> n) & 1)) >>> 0);
    }
    this.update();
  }

  private pinCnfWritten(n: number, cnf: number): void {
    const bit = 1 << n;
    const dir = this.regs.value(this.dirIdx);
    this.regs.setValue(this.dirIdx, ((cnf & CNF_DIR) !== 0 ? dir | bit : dir & ~bit) >>> 0);
    this.update();
  }

  private externalDrive(pin: number, level: number): void {
    const bit = 1 << pin;
    if (level === NOT_DRIVEN) {
      this.extDriven &= ~bit;
    } else {
      this.extDriven |= bit;
      this.extLevel = level !== 0 ? this.extLevel | bit : this.extLevel & ~bit;
    }
    this.update();
  }

  // ---- pin state ----

  /**
   * Recomputes every pin and drives the lines that changed. Line watchers may come back here
   * (GPIOTE drives pins from pin events through the PPI): such calls mark the state dirty and the
   * outer call settles it, so the lines end consistent with the registers.
   */
  private update(): void {
    if (this.updating) {
      this.updatePending = true;
      return;
    }
    this.updating = true;
    try {
      let rounds = 0;
      do {
        this.updatePending = false;
        this.computePins();
        this.driveLines();
        if (++rounds >= MAX_SETTLE_ROUNDS && this.updatePending) {
          if (this.log.on(LogCat.GuestErrors)) {
            this.log.write(`${this.path}: GPIO pins do not settle (a feedback loop through GPIOTE/PPI?)`);
          }
          break;
        }
      } while (this.updatePending);
    } finally {
      this.updating = false;
    }
  }

  private computePins(): void {
    const out = this.regs.value(this.outIdx);
    let pad = this.padLevel;
    let inReg = 0;
    let shorted = 0;
    let detect = 0;
    for (let n = 0; n < NRF51_GPIO_PINS; n++) {
      const bit = 1 << n;
      const cnf = this.regs.value(this.cnfIdx[n]!);
      const bufferConnected = (cnf & CNF_INPUT_DISCONNECT) === 0;
      const pullCfg = (cnf >>> 2) & 3;
      const pull = pullCfg === PULL_UP ? 1 : pullCfg === PULL_DOWN ? 0 : -1;
      const ovr = this.override[n]!;
      let driving: boolean;
      let level: number;
      if (ovr === 0 || ovr === 1) {
        driving = true;
        level = ovr;
      } else {
        driving = ovr !== OVERRIDE_INPUT && (cnf & CNF_DIR) !== 0;
        level = (out >>> n) & 1;
      }
      const connected = driving && driverConnects((cnf >>> 8) & 7, level);
      const external = (this.extDriven & bit) !== 0;
      let padBit: number;
      if (external) {
        padBit = (this.extLevel >>> n) & 1;
        if (connected && padBit !== level) shorted |= bit;
      } else if (connected) {
        padBit = level;
      } else if (pull >= 0) {
        padBit = pull;
      } else {
        padBit = (pad >>> n) & 1;
      }
      pad = padBit !== 0 ? pad | bit : pad & ~bit;
      let inBit: number;
      if (bufferConnected) {
        inBit = padBit;
        const sense = (cnf >>> 16) & 3;
        if ((sense === SENSE_HIGH && inBit === 1) || (sense === SENSE_LOW && inBit === 0)) detect = 1;
      } else {
        inBit = pull === 1 ? 1 : 0; // the pull level, or 0 without a pull
      }
      if (inBit !== 0) inReg |= bit;
      this.outLevel[n] = connected ? level : bufferConnected && !external && pull >= 0 ? pull : NOT_DRIVEN;
    }
    this.padLevel = pad >>> 0;
    this.regs.setValue(this.inIdx, inReg >>> 0);
    this.detectLevel = detect;
    const newShorts = shorted & ~this.shorted;
    this.shorted = shorted;
    if (newShorts !== 0 && this.log.on(LogCat.GuestErrors)) {
      for (let n = 0; n < NRF51_GPIO_PINS; n++) {
        if ((newShorts >>> n) & 1) {
          this.log.write(`${this.path}: GPIO pin ${n} short circuited (driven from outside and by the chip)`);
        }
      }
    }
  }

  private driveLines(): void {
    for (let n = 0; n < NRF51_GPIO_PINS; n++) {
      const o = this.outputs[n]!;
      const v = this.outLevel[n]!;
      if (o.level !== v) o.set(v);
      const l = this.levelLines[n]!;
      const p = (this.padLevel >>> n) & 1;
      if (l.level !== p) l.set(p);
    }
    if (this.detect.level !== this.detectLevel) this.detect.set(this.detectLevel);
  }

  // ---- snapshot ----

  saveState(): StateData {
    return {
      regs: this.regs.saveState(),
      extDriven: this.extDriven >>> 0,
      extLevel: this.extLevel >>> 0,
      override: Array.from(this.override),
      padLevel: this.padLevel >>> 0,
      shorted: this.shorted >>> 0,
    };
  }

  loadState(state: StateData): void {
    const override = stateField(state, 'override', isNumArray);
    if (
      override.length !== NRF51_GPIO_PINS ||
      !override.every((v) => v === NOT_DRIVEN || v === 0 || v === 1 || v === OVERRIDE_INPUT)
    ) {
      throw new UserError(
        `snapshot: ${this.path}: 'override' needs ${NRF51_GPIO_PINS} levels (-1, 0, 1 or 2)`,
      );
    }
    this.regs.loadState(stateField(state, 'regs', isNumArray));
    this.extDriven = stateField(state, 'extDriven', isNum) >>> 0;
    this.extLevel = stateField(state, 'extLevel', isNum) >>> 0;
    this.override.set(override);
    this.padLevel = stateField(state, 'padLevel', isNum) >>> 0;
    this.shorted = stateField(state, 'shorted', isNum) >>> 0;
    this.update();
  }
}

registerDeviceType({
  name: Nrf51Gpio.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 GPIO',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Gpio(),
});

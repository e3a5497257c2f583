/**
 * NXP (Freescale) MAG3110: 3-axis digital magnetometer on I2C (MAG3110 data sheet, section
 * "Register descriptions"). The micro:bit v1.3 has one at 7-bit address 0x0E, with INT1 wired
 * to a GPIO that the DAL polls for data-ready. Type `mag3110`.
 *
 * Interface
 * - I2C slave (attach it at `MAG3110_ADDRESS`): write [register, data...] to set the register
 *   pointer and write registers; read from the pointer (repeated START keeps it). The pointer
 *   auto-increments; with CTRL_REG1.FR it skips the LSB registers (0x00 -> 0x01 -> 0x03 -> 0x05
 *   -> 0x07).
 * - Output line `int1[0]`: the INT1 pin, active high, high while DR_STATUS.ZYXDR is set.
 * - Board inputs: `set(x, y, z)` and properties `x`, `y`, `z`: the magnetic field in nT (the unit
 *   the DAL and MicroPython report; one output count is 0.1 µT = 100 nT, values are rounded to
 *   whole counts); property `die-temperature` (°C, what DIE_TEMP reads).
 *
 * Registers modelled: DR_STATUS 0x00 (XDR/YDR/ZDR/ZYXDR and the overwrite flags), OUT_X/Y/Z
 * MSB/LSB 0x01-0x06 (16-bit two's complement), WHO_AM_I 0x07 = 0xC4, SYSMOD 0x08 (0 standby,
 * 1 active RAW, 2 active), OFF_X/Y/Z MSB/LSB 0x09-0x0E (user offset, 15 bits in bits 15:1,
 * subtracted from the field when CTRL_REG2.RAW = 0), DIE_TEMP 0x0F, CTRL_REG1 0x10 (AC, TM, FR,
 * DR/OS: output rate 80 Hz / 2^(DR+OS)), CTRL_REG2 0x11 (AUTO_MRST_EN stored, RAW, Mag_RST
 * self-clearing).
 *
 * Behaviour: with AC = 1 a measurement completes every 1/ODR on the virtual clock (the first one
 * period after AC is set; no timer runs in standby). TM = 1 in standby triggers one measurement,
 * which completes after the oversampling time (OS ratio / 1280 Hz: 12.5 ms at OS = 16); SYSMOD
 * shows the part active meanwhile and TM clears when it is done. A completed measurement loads
 * OUT_* (the field saturates at the ±1000 µT full scale; with offsets the result saturates at
 * the 16-bit range), sets xDR/ZYXDR (xOW/ZYXOW when unread data is replaced) and raises INT1.
 * Reading OUT_n_MSB clears nDR/nOW; ZYXDR, ZYXOW and INT1 clear once all three MSBs are read.
 *
 * Accuracy: no noise and no sensor offset (the field set is the field measured); AUTO_MRST_EN and
 * Mag_RST have no effect on the values; TM while active is accepted and clears with the next
 * measurement. Reserved addresses read 0 (logged under `-d guest_errors`).
 */
import type { Timer } from '../../core/clock.js';
import { Device, isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import type { OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import { I2C_SLAVE_TYPE, type I2CEvent, type I2CSlave } from '../i2c/i2c-bus.js';

export const MAG3110_ADDRESS = 0x0e;
export const MAG3110_WHO_AM_I = 0xc4;

export const MAG_DR_STATUS = 0x00;
export const MAG_OUT_X_MSB = 0x01;
export const MAG_WHO_AM_I = 0x07;
export const MAG_SYSMOD = 0x08;
export const MAG_OFF_X_MSB = 0x09;
export const MAG_DIE_TEMP = 0x0f;
export const MAG_CTRL_REG1 = 0x10;
export const MAG_CTRL_REG2 = 0x11;
const LAST_REG = MAG_CTRL_REG2;

const CTRL1_AC = 1 << 0;
const CTRL1_TM = 1 << 1;
const CTRL1_FR = 1 << 2;
const CTRL2_RAW = 1 << 5;
const CTRL2_MAG_RST = 1 << 4;
const ST_ZYXDR = 1 << 3;
const ST_ZYXOW = 1 << 7;

/** Full scale ±1000 µT in counts of 0.1 µT. */
const FULL_SCALE = 10_000;

/** Output period in ns for CTRL_REG1 bits 7:3 (DR and OS): 80 Hz / 2^(DR + OS). */
export function mag3110PeriodNs(ctrlReg1: number): number {
  const dr = (ctrlReg1 >> 5) & 7;
  const os = (ctrlReg1 >> 3) & 3;
  return 12_500_000 * 2 ** (dr + os);
}

/** Duration of a triggered (TM) measurement: OS ratio (16 << OS) samples at 1280 Hz. */
export function mag3110OneShotNs(ctrlReg1: number): number {
  return 12_500_000 * 2 ** ((ctrlReg1 >> 3) & 3);
}

export class Mag3110 extends Device implements I2CSlave {
  static readonly typeName = 'mag3110';
  private readonly regs = new Uint8Array(LAST_REG + 1);
  private pointer = 0;
  private expectPointer = false;
  /** Board field in nT. */
  private readonly field = new Float64Array(3);
  private dieTemperature = 25;
  private measureTimer!: Timer;
  private int1!: OutputLine;

  constructor() {
    super(Mag3110.typeName);
    const axis = (i: number, name: string) => ({
      name,
      type: 'int' as const,
      mutable: true,
      description: `${name} magnetic field in nT`,
      get: () => this.field[i]!,
      set: (v: boolean | number | string | null) => {
        this.field[i] = Number(v);
      },
    });
    this.declareProperties([
      axis(0, 'x'),
      axis(1, 'y'),
      axis(2, 'z'),
      {
        name: 'die-temperature',
        type: 'int',
        mutable: true,
        min: -128,
        max: 127,
        description: 'die temperature in °C (DIE_TEMP)',
        get: () => this.dieTemperature,
        set: (v) => {
          this.dieTemperature = Number(v);
        },
      },
    ]);
  }

  protected onRealize(): void {
    this.measureTimer = this.clock.createTimer(`${this.path}.measure`, () => this.measure());
    this.int1 = this.addGpioOut('int1', 1)[0]!;
  }

  protected onReset(): void {
    this.regs.fill(0);
    this.regs[MAG_WHO_AM_I] = MAG3110_WHO_AM_I;
    this.pointer = 0;
    this.expectPointer = false;
    this.measureTimer.cancel();
    this.updatePin();
  }

  // ---- board side ----

  /** Sets the magnetic field in nT; seen from the next measurement on. */
  set(x: number, y: number, z: number): void {
    for (const v of [x, y, z]) {
      if (!Number.isFinite(v)) throw new UserError(`${this.path}: magnetic field must be a finite number`);
    }
    this.field[0] = x;
    this.field[1] = y;
    this.field[2] = z;
  }

  get values(): [number, number, number] {
    return [this.field[0]!, this.field[1]!, this.field[2]!];
  }

  /** Register value as firmware would read it (tests, monitors); no side effects. */
  peek(reg: number): number {
    if (reg === MAG_DIE_TEMP) return this.dieTemperature & 0xff;
    return reg <= LAST_REG ? this.regs[reg]! : 0;
  }

  // ---- I2C slave ----

  event(kind: I2CEvent): boolean {
    if (kind === 'start-send') this.expectPointer = true;
    else if (kind === 'stop') this.expectPointer = false;
    return true;
  }

  send(byte: number): boolean {
    if (this.expectPointer) {
      this.pointer = byte;
      this.expectPointer = false;
      return true;
    }
    this.writeRegister(this.pointer, byte);
    this.pointer = (this.pointer + 1) & 0xff;
    return true;
  }

  recv(): number {
    const reg = this.pointer;
    const value = this.readRegister(reg);
    if ((this.regs[MAG_CTRL_REG1]! & CTRL1_FR) !== 0 && (reg === 0x01 || reg === 0x03 || reg === 0x05)) {
      this.pointer = reg + 2;
    } else {
      this.pointer = (reg + 1) & 0xff;
    }
    return value;
  }

  private readRegister(reg: number): number {
    if (reg > LAST_REG) {
      this.guestError(`read of reserved register 0x${hex(reg, 2)}`);
      return 0;
    }
    if (reg === MAG_DIE_TEMP) return this.dieTemperature & 0xff;
    const value = this.regs[reg]!;
    if (reg >= MAG_OUT_X_MSB && reg <= 0x06 && (reg & 1) === 1) this.dataRead((reg - 1) >> 1);
    return value;
  }

  private writeRegister(reg: number, value: number): void {
    if (reg > LAST_REG) {
      this.guestError(`write of reserved register 0x${hex(reg, 2)} (value 0x${hex(value, 2)})`);
      return;
    }
    if (reg < MAG_OFF_X_MSB || reg === MAG_DIE_TEMP) {
      this.guestError(`write of read-only register 0x${hex(reg, 2)} (value 0x${hex(value, 2)})`);
      return;
    }
    if (reg === MAG_CTRL_REG1) {
      this.ctrlReg1Written(value);
      return;
    }
    // Mag_RST clears itself when the (instant, here) sensor reset is done.
    this.regs[reg] = reg === MAG_CTRL_REG2 ? value & ~CTRL2_MAG_RST : value;
    if (reg === MAG_CTRL_REG2) this.updateSysmod();
  }

  private ctrlReg1Written(value: number): void {
    const old = this.regs[MAG_CTRL_REG1]!;
    this.regs[MAG_CTRL_REG1] = value;
    const wasActive = (old & CTRL1_AC) !== 0;
    const isActive = (value & CTRL1_AC) !== 0;
    if (isActive && !wasActive) {
      this.measureTimer.modRel(mag3110PeriodNs(value));
    } else if (!isActive && wasActive) {
      this.measureTimer.cancel();
    }
    if (!isActive && (value & CTRL1_TM) !== 0 && !this.measureTimer.pending) {
      this.measureTimer.modRel(mag3110OneShotNs(value));
    }
    this.updateSysmod();
  }

  private updateSysmod(): void {
    const measuring = (this.regs[MAG_CTRL_REG1]! & (CTRL1_AC | CTRL1_TM)) !== 0;
    const raw = (this.regs[MAG_CTRL_REG2]! & CTRL2_RAW) !== 0;
    this.regs[MAG_SYSMOD] = measuring ? (raw ? 1 : 2) : 0;
  }

  // ---- measurements ----

  private measure(): void {
    const raw = (this.regs[MAG_CTRL_REG2]! & CTRL2_RAW) !== 0;
    for (let axis = 0; axis < 3; axis++) {
      let counts = Math.round(this.field[axis]! / 100);
      counts = Math.max(-FULL_SCALE, Math.min(FULL_SCALE, counts));
      if (!raw) {
        const o = MAG_OFF_X_MSB + 2 * axis;
        // 15-bit offset in bits 15:1 of OFF_n_MSB:OFF_n_LSB.
        const offset = (((this.regs[o]! << 8) | this.regs[o + 1]!) << 16) >> 17;
        counts = Math.max(-32768, Math.min(32767, counts - offset));
      }
      this.regs[MAG_OUT_X_MSB + 2 * axis] = (counts >> 8) & 0xff;
      this.regs[MAG_OUT_X_MSB + 2 * axis + 1] = counts & 0xff;
    }
    const status = this.regs[MAG_DR_STATUS]!;
    this.regs[MAG_DR_STATUS] = (status & 0xf0) | ((status & 0x0f) << 4) | 0x0f;
    const ctrl1 = this.regs[MAG_CTRL_REG1]!;
    this.regs[MAG_CTRL_REG1] = ctrl1 & ~CTRL1_TM;
    if ((ctrl1 & CTRL1_AC) !== 0) this.measureTimer.modRel(mag3110PeriodNs(ctrl1));
    this.updateSysmod();
    this.updatePin();
  }

  private dataRead(axis: number): void {
    let status = this.regs[MAG_DR_STATUS]! & ~((1 << axis) | (1 << (axis + 4)));
    if ((status & 0x07) === 0) status &= ~(ST_ZYXDR | ST_ZYXOW);
    this.regs[MAG_DR_STATUS] = status;
    this.updatePin();
  }

  private updatePin(): void {
    const level = (this.regs[MAG_DR_STATUS]! & ST_ZYXDR) !== 0 ? 1 : 0;
    if (this.int1.level !== level) this.int1.set(level);
  }

  private guestError(message: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${message}`);
  }

  // ---- state ----

  saveState(): StateData {
    return {
      regs: Array.from(this.regs),
      pointer: this.pointer,
      expectPointer: this.expectPointer,
      field: Array.from(this.field),
      dieTemperature: this.dieTemperature,
      measure: this.measureTimer.pending ? this.measureTimer.expires : -1,
    };
  }

  loadState(state: StateData): void {
    const regs = stateField(state, 'regs', isNumArray);
    if (regs.length !== this.regs.length) {
      throw new UserError(`snapshot: ${this.path} expects ${this.regs.length} registers`);
    }
    this.regs.set(regs);
    this.pointer = stateField(state, 'pointer', isNum) & 0xff;
    this.expectPointer = stateField(state, 'expectPointer', isBool);
    const field = stateField(state, 'field', isNumArray);
    for (let i = 0; i < 3; i++) this.field[i] = field[i] ?? 0;
    this.dieTemperature = stateField(state, 'dieTemperature', isNum);
    const measure = stateField(state, 'measure', isNum);
    if (measure >= 0) this.measureTimer.modAbs(measure);
    else this.measureTimer.cancel();
    this.updatePin();
  }
}

registerDeviceType({
  name: Mag3110.typeName,
  parent: I2C_SLAVE_TYPE,
  description: 'NXP MAG3110 3-axis magnetometer (I2C)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Mag3110(),
});

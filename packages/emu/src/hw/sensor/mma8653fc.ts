/**
 * NXP (Freescale) MMA8653FC: 3-axis, 10-bit digital accelerometer on I2C (MMA8653FC data sheet,
 * section 6 "Register descriptions"). The micro:bit v1.3 has one at 7-bit address 0x1D, with
 * INT1 wired to a GPIO that the DAL polls for data-ready. Type `mma8653fc`.
 *
 * Interface
 * - I2C slave (attach it to a bus at `MMA8653FC_ADDRESS`): write [register, data...] to set the
 *   register pointer and write registers; read to read from the pointer (repeated START keeps
 *   it). The pointer auto-increments; with CTRL_REG1.F_READ it skips the LSB registers
 *   (0x00 -> 0x01 -> 0x03 -> 0x05 -> 0x00), otherwise it wraps from 0x06 to 0x00; after the last
 *   register (0x31) it wraps to 0x00.
 * - Output lines `int1[0]`, `int2[0]`: the INT1/INT2 pins (electrical level: active low unless
 *   CTRL_REG3.IPOL; idle level otherwise).
 * - Board input: `set(x, y, z)` and properties `x`, `y`, `z`: the acceleration in the micro:bit's
 *   milli-g, which is 1/1024 g (the unit the DAL and MicroPython report), so set(0, 0, -1024)
 *   reads back as exactly -1 g in every range.
 *
 * Registers modelled: STATUS 0x00 (XDR/YDR/ZDR/ZYXDR, XOW/YOW/ZOW/ZYXOW), OUT_X/Y/Z_MSB/LSB
 * 0x01-0x06 (10-bit two's complement, left-justified: MSB = bits 9:2, LSB bits 7:6 = bits 1:0),
 * SYSMOD 0x0B (0 standby, 1 wake), INT_SOURCE 0x0C (SRC_DRDY), WHO_AM_I 0x0D = 0x5A,
 * XYZ_DATA_CFG 0x0E (FS: 2/4/8 g = 256/128/64 counts per g), CTRL_REG1 0x2A (ACTIVE, F_READ,
 * DR: 800/400/200/100/50/12.5/6.25/1.5625 Hz), CTRL_REG2 0x2B (RST software reset; MODS/SMODS
 * stored), CTRL_REG3 0x2C (IPOL, PP_OD), CTRL_REG4 0x2D (INT_EN_DRDY), CTRL_REG5 0x2E
 * (INT_CFG_DRDY: 1 = INT1, 0 = INT2), OFF_X/Y/Z 0x2F-0x31 (two's complement, 1/512 g per LSB,
 * added to the output).
 *
 * Behaviour: while ACTIVE, a sample is taken every 1/ODR on the virtual clock (the first one
 * period after ACTIVE is set; no timer runs in standby): the output registers take the board's
 * values (plus offsets, saturated to the 10-bit range), STATUS flags the new data (and
 * overwrites of unread data), and with INT_EN_DRDY the DRDY interrupt asserts its pin. Reading
 * OUT_n_MSB clears nDR/nOW; ZYXDR, ZYXOW, SRC_DRDY and the pin clear when all three MSBs have
 * been read. Reading an MSB latches its LSB so that an MSB, LSB pair belongs to one sample.
 * XYZ_DATA_CFG and CTRL_REG1 fields other than ACTIVE change only in standby, as on the chip
 * (a write while active is logged under `-d guest_errors` and ignored).
 *
 * Accuracy: no noise, no output filtering, no turn-on delay beyond one ODR period; power modes
 * (MODS/SMODS) have no effect. Not modelled, logged under `-d unimp` when firmware enables or
 * touches them: orientation detection (PL_* 0x10-0x14), freefall/motion detection (FF_MT_*
 * 0x15-0x18), auto-sleep (ASLP_COUNT 0x29, CTRL_REG2.SLPE, CTRL_REG3 wake bits), self-test
 * (CTRL_REG2.ST) and their interrupt enables in CTRL_REG4; these registers still store and read
 * back what firmware writes. Reserved addresses read 0 (logged under `-d guest_errors`).
 */
import type { Timer } from '../../core/clock.js';
import { Device, isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import type { OutputLine } from '../../core/lines.js';
import { LogCat } from '../../core/log.js';
import { hex } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';
import { I2C_SLAVE_TYPE, type I2CEvent, type I2CSlave } from '../i2c/i2c-bus.js';

export const MMA8653FC_ADDRESS = 0x1d;
export const MMA8653FC_WHO_AM_I = 0x5a;

export const MMA_STATUS = 0x00;
export const MMA_OUT_X_MSB = 0x01;
export const MMA_SYSMOD = 0x0b;
export const MMA_INT_SOURCE = 0x0c;
export const MMA_WHO_AM_I = 0x0d;
export const MMA_XYZ_DATA_CFG = 0x0e;
export const MMA_CTRL_REG1 = 0x2a;
export const MMA_CTRL_REG2 = 0x2b;
export const MMA_CTRL_REG3 = 0x2c;
export const MMA_CTRL_REG4 = 0x2d;
export const MMA_CTRL_REG5 = 0x2e;
export const MMA_OFF_X = 0x2f;
const LAST_REG = 0x31;

const CTRL1_ACTIVE = 1 << 0;
const CTRL1_F_READ = 1 << 1;
const CTRL2_ST = 1 << 7;
const CTRL2_RST = 1 << 6;
const CTRL2_SLPE = 1 << 2;
const CTRL3_IPOL = 1 << 1;
const INT_DRDY = 1 << 0;
const ST_ZYXDR = 1 << 3;
const ST_ZYXOW = 1 << 7;

/** Sample period in ns for CTRL_REG1.DR = 0..7 (800 Hz ... 1.5625 Hz). */
export const MMA_SAMPLE_PERIOD_NS = [
  1_250_000, 2_500_000, 5_000_000, 10_000_000, 20_000_000, 80_000_000, 160_000_000, 640_000_000,
] as const;

/** Registers that exist, with their reset values; -1 marks reserved addresses. */
const RESET = new Int16Array(LAST_REG + 1).fill(-1);
for (let r = 0x00; r <= 0x06; r++) RESET[r] = 0;
for (const r of [MMA_SYSMOD, MMA_INT_SOURCE, MMA_XYZ_DATA_CFG, 0x10, 0x12, 0x15, 0x16, 0x17, 0x18, 0x29])
  RESET[r] = 0;
RESET[MMA_WHO_AM_I] = MMA8653FC_WHO_AM_I;
RESET[0x11] = 0x80; // PL_CFG
RESET[0x13] = 0x44; // PL_BF_ZCOMP
RESET[0x14] = 0x84; // PL_THS_REG
for (let r = MMA_CTRL_REG1; r <= LAST_REG; r++) RESET[r] = 0;

/** Read-only registers (writes are guest errors). */
function readOnly(reg: number): boolean {
  return reg <= MMA_WHO_AM_I || reg === 0x10 || reg === 0x16;
}

/** Registers of functions that are not modelled. */
function unmodelled(reg: number): boolean {
  return (reg >= 0x10 && reg <= 0x18) || reg === 0x29;
}

export class Mma8653fc extends Device implements I2CSlave {
  static readonly typeName = 'mma8653fc';
  private readonly regs = new Uint8Array(LAST_REG + 1);
  private pointer = 0;
  /** The next byte written is the register address (first byte after START+W). */
  private expectPointer = false;
  /** Axis whose MSB was read last (its LSB is latched), or -1. */
  private latchAxis = -1;
  private latchLsb = 0;
  /** Board values in 1/1024 g. */
  private readonly accel = new Float64Array(3);
  private sampleTimer!: Timer;
  private int1!: OutputLine;
  private int2!: OutputLine;

  constructor() {
    super(Mma8653fc.typeName);
    const axis = (i: number, name: string) => ({
      name,
      type: 'int' as const,
      mutable: true,
      description: `${name} acceleration in 1/1024 g (micro:bit milli-g)`,
      get: () => this.accel[i]!,
      set: (v: boolean | number | string | null) => {
        this.accel[i] = Number(v);
      },
    });
    this.declareProperties([axis(0, 'x'), axis(1, 'y'), axis(2, 'z')]);
  }

  protected onRealize(): void {
    this.sampleTimer = this.clock.createTimer(`${this.path}.sample`, () => this.sample());
    this.int1 = this.addGpioOut('int1', 1)[0]!;
    this.int2 = this.addGpioOut('int2', 1)[0]!;
  }

  protected onReset(): void {
    this.resetRegisters();
    this.pointer = 0;
    this.expectPointer = false;
  }

  private resetRegisters(): void {
    for (let r = 0; r <= LAST_REG; r++) this.regs[r] = Math.max(RESET[r]!, 0);
    this.latchAxis = -1;
    this.sampleTimer.cancel();
    this.updatePins();
  }

  // ---- board side ----

  /** Sets the acceleration in the micro:bit's milli-g (1/1024 g); seen from the next sample on. */
  set(x: number, y: number, z: number): void {
    for (const v of [x, y, z]) {
      if (!Number.isFinite(v)) throw new UserError(`${this.path}: acceleration must be a finite number`);
    }
    this.accel[0] = x;
    this.accel[1] = y;
    this.accel[2] = z;
  }

  /** The acceleration last set, in 1/1024 g. */
  get values(): [number, number, number] {
    return [this.accel[0]!, this.accel[1]!, this.accel[2]!];
  }

  /** Register value as firmware would read it (tests, monitors); no side effects. */
  peek(reg: number): number {
    return reg <= LAST_REG ? this.regs[reg]! : 0;
  }

  /** Counts per g in the current range. */
  sensitivity(): number {
    const fs = this.regs[MMA_XYZ_DATA_CFG]! & 3;
    return 256 >> Math.min(fs, 2);
  }

  /** Sample period in ns at the current data rate. */
  samplePeriodNs(): number {
    return MMA_SAMPLE_PERIOD_NS[(this.regs[MMA_CTRL_REG1]! >> 3) & 7]!;
  }

  get active(): boolean {
    return (this.regs[MMA_CTRL_REG1]! & CTRL1_ACTIVE) !== 0;
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
      this.latchAxis = -1;
      return true;
    }
    this.writeRegister(this.pointer, byte);
    this.pointer = this.pointer >= LAST_REG ? 0 : this.pointer + 1;
    return true;
  }

  recv(): number {
    const reg = this.pointer;
    const value = this.readRegister(reg);
    this.pointer = this.nextReadPointer(reg);
    return value;
  }

  private nextReadPointer(reg: number): number {
    if ((this.regs[MMA_CTRL_REG1]! & CTRL1_F_READ) !== 0) {
      if (reg === 0x00) return 0x01;
      if (reg === 0x01 || reg === 0x03) return reg + 2;
      if (reg === 0x05) return 0x00;
    }
    if (reg === 0x06 || reg >= LAST_REG) return 0x00;
    return reg + 1;
  }

  private readRegister(reg: number): number {
    if (reg > LAST_REG || RESET[reg]! < 0) {
      this.guestError(`read of reserved register 0x${hex(reg, 2)}`);
      return 0;
    }
    if (reg >= MMA_OUT_X_MSB && reg <= 0x06) {
      const axis = (reg - 1) >> 1;
      if ((reg & 1) === 1) {
        const value = this.regs[reg]!;
        this.latchAxis = axis;
        this.latchLsb = this.regs[reg + 1]!;
        this.dataRead(axis);
        return value;
      }
      return this.latchAxis === axis ? this.latchLsb : this.regs[reg]!;
    }
    if (unmodelled(reg)) this.unimp(`read of register 0x${hex(reg, 2)} (function not modelled)`);
    return this.regs[reg]!;
  }

  private writeRegister(reg: number, value: number): void {
    if (reg > LAST_REG || RESET[reg]! < 0) {
      this.guestError(`write of reserved register 0x${hex(reg, 2)} (value 0x${hex(value, 2)})`);
      return;
    }
    if (readOnly(reg)) {
      this.guestError(`write of read-only register 0x${hex(reg, 2)} (value 0x${hex(value, 2)})`);
      return;
    }
    if (unmodelled(reg))
      this.unimp(`write 0x${hex(value, 2)} to register 0x${hex(reg, 2)} (function not modelled)`);
    switch (reg) {
      case MMA_XYZ_DATA_CFG:
        if (this.active) {
          this.guestError('XYZ_DATA_CFG written while active (ignored; the chip needs standby)');
          return;
        }
        if ((value & 3) === 3) this.guestError('XYZ_DATA_CFG.FS = 3 is reserved (acts as 8 g)');
        if ((value & ~3) !== 0) this.unimp(`XYZ_DATA_CFG bits 0x${hex(value & ~3, 2)}`);
        this.regs[reg] = value;
        return;
      case MMA_CTRL_REG1:
        this.ctrlReg1Written(value);
        return;
      case MMA_CTRL_REG2:
        if ((value & CTRL2_RST) !== 0) {
          // Software reset: every register back to its reset value, standby; RST reads 0.
          this.resetRegisters();
          return;
        }
        if ((value & CTRL2_ST) !== 0) this.unimp('self-test (CTRL_REG2.ST)');
        if ((value & CTRL2_SLPE) !== 0) this.unimp('auto-sleep (CTRL_REG2.SLPE)');
        this.regs[reg] = value;
        return;
      case MMA_CTRL_REG3:
        if ((value & 0xf8) !== 0) this.unimp(`wake-from-sleep sources in CTRL_REG3 (0x${hex(value, 2)})`);
        this.regs[reg] = value;
        this.updatePins();
        return;
      case MMA_CTRL_REG4:
      case MMA_CTRL_REG5:
        if (reg === MMA_CTRL_REG4 && (value & ~INT_DRDY) !== 0) {
          this.unimp(`interrupt sources other than DRDY in CTRL_REG4 (0x${hex(value, 2)})`);
        }
        this.regs[reg] = value;
        this.refreshIntSource();
        return;
      default:
        this.regs[reg] = value;
    }
  }

  private ctrlReg1Written(value: number): void {
    const old = this.regs[MMA_CTRL_REG1]!;
    let next = value;
    if ((old & CTRL1_ACTIVE) !== 0 && ((value ^ old) & ~CTRL1_ACTIVE) !== 0) {
      this.guestError('CTRL_REG1 fields other than ACTIVE written while active (ignored)');
      next = (old & ~CTRL1_ACTIVE) | (value & CTRL1_ACTIVE);
    }
    this.regs[MMA_CTRL_REG1] = next;
    const wasActive = (old & CTRL1_ACTIVE) !== 0;
    const isActive = (next & CTRL1_ACTIVE) !== 0;
    if (isActive && !wasActive) {
      this.regs[MMA_SYSMOD] = 1;
      this.sampleTimer.modRel(this.samplePeriodNs());
    } else if (!isActive && wasActive) {
      this.regs[MMA_SYSMOD] = 0;
      this.sampleTimer.cancel();
    }
  }

  // ---- sampling ----

  private sample(): void {
    const sens = this.sensitivity();
    const status = this.regs[MMA_STATUS]!;
    for (let axis = 0; axis < 3; axis++) {
      const offset = (this.regs[MMA_OFF_X + axis]! << 24) >> 24;
      // Board value (1/1024 g) plus offset (1/512 g), in counts of the current range.
      let counts = Math.round((this.accel[axis]! * sens) / 1024 + (offset * sens) / 512);
      counts = Math.max(-512, Math.min(511, counts));
      this.regs[MMA_OUT_X_MSB + 2 * axis] = (counts >> 2) & 0xff;
      this.regs[MMA_OUT_X_MSB + 2 * axis + 1] = (counts & 3) << 6;
    }
    // Unread data being replaced sets the overwrite flags (xDR -> xOW, ZYXDR -> ZYXOW).
    this.regs[MMA_STATUS] = (status & 0xf0) | ((status & 0x0f) << 4) | 0x0f;
    this.refreshIntSource();
    this.sampleTimer.modRel(this.samplePeriodNs());
  }

  /** Reading OUT_n_MSB: clears nDR/nOW, and ZYXDR/ZYXOW once every axis was read. */
  private dataRead(axis: number): void {
    let status = this.regs[MMA_STATUS]! & ~((1 << axis) | (1 << (axis + 4)));
    if ((status & 0x07) === 0) status &= ~(ST_ZYXDR | ST_ZYXOW);
    this.regs[MMA_STATUS] = status;
    this.refreshIntSource();
  }

  private refreshIntSource(): void {
    const drdy = (this.regs[MMA_STATUS]! & ST_ZYXDR) !== 0 && (this.regs[MMA_CTRL_REG4]! & INT_DRDY) !== 0;
    this.regs[MMA_INT_SOURCE] = drdy ? INT_DRDY : 0;
    this.updatePins();
  }

  private updatePins(): void {
    const drdy = (this.regs[MMA_INT_SOURCE]! & INT_DRDY) !== 0;
    const toInt1 = (this.regs[MMA_CTRL_REG5]! & INT_DRDY) !== 0;
    const activeHigh = (this.regs[MMA_CTRL_REG3]! & CTRL3_IPOL) !== 0;
    const idle = activeHigh ? 0 : 1;
    const level1 = drdy && toInt1 ? 1 - idle : idle;
    const level2 = drdy && !toInt1 ? 1 - idle : idle;
    if (this.int1.level !== level1) this.int1.set(level1);
    if (this.int2.level !== level2) this.int2.set(level2);
  }

  private guestError(message: string): void {
    if (this.log.on(LogCat.GuestErrors)) this.log.write(`${this.path}: ${message}`);
  }

  private unimp(message: string): void {
    if (this.log.on(LogCat.Unimp)) this.log.write(`${this.path}: unimplemented: ${message}`);
  }

  // ---- state ----

  saveState(): StateData {
    return {
      regs: Array.from(this.regs),
      pointer: this.pointer,
      expectPointer: this.expectPointer,
      latch: [this.latchAxis, this.latchLsb],
      accel: Array.from(this.accel),
      sample: this.sampleTimer.pending ? this.sampleTimer.expires : -1,
    };
  }

  loadState(state: StateData): void {
    const regs = stateField(state, 'regs', isNumArray);
    if (regs.length !== this.regs.length)
      throw new UserError(`snapshot: ${this.path} expects ${this.regs.length} registers`);
    this.regs.set(regs);
    this.pointer = stateField(state, 'pointer', isNum) & 0xff;
    this.expectPointer = stateField(state, 'expectPointer', isBool);
    const [axis, lsb] = stateField(state, 'latch', isNumArray);
    this.latchAxis = axis ?? -1;
    this.latchLsb = lsb ?? 0;
    const accel = stateField(state, 'accel', isNumArray);
    for (let i = 0; i < 3; i++) this.accel[i] = accel[i] ?? 0;
    const sample = stateField(state, 'sample', isNum);
    if (sample >= 0) this.sampleTimer.modAbs(sample);
    else this.sampleTimer.cancel();
    this.updatePins();
  }
}

registerDeviceType({
  name: Mma8653fc.typeName,
  parent: I2C_SLAVE_TYPE,
  description: 'NXP MMA8653FC 3-axis accelerometer (I2C)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Mma8653fc(),
});

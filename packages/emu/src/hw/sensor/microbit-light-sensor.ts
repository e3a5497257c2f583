/**
 * micro:bit v1 ambient light sensing through the LED matrix: the board-level analog behaviour of
 * the first three matrix columns (P0.04-P0.06, which are also the ADC inputs AIN5-AIN7).
 *
 * How the runtimes measure light (micro:bit DAL `MicroBitLightSensor`, which MakeCode and
 * MicroPython 1.9.2 both use): every few display ticks they drive all three rows low, drive one
 * of the first three columns high, switch that column to a plain input and connect it to the ADC
 * (10 bits, input and reference both VDD/3: code = 1023 · V / VDD). The LEDs of that column are
 * now reverse biased with their junction capacitance charged to VDD; light discharges it. 4 ms
 * later the ADC samples the column, and the column goes back to being a display output. The
 * runtime averages the last code of the three columns and maps it linearly from [75, 338]
 * (bright, dark) onto 255..0: level = floor((338 - clamp(avg, 75, 338)) · 255 / 263).
 *
 * Interface
 * - Input lines `row[0..2]` (P0.13-P0.15) and `col[0..2]` (P0.04-P0.06): what the chip drives on
 *   those pins (the GPIO's pin output lines: 0, 1, or NOT_DRIVEN).
 * - `attach(board)`: the ADC the columns reach, the supply voltage and which pins something
 *   outside the chip drives (the edge connector: P3, P4 and P10 are these columns).
 * - Mutable property `light-level` (0..255, default 128) and `setLightLevel(level)`: the ambient
 *   light on the runtimes' scale, 0 dark, 255 bright.
 * - `refresh()`: re-evaluates the columns after the board's drive on a pin changed.
 *
 * Model: a column is in its sensing configuration while the chip does not drive it, nothing
 * outside drives it, no row is driven high and at least one row is driven low (its LEDs are
 * reverse biased). From the moment it enters that configuration its voltage falls exponentially
 * (time constant 250 µs, on the virtual clock) from the voltage it was last driven to (VDD or
 * 0 V by the chip, or the board's voltage) towards the light's level
 * V(L) = VDD · (338 - ceil(L · 263 / 255)) / 1023, never rising: the photocurrent only
 * discharges the junction. V(L) is the middle of the ADC code that the DAL's
 * formula maps back to exactly L, so a sample taken once the column has settled (the runtimes
 * wait 4 ms, 16 time constants) reads the set level exactly. While a column is sensing this
 * device feeds its voltage to the ADC (`setAnalogInput`); when it leaves the configuration the
 * ADC input gets back the voltage it had before (the board's drive, 0 V by default).
 *
 * Accuracy: a behavioural model calibrated on the DAL's constants, not an optical one. Real
 * boards discharge at a light-dependent rate, so their reading depends on the sampling delay and
 * differs between boards and LED colours; here it settles to a level and has no noise. Only the
 * ADC sees the sensing voltage (the LPCOMP keeps the board's drive). Forward-biased LEDs (a row
 * driven high while the column floats) leave the ADC input at the board's drive.
 */
import type { Timer } from '../../core/clock.js';
import { Device, isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { type InputLine, NOT_DRIVEN } from '../../core/lines.js';
import { registerDeviceType } from '../../core/registry.js';

/** GPIO pins of the three sensing columns and the ADC input each one is. */
export const LIGHT_SENSE_COL_PINS = [4, 5, 6] as const;
export const LIGHT_SENSE_AINS = [5, 6, 7] as const;
/** The DAL's calibration: the averaged 10-bit codes it takes as brightest and darkest. */
export const DAL_LIGHT_BRIGHT_CODE = 75;
export const DAL_LIGHT_DARK_CODE = 338;
/** Full scale of the runtimes' 10-bit reading with the VDD/3 reference and 1/3 prescaling. */
const ADC_FULL_SCALE = 1023;
/** Time constant of the column's discharge, ns. */
export const LIGHT_SENSE_TAU_NS = 250_000;
/** Interval between updates of a settling column's voltage, ns. */
const STEP_NS = 100_000;
/** A column closer than this to its final voltage (volts) is settled: far below an ADC step. */
const SETTLED_VOLTS = 1e-4;
const COLS = 3;
const ROWS = 3;

/** The board around the sensor: set by the machine that builds it. */
export interface LightSenseBoard {
  /** The ADC the columns reach (AIN5-AIN7). */
  adc: { setAnalogInput(ain: number, volts: number): void; analogInput(ain: number): number };
  /** The supply voltage VDD, volts: what the chip drives a high pin to. */
  supply(): number;
  /** Whether something outside the chip drives GPIO pin `pin`. */
  drivenFromOutside(pin: number): boolean;
}

/** The 10-bit code the DAL maps back to exactly `level` (0..255). */
export function dalCodeForLevel(level: number): number {
  const span = DAL_LIGHT_DARK_CODE - DAL_LIGHT_BRIGHT_CODE;
  return DAL_LIGHT_DARK_CODE - Math.ceil((level * span) / 255);
}

/** The DAL's light level for an averaged 10-bit code (its integer arithmetic). */
export function dalLevelForCode(code: number): number {
  const span = DAL_LIGHT_DARK_CODE - DAL_LIGHT_BRIGHT_CODE;
  const clamped = Math.min(DAL_LIGHT_DARK_CODE, Math.max(DAL_LIGHT_BRIGHT_CODE, Math.trunc(code)));
  return Math.trunc(((DAL_LIGHT_DARK_CODE - clamped) * 255) / span);
}

export class MicrobitLightSensor extends Device {
  static readonly typeName = 'microbit.light-sensor';
  private rows: InputLine[] = [];
  private cols: InputLine[] = [];
  private timer!: Timer;
  private board: LightSenseBoard | null = null;
  private level = 128;
  /** The voltage each column was last driven to, by the chip or from outside. */
  private readonly drivenVolts = new Float64Array(COLS);
  /** Whether each column is in its sensing configuration (this device owns its ADC input). */
  private readonly sensing = new Uint8Array(COLS);
  /** The ADC input's voltage before the column started sensing, restored when it stops. */
  private readonly saved = new Float64Array(COLS);
  /** The column's voltage at `since` and the virtual time it started settling from there. */
  private readonly startVolts = new Float64Array(COLS);
  private readonly since = new Float64Array(COLS);
  /** The voltage this device last gave each sensing column's ADC input. */
  private readonly written = new Float64Array(COLS);

  constructor() {
    super(MicrobitLightSensor.typeName);
    this.declareProperty({
      name: 'light-level',
      type: 'int',
      mutable: true,
      min: 0,
      max: 255,
      description: "ambient light on the runtimes' scale, 0 (dark) to 255 (bright); default 128",
      get: () => this.level,
      set: (v) => this.setLightLevel(v as number),
    });
  }

  protected onRealize(): void {
    this.rows = this.addGpioIn('row', ROWS, () => this.refresh());
    this.cols = this.addGpioIn('col', COLS, (level, i) => {
      if (level >= 0) this.drivenVolts[i] = level > 0 && this.board ? this.board.supply() : 0;
      this.refresh();
    });
    this.timer = this.clock.createTimer(`${this.path}.settle`, () => this.update());
  }

  protected onReset(): void {
    // The light is the room's, not the chip's: it survives a reset. The ADC inputs get their
    // board voltages back, then the pins' present state decides again.
    for (let c = 0; c < COLS; c++) this.stopSensing(c);
    this.timer.cancel();
    this.refresh();
  }

  /** Connects the ADC and the board's pin state (the machine calls this once, after realize). */
  attach(board: LightSenseBoard): void {
    this.board = board;
    this.refresh();
  }

  get lightLevel(): number {
    return this.level;
  }

  /** Sets the ambient light, 0 (dark) to 255 (bright), on the runtimes' scale. */
  setLightLevel(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > 255) {
      throw new UserError(`${this.path}: light level must be an integer from 0 to 255, got ${level}`);
    }
    if (level === this.level) return;
    // A sensing column continues from where it is now towards the new light's voltage.
    const now = this.clock.now;
    for (let c = 0; c < COLS; c++) {
      if (!this.sensing[c]) continue;
      this.startVolts[c] = this.voltage(c, now);
      this.since[c] = now;
    }
    this.level = level;
    this.update();
  }

  /** The voltage light discharges a sensing column to, for the present light and supply. */
  targetVolts(): number {
    const vdd = this.board ? this.board.supply() : 0;
    return (vdd * dalCodeForLevel(this.level)) / ADC_FULL_SCALE;
  }

  /** Re-evaluates which columns sense (after a change of the row/column lines or board drive). */
  refresh(): void {
    const board = this.board;
    if (!board) return;
    let low = 0;
    let high = 0;
    for (let r = 0; r < ROWS; r++) {
      const l = this.rows[r]!.level;
      if (l === 0) low++;
      else if (l > 0) high++;
    }
    const reverseBiased = low > 0 && high === 0;
    const now = this.clock.now;
    for (let c = 0; c < COLS; c++) {
      const ain = LIGHT_SENSE_AINS[c]!;
      const external = board.drivenFromOutside(LIGHT_SENSE_COL_PINS[c]!);
      // The board's drive wins over the chip's; either leaves its voltage on the column.
      if (external) this.drivenVolts[c] = board.adc.analogInput(ain);
      if (reverseBiased && !external && this.cols[c]!.level === NOT_DRIVEN) {
        if (this.sensing[c]) continue;
        this.sensing[c] = 1;
        this.saved[c] = board.adc.analogInput(ain);
        this.startVolts[c] = this.drivenVolts[c]!;
        this.since[c] = now;
      } else {
        this.stopSensing(c);
      }
    }
    this.update();
  }

  /** The voltage of sensing column `c` at virtual time `now`. */
  private voltage(c: number, now: number): number {
    const start = this.startVolts[c]!;
    const target = Math.min(start, this.targetVolts());
    const left = (start - target) * Math.exp(-(now - this.since[c]!) / LIGHT_SENSE_TAU_NS);
    return left < SETTLED_VOLTS ? target : target + left;
  }

  /** Feeds every sensing column's voltage to the ADC; keeps stepping while one is settling. */
  private update(): void {
    const board = this.board;
    if (!board) return;
    const now = this.clock.now;
    let settling = false;
    for (let c = 0; c < COLS; c++) {
      if (!this.sensing[c]) continue;
      const v = this.voltage(c, now);
      this.written[c] = v;
      board.adc.setAnalogInput(LIGHT_SENSE_AINS[c]!, v);
      if (v !== Math.min(this.startVolts[c]!, this.targetVolts())) settling = true;
    }
    if (settling) this.timer.modRel(STEP_NS);
    else this.timer.cancel();
  }

  private stopSensing(c: number): void {
    if (!this.sensing[c]) return;
    this.sensing[c] = 0;
    const adc = this.board?.adc;
    // The board may have driven the pin meanwhile (the edge connector sets the input first):
    // its voltage stays. Otherwise the input gets back what it had before sensing.
    if (adc && adc.analogInput(LIGHT_SENSE_AINS[c]!) === this.written[c]) {
      adc.setAnalogInput(LIGHT_SENSE_AINS[c]!, this.saved[c]!);
    }
  }

  saveState(): StateData {
    return {
      level: this.level,
      drivenVolts: Array.from(this.drivenVolts),
      sensing: Array.from(this.sensing, (s) => s !== 0),
      saved: Array.from(this.saved),
      startVolts: Array.from(this.startVolts),
      since: Array.from(this.since),
      written: Array.from(this.written),
      settle: this.timer.pending ? this.timer.expires : -1,
    };
  }

  loadState(state: StateData): void {
    const level = stateField(state, 'level', isNum);
    const drivenVolts = stateField(state, 'drivenVolts', isNumArray);
    const sensing = stateField(state, 'sensing', (v): v is boolean[] => Array.isArray(v) && v.every(isBool));
    const saved = stateField(state, 'saved', isNumArray);
    const startVolts = stateField(state, 'startVolts', isNumArray);
    const since = stateField(state, 'since', isNumArray);
    const written = stateField(state, 'written', isNumArray);
    if (
      !Number.isInteger(level) ||
      level < 0 ||
      level > 255 ||
      [drivenVolts, sensing, saved, startVolts, since, written].some((a) => a.length !== COLS)
    ) {
      throw new UserError(`snapshot: ${this.path}: needs a level 0-255 and ${COLS} values per column`);
    }
    this.level = level;
    this.drivenVolts.set(drivenVolts);
    this.sensing.set(sensing.map((s) => (s ? 1 : 0)));
    this.saved.set(saved);
    this.startVolts.set(startVolts);
    this.since.set(since);
    this.written.set(written);
    const settle = stateField(state, 'settle', isNum);
    if (settle >= 0) this.timer.modAbs(settle);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: MicrobitLightSensor.typeName,
  parent: 'device',
  description: 'micro:bit v1 light sensing through the LED matrix columns (board-level analog model)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new MicrobitLightSensor(),
});

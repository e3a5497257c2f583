/**
 * micro:bit v1 LED matrix — the 5×5 display of the board, wired electrically as 3 rows × 9
 * columns (micro:bit v1.3/v1.5 schematic; the "SB2" layout the micro:bit runtime uses).
 *
 * Interface
 * - Input lines `row[0..2]` (P0.13-P0.15, active high) and `col[0..8]` (P0.4-P0.12, active
 *   low): the board connects them to the GPIO's pin output lines.
 * - `frame()`: the brightness of each of the 25 LEDs (row-major, index y*5+x), 0..1, averaged
 *   over the time since the previous frame boundary. 1 means the LED was on for the whole
 *   1/3 of the time its row can be selected (full brightness for a 3-row multiplexed matrix).
 * - `levels(frame)`: brightness on MicroPython's 0..9 scale. MicroPython's levels are
 *   exponential in on-time, so this inverts its timing table (nearest level in log space);
 *   `frame()` keeps the physical duty for anything that needs it.
 * - `onFrame(fn)`: a frame every `window-ns` of virtual time (property, default 18 ms, a
 *   multiple of the runtimes' row scan) while at least one listener is attached.
 * - `litNow()`: which LEDs conduct at this instant.
 *
 * Accuracy: an LED conducts while its row line is driven high and its column line is driven
 * low; undriven (input, NOT_DRIVEN) pins leave it dark. Brightness is the on-time integrated
 * exactly on the virtual clock between line changes, so PWM-based brightness levels come out
 * as the firmware's duty cycle. Not modelled: LED persistence, the light-sensing mode's
 * reverse bias (the ADC side of light sensing is in the board model), current limits.
 */
import type { Timer } from '../../core/clock.js';
import { Device, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { registerDeviceType } from '../../core/registry.js';

/** matrix position (column c, row r) → LED index y*5+x, or -1 where no LED is wired. */
const SB2_MAP: ReadonlyArray<ReadonlyArray<readonly [number, number] | null>> = [
  [
    [0, 0],
    [4, 2],
    [2, 4],
  ],
  [
    [2, 0],
    [0, 2],
    [4, 4],
  ],
  [
    [4, 0],
    [2, 2],
    [0, 4],
  ],
  [
    [4, 3],
    [1, 0],
    [0, 1],
  ],
  [
    [3, 3],
    [3, 0],
    [1, 1],
  ],
  [
    [2, 3],
    [3, 4],
    [2, 1],
  ],
  [
    [1, 3],
    [1, 4],
    [3, 1],
  ],
  [[0, 3], null, [4, 1]],
  [[1, 2], null, [3, 2]],
];

/**
 * On-time of each MicroPython 1.9.2 brightness level 0..9, in 1/375 of a row's time slot: what
 * its display driver does, measured by running the firmware on this model (`Image("12345:
 * 67899:...")`). Level 9 is the whole slot.
 */
export const MICROPYTHON_LEVEL_TICKS = [0, 2, 4, 8, 15, 28, 53, 102, 199, 375] as const;

/** The MicroPython brightness level (0..9) nearest to a duty of 0..1, compared in log space. */
export function microPythonLevel(duty: number): number {
  const ticks = duty * 375;
  if (ticks < 1) return 0;
  let best = 1;
  for (let level = 2; level <= 9; level++) {
    if (
      Math.abs(Math.log(ticks / MICROPYTHON_LEVEL_TICKS[level]!)) <
      Math.abs(Math.log(ticks / MICROPYTHON_LEVEL_TICKS[best]!))
    ) {
      best = level;
    }
  }
  return best;
}

export const MATRIX_ROWS = 3;
export const MATRIX_COLS = 9;
/** GPIO pins of the rows and columns on the micro:bit v1. */
export const ROW_PINS = [13, 14, 15] as const;
export const COL_PINS = [4, 5, 6, 7, 8, 9, 10, 11, 12] as const;

/** LED index (y*5+x) of matrix position (row, col), or -1. */
export function ledIndex(row: number, col: number): number {
  const p = SB2_MAP[col]?.[row];
  return p ? p[1] * 5 + p[0] : -1;
}

export class MicrobitLedMatrix extends Device {
  static readonly typeName = 'microbit.led-matrix';
  private readonly rowLevel = new Int8Array(MATRIX_ROWS);
  private readonly colLevel = new Int8Array(MATRIX_COLS);
  /** Virtual time each lit LED was turned on, or -1. */
  private readonly litSince = new Float64Array(25).fill(-1);
  /** On-time accumulated in the current frame, ns. */
  private readonly onNs = new Float64Array(25);
  private frameStart = 0;
  private listeners: Array<(frame: Float32Array) => void> = [];
  private frameTimer!: Timer;

  constructor() {
    super(MicrobitLedMatrix.typeName);
    this.declareProperty({
      name: 'window-ns',
      type: 'uint',
      default: 18_000_000,
      min: 1000,
      description: 'length of a display frame in virtual ns',
    });
  }

  protected onRealize(): void {
    this.addGpioIn('row', MATRIX_ROWS, (level, i) => this.lineChanged(this.rowLevel, i, level));
    this.addGpioIn('col', MATRIX_COLS, (level, i) => this.lineChanged(this.colLevel, i, level));
    this.frameTimer = this.clock.createTimer(`${this.path}.frame`, () => this.frameBoundary());
  }

  protected onReset(): void {
    this.rowLevel.fill(-1);
    this.colLevel.fill(-1);
    this.litSince.fill(-1);
    this.onNs.fill(0);
    this.frameStart = this.clock.now;
    if (this.listeners.length > 0) this.frameTimer.modRel(this.getInt('window-ns'));
  }

  private lineChanged(levels: Int8Array, i: number, level: number): void {
    const v = level < 0 ? -1 : level > 0 ? 1 : 0;
    if (levels[i] === v) return;
    levels[i] = v;
    this.updateLit();
  }

  /** Starts or stops the on-time of every LED whose conduction changed. */
  private updateLit(): void {
    const now = this.clock.now;
    for (let r = 0; r < MATRIX_ROWS; r++) {
      const rowOn = this.rowLevel[r] === 1;
      for (let c = 0; c < MATRIX_COLS; c++) {
        const led = ledIndex(r, c);
        if (led < 0) continue;
        const on = rowOn && this.colLevel[c] === 0;
        const since = this.litSince[led]!;
        if (on && since < 0) this.litSince[led] = now;
        else if (!on && since >= 0) {
          this.onNs[led]! += now - since;
          this.litSince[led] = -1;
        }
      }
    }
  }

  /** Which LEDs conduct right now (row-major, y*5+x). */
  litNow(): boolean[] {
    return Array.from(this.litSince, (t) => t >= 0);
  }

  /** Brightness 0..1 of each LED since the previous frame boundary (or reset); starts a new frame. */
  frame(): Float32Array {
    const now = this.clock.now;
    const span = now - this.frameStart;
    const out = new Float32Array(25);
    for (let i = 0; i < 25; i++) {
      let on = this.onNs[i]!;
      const since = this.litSince[i]!;
      if (since >= 0) {
        on += now - since;
        this.litSince[i] = now;
      }
      // A row is selected at most 1/3 of the time: that duty is full brightness.
      out[i] = span > 0 ? Math.min(1, (on * MATRIX_ROWS) / span) : 0;
      this.onNs[i] = 0;
    }
    this.frameStart = now;
    return out;
  }

  /** A frame on MicroPython's 0..9 brightness scale (see MICROPYTHON_LEVEL_TICKS). */
  static levels(frame: Float32Array): number[] {
    return Array.from(frame, (duty) => microPythonLevel(duty));
  }

  /** Calls `fn` with a frame every `window-ns`; returns a function that stops it. */
  onFrame(fn: (frame: Float32Array) => void): () => void {
    this.listeners.push(fn);
    if (this.listeners.length === 1) {
      this.frame();
      this.frameTimer.modRel(this.getInt('window-ns'));
    }
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
      if (this.listeners.length === 0) this.frameTimer.cancel();
    };
  }

  private frameBoundary(): void {
    const f = this.frame();
    for (const l of this.listeners) l(f);
    if (this.listeners.length > 0) this.frameTimer.modRel(this.getInt('window-ns'));
  }

  saveState(): StateData {
    return {
      rows: [...this.rowLevel],
      cols: [...this.colLevel],
      litSince: [...this.litSince],
      onNs: [...this.onNs],
      frameStart: this.frameStart,
    };
  }

  loadState(state: StateData): void {
    this.rowLevel.set(stateField(state, 'rows', isNumArray));
    this.colLevel.set(stateField(state, 'cols', isNumArray));
    this.litSince.set(stateField(state, 'litSince', isNumArray));
    this.onNs.set(stateField(state, 'onNs', isNumArray));
    this.frameStart = stateField(state, 'frameStart', isNum);
  }
}

registerDeviceType({
  name: MicrobitLedMatrix.typeName,
  parent: 'device',
  description: 'micro:bit v1 5x5 LED matrix (3x9 multiplexed)',
  userCreatable: false,
  category: 'Display devices',
  create: () => new MicrobitLedMatrix(),
});

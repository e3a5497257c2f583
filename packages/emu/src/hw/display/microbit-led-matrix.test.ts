import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { ledIndex, MATRIX_COLS, MATRIX_ROWS, MicrobitLedMatrix } from './microbit-led-matrix.js';

function make() {
  const clock = new VirtualClock();
  const m = new MicrobitLedMatrix();
  m.realize({ clock, log: new Log() });
  return { clock, m };
}

/** Scans the matrix as a display driver does: each row for `rowNs`, lighting `image` (0..1 duty). */
function scan(clock: VirtualClock, m: MicrobitLedMatrix, image: number[], rowNs: number, frames: number) {
  for (let f = 0; f < frames; f++) {
    for (let r = 0; r < MATRIX_ROWS; r++) {
      for (let rr = 0; rr < MATRIX_ROWS; rr++) m.gpioIn('row', rr).set(rr === r ? 1 : 0);
      const start = clock.now;
      // Columns of LEDs with duty > 0 go low at the row start and high after their duty.
      const offAt: Array<[number, number]> = [];
      for (let c = 0; c < MATRIX_COLS; c++) {
        const led = ledIndex(r, c);
        const duty = led >= 0 ? image[led]! : 0;
        m.gpioIn('col', c).set(duty > 0 ? 0 : 1);
        if (duty > 0 && duty < 1) offAt.push([start + Math.round(rowNs * duty), c]);
      }
      offAt.sort((a, b) => a[0] - b[0]);
      for (const [t, c] of offAt) {
        clock.advanceTo(t);
        m.gpioIn('col', c).set(1);
      }
      clock.advanceTo(start + rowNs);
    }
  }
}

describe('micro:bit LED matrix wiring', () => {
  it('maps the 27 row/column crossings onto the 25 LEDs exactly once, with two unconnected', () => {
    const seen = new Set<number>();
    let unconnected = 0;
    for (let r = 0; r < MATRIX_ROWS; r++)
      for (let c = 0; c < MATRIX_COLS; c++) {
        const i = ledIndex(r, c);
        if (i < 0) unconnected++;
        else seen.add(i);
      }
    expect(seen.size).toBe(25);
    expect(unconnected).toBe(2);
    expect(ledIndex(0, 0)).toBe(0); // row 1 / column 1 is the top-left LED
  });

  it('lights an LED only while its row is driven high and its column driven low', () => {
    const { m } = make();
    m.gpioIn('row', 0).set(1);
    expect(m.litNow().some(Boolean)).toBe(false); // columns undriven
    m.gpioIn('col', 0).set(0);
    expect(m.litNow()[0]).toBe(true);
    m.gpioIn('row', 0).set(-1);
    expect(m.litNow()[0]).toBe(false);
  });
});

describe('micro:bit LED matrix brightness', () => {
  it('integrates on-time: a full-duty image reads 1 and a half-duty pixel 0.5', () => {
    const { clock, m } = make();
    const image = new Array(25).fill(0);
    image[0] = 1; // (0,0) full
    image[12] = 0.5; // centre at half duty
    image[24] = 2 / 375; // (4,4) at MicroPython's dimmest level
    m.frame();
    scan(clock, m, image, 6_000_000, 3);
    const f = m.frame();
    expect(f[0]).toBeCloseTo(1, 6);
    expect(f[12]).toBeCloseTo(0.5, 6);
    expect(MicrobitLedMatrix.levels(f)[24]).toBe(1);
    expect(MicrobitLedMatrix.levels(f)[12]).toBe(8); // half duty is between levels 8 and 9
    expect(f[1]).toBe(0);
  });

  it('delivers periodic frames to listeners on the virtual clock', () => {
    const { clock, m } = make();
    const frames: number[] = [];
    const stop = m.onFrame((f) => frames.push(f[0]!));
    const image = new Array(25).fill(0);
    image[0] = 1;
    scan(clock, m, image, 6_000_000, 4); // 72 ms = 4 windows of 18 ms
    expect(frames).toHaveLength(4);
    for (const b of frames) expect(b).toBeCloseTo(1, 6);
    stop();
    expect(clock.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
  });

  it('round-trips its state', () => {
    const { m } = make();
    m.gpioIn('row', 1).set(1);
    m.gpioIn('col', 3).set(0);
    const s = JSON.parse(JSON.stringify(m.saveState()));
    const { m: n } = make();
    n.loadState(s);
    expect(n.saveState()).toEqual(m.saveState());
    expect(n.litNow()).toEqual(m.litNow());
  });
});

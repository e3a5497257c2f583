/**
 * The nRF51's analog inputs as the board sets them: the voltages on AIN0-AIN7, the supply VDD
 * and the external reference AREF0. Both analog blocks that read them (ADC and LPCOMP) declare
 * the same properties, in millivolts because property values are integers, through this
 * helper; the blocks keep the values in volts.
 *
 * Accuracy: ideal voltage sources: no source impedance, noise or input leakage is modelled;
 * the values are what the board (or a test) sets.
 */

import { isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import type { ObjectNode } from '../../core/object.js';

export interface AnalogInputAccess {
  ain: Float64Array;
  setAnalogInput(ain: number, volts: number): void;
  supply(): number;
  setSupply(volts: number): void;
  aref0(): number;
  setAref0(volts: number): void;
}

/** Declares the mutable properties `ain0`..`ain7`, `vdd` and `aref0` (millivolts) on `node`. */
export function declareAnalogInputProperties(node: ObjectNode, access: AnalogInputAccess): void {
  for (let i = 0; i < 8; i++) {
    node.declareProperty({
      name: `ain${i}`,
      type: 'int',
      mutable: true,
      min: -1000,
      max: 10_000,
      description: `voltage on analog input AIN${i} in millivolts`,
      get: () => Math.round(access.ain[i]! * 1000),
      set: (v) => access.setAnalogInput(i, (v as number) / 1000),
    });
  }
  node.declareProperty({
    name: 'vdd',
    type: 'int',
    mutable: true,
    min: 1800,
    max: 3600,
    description: 'supply voltage VDD in millivolts (default 3000)',
    get: () => Math.round(access.supply() * 1000),
    set: (v) => access.setSupply((v as number) / 1000),
  });
  node.declareProperty({
    name: 'aref0',
    type: 'int',
    mutable: true,
    min: 0,
    max: 10_000,
    description: 'voltage on external reference AREF0 (P0.00) in millivolts',
    get: () => Math.round(access.aref0() * 1000),
    set: (v) => access.setAref0((v as number) / 1000),
  });
}

/** Throws the board's mistake in one line: an analog input that does not exist, or no number. */
export function checkAnalogInput(path: string, ain: number, volts: number): void {
  if (!Number.isInteger(ain) || ain < 0 || ain > 7) {
    throw new UserError(`${path}: analog input ${ain} does not exist (AIN0-AIN7)`);
  }
  if (!Number.isFinite(volts)) throw new UserError(`${path}: AIN${ain} voltage must be a number`);
}

/** The analog inputs as snapshot fields (`ain`, `vdd`, `aref0`). */
export function saveAnalogInputs(access: AnalogInputAccess): Record<string, StateData> {
  return { ain: Array.from(access.ain), vdd: access.supply(), aref0: access.aref0() };
}

/**
 * Restores the AIN voltages `saveAnalogInputs` saved into `ain` and returns VDD and AREF0 for
 * the block to store: a restore sets state, it does not replay input changes (no events).
 * `what` names the block in errors.
 */
export function loadAnalogInputs(
  ain: Float64Array,
  state: StateData,
  what: string,
): { vdd: number; aref0: number } {
  const saved = stateField(state, 'ain', isNumArray);
  if (saved.length !== 8) throw new UserError(`snapshot: ${what} analog inputs must have 8 values`);
  ain.set(saved);
  return { vdd: stateField(state, 'vdd', isNum), aref0: stateField(state, 'aref0', isNum) };
}

import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { Device, isBool, isNum, isNumArray, isStr, type StateData, stateField } from './device.js';
import { UserError } from './errors.js';
import { Log } from './log.js';
import { MemoryRegion } from './memory.js';
import { ObjectNode } from './object.js';

/** A device that records its lifecycle calls and holds one counter as its state. */
class RecordingDevice extends Device {
  readonly calls: string[] = [];
  counter = 0;
  levels: number[] = [];

  constructor() {
    super('test-recording-dev');
    this.declareProperty({ name: 'start', type: 'uint', default: 5 });
  }

  protected onRealize(): void {
    // The context is usable from onRealize on.
    this.calls.push(`realize clock=${this.clock.now}`);
    this.addMmio(MemoryRegion.ram('regs', 0x100));
    this.addGpioIn('', 2, (level, i) => this.levels.push(i * 10 + level));
    this.addGpioOut('irq', 1);
  }

  protected onReset(): void {
    this.calls.push('reset');
    this.counter = this.getInt('start');
  }

  saveState(): StateData {
    return { counter: this.counter };
  }

  loadState(state: StateData): void {
    this.counter = stateField(state, 'counter', isNum);
  }
}

function context() {
  return { clock: new VirtualClock(), log: new Log() };
}

describe('Device lifecycle', () => {
  it('refuses access to the context before realize', () => {
    const d = new RecordingDevice();
    new ObjectNode('container').addChild('dev', d);
    expect(() => d.ctx).toThrow('/dev: device used before realize');
    expect(() => d.clock).toThrow('device used before realize');
    expect(() => d.log).toThrow('device used before realize');
  });

  it('realizes once: onRealize, then reset, then realized', () => {
    const d = new RecordingDevice();
    const ctx = context();
    expect(d.realized).toBe(false);
    d.realize(ctx);
    expect(d.calls).toEqual(['realize clock=0', 'reset']);
    expect(d.realized).toBe(true);
    expect(d.ctx).toBe(ctx);
    expect(d.clock).toBe(ctx.clock);
    expect(d.log).toBe(ctx.log);
  });

  it('applies property values set before realize in the first reset', () => {
    const d = new RecordingDevice();
    d.setProperty('start', '0x20');
    d.realize(context());
    expect(d.counter).toBe(32);
  });

  it('refuses a second realize', () => {
    const d = new RecordingDevice();
    d.realize(context());
    expect(() => d.realize(context())).toThrow('device already realized');
    expect(d.calls).toEqual(['realize clock=0', 'reset']);
  });

  it('makes ordinary properties read-only once realized', () => {
    const d = new RecordingDevice();
    d.realize(context());
    expect(() => d.setProperty('start', 1)).toThrow(UserError);
  });

  it('restores reset values on reset without realizing again', () => {
    const d = new RecordingDevice();
    d.realize(context());
    d.counter = 99;
    d.reset();
    expect(d.counter).toBe(5);
    expect(d.calls).toEqual(['realize clock=0', 'reset', 'reset']);
    expect(d.mmioRegions).toHaveLength(1);
  });

  it('round-trips its state', () => {
    const a = new RecordingDevice();
    const b = new RecordingDevice();
    a.realize(context());
    b.realize(context());
    a.counter = 1234;
    b.loadState(JSON.parse(JSON.stringify(a.saveState())) as StateData);
    expect(b.counter).toBe(1234);
  });
});

describe('Device regions and lines', () => {
  it('exposes MMIO regions by index', () => {
    const d = new RecordingDevice();
    d.realize(context());
    expect(d.mmio(0).name).toBe('regs');
    expect(() => d.mmio(1)).toThrow('no MMIO region 1');
  });

  it('names its lines under its path and routes inputs to the handler', () => {
    const d = new RecordingDevice();
    new ObjectNode('container').addChild('leds', d);
    d.realize(context());
    d.gpioIn('', 1).set(1);
    expect(d.levels).toEqual([11]);
    expect(d.gpioOut('irq', 0).toString()).toBe('/leds:irq[0]');
    expect(d.gpioIn('', 0).toString()).toBe('/leds:unnamed-gpio-in[0]');
  });

  it('reports a missing line as a user error with QEMU-style array names', () => {
    const d = new RecordingDevice();
    new ObjectNode('container').addChild('leds', d);
    d.realize(context());
    expect(() => d.gpioIn('', 2)).toThrow('/leds: no input line unnamed-gpio-in[2]');
    expect(() => d.gpioOut('', 0)).toThrow('/leds: no output line unnamed-gpio-out[0]');
    expect(() => d.gpioOut('irq', 1)).toThrow(UserError);
  });
});

describe('stateField', () => {
  const state: StateData = { n: 3, b: true, s: 'x', list: [1, 2], bad: [1, 'a'], nothing: null };

  it('returns a field of the checked type', () => {
    expect(stateField(state, 'n', isNum)).toBe(3);
    expect(stateField(state, 'b', isBool)).toBe(true);
    expect(stateField(state, 's', isStr)).toBe('x');
    expect(stateField(state, 'list', isNumArray)).toEqual([1, 2]);
  });

  it('names a missing field', () => {
    expect(() => stateField(state, 'absent', isNum)).toThrow(UserError);
    expect(() => stateField(state, 'absent', isNum)).toThrow("snapshot: missing field 'absent'");
  });

  it('names a field of the wrong type', () => {
    expect(() => stateField(state, 'n', isStr)).toThrow("snapshot: field 'n' has the wrong type");
    expect(() => stateField(state, 'bad', isNumArray)).toThrow("snapshot: field 'bad' has the wrong type");
    expect(() => stateField(state, 'nothing', isNum)).toThrow("snapshot: field 'nothing' has the wrong type");
  });

  it('treats a state that is not an object as missing every field', () => {
    for (const s of [null, 5, 'text', true, [1, 2]] as StateData[]) {
      expect(() => stateField(s, 'n', isNum)).toThrow("snapshot: missing field 'n'");
    }
  });

  it('does not take inherited object members for fields', () => {
    expect(() => stateField({}, 'constructor', isNum)).toThrow("snapshot: missing field 'constructor'");
    expect(() => stateField({}, 'toString', isStr)).toThrow("snapshot: missing field 'toString'");
  });
});

import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { defaultTiming, describeTiming, parseIcount, resolveNsPerInstruction } from './icount.js';

function errorOf(spec: string): string {
  try {
    parseIcount(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error(`expected '-icount ${spec}' to fail`);
}

describe('parseIcount', () => {
  it('maps shift=N,sleep=off to fast mode with 2^N ns per instruction', () => {
    expect(parseIcount('shift=6,sleep=off')).toEqual({ mode: 'fast', nsPerInstruction: 64 });
    expect(parseIcount('0,sleep=off')).toEqual({ mode: 'fast', nsPerInstruction: 1 });
    expect(parseIcount('sleep=no,shift=10')).toEqual({ mode: 'fast', nsPerInstruction: 1024 });
  });

  it('maps shift=N with sleep on (the default) to realtime mode', () => {
    expect(parseIcount('3')).toEqual({ mode: 'realtime', nsPerInstruction: 8 });
    expect(parseIcount('shift=4,sleep=on')).toEqual({ mode: 'realtime', nsPerInstruction: 16 });
    expect(parseIcount('shift=4,align=on')).toEqual({ mode: 'realtime', nsPerInstruction: 16 });
    expect(parseIcount('shift=2,align')).toEqual({ mode: 'realtime', nsPerInstruction: 4 });
  });

  it('maps shift=auto to realtime at the nominal frequency', () => {
    expect(parseIcount('auto')).toEqual({ mode: 'realtime', nsPerInstruction: 'auto' });
    expect(parseIcount('shift=auto,sleep=on')).toEqual({ mode: 'realtime', nsPerInstruction: 'auto' });
  });

  it('accepts shift in hexadecimal and octal, as strtol with base 0 does', () => {
    expect(parseIcount('0x5,sleep=off').nsPerInstruction).toBe(32);
    expect(parseIcount('010,sleep=off').nsPerInstruction).toBe(256);
  });

  it('treats -icount without shift as no -icount', () => {
    expect(parseIcount('sleep=off')).toEqual(defaultTiming());
    expect(parseIcount('')).toEqual(defaultTiming());
    expect(defaultTiming()).toEqual({ mode: 'realtime', nsPerInstruction: 'auto' });
  });

  it('rejects shift values that are not integers in 0..10', () => {
    for (const bad of ['11', '-1', 'abc', '6x', '08', '1.5', 'shift=', 'shift=0x']) {
      expect(errorOf(bad), bad).toBe('icount: Invalid shift value');
    }
  });

  it('rejects incompatible combinations with QEMU messages', () => {
    expect(errorOf('shift=3,align=on,sleep=off')).toBe('align=on and sleep=off are incompatible');
    expect(errorOf('auto,align=on')).toBe('shift=auto and align=on are incompatible');
    expect(errorOf('auto,sleep=off')).toBe('shift=auto and sleep=off are incompatible');
    expect(errorOf('align=on')).toBe('Please specify shift option when using align');
    expect(errorOf('align=off')).toBe('Please specify shift option when using align');
  });

  it('rejects bad booleans and unknown parameters', () => {
    expect(errorOf('shift=3,sleep=maybe')).toBe("Parameter 'sleep' expects 'on' or 'off'");
    expect(errorOf('shift=3,align=2')).toBe("Parameter 'align' expects 'on' or 'off'");
    expect(errorOf('shift=3,speed=9')).toBe("Invalid parameter 'speed'");
  });

  it('recognises record/replay but does not support it', () => {
    expect(errorOf('shift=7,rr=record,rrfile=replay.bin')).toBe('record/replay is not supported');
    expect(errorOf('shift=7,rr=replay,rrfile=a,,b.bin')).toBe('record/replay is not supported');
    expect(errorOf('shift=7,rr=rewind')).toBe('Invalid icount rr option: rewind');
  });
});

describe('timing helpers', () => {
  it('resolves auto to the CPU clock period', () => {
    expect(resolveNsPerInstruction({ mode: 'realtime', nsPerInstruction: 'auto' }, 16_000_000)).toBe(62.5);
    expect(resolveNsPerInstruction({ mode: 'fast', nsPerInstruction: 64 }, 16_000_000)).toBe(64);
  });

  it('describes every mapping', () => {
    const text = describeTiming();
    expect(text).toContain('shift=N,sleep=off');
    expect(text).toContain('shift=auto');
    expect(text).toContain('0..10');
    expect(text).toContain('rr=record|replay is not supported');
  });
});

import { describe, expect, it } from 'vitest';
import { findOption, OPTION_CATEGORIES, SYSTEM_OPTIONS, takesArgument } from './options.js';

describe('option table', () => {
  it('finds options with one or two dashes and by alias', () => {
    expect(findOption('-machine')?.name).toBe('machine');
    expect(findOption('--machine')?.name).toBe('machine');
    expect(findOption('-M')?.name).toBe('machine');
    expect(findOption('-h')?.name).toBe('help');
    expect(findOption('-qmp-pretty')?.name).toBe('qmp-pretty');
  });

  it('does not find unknown words or words without a dash', () => {
    expect(findOption('-foo')).toBeUndefined();
    expect(findOption('machine')).toBeUndefined();
    expect(findOption('---machine')).toBeUndefined();
  });

  it('knows which options take an argument', () => {
    expect(takesArgument(findOption('-m')!)).toBe(true);
    expect(takesArgument(findOption('-S')!)).toBe(false);
    expect(takesArgument(findOption('-nographic')!)).toBe(false);
    expect(takesArgument(findOption('-qtest-log')!)).toBe(true);
  });

  it('has every option the qtest launch lines and the brief need', () => {
    const needed = [
      'h',
      'help',
      'version',
      'M',
      'machine',
      'cpu',
      'smp',
      'm',
      'accel',
      'device',
      'global',
      'drive',
      'object',
      'kernel',
      'append',
      'initrd',
      'nographic',
      'display',
      'serial',
      'parallel',
      'monitor',
      'qmp',
      'qmp-pretty',
      'mon',
      'chardev',
      'S',
      's',
      'gdb',
      'no-reboot',
      'no-shutdown',
      'd',
      'D',
      'dfilter',
      'icount',
      'seed',
      'rtc',
      'name',
      'nodefaults',
      'qtest',
      'qtest-log',
      'trace',
      'audio',
      'run-with',
      'daemonize',
      'L',
      'bios',
      'snapshot',
      'loadvm',
      'pidfile',
      'vga',
      'usb',
      'boot',
    ];
    for (const name of needed) expect(findOption(`-${name}`), name).toBeDefined();
  });

  it('gives every option a known category and a help line, with no name used twice', () => {
    const seen = new Set<string>();
    for (const def of SYSTEM_OPTIONS) {
      expect(OPTION_CATEGORIES).toContain(def.category);
      expect(def.help.length).toBeGreaterThan(0);
      for (const name of [def.name, ...(def.aliases ?? [])]) {
        expect(seen.has(name), name).toBe(false);
        seen.add(name);
      }
    }
  });
});

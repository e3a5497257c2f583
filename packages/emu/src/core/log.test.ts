import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import { LOG_CATEGORIES, Log, LogCat, LogOptionError, logHelpText } from './log.js';

/** A log whose lines are collected instead of written to stderr. */
function capturedLog() {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (line) => lines.push(line);
  return { log, lines };
}

describe('Log.configure', () => {
  it('starts with nothing enabled', () => {
    const log = new Log();
    expect(log.mask).toBe(0);
    for (const c of LOG_CATEGORIES) expect(log.on(c.bit), c.name).toBe(false);
  });

  it('enables the comma-separated categories and only those', () => {
    const log = new Log();
    log.configure('unimp,guest_errors');
    expect(log.on(LogCat.Unimp)).toBe(true);
    expect(log.on(LogCat.GuestErrors)).toBe(true);
    expect(log.on(LogCat.Int)).toBe(false);
    expect(log.on(LogCat.Trace)).toBe(false);
    expect(log.mask).toBe(LogCat.Unimp | LogCat.GuestErrors);
  });

  it('accepts every category listed by -d help', () => {
    const log = new Log();
    log.configure(LOG_CATEGORIES.map((c) => c.name).join(','));
    for (const c of LOG_CATEGORIES) expect(log.on(c.bit), c.name).toBe(true);
  });

  it('replaces the previous configuration rather than adding to it', () => {
    const log = new Log();
    log.configure('int');
    log.configure('exec');
    expect(log.on(LogCat.Int)).toBe(false);
    expect(log.on(LogCat.Exec)).toBe(true);
  });

  it('clears everything named before "none"', () => {
    const log = new Log();
    log.configure('unimp,int,none');
    expect(log.mask).toBe(0);
    log.configure('none,int');
    expect(log.mask).toBe(LogCat.Int);
    log.configure('trace:uart_*,none');
    expect(log.traceOn('uart_read')).toBe(false);
  });

  it('ignores empty items', () => {
    const log = new Log();
    log.configure(',unimp,,');
    expect(log.mask).toBe(LogCat.Unimp);
    log.configure('');
    expect(log.mask).toBe(0);
  });

  it('names an unknown category and keeps the previous configuration', () => {
    const log = new Log();
    log.configure('unimp');
    expect(() => log.configure('int,bogus')).toThrow('Invalid -d option "bogus" (try -d help)');
    expect(log.mask).toBe(LogCat.Unimp);
  });

  it('reports bad -d arguments as user errors', () => {
    const log = new Log();
    let caught: unknown;
    try {
      log.configure('Unimp');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LogOptionError);
    expect(caught).toBeInstanceOf(UserError);
  });

  it('requires a pattern after trace:', () => {
    expect(() => new Log().configure('trace:')).toThrow('-d trace: needs a pattern');
  });
});

describe('trace patterns', () => {
  it('enable the Trace category', () => {
    const log = new Log();
    log.configure('trace:nrf51_uart_*');
    expect(log.on(LogCat.Trace)).toBe(true);
  });

  it('match names with * as any run of characters, anchored at both ends', () => {
    const log = new Log();
    log.configure('trace:nrf51_uart_*');
    expect(log.traceOn('nrf51_uart_read')).toBe(true);
    expect(log.traceOn('nrf51_uart_')).toBe(true);
    expect(log.traceOn('nrf51_gpio_read')).toBe(false);
    expect(log.traceOn('x_nrf51_uart_read')).toBe(false);
  });

  it('match ? as exactly one character', () => {
    const log = new Log();
    log.configure('trace:timer?_fire');
    expect(log.traceOn('timer0_fire')).toBe(true);
    expect(log.traceOn('timer_fire')).toBe(false);
    expect(log.traceOn('timer10_fire')).toBe(false);
  });

  it('treat regular-expression characters literally', () => {
    const log = new Log();
    log.configure('trace:a.b+c');
    expect(log.traceOn('a.b+c')).toBe(true);
    expect(log.traceOn('axbbc')).toBe(false);
  });

  it('combine several trace: items with categories', () => {
    const log = new Log();
    log.configure('trace:uart_*,unimp,trace:gpio_write');
    expect(log.on(LogCat.Unimp)).toBe(true);
    expect(log.traceOn('uart_tx')).toBe(true);
    expect(log.traceOn('gpio_write')).toBe(true);
    expect(log.traceOn('gpio_read')).toBe(false);
  });

  it('are off for every event while no pattern is enabled', () => {
    const log = new Log();
    log.configure('unimp');
    expect(log.traceOn('anything')).toBe(false);
  });

  it('can be added at run time, after an event was already looked up', () => {
    const log = new Log();
    log.configure('trace:uart_*');
    expect(log.traceOn('timer_fire')).toBe(false);
    log.enableTrace('timer_*');
    expect(log.traceOn('timer_fire')).toBe(true);
    expect(log.traceOn('uart_rx')).toBe(true);
  });

  it('are forgotten when configure runs again', () => {
    const log = new Log();
    log.configure('trace:uart_*');
    expect(log.traceOn('uart_rx')).toBe(true);
    log.configure('trace:gpio_*');
    expect(log.traceOn('uart_rx')).toBe(false);
  });

  it('write "event detail" lines only for enabled events', () => {
    const { log, lines } = capturedLog();
    log.configure('trace:uart_*');
    log.trace('uart_tx', 'byte 0x41');
    log.trace('gpio_set', 'pin 3');
    expect(lines).toEqual(['uart_tx byte 0x41']);
  });
});

describe('Log output', () => {
  it('writes category messages only when the category is enabled', () => {
    const { log, lines } = capturedLog();
    log.configure('guest_errors');
    log.log(LogCat.Unimp, 'not shown');
    log.log(LogCat.GuestErrors, 'shown');
    log.write('always');
    expect(lines).toEqual(['shown', 'always']);
  });

  describe('-D file', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tsemu-log-'));
    });
    afterEach(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes one line per message to the file', () => {
      const log = new Log();
      const file = join(dir, 'qemu.log');
      log.setFile(file);
      log.write('first');
      log.configure('unimp');
      log.log(LogCat.Unimp, 'second');
      log.log(LogCat.Int, 'hidden');
      log.close();
      expect(readFileSync(file, 'utf8')).toBe('first\nsecond\n');
    });

    it('truncates an existing file', () => {
      const file = join(dir, 'old.log');
      writeFileSync(file, 'stale content\n');
      const log = new Log();
      log.setFile(file);
      log.write('fresh');
      log.close();
      expect(readFileSync(file, 'utf8')).toBe('fresh\n');
    });

    it('switches from one file to another', () => {
      const a = join(dir, 'a.log');
      const b = join(dir, 'b.log');
      const log = new Log();
      log.setFile(a);
      log.write('to a');
      log.setFile(b);
      log.write('to b');
      log.close();
      expect(readFileSync(a, 'utf8')).toBe('to a\n');
      expect(readFileSync(b, 'utf8')).toBe('to b\n');
    });

    it('reports a file that cannot be opened as a user error naming it', () => {
      const file = join(dir, 'no-such-dir', 'x.log');
      const log = new Log();
      expect(() => log.setFile(file)).toThrow(UserError);
      expect(() => log.setFile(file)).toThrow(`-D ${file}: cannot open log file (ENOENT)`);
    });
  });
});

describe('logHelpText', () => {
  const text = logHelpText();
  const lines = text.split('\n');

  it('starts with a header and ends with a newline', () => {
    expect(lines[0]).toBe('Log items (comma separated):');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('lists every category with its help text, in order', () => {
    const names = lines.slice(1, 1 + LOG_CATEGORIES.length).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(LOG_CATEGORIES.map((c) => c.name));
    for (const c of LOG_CATEGORIES) {
      expect(lines.some((l) => l.startsWith(c.name) && l.endsWith(c.help))).toBe(true);
    }
  });

  it('documents trace:PATTERN and none', () => {
    expect(lines.some((l) => l.startsWith('trace:PATTERN '))).toBe(true);
    expect(lines.some((l) => l.startsWith('none ') && l.includes('remove all logs'))).toBe(true);
  });

  it('uses one distinct bit per category', () => {
    const bits = LOG_CATEGORIES.map((c) => c.bit);
    expect(new Set(bits).size).toBe(bits.length);
    for (const b of bits) expect(b & (b - 1)).toBe(0);
    expect(bits).not.toContain(LogCat.Trace);
  });
});

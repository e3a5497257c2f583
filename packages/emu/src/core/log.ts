/**
 * Logging in the manner of QEMU's `-d` / `-D` options.
 *
 * A `Log` holds a set of enabled categories (`unimp`, `guest_errors`, `int`, `exec`, ...) and
 * trace patterns (`trace:PATTERN`, glob with `*` and `?`). Messages go to stderr unless a file
 * was chosen with `-D`. Every check is a bit test so that disabled logging costs nothing on
 * hot paths: callers write `if (log.on(LogCat.Unimp)) log.write(...)`.
 */
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { UserError } from './errors.js';

/** Log categories, one bit each (the order is the `-d help` order). */
export const LogCat = {
  Unimp: 1 << 0,
  GuestErrors: 1 << 1,
  Int: 1 << 2,
  Exec: 1 << 3,
  InAsm: 1 << 4,
  Cpu: 1 << 5,
  Mmu: 1 << 6,
  Page: 1 << 7,
  Nochain: 1 << 8,
  Strace: 1 << 9,
  Trace: 1 << 10,
} as const;
export type LogCat = (typeof LogCat)[keyof typeof LogCat];

/** `-d` category names with their help text. */
export const LOG_CATEGORIES: ReadonlyArray<{ name: string; bit: number; help: string }> = [
  {
    name: 'unimp',
    bit: LogCat.Unimp,
    help: 'log unimplemented functionality (accesses to unmodelled registers)',
  },
  {
    name: 'guest_errors',
    bit: LogCat.GuestErrors,
    help: 'log when the guest OS does something invalid (bad register offsets, bad values)',
  },
  { name: 'int', bit: LogCat.Int, help: 'show interrupts/exceptions in short format' },
  { name: 'exec', bit: LogCat.Exec, help: 'show trace before each executed instruction block' },
  { name: 'in_asm', bit: LogCat.InAsm, help: 'show target assembly code for each executed instruction' },
  { name: 'cpu', bit: LogCat.Cpu, help: 'show CPU registers before entering an instruction block' },
  { name: 'mmu', bit: LogCat.Mmu, help: 'log MMU/MPU-related activities' },
  { name: 'page', bit: LogCat.Page, help: 'dump pages at beginning of user mode emulation' },
  { name: 'nochain', bit: LogCat.Nochain, help: 'do not chain compiled blocks (accepted; tsemu interprets)' },
  { name: 'strace', bit: LogCat.Strace, help: 'log every user-mode syscall (accepted; no user mode)' },
];

/** A bad `-d`/`-D` argument: a user mistake, reported in one line like any UserError. */
export class LogOptionError extends UserError {}

/** Converts a glob (`*`, `?`) into an anchored regular expression. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

export class Log {
  /** Bit set of enabled categories; read directly on hot paths. */
  mask = 0;
  private tracePatterns: RegExp[] = [];
  private traceCache = new Map<string, boolean>();
  private fd = 2;
  private ownsFd = false;
  /** Optional sink for tests (receives each line, without newline). */
  sink: ((line: string) => void) | null = null;

  on(cat: number): boolean {
    return (this.mask & cat) !== 0;
  }

  /**
   * Applies a `-d` argument: comma-separated categories, `trace:PATTERN` entries, or `none`.
   * Throws LogOptionError naming the unknown category.
   */
  configure(spec: string): void {
    let mask = 0;
    const patterns: RegExp[] = [];
    for (const item of spec.split(',')) {
      if (item === '') continue;
      if (item === 'none') {
        mask = 0;
        continue;
      }
      if (item.startsWith('trace:')) {
        const pattern = item.slice('trace:'.length);
        if (pattern === '') throw new LogOptionError('-d trace: needs a pattern, e.g. -d trace:nrf51_uart_*');
        patterns.push(globToRegExp(pattern));
        mask |= LogCat.Trace;
        continue;
      }
      const cat = LOG_CATEGORIES.find((c) => c.name === item);
      if (!cat) throw new LogOptionError(`Invalid -d option "${item}" (try -d help)`);
      mask |= cat.bit;
    }
    this.mask = mask;
    this.tracePatterns = patterns;
    this.traceCache.clear();
  }

  /** Enables trace events matching a glob at run time (HMP `trace-event`, `-trace`). */
  enableTrace(pattern: string): void {
    this.tracePatterns.push(globToRegExp(pattern));
    this.mask |= LogCat.Trace;
    this.traceCache.clear();
  }

  /** True when the named trace event is enabled (cached per name). */
  traceOn(event: string): boolean {
    if ((this.mask & LogCat.Trace) === 0) return false;
    let on = this.traceCache.get(event);
    if (on === undefined) {
      on = this.tracePatterns.some((re) => re.test(event));
      this.traceCache.set(event, on);
    }
    return on;
  }

  /** Emits a trace event line (`name detail`) when enabled. */
  trace(event: string, detail: string): void {
    if (this.traceOn(event)) this.write(`${event} ${detail}`);
  }

  /** `-D FILE`: send the log to a file (truncated, as QEMU does). `null` returns to stderr. */
  setFile(path: string | null): void {
    if (this.ownsFd) closeSync(this.fd);
    this.ownsFd = false;
    this.fd = 2;
    if (path !== null) {
      try {
        this.fd = openSync(path, 'w');
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code ?? String(e);
        throw new LogOptionError(`-D ${path}: cannot open log file (${reason})`);
      }
      this.ownsFd = true;
    }
  }

  /** Writes one line to the log, unconditionally. */
  write(line: string): void {
    if (this.sink) {
      this.sink(line);
      return;
    }
    const text = `${line}\n`;
    if (this.fd === 2) {
      try {
        writeSync(2, text);
      } catch {
        // stderr closed: nothing sensible to do
      }
    } else {
      appendFileSync(this.fd, text);
    }
  }

  /** Writes when the category is enabled. */
  log(cat: number, line: string): void {
    if ((this.mask & cat) !== 0) this.write(line);
  }

  close(): void {
    if (this.ownsFd) {
      try {
        writeSync(this.fd, '');
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    this.ownsFd = false;
    this.fd = 2;
  }
}

/** The text printed for `-d help`. */
export function logHelpText(): string {
  const lines = ['Log items (comma separated):'];
  for (const c of LOG_CATEGORIES) lines.push(`${c.name.padEnd(12)} ${c.help}`);
  lines.push(`${'trace:PATTERN'.padEnd(12)} enable trace events matching PATTERN (glob with * and ?)`);
  lines.push(`${'none'.padEnd(12)} remove all logs`);
  return `${lines.join('\n')}\n`;
}

/**
 * `-icount [shift=]N|auto[,align=on|off][,sleep=on|off][,rr=record|replay,rrfile=F]` and how it
 * maps onto tsemu's two run modes.
 *
 * | option                      | run mode  | virtual ns per instruction                      |
 * |-----------------------------|-----------|-------------------------------------------------|
 * | (no -icount)                | realtime  | the CPU's nominal clock period ("auto")         |
 * | shift=N,sleep=off           | fast      | 2^N (deterministic; idle time is skipped)       |
 * | shift=N (sleep=on, default) | realtime  | 2^N; idle time is paced to the host clock       |
 * | shift=auto                  | realtime  | the CPU's nominal clock period, e.g. 62.5 ns at 16 MHz |
 *
 * In fast mode time advances only by executed instructions, and when every CPU sleeps the
 * clock jumps to the next timer deadline. In realtime mode executed instructions still take
 * their time, but virtual time is never allowed to run ahead of the host clock, and idle time
 * passes at host speed. QEMU's adaptive `shift=auto` retunes the rate to the host's speed; tsemu
 * uses the machine's nominal frequency instead, which keeps guest timing faithful.
 *
 * Validation follows QEMU (softmmu icount configuration and QemuOpts parsing):
 * - a first item without `=` is the value of `shift`; later bare names mean `name=on`;
 * - `shift` is an integer (decimal, 0x hex or 0-prefixed octal) in 0..10 ("icount: Invalid
 *   shift value" otherwise), or `auto`;
 * - without `shift`, `-icount` has no effect, except that `align` is then an error;
 * - `align=on` requires `sleep=on`; `shift=auto` rejects `align=on` and `sleep=off`;
 * - `align=on` is accepted and changes nothing: realtime mode never lets virtual time run ahead
 *   of the host anyway, which is what QEMU's align tries to achieve;
 * - `rr=record|replay` is recognised but record/replay is not implemented.
 */
import { UserError } from './errors.js';

export type TimingMode = 'fast' | 'realtime';

export interface TimingOptions {
  mode: TimingMode;
  /** Virtual ns per executed instruction, or 'auto' for the CPU's nominal clock period. */
  nsPerInstruction: number | 'auto';
}

/** QEMU's limit: 2^10 ns per instruction, i.e. at least about 1 MIPS. */
export const MAX_ICOUNT_SHIFT = 10;

const KNOWN_KEYS = new Set(['shift', 'align', 'sleep', 'rr', 'rrfile', 'rrsnapshot']);

/** The timing used without `-icount`. */
export function defaultTiming(): TimingOptions {
  return { mode: 'realtime', nsPerInstruction: 'auto' };
}

/** Splits QemuOpts text into key/value pairs (`,,` is a literal comma). */
function splitOptions(spec: string, impliedKey: string): Map<string, string> {
  const items: string[] = [];
  let cur = '';
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (ch === ',') {
      if (spec[i + 1] === ',') {
        cur += ',';
        i++;
        continue;
      }
      items.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  items.push(cur);
  const out = new Map<string, string>();
  items.forEach((item, index) => {
    if (item === '') return;
    const eq = item.indexOf('=');
    if (eq >= 0) out.set(item.slice(0, eq), item.slice(eq + 1));
    else if (index === 0) out.set(impliedKey, item);
    else out.set(item, 'on');
  });
  return out;
}

function parseBool(key: string, value: string): boolean {
  if (value === 'on' || value === 'yes' || value === 'true' || value === 'y') return true;
  if (value === 'off' || value === 'no' || value === 'false' || value === 'n') return false;
  throw new UserError(`Parameter '${key}' expects 'on' or 'off'`);
}

/** strtol with base 0, the whole string must be a number (as qemu_strtol requires). */
function parseShift(text: string): number | null {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return null;
  const digits = m[2]!;
  let n: number;
  if (/^0[xX]/.test(digits)) n = Number.parseInt(digits.slice(2), 16);
  else if (digits.length > 1 && digits[0] === '0') n = Number.parseInt(digits.slice(1), 8);
  else n = Number.parseInt(digits, 10);
  return m[1] === '-' ? -n : n;
}

/** Parses a `-icount` argument. Throws UserError with QEMU's wording for bad values. */
export function parseIcount(spec: string): TimingOptions {
  const opts = splitOptions(spec, 'shift');
  for (const key of opts.keys()) {
    if (!KNOWN_KEYS.has(key)) throw new UserError(`Invalid parameter '${key}'`);
  }
  const sleep = opts.has('sleep') ? parseBool('sleep', opts.get('sleep')!) : true;
  const align = opts.has('align') ? parseBool('align', opts.get('align')!) : false;

  const rr = opts.get('rr');
  if (rr !== undefined) {
    if (rr !== 'record' && rr !== 'replay') throw new UserError(`Invalid icount rr option: ${rr}`);
    throw new UserError('record/replay is not supported');
  }

  const shift = opts.get('shift');
  if (shift === undefined) {
    if (opts.has('align')) throw new UserError('Please specify shift option when using align');
    return defaultTiming();
  }
  if (align && !sleep) throw new UserError('align=on and sleep=off are incompatible');

  if (shift === 'auto') {
    if (align) throw new UserError('shift=auto and align=on are incompatible');
    if (!sleep) throw new UserError('shift=auto and sleep=off are incompatible');
    return { mode: 'realtime', nsPerInstruction: 'auto' };
  }
  const n = parseShift(shift);
  if (n === null || n < 0 || n > MAX_ICOUNT_SHIFT) throw new UserError('icount: Invalid shift value');
  return { mode: sleep ? 'realtime' : 'fast', nsPerInstruction: 2 ** n };
}

/** Replaces 'auto' by the CPU's nominal clock period (1e9 / hz ns). */
export function resolveNsPerInstruction(timing: TimingOptions, cpuHz: number): number {
  if (timing.nsPerInstruction !== 'auto') return timing.nsPerInstruction;
  if (!(cpuHz > 0)) throw new RangeError(`resolveNsPerInstruction: bad CPU frequency ${cpuHz}`);
  return 1e9 / cpuHz;
}

/** Text for `-icount help`, `-d help` and the documentation. */
export function describeTiming(): string {
  return [
    'Timing (-icount [shift=]N|auto[,sleep=on|off][,align=on|off]):',
    '  (no -icount)        realtime: instructions take the CPU clock period; time follows the host clock',
    '  shift=N,sleep=off   fast: each instruction takes 2^N ns, idle time is skipped (deterministic)',
    '  shift=N             realtime: each instruction takes 2^N ns, idle time follows the host clock',
    '  shift=auto          realtime at the CPU clock period (e.g. 62.5 ns per instruction at 16 MHz)',
    `  N ranges over 0..${MAX_ICOUNT_SHIFT}; align=on is accepted (realtime never runs ahead of the host);`,
    '  rr=record|replay is not supported.',
    '',
  ].join('\n');
}

/**
 * The HMP command table, declared as data, and the command-line parser it drives.
 *
 * Each entry has QEMU's four descriptive fields: `name` (alternatives separated by `|`, e.g.
 * `cont|c`), `args` (QEMU's args_type mini-language, below), `params` (the syntax shown by
 * `help`) and `help` (one line). `help`, `help CMD`, `info` alone, tab completion and argument
 * parsing all read this table; nothing else lists the commands.
 *
 * `args` is a comma-separated list of `key:TYPE`, TYPE being one of
 *   s  a word or "quoted string"        S  the rest of the line
 *   F  a file name (parsed like s)      l  an expression, 64 bits (addresses)
 *   i  an expression that fits 32 bits  /  QEMU's `/[count][format][size]` memory format
 *   -X a flag `-X` (boolean)
 * and a trailing `?` makes an argument optional. Parse errors use QEMU's messages, followed by
 * `Try "help CMD" for more information`, and unknown commands `unknown command: 'CMD'`.
 */
import { LOG_CATEGORIES, LogOptionError } from '../../core/log.js';
import type { Machine } from '../../core/machine.js';
import { CortexM0 } from '../../cpu/arm/cortex-m0.js';
import { armMRegisters, type MemoryFormat, memoryDump, qomTree, qtree } from './dump.js';
import type { IrqStats } from './irq-stats.js';

export type HmpArgValue = string | bigint | boolean | MemoryFormat;
export type HmpArgs = Record<string, HmpArgValue | undefined>;

/** What a command may use: the machine, an output sink and the hooks of its embedder. */
export interface HmpSession {
  readonly machine: Machine;
  /** Appends output; lines end in `\n`. */
  print(text: string): void;
  /** `x`/`xp` remember the last format and size, as QEMU does. */
  readonly fmtDefaults: { format: MemoryFormat['format']; size: number };
  readonly version: string;
  irqStats(): IrqStats;
  /** `quit`: shut the machine down and let the embedder end the process. */
  quit(): void;
  /** `system_powerdown`: the embedder's POWERDOWN event (nothing else on boards without ACPI). */
  powerdown(): void;
  /** `gdbserver DEVICE`; undefined when the build has no GDB stub to start. */
  startGdbServer: ((device: string) => void | Promise<void>) | undefined;
}

export interface HmpCommand {
  name: string;
  args: string;
  params: string;
  help: string;
  run?: (session: HmpSession, args: HmpArgs) => void | Promise<void>;
  /** A table of subcommands (`info`). */
  sub?: readonly HmpCommand[];
}

/** The CPUs QEMU's monitor can address, in cpu-index order. */
export function machineCpus(machine: Machine): CortexM0[] {
  return machine.runner.executorList.filter((e): e is CortexM0 => e instanceof CortexM0);
}

function str(args: HmpArgs, key: string): string | undefined {
  const v = args[key];
  return typeof v === 'string' ? v : undefined;
}

/** The most bytes one `x`/`xp` dumps (a tsemu limit; see dumpMemory). */
export const MAX_DUMP_BYTES = 1 << 20;

function dumpMemory(s: HmpSession, args: HmpArgs, physical: boolean): void {
  const fmt = args.fmt as MemoryFormat;
  const addr = args.addr as bigint;
  const cpu = machineCpus(s.machine)[0];
  // QEMU: virtual addresses and disassembly need a CPU; `xp` reads system memory without one.
  if (!cpu && (fmt.format === 'i' || !physical)) {
    s.print('Can not dump without CPU\n');
    return;
  }
  if (fmt.format === 'i') {
    s.print('Instruction format /i is not supported by tsemu (no disassembler)\n');
    return;
  }
  // QEMU has no limit (and an int overflow); a bounded dump keeps the emulator responsive.
  if (fmt.count * Math.max(fmt.size, 1) > MAX_DUMP_BYTES) {
    s.print(`${physical ? 'xp' : 'x'}: at most ${MAX_DUMP_BYTES} bytes per dump\n`);
    return;
  }
  // M-profile without an MPU: virtual and physical addresses are the same.
  const space = s.machine.addressSpace;
  s.print(memoryDump((a, n) => space.readDebug(a, n), fmt, addr, physical));
}

function infoRegisters(s: HmpSession, args: HmpArgs): void {
  const cpus = machineCpus(s.machine);
  if (args.cpustate_all === true) {
    for (const [i, cpu] of cpus.entries()) s.print(`\nCPU#${i}\n${armMRegisters(cpu)}`);
    return;
  }
  const vcpu = args.vcpu;
  const index = typeof vcpu === 'bigint' ? Number(vcpu) : 0;
  const cpu = cpus[index];
  if (!cpu) {
    s.print(typeof vcpu === 'bigint' ? `CPU#${index} not available\n` : 'No CPU available\n');
    return;
  }
  s.print(`\nCPU#${index}\n${armMRegisters(cpu)}`);
}

function infoStatus(s: HmpSession): void {
  const state = s.machine.runState;
  // QEMU: "running" or "paused", plus the run state in parentheses when it is not plain paused.
  if (state === 'running') s.print('VM status: running\n');
  else if (state === 'paused') s.print('VM status: paused\n');
  else s.print(`VM status: paused (${state})\n`);
}

function logCommand(s: HmpSession, args: HmpArgs): void {
  const items = str(args, 'items') ?? '';
  const log = s.machine.log;
  try {
    log.configure(items === 'none' ? '' : items);
  } catch (e) {
    // QEMU answers an unknown item with the list of valid ones.
    if (e instanceof LogOptionError) {
      s.print(logHelp());
      return;
    }
    throw e;
  }
}

/** `help log` (QEMU: `%-15s %s` lines after a heading). */
export function logHelp(): string {
  let text = 'Log items (comma separated):\n';
  text += `${'none'.padEnd(15)} remove all logs\n`;
  for (const c of LOG_CATEGORIES) text += `${c.name.padEnd(15)} ${c.help}\n`;
  text += `${'trace:PATTERN'.padEnd(15)} enable trace events matching PATTERN (glob with * and ?)\n`;
  return text;
}

function logfileCommand(s: HmpSession, args: HmpArgs): void {
  const file = str(args, 'filename') ?? '';
  try {
    s.machine.log.setFile(file);
  } catch (e) {
    if (e instanceof LogOptionError) {
      s.print(`Error: ${e.message.replace(/^-D /, '')}\n`);
      return;
    }
    throw e;
  }
}

async function gdbserverCommand(s: HmpSession, args: HmpArgs): Promise<void> {
  const device = str(args, 'device') ?? 'tcp::1234';
  if (!s.startGdbServer) {
    s.print('gdbserver: the GDB stub is not available in this build of tsemu\n');
    return;
  }
  try {
    await s.startGdbServer(device);
  } catch {
    s.print(`Could not open gdbserver on device '${device}'\n`);
    return;
  }
  s.print(device === 'none' ? 'Disabled gdbserver\n' : `Waiting for gdb connection on device '${device}'\n`);
}

function contCommand(s: HmpSession): void {
  if (s.machine.runState === 'shutdown') {
    s.print('Error: The machine has been shut down; it cannot be resumed\n');
    return;
  }
  s.machine.start();
}

export const INFO_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'version',
    args: '',
    params: '',
    help: 'show the version of tsemu',
    run: (s) => s.print(`${s.version}\n`),
  },
  {
    name: 'chardev',
    args: '',
    params: '',
    help: 'show the character devices',
    run: (s) => {
      for (const c of s.machine.chardevs.list()) s.print(`${c.info()}\n`);
    },
  },
  {
    name: 'registers',
    args: 'cpustate_all:-a,vcpu:i?',
    params: '[-a|vcpu]',
    help: 'show the CPU registers (-a: every CPU; vcpu: that CPU)',
    run: infoRegisters,
  },
  {
    name: 'irq',
    args: '',
    params: '',
    help: 'show how often each interrupt line was raised',
    run: (s) => s.print(s.irqStats().report()),
  },
  {
    name: 'mtree',
    args: 'flatview:-f,dispatch_tree:-d,owner:-o,disabled:-D',
    params: '[-f][-d][-o][-D]',
    help: 'show the memory tree (-f: the flattened view; -d, -o, -D are accepted and ignored)',
    run: (s, a) => {
      const space = s.machine.addressSpace;
      s.print(a.flatview === true ? space.mtreeFlat() : space.mtree());
    },
  },
  {
    name: 'status',
    args: '',
    params: '',
    help: 'show whether the machine runs (running|paused)',
    run: infoStatus,
  },
  {
    name: 'qtree',
    args: '',
    params: '',
    help: 'show the device tree',
    run: (s) => s.print(qtree(s.machine)),
  },
  {
    name: 'qom-tree',
    args: 'path:s?',
    params: '[path]',
    help: 'show the object composition tree from /machine or from [path]',
    run: (s, a) => {
      const path = str(a, 'path');
      const node = path === undefined ? s.machine : s.machine.resolve(path);
      if (!node) {
        s.print(`Path '${path}' could not be resolved.\n`);
        return;
      }
      s.print(qomTree(node));
    },
  },
];

export const HMP_COMMANDS: readonly HmpCommand[] = [
  {
    name: 'help|?',
    args: 'name:S?',
    params: '[cmd]',
    help: 'list the commands, or show the help of [cmd]',
    run: (s, a) => s.print(helpText(str(a, 'name'))),
  },
  {
    name: 'quit|q',
    args: '',
    params: '',
    help: 'stop the machine and exit tsemu',
    run: (s) => s.quit(),
  },
  {
    name: 'stop|s',
    args: '',
    params: '',
    help: 'pause the machine',
    run: (s) => s.machine.stop(),
  },
  {
    name: 'cont|c',
    args: '',
    params: '',
    help: 'start or resume the machine',
    run: contCommand,
  },
  {
    name: 'gdbserver',
    args: 'device:s?',
    params: '[device]',
    help: "wait for a GDB connection on [device] (default tcp::1234; 'none' stops it)",
    run: gdbserverCommand,
  },
  {
    name: 'x',
    args: 'fmt:/,addr:l',
    params: '/fmt addr',
    help: 'dump memory at virtual address addr',
    run: (s, a) => dumpMemory(s, a, false),
  },
  {
    name: 'xp',
    args: 'fmt:/,addr:l',
    params: '/fmt addr',
    help: 'dump memory at physical address addr',
    run: (s, a) => dumpMemory(s, a, true),
  },
  {
    name: 'system_reset',
    args: '',
    params: '',
    help: 'reset the machine',
    run: (s) => s.machine.reset('host-qmp-system-reset'),
  },
  {
    name: 'system_powerdown',
    args: '',
    params: '',
    help: 'ask the machine to power down (POWERDOWN event)',
    run: (s) => s.powerdown(),
  },
  {
    name: 'log',
    args: 'items:s',
    params: 'item1[,...]',
    help: "enable the listed log items ('help log' lists them; 'none' disables all)",
    run: logCommand,
  },
  {
    name: 'logfile',
    args: 'filename:F',
    params: 'filename',
    help: 'write the log to filename',
    run: logfileCommand,
  },
  {
    name: 'info',
    args: 'item:s?',
    params: '[subcommand]',
    help: 'show information about the machine',
    run: (s) => s.print(helpText('info')),
    sub: INFO_COMMANDS,
  },
];

// ---- names and help ---------------------------------------------------------------------

/** True when `word` is one of the `|`-separated names of `names`. */
export function matchesName(word: string, names: string): boolean {
  return names.split('|').includes(word);
}

function helpLine(cmd: HmpCommand, prefix: readonly string[]): string {
  return `${prefix.map((p) => `${p} `).join('')}${cmd.name} ${cmd.params} -- ${cmd.help}\n`;
}

/** `help [words]`, as QEMU lays it out: `name params -- help`, subcommands with their prefix. */
export function helpText(name?: string, table: readonly HmpCommand[] = HMP_COMMANDS): string {
  if (name === 'log') return logHelp();
  const words = name === undefined ? [] : splitWords(name);
  if (words === null) return '';
  let level = table;
  for (let i = 0; ; i++) {
    if (i >= words.length) return level.map((c) => helpLine(c, words.slice(0, i))).join('');
    const cmd = level.find((c) => matchesName(words[i]!, c.name));
    if (!cmd) return `unknown command: '${words.slice(0, i + 1).join(' ')}'\n`;
    if (!cmd.sub) return helpLine(cmd, words.slice(0, i));
    level = cmd.sub;
  }
}

/** QEMU's word splitter for `help` and completion (plain words and "quoted strings"). */
export function splitWords(line: string): string[] | null {
  const words: string[] = [];
  const cur = { pos: 0 };
  for (;;) {
    while (cur.pos < line.length && isSpace(line[cur.pos]!)) cur.pos++;
    if (cur.pos >= line.length) return words;
    const w = readString(line, cur);
    if (w === null) return null;
    words.push(w);
  }
}

/**
 * Tab completion: the candidates for the word being typed at the end of `line` and that word's
 * length (what is already typed). Completes command names, `info` subcommands and `help` topics.
 */
export function completions(line: string): { typed: number; candidates: string[] } {
  const words = splitWords(line) ?? [];
  if (line.length === 0 || isSpace(line[line.length - 1]!)) words.push('');
  let table: readonly HmpCommand[] = HMP_COMMANDS;
  let i = 0;
  for (; i < words.length - 1; i++) {
    const cmd = table.find((c) => matchesName(words[i]!, c.name));
    if (!cmd) return { typed: 0, candidates: [] };
    if (cmd.sub) table = cmd.sub;
    else if (cmd.name === 'help|?') table = HMP_COMMANDS;
    else return { typed: 0, candidates: [] };
  }
  const word = words[i] ?? '';
  const candidates: string[] = [];
  for (const c of table) for (const n of c.name.split('|')) if (n.startsWith(word)) candidates.push(n);
  return { typed: word.length, candidates };
}

// ---- parsing ------------------------------------------------------------------------------

const isSpace = (c: string): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Reads a word or a double-quoted string (escapes \n \r \\ \' \") at `cur.pos`. */
function readString(line: string, cur: { pos: number }): string | null {
  let p = cur.pos;
  while (p < line.length && isSpace(line[p]!)) p++;
  if (p >= line.length) {
    cur.pos = p;
    return null;
  }
  let out = '';
  if (line[p] === '"') {
    p++;
    while (p < line.length && line[p] !== '"') {
      if (line[p] === '\\') {
        const c = line[p + 1];
        const esc = c === 'n' ? '\n' : c === 'r' ? '\r' : c === '\\' || c === "'" || c === '"' ? c : null;
        if (esc === null) {
          cur.pos = p;
          return null;
        }
        out += esc;
        p += 2;
      } else {
        out += line[p++];
      }
    }
    if (line[p] !== '"') {
      cur.pos = p;
      return null;
    }
    p++;
  } else {
    while (p < line.length && !isSpace(line[p]!)) out += line[p++];
  }
  cur.pos = p;
  return out;
}

interface ArgSpec {
  key: string;
  type: string;
  optional: boolean;
  /** For `-X` flags: the letter. */
  flag?: string;
}

function parseArgSpecs(spec: string): ArgSpec[] {
  if (spec === '') return [];
  return spec.split(',').map((part) => {
    const colon = part.indexOf(':');
    const key = part.slice(0, colon);
    let t = part.slice(colon + 1);
    const optional = t.endsWith('?');
    if (optional) t = t.slice(0, -1);
    if (t.startsWith('-')) return { key, type: '-', optional: true, flag: t.slice(1) };
    return { key, type: t, optional };
  });
}

/** Thrown inside the parser; becomes the error text (the command is not run). */
class ParseFailure extends Error {}

/** A 64-bit expression, QEMU's grammar: sums of `&|^` of products of unary terms. */
class ExprParser {
  pos: number;
  constructor(
    private readonly text: string,
    start: number,
    private readonly register: (name: string) => bigint | undefined,
  ) {
    this.pos = start;
    this.skipSpaces();
  }

  private skipSpaces(): void {
    while (this.pos < this.text.length && isSpace(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private next(): void {
    if (this.pos < this.text.length) this.pos++;
    this.skipSpaces();
  }

  sum(): bigint {
    let v = this.logic();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.next();
      const w = this.logic();
      v = BigInt.asIntN(64, op === '+' ? v + w : v - w);
    }
    return v;
  }

  private logic(): bigint {
    let v = this.product();
    for (let op = this.peek(); op === '&' || op === '|' || op === '^'; op = this.peek()) {
      this.next();
      const w = this.product();
      v = op === '&' ? v & w : op === '|' ? v | w : v ^ w;
    }
    return v;
  }

  private product(): bigint {
    let v = this.unary();
    for (let op = this.peek(); op === '*' || op === '/' || op === '%'; op = this.peek()) {
      this.next();
      const w = this.unary();
      if (op !== '*' && w === 0n) throw new ParseFailure('division by zero');
      v = BigInt.asIntN(64, op === '*' ? v * w : op === '/' ? v / w : v % w);
    }
    return v;
  }

  private unary(): bigint {
    const c = this.peek();
    switch (c) {
      case '+':
        this.next();
        return this.unary();
      case '-':
        this.next();
        return BigInt.asIntN(64, -this.unary());
      case '~':
        this.next();
        return ~this.unary();
      case '(': {
        this.next();
        const v = this.sum();
        if (this.peek() !== ')') throw new ParseFailure("')' expected");
        this.next();
        return v;
      }
      case "'": {
        this.pos++;
        if (this.pos >= this.text.length) throw new ParseFailure('character constant expected');
        const v = BigInt(this.text.charCodeAt(this.pos));
        this.pos++;
        if (this.peek() !== "'") throw new ParseFailure("missing terminating ' character");
        this.next();
        return v;
      }
      case '$': {
        this.pos++;
        const m = /^[A-Za-z0-9_.]*/.exec(this.text.slice(this.pos))![0];
        this.pos += m.length;
        this.skipSpaces();
        const v = this.register(m);
        if (v === undefined) throw new ParseFailure('unknown register');
        return v;
      }
      case '':
        throw new ParseFailure('unexpected end of expression');
      default:
        return this.number();
    }
  }

  /** strtoull with base 0: 0x hex, leading-0 octal, decimal. */
  private number(): bigint {
    const rest = this.text.slice(this.pos);
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(rest);
    if (!m) throw new ParseFailure(`invalid char '${rest[0]}' in expression`);
    const digits = m[0];
    const v =
      digits.length > 1 && digits[0] === '0' && (digits[1] === 'x' || digits[1] === 'X')
        ? BigInt(digits)
        : digits.length > 1 && digits[0] === '0'
          ? BigInt(`0o${digits.slice(1)}`)
          : BigInt(digits);
    if (v > 0xffff_ffff_ffff_ffffn) throw new ParseFailure('number too large');
    this.pos += digits.length;
    this.skipSpaces();
    return BigInt.asIntN(64, v);
  }
}

export type ParseResult =
  | { kind: 'empty' }
  | { kind: 'error'; text: string }
  | { kind: 'command'; command: HmpCommand; args: HmpArgs };

export interface ParseContext {
  fmtDefaults: { format: MemoryFormat['format']; size: number };
  /** `$name` in expressions (undefined: unknown register). */
  register(name: string): bigint | undefined;
}

/**
 * Parses one command line against `table`: finds the command (descending into subcommand
 * tables) and its arguments, or returns QEMU's error text.
 */
export function parseCommandLine(line: string, ctx: ParseContext, table = HMP_COMMANDS): ParseResult {
  let p = 0;
  let cmd: HmpCommand | undefined;
  let level = table;
  for (;;) {
    while (p < line.length && isSpace(line[p]!)) p++;
    if (p >= line.length) {
      if (cmd) break;
      return { kind: 'empty' };
    }
    const start = p;
    while (p < line.length && line[p] !== '/' && !isSpace(line[p]!)) p++;
    const word = line.slice(start, p);
    const found = level.find((c) => matchesName(word, c.name));
    if (!found) return { kind: 'error', text: `unknown command: '${line.slice(0, p).trimStart()}'\n` };
    cmd = found;
    while (p < line.length && isSpace(line[p]!)) p++;
    if (!found.sub || p >= line.length) break;
    level = found.sub;
  }
  const afterName = p;
  try {
    const args = parseArguments(cmd, line, p, ctx);
    return { kind: 'command', command: cmd, args };
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    const shown = line.slice(0, afterName).trim();
    return { kind: 'error', text: `${e.message}\nTry "help ${shown}" for more information\n` };
  }
}

function parseArguments(cmd: HmpCommand, line: string, start: number, ctx: ParseContext): HmpArgs {
  const specs = parseArgSpecs(cmd.args);
  const name = cmd.name;
  const args: HmpArgs = {};
  let p = start;
  const skip = (): void => {
    while (p < line.length && isSpace(line[p]!)) p++;
  };
  for (const [i, spec] of specs.entries()) {
    switch (spec.type) {
      case 's':
      case 'F': {
        skip();
        if (spec.optional && p >= line.length) break;
        const cur = { pos: p };
        const v = readString(line, cur);
        p = cur.pos;
        if (v === null)
          throw new ParseFailure(`${name}: ${spec.type === 'F' ? 'filename' : 'string'} expected`);
        args[spec.key] = v;
        break;
      }
      case 'S': {
        skip();
        if (p >= line.length) {
          if (spec.optional) break;
          throw new ParseFailure(`${name}: string expected`);
        }
        args[spec.key] = line.slice(p);
        p = line.length;
        break;
      }
      case '/': {
        skip();
        args[spec.key] = parseFormat(line, p, ctx, (end) => {
          p = end;
        });
        break;
      }
      case 'i':
      case 'l': {
        skip();
        if (spec.optional && p >= line.length) break;
        const expr = new ExprParser(line, p, ctx.register);
        const v = expr.sum();
        p = expr.pos;
        if (spec.type === 'i' && BigInt.asUintN(64, v) >> 32n !== 0n) {
          throw new ParseFailure(`'${name}' has failed: integer is for 32-bit values`);
        }
        args[spec.key] = v;
        break;
      }
      case '-': {
        skip();
        if (line[p] !== '-') break;
        const letter = line[p + 1] ?? '';
        if (letter === spec.flag) {
          p += 2;
          args[spec.key] = true;
          break;
        }
        // Another flag of this command comes later in the spec: leave it for that one.
        if (specs.slice(i + 1).some((s) => s.flag === letter)) break;
        throw new ParseFailure(`${name}: unsupported option -${letter}`);
      }
      default:
        throw new ParseFailure(`${name}: unknown type '${spec.type}'`);
    }
  }
  skip();
  if (p < line.length) throw new ParseFailure(`${name}: extraneous characters at the end of line`);
  return args;
}

/** QEMU's `/[count][oduxic][bhwgL]...` (letters in any order, later ones win). */
function parseFormat(
  line: string,
  start: number,
  ctx: ParseContext,
  setEnd: (end: number) => void,
): MemoryFormat {
  let p = start;
  const defaults = ctx.fmtDefaults;
  if (line[p] !== '/') {
    setEnd(p);
    return { count: 1, format: defaults.format, size: defaults.format === 'i' ? -1 : defaults.size };
  }
  p++;
  let count = 1;
  if (isDigit(line[p])) {
    count = 0;
    while (isDigit(line[p])) count = count * 10 + (line.charCodeAt(p++) - 48);
  }
  let size = -1;
  let format: MemoryFormat['format'] | null = null;
  for (;;) {
    const c = line[p];
    if (c === 'o' || c === 'd' || c === 'u' || c === 'x' || c === 'i' || c === 'c') format = c;
    else if (c === 'b') size = 1;
    else if (c === 'h') size = 2;
    else if (c === 'w') size = 4;
    else if (c === 'g' || c === 'L') size = 8;
    else break;
    p++;
  }
  if (p < line.length && !isSpace(line[p]!)) throw new ParseFailure(`invalid char in format: '${line[p]}'`);
  const fmt = format ?? defaults.format;
  if (fmt !== 'i') {
    if (size < 0) size = defaults.size;
    defaults.size = size;
  }
  defaults.format = fmt;
  setEnd(p);
  return { count, format: fmt, size };
}

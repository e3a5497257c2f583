/**
 * `tsemu`: the friendly front end. `tsemu program.hex` picks the machine from the file and runs
 * it; a few options cover what people usually want (speed, display, GDB, a QMP socket, logging).
 * Everything else is available through `tsemu-system-arm` with QEMU's options.
 *
 * Syntax: `tsemu [options] FILE`. Long options take their value as `--opt VALUE` or
 * `--opt=VALUE`; `--gdb` takes an optional port only as `--gdb=PORT`. `--` ends the options.
 * `-h/--help` and `--version` stop parsing where they appear.
 */
import { UserError } from '../core/errors.js';
import type { LoadedImage } from '../loader/image.js';
import {
  detectFormat,
  MICROBIT_V1_BOARD_IDS,
  parseElf32,
  parseIntelHex,
  universalHexBoardIds,
} from '../loader/index.js';
import { parseSeed } from './parse.js';

export type Speed = 'realtime' | 'fast';
export type FriendlyDisplay = 'none' | 'term' | 'web';

export interface FriendlyCommandLine {
  /** The firmware file; undefined only when help or version was asked for. */
  file?: string;
  /** `--machine`: overrides the machine picked from the file. */
  machine?: string;
  /** realtime (default): virtual time follows the wall clock; fast: as fast as possible, deterministic. */
  speed: Speed;
  /** `--display`; undefined means the caller's default. */
  display?: FriendlyDisplay;
  /** GDB server port on localhost (`--gdb` alone: 1234; `--wait-gdb` alone also enables it). */
  gdbPort?: number;
  /** `--wait-gdb`: start with the CPU stopped (like `-S`). */
  waitGdb: boolean;
  /** `--monitor`: a QMP chardev spec in QEMU's syntax, ready for `-qmp`. */
  qmp?: string;
  /** `-d/--trace`: log categories, as for `-d`. */
  logItems?: string;
  seed?: bigint;
  /** `--timeout`: stop after this many seconds of virtual time, exit status 0. */
  timeoutSeconds?: number;
  /** `--serial-out`: write the serial port's output to this file. */
  serialOut?: string;
  help: boolean;
  version: boolean;
}

const DEFAULT_GDB_PORT = 1234;

interface FriendlyOption {
  names: readonly string[];
  /** What the value looks like; absent: no value. `optional` values only with `=`. */
  arg?: string;
  optionalArg?: boolean;
  help: string;
}

const FRIENDLY_OPTIONS: readonly FriendlyOption[] = [
  { names: ['-h', '--help'], help: 'print this help and exit' },
  { names: ['--version'], help: 'print the version and exit' },
  {
    names: ['-M', '--machine'],
    arg: 'NAME',
    help: 'the machine to emulate (default: picked from FILE, e.g. microbit)',
  },
  {
    names: ['--speed'],
    arg: 'realtime|fast',
    help: 'realtime (default) follows the wall clock; fast runs flat out and repeats exactly',
  },
  {
    names: ['--display'],
    arg: 'none|term|web',
    help: 'show the board: nowhere, in this terminal, or in a browser',
  },
  {
    names: ['--gdb'],
    arg: 'PORT',
    optionalArg: true,
    help: `accept GDB on localhost:PORT (default ${DEFAULT_GDB_PORT}); write --gdb=PORT`,
  },
  { names: ['--wait-gdb'], help: 'start stopped until GDB continues (turns on --gdb)' },
  {
    names: ['--monitor'],
    arg: 'PORT|PATH|SPEC',
    help: 'QMP monitor on a TCP port of 127.0.0.1, a unix socket path, or a QEMU chardev spec',
  },
  {
    names: ['-d', '--trace'],
    arg: 'ITEMS',
    help: "log these items, as -d does (unimp, guest_errors, int, ...; 'help' lists them)",
  },
  { names: ['--seed'], arg: 'N', help: 'seed for the random number generators (repeatable runs)' },
  { names: ['--timeout'], arg: 'SECONDS', help: 'stop after SECONDS of virtual time and exit with status 0' },
  { names: ['--serial-out'], arg: 'FILE', help: "write the serial port's output to FILE" },
];

function findFriendlyOption(name: string): FriendlyOption | undefined {
  return FRIENDLY_OPTIONS.find((opt) => opt.names.includes(name));
}

const USAGE = 'usage: tsemu [options] FILE.hex|FILE.elf|FILE.bin';

/** `tsemu --help` output (ends with a newline). */
export function friendlyHelpText(program = 'tsemu'): string {
  const lines = [
    USAGE.replace('tsemu', program),
    '',
    'Runs a firmware file on an emulated board. The board is picked from the file:',
    'a micro:bit hex (or universal hex with a V1 part), or an ARM ELF or raw image whose',
    'code sits in the first 256 KiB, runs on the micro:bit. Use --machine otherwise.',
    '',
    'Options:',
  ];
  for (const opt of FRIENDLY_OPTIONS) {
    let usage = opt.names.join(', ');
    if (opt.arg !== undefined) usage += opt.optionalArg === true ? `[=${opt.arg}]` : ` ${opt.arg}`;
    lines.push(
      usage.length < 28 ? `  ${usage.padEnd(28)}${opt.help}` : `  ${usage}\n  ${''.padEnd(28)}${opt.help}`,
    );
  }
  lines.push('', `For QEMU's full set of options, use tsemu-system-arm (see tsemu-system-arm -help).`);
  return `${lines.join('\n')}\n`;
}

function parsePort(text: string, option: string): number {
  const port = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UserError(`option '${option}' expects a port number from 1 to 65535, not '${text}'`);
  }
  return port;
}

/** Turns `--monitor` shorthand into a QEMU chardev spec for a listening QMP socket. */
function monitorSpec(text: string): string {
  if (/^[0-9]+$/.test(text)) {
    return `tcp:127.0.0.1:${parsePort(text, '--monitor')},server=on,wait=off`;
  }
  if (text === '') throw new UserError("option '--monitor' expects a port, a socket path or a chardev spec");
  // A QEMU spec has a backend prefix (unix:, tcp:, stdio, ...); anything else is a socket path.
  if (/^[a-z]+:/.test(text) || text === 'stdio') return text;
  return `unix:${text.replace(/,/g, ',,')},server=on,wait=off`;
}

/**
 * Parses the words after `tsemu`. Throws UserError (without a program-name prefix) for unknown
 * options, missing or bad values, and a missing or repeated FILE.
 */
export function parseFriendlyCommandLine(argv: readonly string[]): FriendlyCommandLine {
  const cl: FriendlyCommandLine = { speed: 'realtime', waitGdb: false, help: false, version: false };
  const files: string[] = [];
  let optionsEnded = false;

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (optionsEnded || !word.startsWith('-') || word === '-') {
      files.push(word);
      continue;
    }
    if (word === '--') {
      optionsEnded = true;
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq === -1 ? word : word.slice(0, eq);
    const inlineValue = eq === -1 ? undefined : word.slice(eq + 1);
    const opt = findFriendlyOption(name);
    if (opt === undefined) throw new UserError(`unknown option '${name}'; see 'tsemu --help'`);

    let value: string | undefined;
    if (opt.arg === undefined) {
      if (inlineValue !== undefined) throw new UserError(`option '${name}' takes no value`);
    } else if (inlineValue !== undefined) {
      value = inlineValue;
    } else if (opt.optionalArg !== true) {
      if (i + 1 >= argv.length) throw new UserError(`option '${name}' requires a value (${opt.arg})`);
      i++;
      value = argv[i]!;
    }

    switch (opt.names[opt.names.length - 1]) {
      case '--help':
        cl.help = true;
        return cl;
      case '--version':
        cl.version = true;
        return cl;
      case '--machine':
        if (value === '') throw new UserError("option '--machine' expects a machine name");
        cl.machine = value!;
        break;
      case '--speed':
        if (value !== 'realtime' && value !== 'fast') {
          throw new UserError(`option '--speed' expects 'realtime' or 'fast', not '${value}'`);
        }
        cl.speed = value;
        break;
      case '--display':
        if (value !== 'none' && value !== 'term' && value !== 'web') {
          throw new UserError(`option '--display' expects 'none', 'term' or 'web', not '${value}'`);
        }
        cl.display = value;
        break;
      case '--gdb':
        cl.gdbPort = value === undefined ? DEFAULT_GDB_PORT : parsePort(value, '--gdb');
        break;
      case '--wait-gdb':
        cl.waitGdb = true;
        break;
      case '--monitor':
        cl.qmp = monitorSpec(value!);
        break;
      case '--trace':
        cl.logItems = value!;
        break;
      case '--seed':
        try {
          cl.seed = parseSeed(value!);
        } catch {
          throw new UserError(`option '--seed' expects an unsigned 64-bit integer, not '${value}'`);
        }
        break;
      case '--timeout': {
        const seconds = /^([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(value!) ? Number(value) : Number.NaN;
        if (!(seconds > 0 && Number.isFinite(seconds))) {
          throw new UserError(`option '--timeout' expects a positive number of seconds, not '${value}'`);
        }
        cl.timeoutSeconds = seconds;
        break;
      }
      case '--serial-out':
        if (value === '') throw new UserError("option '--serial-out' expects a file name");
        cl.serialOut = value!;
        break;
      default:
        throw new Error(`friendly option ${name} has no handler`);
    }
  }

  if (cl.waitGdb && cl.gdbPort === undefined) cl.gdbPort = DEFAULT_GDB_PORT;
  if (files.length === 0) throw new UserError(`no firmware file given; ${USAGE}`);
  if (files.length > 1) {
    throw new UserError(`only one firmware file may be given, not '${files[0]}' and '${files[1]}'`);
  }
  cl.file = files[0]!;
  return cl;
}

// ---------------------------------------------------------------------------------------------
// Picking the machine from the file's bytes.
//
// The rule (documented in `tsemu --help` too):
// - Universal hex (it has BlockStart records, type 0x0A): micro:bit when a block is for board ID
//   0x9900 or 0x9901 (V1); a file for V2 boards only is refused.
// - Intel HEX: micro:bit when every data byte lands in the nRF51822's 256 KiB flash
//   (0x0-0x3FFFF) or its UICR page (0x10001000-0x100013FF), and some land in flash.
// - ELF: micro:bit when it is 32-bit, for ARM (e_machine 40), and its first PT_LOAD segment with
//   file contents is loaded (physical address) within 0x0-0x3FFFF.
// - Raw binary: micro:bit when it fits the flash and starts with a Cortex-M vector table whose
//   initial stack pointer lies in the micro:bit's 16 KiB RAM (0x20000000-0x20004000) and whose
//   reset vector is a Thumb address inside the image.
// Anything else: a UserError asking for --machine.

const MICROBIT = 'microbit';
const FLASH_SIZE = 0x40000;
const UICR_START = 0x10001000;
const UICR_END = 0x10001400;
const RAM_START = 0x20000000;
const RAM_END = 0x20004000;
const V2_BOARD_IDS: readonly number[] = [0x9903, 0x9904, 0x9905, 0x9906];

function unsure(path: string, why: string): UserError {
  return new UserError(`${path}: ${why}; cannot tell which machine it is for: pass --machine NAME`);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Returns the machine to run `bytes` (the content of the file at `path`) on, by the rule above.
 * The file is parsed by the loaders, so a broken file gets the loader's exact message.
 * Throws UserError naming the file when it cannot tell.
 */
export function pickMachineForFile(path: string, bytes: Uint8Array): string {
  switch (detectFormat(bytes)) {
    case 'elf':
      return pickForElf(path, parseElf32(bytes, path));
    case 'universal-hex':
      return pickForUniversalHex(path, universalHexBoardIds(new TextDecoder().decode(bytes), path));
    case 'ihex':
      return pickForHex(path, parseIntelHex(new TextDecoder().decode(bytes), path));
    case 'raw':
      return pickForRaw(path, bytes);
  }
}

function pickForUniversalHex(path: string, boardIds: number[]): string {
  if (boardIds.some((id) => MICROBIT_V1_BOARD_IDS.includes(id))) return MICROBIT;
  if (boardIds.length > 0 && boardIds.every((id) => V2_BOARD_IDS.includes(id))) {
    throw new UserError(
      `${path}: this universal hex is only for the micro:bit V2, which tsemu does not emulate yet; ` +
        'build it for the micro:bit V1 (or as a universal hex with a V1 part)',
    );
  }
  throw unsure(path, `universal hex for unknown boards (${boardIds.map(hex).join(', ')})`);
}

function pickForHex(path: string, image: LoadedImage): string {
  let flashBytes = 0;
  for (const seg of image.segments) {
    const start = seg.addr;
    const end = start + seg.data.length;
    if (end <= FLASH_SIZE) flashBytes += seg.data.length;
    else if (!(start >= UICR_START && end <= UICR_END)) {
      throw unsure(path, `${seg.source} puts data at ${hex(start)}, outside the micro:bit's 256 KiB flash`);
    }
  }
  if (flashBytes === 0) throw unsure(path, 'the hex file holds no data for flash');
  return MICROBIT;
}

function pickForElf(path: string, image: LoadedImage): string {
  const first = image.segments.find((s) => s.data.length > 0);
  if (!first) throw unsure(path, 'the ELF file has no loadable segment');
  if (first.addr < FLASH_SIZE) return MICROBIT;
  throw unsure(path, `its first loadable segment is at ${hex(first.addr)}, outside the micro:bit's flash`);
}

function pickForRaw(path: string, bytes: Uint8Array): string {
  if (bytes.length < 8 || bytes.length > FLASH_SIZE) {
    throw unsure(path, 'not an ELF or Intel HEX file, and its size does not fit a micro:bit flash image');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sp = view.getUint32(0, true);
  const reset = view.getUint32(4, true);
  const looksLikeVectors =
    sp > RAM_START &&
    sp <= RAM_END &&
    (sp & 3) === 0 &&
    (reset & 1) === 1 &&
    reset >= 8 &&
    reset - 1 < bytes.length;
  if (looksLikeVectors) return MICROBIT;
  throw unsure(path, 'a raw binary without a micro:bit vector table at its start');
}

#!/usr/bin/env node
/**
 * `tsemu [options] FILE`: the friendly front end. It picks the machine from the file, wires
 * the serial port to the terminal (with QEMU's Ctrl-A commands: C-a x quits, C-a h helps) and
 * translates its few options into a `tsemu-system-arm` command line, which it then runs.
 */
import { readFileSync } from 'node:fs';
import { describeSystemError } from '../chardev/chardev.js';
import { UserError } from '../core/errors.js';
import {
  type FriendlyCommandLine,
  friendlyHelpText,
  parseFriendlyCommandLine,
  pickMachineForFile,
} from './friendly.js';
import { versionText } from './help.js';
import { parseSystemCommandLine, type SystemCommandLine } from './parse.js';
import { reportError, runProgram, stdIo } from './run-program.js';

const program = 'tsemu';

/** The `tsemu-system-arm` arguments equivalent to a friendly command line. */
export function systemArgsFor(cl: FriendlyCommandLine, file: string, machine: string): string[] {
  // The LED display in the terminal with the serial port below it, unless asked otherwise.
  const display = cl.display ?? 'term';
  const args = ['-M', machine, '-display', display];
  args.push('-device', `loader,file=${file.replaceAll(',', ',,')}`);
  if (cl.serialOut !== undefined) args.push('-serial', `file:${cl.serialOut}`);
  else if (display !== 'term') args.push('-serial', 'mon:stdio');
  if (cl.gdbPort !== undefined) args.push('-gdb', `tcp::${cl.gdbPort}`);
  if (cl.waitGdb) args.push('-S');
  if (cl.qmp !== undefined) args.push('-qmp', cl.qmp);
  if (cl.logItems !== undefined) args.push('-d', cl.logItems);
  if (cl.seed !== undefined) args.push('-seed', cl.seed.toString());
  return args;
}

function parse(argv: string[]): { cmd: SystemCommandLine; cl: FriendlyCommandLine } | null {
  const cl = parseFriendlyCommandLine(argv);
  if (cl.help) {
    process.stdout.write(friendlyHelpText(program));
    return null;
  }
  if (cl.version) {
    process.stdout.write(versionText(program));
    return null;
  }
  const file = cl.file!;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UserError(`Could not open '${file}': ${describeSystemError(e)}`);
  }
  const machine = cl.machine ?? pickMachineForFile(file, bytes);
  return { cmd: parseSystemCommandLine(systemArgsFor(cl, file, machine)), cl };
}

let parsed: ReturnType<typeof parse>;
try {
  parsed = parse(process.argv.slice(2));
} catch (e) {
  process.exitCode = reportError(e, program);
  parsed = null;
}
if (parsed) {
  const { cmd, cl } = parsed;
  void runProgram(() => cmd, stdIo(program), {
    // fast: deterministic, executed instructions drive time at the CPU's nominal rate and
    // idle time is skipped (QEMU has no -icount form for this: shift=auto needs sleep=on).
    fast: cl.speed === 'fast',
    ...(cl.timeoutSeconds !== undefined ? { stopAfterNs: Math.round(cl.timeoutSeconds * 1e9) } : {}),
  });
}

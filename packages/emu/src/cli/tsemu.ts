#!/usr/bin/env node
/**
 * `tsemu [options] FILE`: the friendly front end. It picks the machine from the file, wires
 * the serial port to the terminal (with QEMU's Ctrl-A commands: C-a x quits, C-a h helps) and
 * translates its few options into a `tsemu-system-arm` command line, which it then runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describeSystemError } from '../chardev/chardev.js';
import { UserError } from '../core/errors.js';
import {
  type LoadedImage,
  loadImageFile,
  MICROBIT_V1_BOARD_IDS,
  withMicroPythonScript,
} from '../loader/index.js';
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
export function systemArgsFor(cl: FriendlyCommandLine, file: string | null, machine: string): string[] {
  // On a terminal: the LED display with the serial port below it; elsewhere (a pipe, a log)
  // the serial port alone, as -nographic would.
  const display = cl.display ?? (process.stdout.isTTY ? 'term' : 'none');
  const args = ['-M', machine, '-display', display];
  if (file !== null) args.push('-device', `loader,file=${file.replaceAll(',', ',,')}`);
  if (cl.serialOut !== undefined) args.push('-serial', `file:${cl.serialOut}`);
  else if (display === 'none') args.push('-serial', 'mon:stdio'); // term and web show it themselves
  if (cl.gdbPort !== undefined) args.push('-gdb', `tcp::${cl.gdbPort}`);
  if (cl.waitGdb) args.push('-S');
  if (cl.qmp !== undefined) args.push('-qmp', cl.qmp);
  if (cl.logItems !== undefined) args.push('-d', cl.logItems);
  if (cl.seed !== undefined) args.push('-seed', cl.seed.toString());
  return args;
}

/** Debian's MicroPython for the micro:bit (package firmware-microbit-micropython). */
const MICROPYTHON_RUNTIME = '/usr/share/firmware-microbit-micropython/firmware.hex';

/**
 * A MicroPython script becomes the runtime with the script embedded where `uflash` puts it.
 * `TSEMU_MICROPYTHON` names another runtime hex.
 */
function microPythonImage(script: string, file: string): LoadedImage {
  const runtimePath = process.env.TSEMU_MICROPYTHON ?? MICROPYTHON_RUNTIME;
  if (!existsSync(runtimePath)) {
    throw new UserError(
      `${file}: running a MicroPython script needs the MicroPython runtime ${runtimePath} ` +
        '(install firmware-microbit-micropython, or set TSEMU_MICROPYTHON to a runtime hex)',
    );
  }
  return withMicroPythonScript(loadImageFile(runtimePath, { boardIds: [...MICROBIT_V1_BOARD_IDS] }), script);
}

function parse(
  argv: string[],
): { cmd: SystemCommandLine; cl: FriendlyCommandLine; images: LoadedImage[] } | null {
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
  if (file.endsWith('.py')) {
    const image = microPythonImage(new TextDecoder().decode(bytes), file);
    const machine = cl.machine ?? 'microbit';
    return { cmd: parseSystemCommandLine(systemArgsFor(cl, null, machine)), cl, images: [image] };
  }
  const machine = cl.machine ?? pickMachineForFile(file, bytes);
  return { cmd: parseSystemCommandLine(systemArgsFor(cl, file, machine)), cl, images: [] };
}

let parsed: ReturnType<typeof parse>;
try {
  parsed = parse(process.argv.slice(2));
} catch (e) {
  process.exitCode = reportError(e, program);
  parsed = null;
}
if (parsed) {
  const { cmd, cl, images } = parsed;
  void runProgram(() => cmd, stdIo(program), {
    // fast: deterministic, executed instructions drive time at the CPU's nominal rate and
    // idle time is skipped (QEMU has no -icount form for this: shift=auto needs sleep=on).
    fast: cl.speed === 'fast',
    images,
    ...(cl.timeoutSeconds !== undefined ? { stopAfterNs: Math.round(cl.timeoutSeconds * 1e9) } : {}),
  });
}

/**
 * Process-level behaviour shared by `tsemu-system-arm` and `tsemu`: one-line errors with exit
 * status 1 for user mistakes, clean exit 0 on SIGTERM/SIGINT/SIGHUP (QEMU's test harness relies
 * on it), chardevs closed (the terminal restored) before exiting.
 */
import { isUserError } from '../core/errors.js';
import { LogOptionError } from '../core/log.js';
import type { SystemCommandLine } from './parse.js';
import { type StartExtras, type StartResult, type SystemIo, startSystem } from './system.js';

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export function stdIo(program: string): SystemIo {
  return {
    program,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}

/** Prints a user error as one line and returns exit status 1; rethrows internal errors. */
export function reportError(e: unknown, program: string): number {
  if (isUserError(e) || e instanceof LogOptionError) {
    process.stderr.write(`${program}: ${e.message}\n`);
    return 1;
  }
  throw e;
}

/** Starts the system and keeps the process alive until the machine ends or a signal comes. */
export async function runProgram(
  parse: () => SystemCommandLine,
  io: SystemIo,
  extra: StartExtras = {},
): Promise<void> {
  // Signals are handled from the very start: libqtest may send SIGTERM while we still connect.
  let running: Extract<StartResult, { kind: 'running' }> | null = null;
  let exiting = false;
  const finish = async (status: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    try {
      if (running) {
        for (const c of running.cleanups) c();
        running.machine.shutdown('host-signal');
        await running.chardevs.closeAll();
        running.machine.log.close();
      }
    } finally {
      process.exit(status);
    }
  };
  for (const sig of Object.keys(SIGNAL_NUMBERS)) {
    process.on(sig, () => {
      io.err(`${io.program}: terminating on signal ${SIGNAL_NUMBERS[sig]}\n`);
      void finish(0);
    });
  }
  let started: StartResult;
  try {
    started = await startSystem(parse(), io, extra);
  } catch (e) {
    process.exitCode = reportError(e, io.program);
    if (!exiting) process.exit();
    return;
  }
  if (started.kind === 'exit') {
    process.exit(started.status);
  }
  running = started;
  if (exiting) return;
  const status = await started.done;
  await finish(status);
}

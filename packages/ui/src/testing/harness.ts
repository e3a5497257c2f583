/**
 * Starting an emulator with the web display for end-to-end tests, two ways behind one function:
 * - `library`: the machine runs in the test process, with `startRemoteDisplay` spawning the
 *   built UI process exactly as `-display web` does (what the command line wires up);
 * - `cli`: `tsemu-system-arm -M microbit -S -display web,open=off,port=0 -kernel FILE` as a
 *   separate process (needs
 *   packages/emu built and `-display web` wired into the command line).
 * `TSEMU_UI_E2E=library` picks the first; the default is the second (the real command line).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine } from '../../../emu/src/machine/create.js';
import { HumanMonitor } from '../../../emu/src/monitor/hmp/hmp.js';
import { startRemoteDisplay, UiSerial, webUiArgs } from '../../../emu/src/ui/remote.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const UI_MAIN = join(REPO, 'packages/ui/dist/main.js');

export interface EmulatorUnderTest {
  /** The page's URL (with its token), as the UI process printed it. */
  readonly url: string;
  /** The emulator's exit status, once it has quit. */
  readonly exited: Promise<number>;
  /** True while the emulator runs. */
  alive(): boolean;
  /** Ends the UI process, as a user closing it would. */
  killUi(): void;
  /** Cleans up whatever is left. */
  stop(): Promise<void>;
}

export type LaunchMode = 'library' | 'cli';

/** Starts `firmware` stopped (`-S`), with the web display, and waits for the UI's URL. */
export async function launchWebEmulator(
  firmware: string,
  mode: LaunchMode = process.env.TSEMU_UI_E2E === 'library' ? 'library' : 'cli',
): Promise<EmulatorUnderTest> {
  return mode === 'cli' ? launchCli(firmware) : launchLibrary(firmware);
}

async function launchLibrary(firmware: string): Promise<EmulatorUnderTest> {
  const serial = new UiSerial('serial0');
  const machine = createMachine('microbit', {
    mode: 'realtime',
    serial: [serial],
    chardevs: [serial],
    kernel: firmware,
  });
  await serial.open();
  let quit: (status: number) => void = () => {};
  let running = true;
  const exited = new Promise<number>((resolve) => {
    quit = (status) => {
      running = false;
      machine.shutdown('host-signal');
      resolve(status);
    };
  });
  const monitor = new HumanMonitor({ machine, onQuit: () => quit(0) });
  const display = await startRemoteDisplay({
    machine,
    serial,
    monitor,
    spawnUi: {
      command: process.execPath,
      args: [UI_MAIN, ...webUiArgs({ kind: 'web', port: 0, open: false, quitOnExit: true })],
      output: 'inherit',
    },
    quitOnExit: true,
    onQuit: () => quit(0),
  });
  const url = await display.url;
  return {
    url,
    exited,
    alive: () => running && machine.runState !== 'shutdown',
    killUi: () => display.uiProcess?.kill('SIGTERM'),
    stop: async () => {
      display.uiProcess?.kill('SIGKILL');
      await display.close();
      quit(0);
    },
  };
}

async function launchCli(firmware: string): Promise<EmulatorUnderTest> {
  const child = spawn(
    process.execPath,
    [
      join(REPO, 'packages/emu/dist/cli/system-arm.js'),
      '-M',
      'microbit',
      '-S',
      '-display',
      'web,open=off,port=0',
      '-kernel',
      firmware,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 128)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const m = /(http:\/\/\S+#token=\w+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) =>
      reject(new Error(`tsemu exited (${code}) before the UI printed its URL:\n${out}`)),
    );
  });
  return {
    url,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    killUi: () => {
      for (const pid of childPids(child)) process.kill(pid, 'SIGTERM');
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The direct children of a process (Linux /proc). */
function childPids(child: ChildProcess): number[] {
  const pid = child.pid;
  if (pid === undefined) return [];
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

/**
 * Access to our own test firmware (the repository's firmware/ folder) for tests: builds it with
 * the Arm GNU toolchain on first use in a process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's firmware/ folder (same depth from src/loader and dist/loader). */
export const FIRMWARE_DIR = fileURLToPath(new URL('../../../../firmware/', import.meta.url));
export const FIRMWARE_BUILD_DIR = join(FIRMWARE_DIR, 'build');

let built = false;

function toolchainPresent(): boolean {
  const r = spawnSync('arm-none-eabi-gcc', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs a build command while holding a lock folder in `dir`, so that test files running in
 * parallel processes do not build into the same files at once. Throws with the command's
 * error output when it fails.
 */
export function buildLocked(
  dir: string,
  command: string,
  args: string[],
  what: string,
  staleMs = 120_000,
): void {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a killed process would otherwise block every later run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > staleMs) rmdirSync(lock);
      } catch {
        // Removed by its owner meanwhile: try again.
      }
      sleepSync(100);
    }
  }
  try {
    const r = spawnSync(command, args, { encoding: 'utf8' });
    if (r.error) throw new Error(`could not run ${command} for ${what}: ${r.error.message}`);
    if (r.status !== 0)
      throw new Error(`building ${what} failed (${command} ${args.join(' ')}):\n${r.stderr}${r.stdout}`);
  } finally {
    rmdirSync(lock);
  }
}

/**
 * The absolute path of firmware/build/NAME (e.g. `hello.elf`). The first call in a process runs
 * `make -C firmware` when the toolchain is installed (cheap when nothing changed); without the
 * toolchain, files built earlier are still returned.
 */
export function requireFirmware(name: string): string {
  const path = join(FIRMWARE_BUILD_DIR, name);
  if (!built) {
    if (toolchainPresent()) {
      buildLocked(FIRMWARE_BUILD_DIR, 'make', ['-C', FIRMWARE_DIR], 'the test firmware');
      built = true;
    } else if (!existsSync(path)) {
      throw new Error('arm-none-eabi-gcc not found: install gcc-arm-none-eabi (see README)');
    }
  }
  if (!existsSync(path))
    throw new Error(`test firmware ${path} does not exist (not built by firmware/Makefile)`);
  return path;
}

/** Whether the test firmware can be built or is already built (for `it.skipIf`). */
export function firmwareAvailable(name = 'hello.elf'): boolean {
  return existsSync(join(FIRMWARE_BUILD_DIR, name)) || toolchainPresent();
}

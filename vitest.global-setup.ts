/**
 * Builds the test inputs once, before any test file runs: our C firmware (make -C firmware)
 * and the MakeCode programs (firmware/makecode/build.sh, which installs the pinned MakeCode
 * compiler on its first run, about 20 s). Tests still check for their files, so a failure
 * here shows up as one clear error instead of timeouts.
 */
import { spawnSync } from 'node:child_process';

function run(what: string, command: string, args: string[]): void {
  const started = Date.now();
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `building ${what} failed (${command} ${args.join(' ')}):\n${r.error?.message ?? ''}${r.stderr}${r.stdout}`,
    );
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`test inputs: ${what} ready (${seconds} s)\n`);
}

export default function setup(): void {
  run('the C test firmware', 'make', ['-s', '-C', 'firmware']);
  run('the MakeCode test programs', 'bash', ['firmware/makecode/build.sh']);
}

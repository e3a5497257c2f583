/**
 * MakeCode programs for tests: firmware/makecode/build.sh compiles them offline with the
 * pinned pxt-microbit (see firmware/makecode/README.md). The first call in a process runs the
 * script (it installs the compiler once, ~20 s, then skips what is up to date).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLocked } from '../../loader/test-firmware.js';

const MAKECODE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../../../firmware/makecode');
const BUILD_DIR = join(MAKECODE_DIR, 'build');
let built = false;

/** The path of a built MakeCode program: `v1` (DAL hex) or `universal` (v1 + v2). */
export function requireMakecode(program: string, kind: 'v1' | 'universal'): string {
  if (!built) {
    buildLocked(BUILD_DIR, 'bash', [join(MAKECODE_DIR, 'build.sh')], 'the MakeCode test programs', 900_000);
    built = true;
  }
  const path = join(BUILD_DIR, program, `${kind}.hex`);
  if (!existsSync(path))
    throw new Error(`MakeCode program ${path} was not built by firmware/makecode/build.sh`);
  return path;
}

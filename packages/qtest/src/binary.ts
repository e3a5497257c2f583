/**
 * Finding the emulator to launch: $QTEST_QEMU_BINARY (libqtest's variable) when set, else the
 * `tsemu-system-arm` launcher of the tsemu package (the repository's packages/emu, or the
 * installed `tsemu` dependency). The launcher runs the compiled dist, so a missing build is
 * reported here, once, instead of as a connection timeout.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The tsemu package directory (holding bin/ and dist/), or null when it cannot be found. */
export function tsemuPackageDir(): string | null {
  // In the repository: packages/qtest/{src,dist}/binary.* -> packages/emu.
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = resolve(here, '../../emu');
  if (existsSync(join(sibling, 'bin', 'tsemu-system-arm'))) return sibling;
  try {
    const entry = createRequire(import.meta.url).resolve('tsemu');
    // <pkg>/dist/index.js -> <pkg>
    const pkg = resolve(dirname(entry), '..');
    if (existsSync(join(pkg, 'bin', 'tsemu-system-arm'))) return pkg;
  } catch {
    // Not installed (or not built): handled by the caller.
  }
  return null;
}

/**
 * The binary a session launches when none is given: $QTEST_QEMU_BINARY, else tsemu's
 * `tsemu-system-arm`. Throws an Error saying what to do when tsemu is missing or not built.
 */
export function defaultBinary(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.QTEST_QEMU_BINARY;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const pkg = tsemuPackageDir();
  if (pkg === null) {
    throw new Error(
      'cannot find tsemu-system-arm: install the tsemu package or set QTEST_QEMU_BINARY to the emulator to test',
    );
  }
  const compiled = join(pkg, 'dist', 'cli', 'system-arm.js');
  if (!existsSync(compiled)) {
    throw new Error(
      `tsemu is not built (${compiled} is missing): run \`npm run build\` in the repository root first`,
    );
  }
  return join(pkg, 'bin', 'tsemu-system-arm');
}

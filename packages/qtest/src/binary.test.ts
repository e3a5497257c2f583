import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultBinary, tsemuPackageDir } from './binary.js';

describe('defaultBinary', () => {
  it('prefers $QTEST_QEMU_BINARY, as libqtest does', () => {
    expect(defaultBinary({ QTEST_QEMU_BINARY: '/opt/qemu/bin/qemu-system-arm' })).toBe(
      '/opt/qemu/bin/qemu-system-arm',
    );
  });

  it("finds the repository's tsemu-system-arm launcher", () => {
    const pkg = tsemuPackageDir();
    expect(pkg).not.toBeNull();
    expect(existsSync(`${pkg}/bin/tsemu-system-arm`)).toBe(true);
    if (existsSync(`${pkg}/dist/cli/system-arm.js`)) {
      expect(defaultBinary({})).toBe(`${pkg}/bin/tsemu-system-arm`);
    } else {
      expect(() => defaultBinary({})).toThrow(/tsemu is not built .*run `npm run build`/);
    }
  });
});

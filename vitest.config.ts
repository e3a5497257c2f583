import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 20000,
    pool: 'forks',
    globalSetup: ['./vitest.global-setup.ts'],
  },
});

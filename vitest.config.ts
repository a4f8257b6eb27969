import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every temporary file of the run lives in one directory removed at its end.
    globalSetup: ['test/setup/scratch-tmpdir.ts'],
    // Model-based suites print their coverage tables; keep them visible.
    reporters: ['default'],
    testTimeout: 60_000,
  },
});

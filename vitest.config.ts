import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Model-based suites print their coverage tables; keep them visible.
    reporters: ['default'],
    testTimeout: 60_000,
  },
});

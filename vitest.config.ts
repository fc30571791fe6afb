import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real SQLite files and real servers: forks keep native handles out of shared threads.
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

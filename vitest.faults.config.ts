import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`): real server processes, a PostgreSQL and a Redis of the
 * suite's own that it stops and restarts. One file at a time: the scenarios measure latencies and
 * recovery times, and they would only measure each other on a small machine.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});

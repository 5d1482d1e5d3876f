import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build.ts'],
    // The opt-in real-cluster suite decides for itself whether to run (see test/cluster-integration).
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

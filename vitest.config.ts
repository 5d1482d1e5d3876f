import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The opt-in real-cluster suite decides for itself whether to run (see test/cluster-integration).
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build.ts'],
    // Grading workers started by tests load the compiled worker that globalSetup has just built
    // (server/web/sim-worker-entry.js), rather than compiling the sources again in every worker.
    env: { KUBELAB_COMPILED_WORKERS: '1' },
    // A guard against a hang, not a speed check (speed is measured by `npm run bench`). Many tests
    // run whole processes (kubectl, `node bin/kubelab.js`) several times over; with files running
    // side by side on a loaded 2-core machine such a test took 20 s without anything being wrong.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browser tests poll the page until it shows what they expect; vitest's default (1 s) is a
    // flake on a loaded machine, while a wrong page still fails, only later.
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    // Much of the suite waits on other processes (chromium, kubectl, `node bin/kubelab.js`, servers
    // and their worker threads), so one worker per core leaves cores idle; vitest's default (cores
    // - 1) runs the files one at a time on a 2-core machine.
    maxWorkers: Math.min(8, availableParallelism() + 1),
    // A worker keeps the modules it has loaded from one test file to the next instead of loading
    // the whole server again per file (measured: a third of the suite's CPU time went to that). Test
    // files do not rely on fresh module state: servers, stores and clusters are made per file.
    isolate: false,
  },
});

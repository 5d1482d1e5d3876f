/**
 * Grading np-backend on the simulated cluster: a fork of the deployed scenario, the learner's
 * policy applied, every check and probe run (pre-flight included). Target: well under 50 ms.
 */
import type { BenchSection } from '../bench.js';
import { loadLab, loadScenario, readManifestFile } from '../../server/labs/index.js';
import { ScenarioClusters, gradeOnSimulated } from '../../server/grader/simulated.js';

const TARGET_MS = 50;

export const section: BenchSection = {
  name: 'grader',
  async run() {
    const lab = await loadLab('np-backend');
    const scenario = await loadScenario(lab.scenario);
    const solution = await readManifestFile(lab.files.solution);
    const wrong = await readManifestFile(`${lab.dir}/${lab.knownWrong[0]!.file}`);
    const clusters = new ScenarioClusters();
    const coldStart = performance.now();
    await gradeOnSimulated(lab, solution, { scenario, clusters });
    const coldMs = performance.now() - coldStart;

    const timings: number[] = [];
    let probes = 0;
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      const report = await gradeOnSimulated(lab, i % 2 === 0 ? solution : wrong, { scenario, clusters });
      timings.push(performance.now() - t);
      probes = report.checks.reduce((n, c) => n + c.probes.length, 0);
    }
    timings.sort((a, b) => a - b);
    const p50 = timings[Math.floor(timings.length * 0.5)]!;
    const p95 = timings[Math.floor(timings.length * 0.95)]!;
    console.log(`first grade (scenario deployed): ${coldMs.toFixed(1)} ms`);
    console.log(
      `grade np-backend (${probes} probes + pre-flight), 60 runs: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${timings.at(-1)!.toFixed(1)} ms (target p95 < ${TARGET_MS} ms)`,
    );
    return { ok: p95 < TARGET_MS };
  },
};

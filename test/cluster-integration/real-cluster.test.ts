/**
 * The real-cluster path end to end, on a machine with Docker and kind:
 *   cluster up -> lab start np-backend -> grade fails -> apply the solution -> grade passes
 *   -> reset -> cluster down.
 *
 * Opt-in, because it creates a kind cluster (about 3-8 minutes cold): run it with
 *   npm run test:cluster      (KUBELAB_CLUSTER_TESTS=1 vitest run test/cluster-integration)
 * Settings: KUBELAB_TEST_CLUSTER (cluster name, default kubelab-it), KUBELAB_KEEP_CLUSTER=1 (do not
 * delete it at the end; the next run resumes it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressPrinter } from '../../server/cli/cluster.js';
import { deployScenario } from '../../server/cluster/deploy.js';
import { checkDocker } from '../../server/cluster/docker.js';
import { KindCli } from '../../server/cluster/kind.js';
import {
  clusterDown,
  clusterUp,
  openCluster,
  type ProvisionDeps,
  type ProvisionedCluster,
} from '../../server/cluster/provision.js';
import { execaRunner } from '../../server/cluster/runner.js';
import { loadLab, loadScenario, readManifestFile, readScenarioObjects } from '../../server/labs/index.js';
import type { Lab, Scenario } from '../../server/labs/model.js';

const optedIn = process.env.KUBELAB_CLUSTER_TESTS === '1';
const deps: ProvisionDeps = { runner: execaRunner(process.env), env: process.env };

async function whyNot(): Promise<string | undefined> {
  if (!optedIn) return 'not requested (set KUBELAB_CLUSTER_TESTS=1, or run `npm run test:cluster`)';
  const docker = await checkDocker(deps.runner, 15_000);
  if (docker.status !== 'ok')
    return `Docker is not usable here (${docker.status === 'not-installed' ? 'not installed' : docker.detail})`;
  if ((await new KindCli(deps.runner).version()) === undefined) return 'kind is not installed';
  return undefined;
}

const skipReason = await whyNot();
if (skipReason) console.info(`[cluster-integration] SKIPPED: real-cluster suite not run: ${skipReason}.`);

const name = process.env.KUBELAB_TEST_CLUSTER || 'kubelab-it';
const log = progressPrinter((s) => process.stderr.write(s));
const MINUTES = 60_000;

describe.skipIf(skipReason !== undefined)(`real cluster (kind "${name}" + Calico)`, () => {
  let cluster: ProvisionedCluster;
  let lab: Lab;
  let scenario: Scenario;
  let grade: typeof import('../../server/grader/index.js').gradeLab;

  beforeAll(async () => {
    ({ gradeLab: grade } = await import('../../server/grader/index.js'));
    lab = await loadLab('np-backend');
    scenario = await loadScenario(lab.scenario);
    const up = await clusterUp({ name, workers: 1, onProgress: log }, deps);
    expect(up.canary?.enforcing).toBe(true);
    cluster = await openCluster({ name }, deps);
  }, 30 * MINUTES);

  afterAll(async () => {
    if (process.env.KUBELAB_KEEP_CLUSTER === '1') return;
    await clusterDown({ name }, deps);
  }, 10 * MINUTES);

  const start = async () =>
    deployScenario(
      cluster,
      { name: scenario.name, namespaces: scenario.namespaces, objects: await readScenarioObjects(scenario) },
      { reset: true, readyTimeoutMs: 10 * MINUTES, onProgress: log },
    );
  const check = () => grade({ lab, scenario, cluster, settleMs: 15_000, onProgress: log });

  it(
    'lab start np-backend deploys the scenario and every pod becomes Ready',
    async () => {
      const result = await start();
      expect(result.applied.length).toBeGreaterThan(5);
      const pods = await cluster.list('Pod', 'np-lab');
      expect(pods.filter((p) => p.metadata.labels?.app === 'backend')).toHaveLength(2);
    },
    15 * MINUTES,
  );

  it(
    'with no policy the grade fails on the learner (not on the environment)',
    async () => {
      const report = await check();
      expect(report.status, report.summary).toBe('failed');
      expect(report.checks.find((c) => c.kind === 'preflight')?.status).toBe('pass');
    },
    10 * MINUTES,
  );

  it(
    'after applying the solution the grade passes, and the policy reads back with `from`/`to` intact',
    async () => {
      const solution = await readManifestFile(lab.files.solution);
      await cluster.apply(solution);
      const [policy] = await cluster.list('NetworkPolicy', 'np-lab');
      expect(JSON.stringify(policy)).not.toContain('_from');
      expect(JSON.stringify(policy?.spec)).toContain('"to"');
      const report = await check();
      expect(
        report.status,
        JSON.stringify(
          report.checks.filter((c) => c.status !== 'pass'),
          null,
          2,
        ),
      ).toBe('passed');
    },
    10 * MINUTES,
  );

  it(
    "reset removes the learner's policy and brings the scenario back",
    async () => {
      await start();
      expect(await cluster.list('NetworkPolicy', 'np-lab')).toEqual([]);
      const report = await check();
      expect(report.status).toBe('failed');
    },
    20 * MINUTES,
  );
});

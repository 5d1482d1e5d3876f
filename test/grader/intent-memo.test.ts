import { beforeAll, describe, expect, it } from 'vitest';
import { loadLabForCheck, readManifestFile } from '../../server/labs/index.js';
import { createScenarioCluster } from '../../server/grader/simulated.js';
import { takeSnapshot } from '../../server/grader/snapshot.js';
import { PolicyOracle } from '../../server/grader/oracle.js';
import { scenarioObjects } from '../../server/grader/scenario-objects.js';
import {
  intentInputDigest,
  runIntentChecks,
  type IntentCheck,
  type IntentInput,
} from '../../server/grader/intent.js';
import { canonicalDigest } from '../../server/grader/digest.js';
import { buildNetworkModel } from '../../server/netpol/index.js';
import type { Lab } from '../../server/labs/model.js';
import type { KubeObject } from '../../server/cluster/types.js';

let lab: Lab;
let base: IntentInput;
let wrong: KubeObject[];

async function inputWith(
  objects: KubeObject[],
  existing?: Awaited<ReturnType<typeof createScenarioCluster>>,
): Promise<IntentInput> {
  const { scenario } = await loadLabForCheck('np-backend');
  const cluster = existing ?? (await createScenarioCluster(scenario));
  if (objects.length > 0) await cluster.apply(objects);
  const snapshot = await takeSnapshot(cluster);
  const oracle = new PolicyOracle(snapshot);
  const shipped = await scenarioObjects(scenario);
  return {
    lab,
    checks: lab.checks.filter((c): c is IntentCheck => c.kind === 'traffic' || c.kind === 'unchanged'),
    snapshot,
    namespaces: oracle.model.namespaces,
    pods: oracle.model.pods,
    policies: oracle.model.policies,
    baseline: buildNetworkModel(shipped.filter((o) => o.kind === 'NetworkPolicy')).model.policies,
  };
}

beforeAll(async () => {
  lab = (await loadLabForCheck('np-backend')).lab;
  base = await inputWith(await readManifestFile(lab.files.solution));
  wrong = await readManifestFile(
    new URL('../../labs/np-backend/wrong/01-forgot-dns.yaml', import.meta.url).pathname,
  );
});

describe('the intent memo', () => {
  it('has a digest for real input, and the same one for an equal copy', () => {
    const digest = intentInputDigest(base);
    expect(digest).toBeDefined();
    expect(intentInputDigest(structuredClone(base))).toBe(digest);
  });

  it('changes the digest when any one input changes', () => {
    const digest = intentInputDigest(base);
    const variants: Array<(i: IntentInput) => void> = [
      (i) => (i.checks[0]!.title += '!'),
      (i) => (i.snapshot.services[0]!.metadata.name += 'x'),
      (i) => (i.namespaces[0]!.labels = { ...i.namespaces[0]!.labels, extra: 'x' }),
      (i) => (i.pods[0]!.labels = { ...i.pods[0]!.labels, extra: 'x' }),
      (i) => i.policies.pop(),
      (i) => i.baseline.push(structuredClone(i.policies[0]!)),
    ];
    for (const change of variants) {
      const copy = structuredClone(base);
      change(copy);
      expect(intentInputDigest(copy)).not.toBe(digest);
    }
  });

  it('never hands out a verdict for other policies, and its copies cannot be changed by callers', async () => {
    const passing = runIntentChecks(base);
    expect(passing.every((c) => c.status === 'pass')).toBe(true);
    passing[0]!.status = 'fail';
    passing[0]!.messages.push('changed by a caller');
    const again = runIntentChecks(base);
    expect(again.every((c) => c.status === 'pass')).toBe(true);
    expect(again[0]!.messages).not.toContain('changed by a caller');

    const failing = runIntentChecks(await inputWith(wrong));
    expect(failing.some((c) => c.status === 'fail')).toBe(true);
  });
});

describe('canonicalDigest', () => {
  it('tells apart what JSON would merge, and refuses what it cannot see into', () => {
    expect(canonicalDigest({ a: 1, b: 2 })).toBe(canonicalDigest({ b: 2, a: 1 }));
    expect(canonicalDigest({ a: undefined })).not.toBe(canonicalDigest({}));
    expect(canonicalDigest([NaN])).not.toBe(canonicalDigest([null]));
    expect(canonicalDigest(['1'])).not.toBe(canonicalDigest([1]));
    expect(canonicalDigest(['a', 'b'])).not.toBe(canonicalDigest(['ab']));
    expect(canonicalDigest({ s: new Set([1]) })).toBeUndefined();
    expect(canonicalDigest({ m: new Map() })).toBeUndefined();
  });
});

describe('the memos keyed by the cluster version', () => {
  it('are not fooled by a change that is not a policy: a fork that lost db1 grades as a fresh cluster does', async () => {
    const { lab: l, scenario } = await loadLabForCheck('np-backend');
    const { gradeLab, PreflightCache } = await import('../../server/grader/index.js');
    const cache = new PreflightCache();
    const solution = await readManifestFile(l.files.solution);
    const base = await createScenarioCluster(scenario);
    const learner = base.fork();
    await learner.apply(solution);
    const first = await gradeLab({ lab: l, scenario, cluster: learner, preflightCache: cache });
    expect(first.passed).toBe(true);

    await learner.delete('Deployment', 'db1', 'np-lab');
    const second = await gradeLab({ lab: l, scenario, cluster: learner, preflightCache: cache });
    const fresh = await createScenarioCluster(scenario);
    await fresh.apply(solution);
    await fresh.delete('Deployment', 'db1', 'np-lab');
    const reference = await gradeLab({
      lab: l,
      scenario,
      cluster: fresh,
      preflightCache: new PreflightCache(),
    });

    const verdicts = (r: typeof first) => r.checks.map((c) => [c.id, c.status, c.messages]);
    expect(verdicts(second)).toEqual(verdicts(reference));
    expect(second.passed).toBe(false);
    // The statements of intent (memoised) and the pre-flight (cached) both saw the change.
    const intent = (r: typeof first) =>
      r.checks.filter((c) => c.kind === 'traffic' || c.kind === 'unchanged');
    expect(intent(second).map((c) => c.status)).not.toEqual(intent(first).map((c) => c.status));
    expect(second.checks.find((c) => c.id === 'preflight')?.status).toBe('error');
  });

  it('key the intent proof on the cluster version: same policies in another cluster state are proved again', async () => {
    const before = { ...base, worldVersion: 1 };
    expect(runIntentChecks(before).every((c) => c.status === 'pass')).toBe(true);
    // In a later state of the cluster (a new version) Service db1 selects other pods, which the
    // policy does not open.
    const after = { ...structuredClone(base), worldVersion: 2 };
    const db1 = after.snapshot.services.find((svc) => svc.metadata.name === 'db1')!;
    db1.spec = { ...(db1.spec as object), selector: { app: 'elsewhere' } };
    expect(intentInputDigest(after)).not.toBe(intentInputDigest(before));
    expect(runIntentChecks(after).some((c) => c.status === 'fail')).toBe(true);
  });

  it('key on the content name when the grader gives one, and never on it alone', () => {
    const named = { ...base, content: 'state-1' };
    expect(intentInputDigest(named)).toBe(
      intentInputDigest({ ...structuredClone(base), content: 'state-1' }),
    );
    expect(intentInputDigest({ ...base, content: 'state-2' })).not.toBe(intentInputDigest(named));
    // The checks and the baseline are not part of the content: they still key the proof.
    expect(intentInputDigest({ ...named, baseline: [structuredClone(base.policies[0]!)] })).not.toBe(
      intentInputDigest(named),
    );
    expect(intentInputDigest({ ...named, checks: named.checks.slice(1) })).not.toBe(intentInputDigest(named));
  });

  it('give a cluster a new version for every change but a policy change, and forks keep it', async () => {
    const { scenario } = await loadLabForCheck('np-backend');
    const cluster = await createScenarioCluster(scenario);
    const v0 = cluster.versionBesidesPolicies();
    await cluster.apply(await readManifestFile(lab.files.solution));
    expect(cluster.versionBesidesPolicies()).toBe(v0);
    const fork = cluster.fork();
    expect(fork.versionBesidesPolicies()).toBe(v0);
    await fork.delete('Deployment', 'db1', 'np-lab');
    expect(fork.versionBesidesPolicies()).not.toBe(v0);
    expect(cluster.versionBesidesPolicies()).toBe(v0);
    await cluster.delete('NetworkPolicy', 'np-backend', 'np-lab');
    expect(cluster.versionBesidesPolicies()).toBe(v0);
  });
});

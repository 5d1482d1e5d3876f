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

async function inputWith(objects: KubeObject[]): Promise<IntentInput> {
  const { scenario } = await loadLabForCheck('np-backend');
  const cluster = await createScenarioCluster(scenario);
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

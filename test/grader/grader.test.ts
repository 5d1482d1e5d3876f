import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import type { Cluster, ExecResult, KubeObject, PodRef } from '../../server/cluster/types.js';
import { gradeLab, PreflightCache } from '../../server/grader/index.js';
import { gradeOnSimulated } from '../../server/grader/simulated.js';
import { loadLab, loadScenario, readManifestFile, readScenarioObjects } from '../../server/labs/index.js';
import type { Lab, Scenario } from '../../server/labs/model.js';
import type { GradeReport } from '../../server/grader/report.js';
import { VirtualClock } from './virtual-clock.js';

let lab: Lab;
let scenario: Scenario;

beforeAll(async () => {
  lab = await loadLab('np-backend');
  scenario = await loadScenario(lab.scenario);
});

async function scenarioCluster(
  opts: ConstructorParameters<typeof SimulatedCluster>[0] = {},
): Promise<SimulatedCluster> {
  const c = new SimulatedCluster({ externalHosts: scenario.externalHosts, ...opts });
  await c.apply(await readScenarioObjects(scenario));
  return c;
}

const solution = () => readManifestFile(lab.files.solution);
const check = (r: GradeReport, id: string) => r.checks.find((c) => c.id === id)!;

describe('grading np-backend on the simulated cluster', () => {
  it('passes the reference solution, with every check green and probes explained', async () => {
    const r = await gradeOnSimulated(lab, await solution());
    expect(r.status).toBe('passed');
    expect(r.passed).toBe(true);
    expect(r.checks.every((c) => c.status === 'pass')).toBe(true);
    const probes = r.checks.flatMap((c) => c.probes);
    // Every backend pod is a source, so with two replicas each target is probed twice.
    const sources = new Set(probes.filter((p) => p.from.startsWith('np-lab/backend')).map((p) => p.from));
    expect(sources.size).toBe(2);
    const open = probes.filter((p) => p.expected === 'open' && p.from.startsWith('np-lab/backend'));
    expect(open.every((p) => p.actual === 'allowed' && /np-backend egress rule/.test(p.explanation))).toBe(
      true,
    );
    const blocked = probes.filter((p) => p.expected === 'blocked');
    expect(blocked.length).toBeGreaterThanOrEqual(2 * 7);
    expect(blocked.every((p) => p.actual === 'blocked' && p.explanation.startsWith('blocked:'))).toBe(true);
  });

  it('fails with nothing applied, blaming the missing policy and the open ports', async () => {
    const r = await gradeOnSimulated(lab, []);
    expect(r.status).toBe('failed');
    const policy = r.checks.find((c) => c.kind === 'policy')!;
    expect(policy.status).toBe('fail');
    expect(policy.messages.join(' ')).toMatch(/not found in namespace np-lab/);
    const blockedChecks = r.checks.filter(
      (c) => c.kind === 'connectivity' && c.probes.some((p) => p.expected === 'blocked'),
    );
    expect(blockedChecks.every((c) => c.status === 'fail')).toBe(true);
  });

  it('explains a forgotten DNS rule in plain words', async () => {
    const objects = (await solution()).map((o) => structuredClone(o));
    const np = objects.find((o) => o.kind === 'NetworkPolicy')!;
    const spec = np.spec as { egress: Array<{ ports?: Array<{ port: number }> }> };
    spec.egress = spec.egress.filter((rule) => !rule.ports?.some((p) => p.port === 53));
    const r = await gradeOnSimulated(lab, objects);
    expect(r.status).toBe('failed');
    const failing = r.checks
      .filter((c) => c.status === 'fail')
      .flatMap((c) => c.messages)
      .join('\n');
    expect(failing).toMatch(
      /can't resolve .*egress to kube-dns on UDP 53 is not allowed by np-lab\/np-backend/,
    );
  });
});

describe('environment problems are never blamed on the learner', () => {
  it('a cluster that does not enforce NetworkPolicy gives environment-error, not a pass or a fail', async () => {
    const cluster = await scenarioCluster({ enforcePolicies: false });
    await cluster.apply(await solution());
    const r = await gradeLab({ lab, scenario, cluster });
    expect(r.status).toBe('environment-error');
    expect(r.passed).toBe(false);
    const env = r.checks.flatMap((c) => c.probes).filter((p) => p.environmentProblem);
    expect(env.length).toBeGreaterThan(0);
    expect(env[0]!.environmentProblem).toMatch(
      /predict "timed out \(dropped\)" but the probe saw "connected".*may not enforce NetworkPolicy/,
    );
  });

  it('an exec that cannot run is an environment error', async () => {
    const cluster = await scenarioCluster({
      faults: {
        execFails: (pod: PodRef) => (pod.name.startsWith('backend') ? 'container not found' : undefined),
      },
    });
    await cluster.apply(await solution());
    const r = await gradeLab({ lab, scenario, cluster });
    expect(r.status).toBe('environment-error');
    const pre = check(r, 'preflight');
    expect(pre.status).toBe('error');
    expect(pre.messages.join(' ')).toMatch(/could not run .*container not found/);
    expect(pre.messages.join(' ')).not.toMatch(/scenario is broken/);
  });

  it('a pod that is not ready stops grading in pre-flight', async () => {
    const cluster = await scenarioCluster({ faults: { notReady: ['np-lab/db1'] } });
    await cluster.apply(await solution());
    const r = await gradeLab({ lab, scenario, cluster });
    expect(r.status).toBe('environment-error');
    const pre = check(r, 'preflight');
    expect(pre.status).toBe('error');
    expect(pre.messages.join(' ')).toMatch(/np-lab\/db1.* is not ready/);
    expect(
      r.checks
        .filter((c) => c.kind !== 'preflight' && c.kind !== 'policy' && c.kind !== 'scenario')
        .every((c) => c.status === 'error'),
    ).toBe(true);
  });

  it('a missing scenario is reported as such', async () => {
    const cluster = new SimulatedCluster();
    const r = await gradeLab({ lab, scenario, cluster });
    expect(r.status).toBe('environment-error');
    expect(check(r, 'preflight').messages.join(' ')).toMatch(/namespace np-lab does not exist/);
  });
});

/** A cluster whose policies take effect only after a few probes, as on a real CNI. */
class LaggingCluster implements Cluster {
  readonly mode = 'kube' as const;
  readonly description = 'lagging test cluster';
  private calls = 0;
  constructor(
    private readonly applied: SimulatedCluster,
    private readonly before: SimulatedCluster,
    private readonly lag: number,
  ) {}
  apply = (...a: Parameters<Cluster['apply']>) => this.applied.apply(...a);
  delete = (...a: Parameters<Cluster['delete']>) => this.applied.delete(...a);
  list = (...a: Parameters<Cluster['list']>) => this.applied.list(...a);
  waitReady = (...a: Parameters<Cluster['waitReady']>) => this.applied.waitReady(...a);
  deleteNamespace = (...a: Parameters<Cluster['deleteNamespace']>) => this.applied.deleteNamespace(...a);
  exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    this.calls++;
    return (this.calls <= this.lag ? this.before : this.applied).exec(pod, argv, timeoutMs);
  }
}

describe('re-probing until the policy has applied', () => {
  it('passes once the policy takes effect within the settle time, counting attempts', async () => {
    const applied = await scenarioCluster();
    await applied.apply(await solution());
    const before = await scenarioCluster();
    // The first 15 execs still see the cluster as it was before the policy: the first blocked
    // probes connect a few times, then the policy "arrives".
    const cluster = new LaggingCluster(applied, before, 15);
    let clock = 0;
    const r = await gradeLab({
      lab,
      scenario,
      cluster,
      settleMs: 10_000,
      retryIntervalMs: 1000,
      concurrency: 1,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
    });
    expect(r.status).toBe('passed');
    expect(r.checks.flatMap((c) => c.probes).some((p) => p.attempts > 1)).toBe(true);
  });

  it('without time to settle, the same lag is reported as an environment problem, never a pass', async () => {
    const applied = await scenarioCluster();
    await applied.apply(await solution());
    const before = await scenarioCluster();
    const cluster = new LaggingCluster(applied, before, 1000);
    const r = await gradeLab({ lab, scenario, cluster, settleMs: 0 });
    expect(r.status).toBe('environment-error');
  });
});

describe('self-test inputs exist', () => {
  it('np-backend ships a solution and at least 10 known-wrong attempts', () => {
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(10);
    expect(lab.files.solution).toBe(join(lab.dir, 'solution.yaml'));
  });
});

describe('near misses', () => {
  it('points at the rule that matches the peer but not the port', async () => {
    const objects = (await solution()).map((o) => structuredClone(o));
    const np = objects.find((o) => o.kind === 'NetworkPolicy')!;
    const spec = np.spec as { egress: Array<{ ports?: Array<{ port: number }> }> };
    // db1 on 1112 instead of 1111: the peer is right, the port is not.
    spec.egress[0]!.ports![0]!.port = 1112;
    const r = await gradeOnSimulated(lab, objects);
    const db1 = r.checks
      .flatMap((c) => c.probes)
      .find((p) => p.to.startsWith('db1.np-lab:1111') && !p.passed)!;
    expect(db1.explanation).toMatch(
      /Near miss: np-lab\/np-backend egress rule 1 \(spec\.egress\[0\]\) does match this destination, but only on TCP 1112/,
    );
  });
});

describe('labs with hosts outside the cluster', () => {
  it('refuse to grade on a real cluster, saying why and what to run instead', async () => {
    const ipLab = await loadLab('np-egress-ipblock');
    const ipScenario = await loadScenario(ipLab.scenario);
    expect(ipScenario.externalHosts.length).toBeGreaterThan(0);
    const sim = new SimulatedCluster({ externalHosts: ipScenario.externalHosts });
    await sim.apply(await readScenarioObjects(ipScenario));
    await sim.apply(await readManifestFile(ipLab.files.solution));
    // The same cluster, presented as a real one.
    const real = Object.assign(Object.create(sim) as SimulatedCluster, {
      mode: 'kube' as const,
      fork: undefined,
    });
    const r = await gradeLab({ lab: ipLab, scenario: ipScenario, cluster: real });
    expect(r.status).toBe('environment-error');
    expect(check(r, 'preflight').messages.join(' ')).toMatch(
      /exist only on the simulated cluster.*--simulated/,
    );
    const onSim = await gradeLab({ lab: ipLab, scenario: ipScenario, cluster: sim });
    expect(onSim.status).toBe('passed');
  });
});

describe('pre-flight cache', () => {
  it('skips the policy-free probes when nothing but policies changed, and re-runs them otherwise', async () => {
    const cache = new PreflightCache();
    const cluster = await scenarioCluster();
    let forks = 0;
    const realFork = cluster.fork.bind(cluster);
    cluster.fork = ((...a: Parameters<SimulatedCluster['fork']>) => {
      forks++;
      return realFork(...a);
    }) as SimulatedCluster['fork'];
    expect((await gradeLab({ lab, scenario, cluster, preflightCache: cache })).status).toBe('failed');
    expect(forks).toBe(1);
    await cluster.apply(await solution());
    expect((await gradeLab({ lab, scenario, cluster, preflightCache: cache })).status).toBe('passed');
    expect(forks).toBe(1);
    // A new pod in the lab namespace changes what pre-flight depends on.
    await cluster.apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'extra', namespace: 'np-lab', labels: { app: 'extra' } },
        spec: {
          containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['pause'] }],
        },
      },
    ]);
    await gradeLab({ lab, scenario, cluster, preflightCache: cache });
    expect(forks).toBe(2);
  });
});

/**
 * A real cluster as the grader meets it, in (virtual) time: each exec costs a round trip, a dropped
 * connection waits out its probe timeout, and a policy is enforced only `lagMs` after it was applied
 * (before that, traffic flows as it did without it). The cluster and the grader share one clock.
 */
class EnforcementLagCluster implements Cluster {
  readonly mode = 'kube' as const;
  readonly description = 'cluster with lagging enforcement';
  private readonly enforcedAt: number;
  constructor(
    private readonly applied: SimulatedCluster,
    private readonly before: SimulatedCluster,
    lagMs: number,
    private readonly clock: VirtualClock,
    private readonly roundTripMs = 30,
  ) {
    this.enforcedAt = clock.now() + lagMs;
  }
  apply = (...a: Parameters<Cluster['apply']>) => this.applied.apply(...a);
  delete = (...a: Parameters<Cluster['delete']>) => this.applied.delete(...a);
  list = (...a: Parameters<Cluster['list']>) => this.applied.list(...a);
  waitReady = (...a: Parameters<Cluster['waitReady']>) => this.applied.waitReady(...a);
  deleteNamespace = (...a: Parameters<Cluster['deleteNamespace']>) => this.applied.deleteNamespace(...a);
  async exec(pod: PodRef, argv: string[], timeoutMs: number): Promise<ExecResult> {
    await this.clock.sleep(this.roundTripMs);
    const network = this.clock.now() < this.enforcedAt ? this.before : this.applied;
    const result = await network.exec(pod, argv, timeoutMs);
    // The simulation answers a dropped packet at once; a real probe waits for its timeout.
    if (/timed out/i.test(result.stdout + result.stderr)) {
      const seconds = Number(argv[argv.indexOf('timeout') + 1]) || 2;
      await this.clock.sleep(seconds * 1000);
    }
    return result;
  }
}

describe('no race with enforcement that lags behind apply (real clusters)', () => {
  const gradeRightAfterApply = async (file: string, lagMs: number) => {
    const applied = await scenarioCluster();
    await applied.apply(await readManifestFile(file));
    const before = await scenarioCluster();
    const clock = new VirtualClock();
    const cluster = new EnforcementLagCluster(applied, before, lagMs, clock);
    const started = clock.now();
    const r = await clock.run(() =>
      gradeLab({
        lab,
        scenario,
        cluster,
        settleMs: 15_000,
        retryIntervalMs: 250,
        concurrency: 48,
        now: clock.now,
        sleep: clock.sleep,
      }),
    );
    return { r, ms: clock.now() - started };
  };

  it('fails wrong/14 (deny-all egress) graded the moment it is applied, although its open probes connect at first', async () => {
    const { r } = await gradeRightAfterApply(join(lab.dir, 'wrong/14-deny-all-egress.yaml'), 1500);
    expect(r.status).toBe('failed');
    expect(check(r, 'backend-reaches-databases').status).toBe('fail');
    // The open probes were re-run until the deny-all took effect, not accepted on the first try.
    expect(check(r, 'backend-reaches-databases').probes.every((p) => p.attempts > 1)).toBe(true);
  });

  it('passes the solution graded the moment it is applied', async () => {
    const { r } = await gradeRightAfterApply(lab.files.solution, 1500);
    expect(r.status).toBe('passed');
  });

  it('grades an enforced solution in about one probe timeout plus round trips (probes run together)', async () => {
    const { r, ms } = await gradeRightAfterApply(lab.files.solution, 0);
    expect(r.status).toBe('passed');
    const probes = r.checks.flatMap((c) => c.probes);
    expect(probes.every((p) => p.attempts === 1)).toBe(true);
    expect(probes.filter((p) => p.actual === 'blocked').length).toBeGreaterThan(1);
    // Virtual time: one 2 s timeout for every blocked probe at once; one after another would
    // take a timeout per blocked probe (over a minute).
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(4000);
  });
});

describe('the scenario as shipped (a real cluster, changed with kubectl)', () => {
  const monitoring = async () => {
    const l = await loadLab('np-allow-monitoring');
    const s = await loadScenario(l.scenario);
    const c = new SimulatedCluster({ externalHosts: s.externalHosts });
    await c.apply(await readScenarioObjects(s));
    await c.apply(await readManifestFile(l.files.solution));
    return { l, s, c };
  };

  it('fails scenario-intact, naming the policy, when a scenario policy was edited', async () => {
    const { l, s, c } = await monitoring();
    const policies = await c.list('NetworkPolicy', 'mon-app');
    const same = policies.find((p) => p.metadata.name === 'allow-same-namespace')!;
    await c.apply([{ ...same, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] } }]);
    const r = await gradeLab({ lab: l, scenario: s, cluster: c });
    expect(r.passed).toBe(false);
    expect(check(r, 'scenario-intact').status).toBe('fail');
    expect(check(r, 'scenario-intact').messages.join(' ')).toMatch(
      /NetworkPolicy mon-app\/allow-same-namespace was changed/,
    );
  });

  it('fails scenario-intact when a scenario policy was deleted or a namespace relabelled', async () => {
    const { l, s, c } = await monitoring();
    await c.delete('NetworkPolicy', 'allow-same-namespace', 'mon-app');
    const ns = (await c.list('Namespace')).find((n) => n.metadata.name === 'mon-sandbox')!;
    await c.apply([
      { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, purpose: 'monitoring' } } },
    ]);
    const r = await gradeLab({ lab: l, scenario: s, cluster: c });
    const text = check(r, 'scenario-intact').messages.join(' ');
    expect(text).toMatch(/allow-same-namespace was deleted/);
    expect(text).toMatch(/labels of namespace mon-sandbox were changed/);
  });

  it('passes scenario-intact for the solution as applied', async () => {
    const { l, s, c } = await monitoring();
    const r = await gradeLab({ lab: l, scenario: s, cluster: c });
    expect(check(r, 'scenario-intact').status).toBe('pass');
    expect(r.passed).toBe(true);
  });

  it('refuses to grade a submission that replaces a scenario object, on the command line path too', async () => {
    const l = await loadLab('np-allow-monitoring');
    const mine = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-same-namespace', namespace: 'mon-app' },
      spec: { podSelector: {}, ingress: [{}] },
    };
    await expect(gradeOnSimulated(l, [mine])).rejects.toThrow(
      /NetworkPolicy mon-app\/allow-same-namespace belongs to the scenario/,
    );
  });
});

describe('a failed grade teaches', () => {
  it('opens with a one-line diagnosis naming a concrete connection and the rule', async () => {
    const r = await gradeOnSimulated(
      lab,
      await readManifestFile(join(lab.dir, 'wrong/18-dns-to-the-internet.yaml')),
    );
    expect(r.passed).toBe(false);
    expect(r.diagnosis).toMatch(
      /^Also reachable: np-lab\/backend\b -> .* on TCP 53; UDP 53, allowed by np-lab\/np-backend egress rule 3 \(spec\.egress\[2\]\)\.$/,
    );
    expect(r.summary.startsWith(r.diagnosis!)).toBe(true);
    expect(r.diagnosis!.split('\n')).toHaveLength(1);
  });

  it('names an address outside the cluster as the counterexample when only addresses are wrong', async () => {
    const open53: KubeObject = structuredClone((await solution())[0]!);
    (open53.spec as { egress: unknown[] }).egress.push({
      to: [{ ipBlock: { cidr: '8.0.0.0/8' } }],
      ports: [{ protocol: 'UDP', port: 53 }],
    });
    const r = await gradeOnSimulated(lab, [open53]);
    expect(check(r, 'backend-egress-exactly').messages[0]).toMatch(
      /^also reachable: np-lab\/backend\b -> 8\.8\.8\.8 \(an address outside the cluster in 8\.0\.0\.0\/8\) on UDP 53, allowed by np-lab\/np-backend egress rule 4 \(spec\.egress\[3\]\)\.$/,
    );
    // The sampled probes never aim there: only the statement proven over all traffic fails.
    expect(r.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['backend-egress-exactly']);
  });

  it('says when a selector of the learner matches nothing', async () => {
    const r = await gradeOnSimulated(lab, await readManifestFile(join(lab.dir, 'wrong/08-label-typo.yaml')));
    const notes = r.checks.flatMap((c) => c.messages).filter((m) => m.startsWith('note:'));
    expect(notes).toContain(
      'note: np-lab/np-backend spec.podSelector {app=backned} matches no pod in np-lab.',
    );
  });

  it('hints at the name when the traffic is right but the policy is called something else', async () => {
    const renamed = (await solution()).map((o) => ({
      ...o,
      metadata: { ...o.metadata, name: 'backend-egress' },
    }));
    const r = await gradeOnSimulated(lab, renamed);
    expect(r.passed).toBe(false);
    const policy = check(r, 'policy-exists');
    expect(policy.status).toBe('fail');
    expect(policy.messages.join(' ')).toMatch(
      /the traffic is already as required; only the name is wrong\. Rename backend-egress/,
    );
  });

  it('says that a missing policyTypes was filled in, and by which rule', async () => {
    const r = await gradeOnSimulated(
      lab,
      await readManifestFile(join(lab.dir, 'wrong/15-policytypes-omitted.yaml')),
    );
    expect(check(r, 'policy-exists').messages.join(' ')).toMatch(
      /must restrict Egress only, but with policyTypes: \[Ingress, Egress\] it restricts Ingress and Egress \(if policyTypes was left out, the API server filled it in: Ingress always, Egress only when there are egress rules\)/,
    );
  });
});

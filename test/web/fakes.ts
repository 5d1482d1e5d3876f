/**
 * Fakes for the web app's dependencies: a one-lab catalogue and a checker that grades by a simple
 * rule, so the routes can be tested without the real labs, grader or cluster.
 */
import type { KubeObject } from '../../server/cluster/types.js';
import { environmentError, notFound } from '../../server/errors.js';
import type { GradeReport } from '../../server/grader/report.js';
import type { Lab } from '../../server/labs/model.js';
import { ProgressStore } from '../../server/store/index.js';
import type { Checker, LabCatalogue, LabPageKind, WebDeps } from '../../server/web/deps.js';
import { buildMatrix, type ConnectivityMatrix } from '../../server/web/matrix.js';

export function fakeLab(id = 'np-fake'): Lab {
  return {
    id,
    title: 'Fake lab',
    summary: 'A lab for testing the web app.',
    difficulty: 'beginner',
    tags: ['CKA', 'CKS'],
    minutes: 15,
    competency: 'NetworkPolicy',
    catches: 'forgetting DNS',
    scenario: 'fake',
    namespace: 'np-lab',
    hints: ['First hint: look at egress.', 'Second hint: DNS needs UDP 53.'],
    checks: [
      {
        kind: 'policy',
        id: 'exists',
        title: 'Policy np-backend exists',
        namespace: 'np-lab',
        name: 'np-backend',
      },
      {
        kind: 'connectivity',
        id: 'allowed',
        title: 'backend reaches db1',
        from: { namespace: 'np-lab', podSelector: { matchLabels: { app: 'backend' } } },
        expect: 'open',
        to: [{ service: 'db1', ports: [1111], protocol: 'TCP' }],
      },
    ],
    knownWrong: [],
    dir: `/nonexistent/labs/${id}`,
    files: {
      labYaml: 'lab.yaml',
      task: 'task.md',
      concept: 'concept.md',
      completion: 'completion.md',
      solution: 'solution.yaml',
    },
  };
}

export const FAKE_PAGES: Record<LabPageKind, string> = {
  task: '# The task\n\nWrite **np-backend**. <script>alert(1)</script>\n\n[evil](javascript:alert(1))',
  concept: '# Concept\n\nNetworkPolicies select pods.',
  completion: '# Well done\n\nYou finished the fake lab.',
};

export const FAKE_SOLUTION =
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np-backend\n';

export function fakeCatalogue(labs: Lab[] = [fakeLab()]): LabCatalogue & { pageReads: number } {
  const cat = {
    pageReads: 0,
    list: async () => ({ labs, problems: [] }),
    get: async (id: string) => {
      const lab = labs.find((l) => l.id === id);
      if (!lab) throw notFound(`there is no lab called ${id}`);
      return lab;
    },
    page: async (_lab: Lab, kind: LabPageKind) => {
      cat.pageReads++;
      return FAKE_PAGES[kind];
    },
    solution: async () => FAKE_SOLUTION,
    scenarioObjects: async (): Promise<KubeObject[]> => [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np-lab' } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'backend', namespace: 'np-lab' },
        spec: {
          replicas: 2,
          template: {
            metadata: { labels: { app: 'backend' } },
            spec: { containers: [{ name: 'c', ports: [{ containerPort: 8080, name: 'http' }] }] },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db1', namespace: 'np-lab' },
        spec: { selector: { app: 'db1' }, ports: [{ port: 1111, protocol: 'TCP' }] },
      },
    ],
  };
  return cat;
}

/**
 * Passes when the learner applied a policy named np-backend that has egress rules; remembers each
 * learner's applied policies like the real simulated checker, and can be told to fail like a broken
 * cluster.
 */
export class FakeChecker implements Checker {
  applied = new Map<string, KubeObject[]>();
  checks = 0;
  resets = 0;
  failWith: 'environment' | 'crash' | undefined;
  /** Returned instead of the computed report (e.g. one with environment problems). */
  reportOverride: GradeReport | undefined;
  /** Unset: the app parses the learner's YAML itself, as with an in-process checker. */
  parse?: Checker['parse'];

  async check(req: { lab: Lab; learnerId: string; manifests?: KubeObject[] }): Promise<GradeReport> {
    this.checks++;
    // No manifests: the live cluster as it is (what this learner applied before).
    const manifests = req.manifests ?? this.applied.get(`${req.learnerId}/${req.lab.id}`) ?? [];
    if (this.failWith === 'environment')
      throw environmentError('the cluster is not answering', 'Start Docker and retry.');
    if (this.failWith === 'crash') throw new Error('secret internal detail at /srv/kubelab/x.ts:12');
    this.applied.set(`${req.learnerId}/${req.lab.id}`, manifests);
    if (this.reportOverride) return this.reportOverride;
    const good = manifests.some(
      (o) => o.metadata.name === 'np-backend' && Array.isArray((o.spec as { egress?: unknown })?.egress),
    );
    return {
      lab: req.lab.id,
      passed: good,
      status: good ? 'passed' : 'failed',
      cluster: { mode: 'simulated', description: 'fake cluster' },
      summary: good ? 'All 2 checks pass.' : '1 of 2 checks fail: allowed.',
      startedAt: '2025-01-01T00:00:00.000Z',
      durationMs: 3,
      checks: [
        {
          id: 'preflight',
          title: 'The lab environment is ready',
          kind: 'preflight',
          status: 'pass',
          messages: ['ok'],
          probes: [],
        },
        {
          id: 'allowed',
          title: 'backend reaches db1',
          kind: 'connectivity',
          status: good ? 'pass' : 'fail',
          messages: [],
          probes: [
            {
              from: 'np-lab/backend-0',
              to: 'db1.np-lab:1111/TCP',
              port: 1111,
              protocol: 'TCP',
              expected: 'open',
              actual: good ? 'allowed' : 'dns-failure',
              passed: good,
              attempts: 1,
              detail: good ? 'connected' : 'could not resolve host',
              explanation: good
                ? 'egress rule 0 of np-lab/np-backend allows it'
                : 'no egress rule allows DNS to kube-dns',
            },
          ],
        },
      ],
    };
  }

  async matrix(req: { lab: Lab; learnerId: string }): Promise<ConnectivityMatrix> {
    const applied = this.applied.get(`${req.learnerId}/${req.lab.id}`) ?? [];
    const good = applied.some((o) => o.metadata.name === 'np-backend');
    return buildMatrix(
      [
        {
          from: 'np-lab/backend-0',
          to: 'db1.np-lab:1111/TCP',
          expected: 'open',
          outcome: applied.length === 0 || good ? 'allowed' : 'dns-failure',
          explanation: 'fake explanation',
        },
      ],
      { basis: 'fake engine', before: applied.length === 0 },
    );
  }

  async reset(req: { lab: Lab; learnerId: string }): Promise<void> {
    this.resets++;
    this.applied.delete(`${req.learnerId}/${req.lab.id}`);
  }
}

export function fakeDeps(
  overrides: Partial<WebDeps> = {},
): WebDeps & { checker: FakeChecker; logs: string[] } {
  const checker = new FakeChecker();
  const logs: string[] = [];
  return {
    labs: fakeCatalogue(),
    cluster: { info: { mode: 'simulated', description: 'fake cluster', reason: 'No Docker here.' }, checker },
    store: ProgressStore.open(':memory:'),
    clock: () => new Date('2025-01-01T12:00:00Z'),
    log: (m) => void logs.push(m),
    checker,
    logs,
    ...overrides,
  };
}

export const RIGHT_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np-backend
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes: [Egress]
  egress:
  - ports:
    - port: 53
      protocol: UDP
`;

export const WRONG_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: other
  namespace: np-lab
spec:
  podSelector: {}
`;

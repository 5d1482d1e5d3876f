import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectKube, KubeCluster, loadKubeConfig } from '../../server/cluster/kube.js';
import { buildProbeArgv } from '../../server/probe/index.js';
import { fakeClock } from '../../server/cluster/poll.js';
import type { KubeObject, ProgressEvent } from '../../server/cluster/types.js';
import { KubelabError } from '../../server/errors.js';
import { startFakeApiServer, type FakeApiServer } from './helpers/fake-apiserver.js';
import { fixture } from './helpers/fake-runner.js';
import { testTempDir } from '../setup/temp-dir.js';

const policy: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'np-backend', namespace: 'np-lab' },
  spec: {
    podSelector: { matchLabels: { app: 'backend' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: 'db1' } } }], ports: [{ protocol: 'TCP', port: 1111 }] },
    ],
  },
};

const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

const pod = (name: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'np-lab', labels: { app: 'backend' } },
  spec: { containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], ...extra },
});

let api: FakeApiServer;
let cluster: KubeCluster;

beforeEach(async () => {
  api = await startFakeApiServer();
  cluster = await connectKube({
    kubeconfigYaml: api.kubeconfigYaml,
    clock: fakeClock(),
    requestTimeoutMs: 2000,
  });
});
afterEach(async () => {
  await api.close();
});

const patches = () => api.requests.filter((r) => r.method === 'PATCH');

describe('apply (server-side apply over real HTTP)', () => {
  it('sends `from` and `to` on the wire, as an apply patch owned by kubelab', async () => {
    const outcomes = await cluster.apply([policy]);
    expect(outcomes).toEqual([
      { kind: 'NetworkPolicy', namespace: 'np-lab', name: 'np-backend', action: 'created' },
    ]);
    const [req] = patches();
    expect(req!.path).toBe('/apis/networking.k8s.io/v1/namespaces/np-lab/networkpolicies/np-backend');
    expect(req!.contentType).toBe('application/apply-patch+yaml');
    expect(req!.query.get('fieldManager')).toBe('kubelab');
    expect(req!.query.get('force')).toBe('true');
    expect(req!.body).toEqual(policy);
    const body = req!.body as {
      spec: { ingress: Array<Record<string, unknown>>; egress: Array<Record<string, unknown>> };
    };
    expect(body.spec.ingress[0]).toHaveProperty('from');
    expect(body.spec.egress[0]).toHaveProperty('to');
  });

  it('TRAP, end to end: a plain object handed straight to the client reaches the server without `from`', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    await objects.patch(
      structuredClone(policy),
      undefined,
      undefined,
      'kubelab',
      true,
      PatchStrategy.ServerSideApply,
    );
    const body = patches()[0]!.body as { spec: { ingress: Array<Record<string, unknown>> } };
    expect(body.spec.ingress[0]).toEqual({}); // an ingress rule with no `from`: allows everyone
  });

  it('tells created, unchanged and configured apart', async () => {
    await cluster.apply([policy]);
    expect((await cluster.apply([policy]))[0]!.action).toBe('unchanged');
    const changed = structuredClone(policy) as KubeObject & { spec: { podSelector: unknown } };
    changed.spec.podSelector = { matchLabels: { app: 'backend', tier: 'x' } };
    expect((await cluster.apply([changed]))[0]!.action).toBe('configured');
  });

  it('applies CRDs and Namespaces first, and waits for a CRD to be established before its objects', async () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets' },
        scope: 'Namespaced',
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      },
    };
    const widget: KubeObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'np-lab' },
    };
    const events: ProgressEvent[] = [];
    await cluster.apply([widget, policy, namespace('np-lab'), crd], { onProgress: (e) => events.push(e) });
    expect(patches().map((r) => r.path)).toEqual([
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com',
      '/api/v1/namespaces/np-lab',
      '/apis/example.com/v1/namespaces/np-lab/widgets/w',
      '/apis/networking.k8s.io/v1/namespaces/np-lab/networkpolicies/np-backend',
    ]);
    const crdReads = api.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith('/customresourcedefinitions/widgets.example.com'),
    );
    expect(crdReads.length).toBeGreaterThanOrEqual(2); // the existence check, then the Established check
    expect(events.map((e) => e.detail)).toContain('NetworkPolicy np-lab/np-backend created');
  });

  it('turns a 422 into BAD_INPUT with the field path', async () => {
    api.failNext(
      'PATCH',
      '/networkpolicies/',
      422,
      JSON.parse(readJson('api-status-422-networkpolicy.json')),
    );
    await expect(cluster.apply([policy])).rejects.toMatchObject({
      code: 'BAD_INPUT',
      problems: [{ path: 'spec.egress[0].ports[0].port' }],
    });
  });

  it('a kind whose API group the cluster does not serve (CRD not installed) is BAD_INPUT, not "not found"', async () => {
    const pool = {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'IPPool',
      metadata: { name: 'pool' },
      spec: { cidr: '192.168.0.0/16' },
    } as KubeObject;
    const err = await cluster.apply([pool]).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'BAD_INPUT',
      message: expect.stringContaining('does not serve kind IPPool in apiVersion crd.projectcalico.org/v1'),
      hint: expect.stringContaining('CustomResourceDefinition'),
    });
    expect(patches()).toHaveLength(0);
  });

  it('refuses before sending anything when a field would be dropped', async () => {
    const typo = {
      ...structuredClone(policy),
      spec: { ...(policy.spec as object), podSelecter: {} },
    } as KubeObject;
    await expect(cluster.apply([typo])).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(patches()).toHaveLength(0);
  });
});

describe('reading', () => {
  it('lists NetworkPolicies in wire shape (`from`, not `_from`), though list items carry no kind', async () => {
    await cluster.apply([policy]);
    const [listed] = await cluster.list('NetworkPolicy', 'np-lab');
    expect(listed).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      spec: policy.spec,
    });
    expect(JSON.stringify(listed)).not.toContain('_from');
    expect(await cluster.list('NetworkPolicy')).toHaveLength(1);
    expect(await cluster.list('NetworkPolicy', 'other')).toHaveLength(0);
  });

  it('reads one object, or undefined when it is absent', async () => {
    api.put('/api/v1', 'pods', pod('backend-1', true));
    expect((await cluster.getObject('v1', 'Pod', 'backend-1', 'np-lab'))?.metadata.name).toBe('backend-1');
    expect(await cluster.getObject('v1', 'Pod', 'nope', 'np-lab')).toBeUndefined();
  });

  it('lists by label selector', async () => {
    api.put('/api/v1', 'pods', pod('backend-1', true));
    api.put('/api/v1', 'pods', {
      ...pod('db1-0', true),
      metadata: { name: 'db1-0', namespace: 'np-lab', labels: { app: 'db1' } },
    });
    expect((await cluster.listObjects('v1', 'Pod', 'np-lab', 'app=db1')).map((p) => p.metadata.name)).toEqual(
      ['db1-0'],
    );
  });

  it('ignores deleting what is not there', async () => {
    await expect(cluster.delete('NetworkPolicy', 'gone', 'np-lab')).resolves.toBeUndefined();
  });
});

describe('waiting', () => {
  it('waitReady polls until every pod is Ready and reports progress', async () => {
    api.put('/api/v1', 'pods', pod('backend-1', false));
    let polls = 0;
    api.onRead = (path) => {
      if (path === '/api/v1/namespaces/np-lab/pods' && ++polls === 3)
        api.put('/api/v1', 'pods', pod('backend-1', true));
    };
    const events: ProgressEvent[] = [];
    const report = await cluster.waitReady(['np-lab'], {
      timeoutMs: 60_000,
      onProgress: (e) => events.push(e),
    });
    expect(report).toEqual({ ready: true, notReady: [] });
    expect(events[0]).toMatchObject({
      step: 'waiting for pods',
      detail: expect.stringContaining('0/1 ready'),
    });
    expect(events.at(-1)!.detail).toContain('1/1 ready');
  });

  it('waitReady does not call a namespace with an unrolled Deployment ready, and says why at the deadline', async () => {
    api.put('/apis/apps/v1', 'deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'db1', namespace: 'np-lab', generation: 1 },
      spec: { replicas: 1 },
      status: { observedGeneration: 1, replicas: 0 },
    });
    api.put(
      '/api/v1',
      'pods',
      pod('db1-abc', false, {
        containerStatuses: [
          {
            name: 'agnhost',
            ready: false,
            state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "agnhost"' } },
          },
        ],
      }),
    );
    const report = await cluster.waitReady(['np-lab'], { timeoutMs: 5000 });
    expect(report.ready).toBe(false);
    expect(report.notReady).toEqual([
      'np-lab/db1-abc: ImagePullBackOff: Back-off pulling image "agnhost"',
      'Deployment np-lab/db1: 0/1 available',
    ]);
  });

  it('deleteNamespace waits until the namespace is gone', async () => {
    api.put('/api/v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np-lab' } });
    api.terminatingReads = 3;
    const events: ProgressEvent[] = [];
    await cluster.deleteNamespace('np-lab', { onProgress: (e) => events.push(e) });
    expect(await cluster.getObject('v1', 'Namespace', 'np-lab')).toBeUndefined();
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events[0]).toMatchObject({ step: 'deleting namespace np-lab', detail: 'Terminating' });
  });

  it('deleteNamespace gives up at the deadline with what to inspect', async () => {
    api.put('/api/v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'np-lab' } });
    api.terminatingReads = 1000;
    await expect(cluster.deleteNamespace('np-lab', { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      hint: expect.stringContaining('kubectl get namespace np-lab'),
    });
  });
});

describe('exec (websocket, v5.channel.k8s.io)', () => {
  beforeEach(() => {
    api.put('/api/v1', 'pods', pod('backend-1', true));
  });

  it('returns stdout, stderr and exit 0, bounding the command with `timeout` in the default container', async () => {
    api.execHandler = () => ({
      stdout: 'hello\n',
      stderr: 'note\n',
      status: JSON.parse(readJson('exec-status-success.json')),
    });
    const r = await cluster.exec(
      { namespace: 'np-lab', name: 'backend-1' },
      ['curl', '-sS', 'http://db1:1111'],
      7000,
    );
    expect(r).toEqual({ exitCode: 0, stdout: 'hello\n', stderr: 'note\n' });
    expect(api.execCalls[0]).toEqual({
      namespace: 'np-lab',
      pod: 'backend-1',
      container: 'agnhost',
      command: ['timeout', '7', 'curl', '-sS', 'http://db1:1111'],
    });
  });

  it('does not wrap a command that already bounds itself with timeout (probe/ commands do)', async () => {
    const argv = buildProbeArgv({
      kind: 'tcp',
      host: 'db1.np-lab.svc.cluster.local.',
      port: 1111,
      timeoutSeconds: 2,
    });
    await cluster.exec({ namespace: 'np-lab', name: 'backend-1' }, argv, 7000);
    expect(api.execCalls[0]!.command).toEqual(argv);
    expect(argv[0]).toBe('timeout');
  });

  it("returns the command's exit code from the ExitCode cause", async () => {
    api.execHandler = () => ({
      stderr: 'curl: (7) Failed to connect',
      status: JSON.parse(readJson('exec-status-exit-7.json')),
    });
    const r = await cluster.exec(
      { namespace: 'np-lab', name: 'backend-1', container: 'agnhost' },
      ['curl'],
      3000,
    );
    expect(r.exitCode).toBe(7);
    expect(r.stderr).toContain('Failed to connect');
  });

  it('a missing binary is an ENVIRONMENT error, never an exit code', async () => {
    api.execHandler = () => ({ status: JSON.parse(readJson('exec-status-binary-missing.json')) });
    const err = await cluster
      .exec({ namespace: 'np-lab', name: 'backend-1' }, ['curl'], 3000)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubelabError);
    expect((err as KubelabError).code).toBe('ENVIRONMENT');
    expect((err as KubelabError).message).toContain('executable file not found');
  });

  it('a command stopped by its `timeout` bound is an ENVIRONMENT error', async () => {
    api.execHandler = () => ({ status: JSON.parse(readJson('exec-status-exit-124.json')) });
    await expect(
      cluster.exec({ namespace: 'np-lab', name: 'backend-1' }, ['curl'], 7000),
    ).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('did not finish within 7s'),
    });
  });

  it('without the bound, exit 124 is just an exit code', async () => {
    const unbound = new KubeCluster(cluster.kubeConfig, { boundExecCommands: false });
    api.execHandler = () => ({ status: JSON.parse(readJson('exec-status-exit-124.json')) });
    expect(
      (await unbound.exec({ namespace: 'np-lab', name: 'backend-1' }, ['sh', '-c', 'exit 124'], 3000))
        .exitCode,
    ).toBe(124);
    expect(api.execCalls[0]!.command).toEqual(['sh', '-c', 'exit 124']);
  });

  it('a socket closed without a status is an ENVIRONMENT error', async () => {
    api.execHandler = () => ({ stdout: 'partial', closeWithoutStatus: true });
    await expect(
      cluster.exec({ namespace: 'np-lab', name: 'backend-1' }, ['curl'], 3000),
    ).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('closed without an exit status'),
    });
  });

  it('no answer at all hits the client-side deadline', async () => {
    const quick = new KubeCluster(cluster.kubeConfig, { execTransportGraceMs: 50 });
    api.execHandler = () => ({ hang: true });
    await expect(quick.exec({ namespace: 'np-lab', name: 'backend-1' }, ['curl'], 200)).rejects.toMatchObject(
      { code: 'ENVIRONMENT', message: expect.stringContaining('got no answer') },
    );
  });

  it('a pod that is gone is an ENVIRONMENT error (upgrade refused with 404)', async () => {
    api.execHandler = () => ({ httpStatus: 404 });
    await expect(
      cluster.exec({ namespace: 'np-lab', name: 'backend-1', container: 'agnhost' }, ['curl'], 3000),
    ).rejects.toMatchObject({ code: 'ENVIRONMENT', message: expect.stringContaining('does not exist') });
    await expect(cluster.exec({ namespace: 'np-lab', name: 'nope' }, ['curl'], 3000)).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('does not exist'),
    });
  });
});

describe('failures of the API server itself', () => {
  it('a 403 on list says which permission is missing', async () => {
    api.failNext('GET', '/pods', 403, JSON.parse(readJson('api-status-403-rbac.json')));
    await expect(cluster.list('Pod')).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      hint: expect.stringContaining('permission'),
    });
  });

  it('a request that never returns hits the per-request deadline', async () => {
    const quick = new KubeCluster(cluster.kubeConfig, { requestTimeoutMs: 150 });
    api.hang('GET', '/pods');
    await expect(quick.list('Pod')).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining('did not answer in time'),
    });
  });

  it('a stopped API server is "cannot reach", with the server URL', async () => {
    await api.close();
    await expect(cluster.list('Pod')).rejects.toMatchObject({
      code: 'ENVIRONMENT',
      message: expect.stringContaining(`cannot reach the Kubernetes API server at ${api.url}`),
    });
    await expect(connectKube({ kubeconfigYaml: api.kubeconfigYaml })).rejects.toMatchObject({
      code: 'ENVIRONMENT',
    });
  });
});

describe('kubeconfig', () => {
  it('connects through the current context and checks the server answers', async () => {
    expect(cluster.description).toBe(`context fake (${api.url})`);
    expect(await cluster.ping()).toBe('v1.35.0');
  });

  it("reads kind's kubeconfig output (context kind-<name>)", () => {
    const { context } = loadKubeConfig({ kubeconfigYaml: fixture('kind-kubeconfig.yaml') });
    expect(context).toBe('kind-kubelab');
  });

  it('merges KUBECONFIG files like kubectl (first file wins), and picks a context by name', () => {
    const dir = testTempDir('kubelab-kc-');
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, api.kubeconfigYaml);
    writeFileSync(b, fixture('kind-kubeconfig.yaml'));
    const merged = loadKubeConfig({ env: { KUBECONFIG: [a, join(dir, 'missing'), b].join(delimiter) } });
    expect(merged.context).toBe('fake');
    expect(merged.kc.getContexts().map((c) => c.name)).toEqual(['fake', 'kind-kubelab']);
    expect(
      loadKubeConfig({ kubeconfig: [a, b].join(delimiter), context: 'kind-kubelab' }).kc.getCurrentCluster()
        ?.server,
    ).toBe('https://127.0.0.1:41235');
  });

  it('treats an empty KUBECONFIG as unset and reads ~/.kube/config, like kubectl', () => {
    const home = testTempDir('kubelab-home-');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), fixture('kind-kubeconfig.yaml'));
    const loaded = loadKubeConfig({ env: { HOME: home, KUBECONFIG: '' } });
    expect(loaded.context).toBe('kind-kubelab');
    expect(loaded.source).toBe(join(home, '.kube', 'config'));
  });

  it('says clearly when there is no kubeconfig or no such context', () => {
    const dir = testTempDir('kubelab-kc-');
    expect(() => loadKubeConfig({ env: { HOME: dir } })).toThrow(/no kubeconfig found/);
    try {
      loadKubeConfig({ kubeconfigYaml: api.kubeconfigYaml, context: 'prod' });
      expect.unreachable();
    } catch (e) {
      expect((e as KubelabError).code).toBe('ENVIRONMENT');
      expect((e as KubelabError).hint).toContain('Known contexts: fake');
    }
  });
});

function readJson(name: string): string {
  return readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
}

/**
 * The real kubectl against `kubelab sim up`'s cluster: the np-backend "Try it" session verbatim
 * (labs/np-backend/task.md), a wrong policy and the solution applied with kubectl, and the verbs
 * a learner reaches for. Each output is checked for content, exit code and shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlSkipReason, startSim, stopSim, type StartedSim } from './support.js';

const LAB = join(import.meta.dirname, '../../../../labs/np-backend');

/** The commands of the task's "Try it" section, as written there. */
function tryItCommands(): string[][] {
  const task = readFileSync(join(LAB, 'task.md'), 'utf8');
  const section = task.slice(task.indexOf('## Try it'), task.indexOf('## Check your work'));
  return section
    .split('\n')
    .filter((l) => l.startsWith('kubectl '))
    .map((l) => l.split(/\s+/).slice(1));
}

describe.skipIf(kubectlSkipReason !== undefined)('kubectl against the simulated cluster', () => {
  let sim: StartedSim;
  const k = (args: string[], stdin?: string) => kubectl(sim.kubeconfigPath, args, stdin);

  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  it('the Try it session: everything connects before a policy exists', async () => {
    const commands = tryItCommands();
    expect(commands).toHaveLength(7);
    const [getPods, ...execs] = commands;
    const pods = await k(getPods!);
    expect(pods.code).toBe(0);
    expect(pods.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/m);
    expect(pods.stdout).toMatch(
      /^pod\/backend-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s\s+app=backend,pod-template-hash=/m,
    );
    expect(pods.stdout).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+LABELS$/m);
    expect(pods.stdout).toMatch(
      /^service\/db1\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+1111\/TCP,2222\/TCP,3333\/TCP\s+\d+s\s+app=db1$/m,
    );

    const bodies = ['db1 on 1111', 'db2 on 2222', 'db1 on 2222', 'vault on 3333', 'outside on 8080'];
    for (const [i, body] of bodies.entries()) {
      const r = await k(execs[i]!);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: body });
    }
    const lookup = await k(execs[5]!);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toMatch(
      /^Server:\t\t10\.96\.0\.10\nAddress:\t10\.96\.0\.10#53\n\nName:\tdb1\.np-lab\.svc\.cluster\.local\nAddress: 10\.\d+\.\d+\.\d+\n\n$/,
    );
  });

  it('a wrong policy (DNS forgotten) applied with kubectl: names stop resolving, with curl 28 and nslookup 1', async () => {
    const apply = await k(['apply', '-f', join(LAB, 'wrong/01-forgot-dns.yaml')]);
    expect(apply).toMatchObject({ code: 0, stdout: 'networkpolicy.networking.k8s.io/np-backend created\n' });
    const [, db1] = tryItCommands();
    const r = await k(db1!);
    expect(r.code).toBe(28);
    expect(r.stderr).toBe(
      'curl: (28) Resolving timed out after 2001 milliseconds\ncommand terminated with exit code 28\n',
    );
    const ns = await k(['-n', 'np-lab', 'exec', 'deploy/backend', '--', 'nslookup', 'db1']);
    expect(ns.code).toBe(1);
    expect(ns.stdout).toContain('no servers could be reached');
  });

  it('the solution applied with kubectl: db1:1111 and db2:2222 connect, the rest times out', async () => {
    const apply = await k(['apply', '-f', join(LAB, 'solution.yaml')]);
    expect(apply).toMatchObject({
      code: 0,
      stdout: 'networkpolicy.networking.k8s.io/np-backend configured\n',
    });
    const again = await k(['apply', '-f', join(LAB, 'solution.yaml')]);
    expect(again.stdout).toBe('networkpolicy.networking.k8s.io/np-backend unchanged\n');
    const [, db1, db2, db1Wrong, vault, outside] = tryItCommands();
    expect(await k(db1!)).toMatchObject({ code: 0, stdout: 'db1 on 1111' });
    expect(await k(db2!)).toMatchObject({ code: 0, stdout: 'db2 on 2222' });
    for (const cmd of [db1Wrong, vault, outside]) {
      const r = await k(cmd!);
      expect(r.code).toBe(28);
      expect(r.stderr).toMatch(
        /^curl: \(28\) Connection timed out after 2001 milliseconds\ncommand terminated with exit code 28\n$/,
      );
    }
    const policy = await k(['-n', 'np-lab', 'get', 'networkpolicy', 'np-backend', '-o', 'json']);
    const obj = JSON.parse(policy.stdout) as {
      metadata: { annotations: Record<string, string> };
      spec: { egress: unknown[] };
    };
    expect(obj.spec.egress).toHaveLength(3);
    expect(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain(
      '"np-backend"',
    );
  });

  it('get: -o wide, name, yaml, -l, -A and a table per kind', async () => {
    const wide = await k(['-n', 'np-lab', 'get', 'pods', '-o', 'wide', '-l', 'app=db1']);
    expect(wide.code).toBe(0);
    const lines = wide.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^db1-\S+\s+1\/1\s+Running\s+0\s+\S+\s+192\.168\.\d+\.\d+\s+kubelab-worker\d?\s+<none>\s+<none>$/,
    );

    const names = await k(['-n', 'np-lab', 'get', 'deploy', '-o', 'name']);
    expect(names.stdout).toBe(
      ['backend', 'db1', 'db2', 'dns-cache', 'vault'].map((n) => `deployment.apps/${n}\n`).join(''),
    );
    const yaml = await k(['-n', 'np-lab', 'get', 'svc', 'db1', '-o', 'yaml']);
    expect(yaml.stdout).toMatch(/^apiVersion: v1\nkind: Service\nmetadata:\n/);
    expect(yaml.stdout).toMatch(/clusterIP: 10\./);

    const all = await k(['get', 'netpol', '-A']);
    expect(all.stdout).toMatch(
      /^NAMESPACE\s+NAME\s+POD-SELECTOR\s+AGE\nnp-lab\s+np-backend\s+app=backend\s+\S+\n$/,
    );
    const deploys = await k(['-n', 'np-lab', 'get', 'deployments']);
    expect(deploys.stdout).toMatch(/^backend\s+2\/2\s+2\s+2\s+\S+$/m);
    const none = await k(['-n', 'np-lab', 'get', 'pods', '-l', 'app=nothing']);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No resources found in np-lab namespace.\n' });
  });

  it('errors come back as the API server words them', async () => {
    const missing = await k(['-n', 'np-lab', 'get', 'pod', 'nope']);
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'Error from server (NotFound): pods "nope" not found\n',
    });
    const invalid = await k(
      ['apply', '-f', '-'],
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: np-lab}\nspec:\n  podSelector: {}\n  egress:\n  - ports:\n    - port: 70000\n',
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /The NetworkPolicy "bad" is invalid: spec\.egress\[0\]\.ports\[0\]\.port: Invalid value: 70000/,
    );
    const unknownKind = await k(['get', 'widgets']);
    expect(unknownKind.code).toBe(1);
    expect(unknownKind.stderr).toContain(`the server doesn't have a resource type "widgets"`);
    const shell = await k(['-n', 'np-lab', 'exec', 'deploy/backend', '--', 'ls', '/']);
    expect(shell.code).toBe(1);
    expect(shell.stderr).toMatch(/does not run `ls \/`.*curl, wget, nc, nslookup and dig/);
  });

  it('server-side apply, create, delete and dry runs', async () => {
    const cm =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: np-lab}\ndata: {a: "1"}\n';
    const ssa = await k(['apply', '--server-side', '-f', '-'], cm);
    expect(ssa).toMatchObject({ code: 0, stdout: 'configmap/settings serverside-applied\n' });
    const dup = await k(['create', '-f', '-'], cm);
    expect(dup).toMatchObject({
      code: 1,
      stderr:
        'Error from server (AlreadyExists): error when creating "STDIN": configmaps "settings" already exists\n',
    });
    const dry = await k(['-n', 'np-lab', 'delete', 'configmap', 'settings', '--dry-run=server']);
    expect(dry.stdout).toBe('configmap "settings" deleted (server dry run)\n');
    const del = await k(['-n', 'np-lab', 'delete', 'configmap', 'settings']);
    expect(del).toMatchObject({ code: 0, stdout: 'configmap "settings" deleted\n' });
    const gone = await k(['-n', 'np-lab', 'get', 'configmap', 'settings']);
    expect(gone.code).toBe(1);
    const gen = await k([
      '-n',
      'np-lab',
      'create',
      'deployment',
      'web',
      '--image=registry.k8s.io/e2e-test-images/agnhost:2.53',
      '--dry-run=client',
      '-o',
      'yaml',
    ]);
    expect(gen.stdout).toMatch(
      /kind: Deployment\nmetadata:\n {2}creationTimestamp: null\n {2}labels:\n {4}app: web\n {2}name: web\n {2}namespace: np-lab/,
    );
  });

  it('scale and label change the cluster the way the controllers would', async () => {
    const scale = await k(['-n', 'np-lab', 'scale', 'deploy/backend', '--replicas=3']);
    expect(scale).toMatchObject({ code: 0, stdout: 'deployment.apps/backend scaled\n' });
    const pods = await k(['-n', 'np-lab', 'get', 'pods', '-l', 'app=backend', '-o', 'name']);
    expect(pods.stdout.trim().split('\n')).toHaveLength(3);
    const label = await k(['-n', 'np-lab', 'label', 'svc', 'db1', 'tier=data']);
    expect(label).toMatchObject({ code: 0, stdout: 'service/db1 labeled\n' });
    const shown = await k(['-n', 'np-lab', 'get', 'svc', '-l', 'tier=data', '-o', 'name']);
    expect(shown.stdout).toBe('service/db1\n');
    await k(['-n', 'np-lab', 'scale', 'deploy/backend', '--replicas=2']);
  });
});

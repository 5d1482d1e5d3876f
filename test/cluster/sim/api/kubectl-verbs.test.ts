/**
 * The rest of the verbs a learner types, driven through the real kubectl against `kubelab sim
 * up`'s cluster: describe, logs, auth can-i, rollout status, wait, expose, run, annotate,
 * set image, edit, replace with a stale resourceVersion, and get -w. Each checked for content,
 * exit code and shape as a real cluster prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectl, kubectlSkipReason, startSim, stopSim, type StartedSim } from './support.js';
import { testTempDir } from '../../../setup/temp-dir.js';

const LAB = join(import.meta.dirname, '../../../../labs/np-backend');

describe.skipIf(kubectlSkipReason !== undefined)('kubectl verbs against the simulated cluster', () => {
  let sim: StartedSim;
  const k = (args: string[], stdin?: string, env?: Record<string, string>) =>
    kubectl(sim.kubeconfigPath, ['-n', 'np-lab', ...args], stdin, env);

  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(async () => {
    await stopSim(sim);
  });

  it('describe: pods, services (endpoints from EndpointSlices), endpoints, deployments, networkpolicies, namespaces', async () => {
    const pod = await k(['describe', 'pod', '-l', 'app=db1']);
    expect(pod.code).toBe(0);
    expect(pod.stdout).toMatch(/^Name:\s+db1-[a-z0-9]+-[a-z0-9]{5}\nNamespace:\s+np-lab\n/);
    expect(pod.stdout).toMatch(/^Status:\s+Running$/m);
    expect(pod.stdout).toMatch(/^IP:\s+192\.168\.\d+\.\d+$/m);
    expect(pod.stdout).toMatch(
      /^ {4}Readiness:\s+tcp-socket :1111 delay=0s timeout=1s period=2s #success=1 #failure=3$/m,
    );
    expect(pod.stdout).toMatch(/^QoS Class:\s+Burstable$/m);

    const svc = await k(['describe', 'svc', 'db1']);
    expect(svc.stdout).toMatch(/^Selector:\s+app=db1$/m);
    expect(svc.stdout).toMatch(/^Endpoints:\s+192\.168\.\d+\.\d+:1111$/m);
    expect(svc.stdout).toMatch(/^Endpoints:\s+192\.168\.\d+\.\d+:3333$/m);

    const ep = await k(['describe', 'endpoints', 'db1']);
    expect(ep.stdout).toMatch(/^ {2}Addresses:\s+192\.168\.\d+\.\d+$/m);

    const deploy = await k(['describe', 'deploy', 'backend']);
    expect(deploy.stdout).toMatch(
      /^Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$/m,
    );
    expect(deploy.stdout).toMatch(/^StrategyType:\s+RollingUpdate$/m);
    expect(deploy.stdout).toMatch(/^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    expect(deploy.stdout).toMatch(/^NewReplicaSet:\s+backend-[a-z0-9]+ \(2\/2 replicas created\)$/m);

    await k(['apply', '-f', join(LAB, 'solution.yaml')]);
    const np = await k(['describe', 'netpol', 'np-backend']);
    expect(np.stdout).toMatch(
      /^Spec:\n {2}PodSelector:\s+app=backend\n {2}Not affecting ingress traffic\n {2}Allowing egress traffic:\n {4}To Port: 1111\/TCP\n/m,
    );
    expect(np.stdout).toMatch(/^ {2}Policy Types: Egress$/m);

    const ns = await kubectl(sim.kubeconfigPath, ['describe', 'ns', 'np-lab']);
    expect(ns.stdout).toMatch(/^Name:\s+np-lab\nLabels:\s+kubernetes\.io\/metadata\.name=np-lab\n/);
    expect(ns.stdout).toMatch(/^Status:\s+Active$/m);
    await k(['delete', 'netpol', 'np-backend']);
  });

  it('logs: agnhost porter prints nothing; a program whose output is not modelled is refused, not made up', async () => {
    expect(await k(['logs', 'deploy/db1'])).toMatchObject({ code: 0, stdout: '' });
    const other = await k(['logs', 'deploy/backend']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /Error from server \(NotFound\): the simulated cluster \(kubelab\) does not support the log of container backend/,
    );
  });

  it('auth can-i: the kubeconfig is the cluster admin (system:masters), allowed everything', async () => {
    expect(await k(['auth', 'can-i', 'create', 'pods'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await k(['auth', 'can-i', 'delete', 'networkpolicies', '-n', 'kube-system'])).toMatchObject({
      code: 0,
      stdout: 'yes\n',
    });
    const list = await k(['auth', 'can-i', '--list']);
    expect(list.stdout).toMatch(
      /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n\*\.\*\s+\[\]\s+\[\]\s+\[\*\]\n/,
    );
  });

  it('rollout status and wait --for=condition=Ready return as soon as the simulation is settled', async () => {
    expect(await k(['rollout', 'status', 'deploy/backend', '--timeout=10s'])).toMatchObject({
      code: 0,
      stdout: 'deployment "backend" successfully rolled out\n',
    });
    const wait = await k(['wait', '--for=condition=Ready', 'pod', '-l', 'app=db1', '--timeout=10s']);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toMatch(/^pod\/db1-[a-z0-9]+-[a-z0-9]{5} condition met\n$/);
  });

  it('run, expose, annotate and set image change the cluster as the controllers would', async () => {
    const run = await k([
      'run',
      'probe',
      '--image=registry.k8s.io/e2e-test-images/agnhost:2.53',
      '--labels=app=probe',
      '--',
      'porter',
    ]);
    expect(run).toMatchObject({ code: 0, stdout: 'pod/probe created\n' });
    const expose = await k(['expose', 'pod', 'probe', '--port=80', '--target-port=8080', '--name=probe']);
    expect(expose).toMatchObject({ code: 0, stdout: 'service/probe exposed\n' });
    const svc = await k(['get', 'svc', 'probe']);
    expect(svc.stdout).toMatch(/^probe\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\S+$/m);
    expect(await k(['annotate', 'svc', 'probe', 'owner=me'])).toMatchObject({
      code: 0,
      stdout: 'service/probe annotated\n',
    });
    const annotated = await k(['get', 'svc', 'probe', '-o', 'jsonpath={.metadata.annotations.owner}']);
    expect(annotated.stdout).toBe('me');

    const before = (await k(['get', 'pods', '-l', 'app=db2', '-o', 'name'])).stdout;
    const set = await k(['set', 'image', 'deploy/db2', 'db2=registry.k8s.io/e2e-test-images/agnhost:2.54']);
    expect(set).toMatchObject({ code: 0, stdout: 'deployment.apps/db2 image updated\n' });
    const after = await k([
      'get',
      'pods',
      '-l',
      'app=db2',
      '-o',
      'jsonpath={.items[*].spec.containers[0].image}',
    ]);
    expect(after.stdout).toBe('registry.k8s.io/e2e-test-images/agnhost:2.54');
    expect((await k(['get', 'pods', '-l', 'app=db2', '-o', 'name'])).stdout).not.toBe(before);
    expect(await k(['rollout', 'status', 'deploy/db2', '--timeout=10s'])).toMatchObject({ code: 0 });
    await k(['delete', 'svc', 'probe']);
    await k(['delete', 'pod', 'probe']);
  });

  it('edit goes through $KUBE_EDITOR; a write with a stale resourceVersion is a Conflict', async () => {
    const dir = testTempDir('kubelab-edit-');
    const editor = join(dir, 'editor.sh');
    writeFileSync(
      editor,
      `#!/bin/sh\nsed -i 's/^  name: db1$/  name: db1\\n  annotations:\\n    edited: "yes"/' "$1"\n`,
    );
    chmodSync(editor, 0o755);
    const edit = await k(['edit', 'svc', 'db1'], undefined, { KUBE_EDITOR: editor });
    expect(edit).toMatchObject({ code: 0, stdout: 'service/db1 edited\n' });
    expect((await k(['get', 'svc', 'db1', '-o', 'jsonpath={.metadata.annotations.edited}'])).stdout).toBe(
      'yes',
    );

    const stale = (await k(['get', 'svc', 'db2', '-o', 'yaml'])).stdout;
    await k(['label', 'svc', 'db2', 'moved=on']);
    const replace = await k(['replace', '-f', '-'], stale);
    expect(replace.code).toBe(1);
    expect(replace.stderr).toBe(
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on services "db2": the object has been modified; please apply your changes to the latest version and try again\n',
    );
  });

  it('get -w prints the table, then a row per change', async () => {
    const child = spawn('kubectl', ['-n', 'np-lab', 'get', 'deploy', 'backend', '-w'], {
      env: { ...process.env, KUBECONFIG: sim.kubeconfigPath, HOME: sim.dir },
    });
    let out = '';
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not seen ${re}: ${out}`)), 15_000);
        const test = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(test, 50);
        };
        test();
      });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await seen(/^backend\s+2\/2\s+2\s+2\s+\S+\n/m);
      expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
      await k(['scale', 'deploy/backend', '--replicas=3']);
      await seen(/^backend\s+3\/3\s+3\s+3\s+\S+\n/m);
    } finally {
      child.kill();
      await k(['scale', 'deploy/backend', '--replicas=2']);
    }
  });

  it('what is not served is said plainly: a Status 405 (status is the controllers’), 404 for port-forward', async () => {
    const status = await k([
      'patch',
      'deploy',
      'backend',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"replicas":5}}',
    ]);
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(
      "Error from server (MethodNotAllowed): the simulated cluster (kubelab) does not support writing deployments/status: the simulation's controllers own it\n",
    );
    const pods = (await k(['get', 'pods', '-l', 'app=db1', '-o', 'name'])).stdout.trim();
    const forward = await k(['port-forward', pods, '18080:1111']);
    expect(forward.code).toBe(1);
    expect(forward.stderr).toMatch(/error: /);
  });
});

/**
 * The real wiring: labs/np-backend, the grader and the simulated cluster behind the HTTP API, and
 * how `auto` mode decides between a real and a simulated cluster (with a scripted Runner).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Cluster } from '../../server/cluster/types.js';
import { KubelabError } from '../../server/errors.js';
import type { RunResult, Runner } from '../../server/cluster/runner.js';
import { loadLab } from '../../server/labs/index.js';
import type { Lab } from '../../server/labs/model.js';
import { createApp } from '../../server/web/app.js';
import { createDefaultWebDeps, defaultWorkerCount, type DefaultWebDeps } from '../../server/web/wiring.js';

let deps: DefaultWebDeps;
let app: ReturnType<typeof createApp>;
let lab: Lab;

beforeAll(async () => {
  deps = await createDefaultWebDeps({ mode: 'simulated', dbPath: ':memory:', simulatedWorkers: 0 });
  app = createApp(deps);
  lab = await loadLab('np-backend');
});

afterAll(() => deps.close());

const read = (file: string) => readFile(join(lab.dir, file), 'utf8');

describe('the real np-backend lab over HTTP (simulated cluster)', () => {
  it('answers an unknown lab with 404 without showing server paths', async () => {
    const res = await request(app).get('/labs/no-such-lab').expect(404);
    expect(res.text).toContain('there is no lab called &#34;no-such-lab&#34;');
    expect(res.text).not.toContain('lab.yaml');
  });

  it('is in the catalogue and its page renders', async () => {
    const list = await request(app).get('/api/labs').expect(200);
    expect(list.body.labs.map((l: { id: string }) => l.id)).toContain('np-backend');
    const page = await request(app).get('/labs/np-backend').expect(200);
    expect(page.text).toContain(lab.title);
    expect(page.text).toContain('namespace</span> np-lab');
    expect(page.text).toContain('Simulated cluster');
    const cluster = await request(app).get('/cluster').expect(200);
    expect(cluster.text).toContain('You chose the simulated cluster.');
  });

  it('the matrix starts all open and matches the lab after the reference solution', async () => {
    const agent = request.agent(app);
    const before = await agent.get('/api/labs/np-backend/matrix').expect(200);
    expect(before.body.before).toBe(true);
    const outcomes = (before.body.cells as Array<Array<{ outcome: string } | null>>)
      .flat()
      .filter((c) => c !== null);
    expect(outcomes.length).toBeGreaterThan(4);
    expect(new Set(outcomes.map((c) => c!.outcome))).toEqual(new Set(['allowed']));

    const report = await agent
      .post('/api/labs/np-backend/check')
      .send({ manifests: await read('solution.yaml') })
      .expect(200);
    expect(report.body.passed).toBe(true);
    expect(report.body.cluster.mode).toBe('simulated');
    const after = await agent.get('/api/labs/np-backend/matrix').expect(200);
    expect(after.body.before).toBe(false);
    const cells = (after.body.cells as Array<Array<{ ok: boolean } | null>>).flat().filter((c) => c !== null);
    expect(cells.every((c) => c!.ok)).toBe(true);
  });

  it('the page draws sources down the side and destinations across, named as `netpol matrix` names them', async () => {
    const page = await request(app).get('/labs/np-backend').expect(200);
    const table = /<table class="matrix">([\s\S]*?)<\/table>/.exec(page.text)![1]!;
    const text = (html: string) => html.replace(/<[^>]*>/g, '').trim();
    const rows = [...table.matchAll(/<th scope="row"[^>]*>([\s\S]*?)<\/th>/g)].map((m) => text(m[1]!));
    const cols = [...table.matchAll(/<th scope="col">([\s\S]*?)<\/th>/g)].map((m) => text(m[1]!)).slice(1);
    // The rows of `kubelab netpol matrix scenarios/np-backend` are np-lab/backend-0 ... np-outside/outside-0.
    expect(rows).toEqual(['np-lab/backend-0', 'np-lab/backend-1', 'np-lab/vault-0', 'np-outside/outside-0']);
    expect(table).toContain('From \\ to');
    expect(page.text).toContain('Rows are sources, columns destinations');
    expect(cols).toContain('db1.np-lab:2222/TCP');
    expect(new Set(cols).size).toBe(cols.length);
    expect(cols.join(' ')).not.toContain('ClusterIP');
    // No generated pod hash in what the matrix shows (the row's tooltip keeps the real pod name).
    expect(table.replace(/ title="[^"]*"/g, '')).not.toMatch(/-[a-z0-9]{10}-[a-z0-9]{5}\b/);
  });

  it('fails every known-wrong attempt with explanations, and a later right answer replaces it', async () => {
    const agent = request.agent(app);
    for (const wrong of lab.knownWrong) {
      const res = await agent
        .post('/api/labs/np-backend/check')
        .send({ manifests: await read(wrong.file) })
        .expect(200);
      expect(res.body.passed, wrong.file).toBe(false);
      expect(res.body.status, wrong.file).toBe('failed');
      const failing = (res.body.checks as Array<{ id: string; status: string }>).filter(
        (c) => c.status === 'fail',
      );
      expect(
        failing.map((c) => c.id),
        wrong.file,
      ).toContain(wrong.failsCheck);
    }
    const right = await agent
      .post('/api/labs/np-backend/check')
      .send({ manifests: await read('solution.yaml') })
      .expect(200);
    expect(right.body.passed).toBe(true);
  });

  it('a policy the cluster rejects is a 400, and reset brings back the scenario', async () => {
    const agent = request.agent(app);
    const bad = await agent
      .post('/api/labs/np-backend/check')
      .send({
        manifests:
          'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\nspec:\n  podSelector: {}\n  policyTypes: [Sideways]\n',
      })
      .expect(400);
    expect(bad.body.error.code).toBe('BAD_INPUT');
    await agent
      .post('/api/labs/np-backend/check')
      .send({ manifests: await read('solution.yaml') })
      .expect(200);
    await agent.post('/api/labs/np-backend/reset').expect(200);
    const m = await agent.get('/api/labs/np-backend/matrix').expect(200);
    expect(m.body.before).toBe(true);
  });
});

function result(argv: string[], over: Partial<RunResult>): RunResult {
  return { argv, exitCode: 0, stdout: '', stderr: '', notFound: false, timedOut: false, ...over };
}

/** Answers docker/kind commands from a table; anything else is "not found". */
function scriptedRunner(answers: Record<string, Partial<RunResult>>): Runner {
  return {
    run: async (argv) => {
      const key = Object.keys(answers).find((k) => argv.join(' ').startsWith(k));
      return result(argv, key ? answers[key]! : { notFound: true, exitCode: undefined });
    },
  };
}

describe('grading workers by default', () => {
  it('leave a core to the HTTP thread: at least one worker, at most four', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultWorkerCount(cores))).toEqual([1, 1, 2, 3, 4, 4]);
  });
});

describe('auto mode', () => {
  it('falls back to the simulated cluster when Docker is not running, and says why', async () => {
    const d = await createDefaultWebDeps({
      dbPath: ':memory:',
      simulatedWorkers: 0, // what these tests look at is decided before any grading worker starts
      runner: scriptedRunner({
        'docker info': {
          exitCode: 1,
          stderr:
            'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
        },
      }),
    });
    expect(d.cluster.info.mode).toBe('simulated');
    // In words for the banner; Docker's own message (with its socket path) is the detail.
    expect(d.cluster.info.reason).toBe('No real cluster: Docker is not running.');
    expect(d.cluster.info.detail).toContain('Is the docker daemon running?');
    expect(d.provision).toBeUndefined();
    expect(d.provisionUnavailable).toMatch(/^Install and start Docker and kind/);
    const app = createApp(d);
    const lab = await request(app).get('/labs/np-backend').expect(200);
    expect(lab.text).not.toContain('docker.sock');
    const cluster = await request(app).get('/cluster').expect(200);
    expect(cluster.text).toContain('No real cluster: Docker is not running.');
    expect(cluster.text).toContain('Is the docker daemon running?');
    expect(cluster.text).toContain('the simulated cluster, inside kubelab');
    expect(cluster.text).not.toContain('(in-process) (simulated)');
    await d.close();
  });

  it('says so when kind is missing', async () => {
    const d = await createDefaultWebDeps({
      dbPath: ':memory:',
      simulatedWorkers: 0, // what these tests look at is decided before any grading worker starts
      runner: scriptedRunner({ 'docker info': { stdout: '27.3.1\n' } }),
    });
    expect(d.cluster.info.reason).toContain('kind is not installed');
    await d.close();
  });

  it('offers to provision when Docker and kind are there but the cluster is not', async () => {
    const provisioned: string[] = [];
    const d = await createDefaultWebDeps({
      dbPath: ':memory:',
      simulatedWorkers: 0, // what these tests look at is decided before any grading worker starts
      runner: scriptedRunner({
        'docker info': { stdout: '27.3.1\n' },
        'kind version': { stdout: 'kind v0.31.0 go1.25.5 linux/amd64\n' },
        'kind get clusters': { stderr: 'No kind clusters found.\n' },
      }),
      provisionRealCluster: async (onProgress) => {
        onProgress({ step: 'creating', elapsedMs: 1 });
        provisioned.push('yes');
        return { mode: 'kube', description: 'context kind-kubelab' } as unknown as Cluster;
      },
    });
    expect(d.cluster.info.mode).toBe('simulated');
    expect(d.cluster.info.reason).toContain('the kubelab kind cluster is not running');
    const steps: string[] = [];
    const active = await d.provision!((e) => steps.push(e.step));
    expect(active.info).toEqual({ mode: 'kube', description: 'context kind-kubelab' });
    expect(steps).toEqual(['creating']);
    expect(provisioned).toEqual(['yes']);
    await d.close();
  });

  it('by default provisions with `cluster up`, whose failures come back as environment errors', async () => {
    const d = await createDefaultWebDeps({
      dbPath: ':memory:',
      simulatedWorkers: 0, // what these tests look at is decided before any grading worker starts
      runner: scriptedRunner({
        'docker info': { stdout: '27.3.1\n' },
        'kind version': { stdout: 'kind v0.31.0 go1.25.5 linux/amd64\n' },
        'kind get clusters': { stdout: '\n' },
        'kind create cluster': {
          exitCode: 1,
          stderr: 'ERROR: failed to create cluster: no space left on device\n',
        },
      }),
    });
    expect(d.provision).toBeDefined();
    const steps: string[] = [];
    const error = await d.provision!((e) => steps.push(e.step)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubelabError);
    expect((error as KubelabError).code).toBe('ENVIRONMENT');
    expect(steps).toContain('Docker');
    await d.close();
  });

  it('uses a cluster the learner names (KUBELAB_CONTEXT) when it answers', async () => {
    const opened: string[] = [];
    const d = await createDefaultWebDeps({
      dbPath: ':memory:',
      env: { KUBELAB_CONTEXT: 'my-cluster' },
      runner: scriptedRunner({}),
      provisionDeps: {
        openKube: async (o) => {
          opened.push(o.context ?? '');
          return { mode: 'kube', description: `context ${o.context}` } as never;
        },
      },
    });
    expect(d.cluster.info).toEqual({ mode: 'kube', description: 'context my-cluster' });
    expect(opened).toEqual(['my-cluster', 'my-cluster']);
    expect(d.provision).toBeUndefined();
    await d.close();
  });
});

describe('the lab catalogue while the server runs', () => {
  it('lists a lab added after the first request, and forgets a removed one', async () => {
    const { cp, mkdtemp, readFile: read, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { labCatalogue } = await import('../../server/web/wiring.js');
    const root = await mkdtemp(join(tmpdir(), 'kubelab-catalogue-'));
    try {
      await cp('test/fixtures/labs/scenarios', join(root, 'scenarios'), { recursive: true });
      await cp('test/fixtures/labs/labs/good', join(root, 'labs', 'good'), { recursive: true });
      const catalogue = labCatalogue(join(root, 'labs'), { recheckMs: 0 });
      expect((await catalogue.list()).labs.map((l) => l.id)).toEqual(['good']);

      await cp(join(root, 'labs', 'good'), join(root, 'labs', 'newer'), { recursive: true });
      const yaml = join(root, 'labs', 'newer', 'lab.yaml');
      await writeFile(yaml, (await read(yaml, 'utf8')).replace(/^id: good$/m, 'id: newer'));
      expect((await catalogue.list()).labs.map((l) => l.id)).toEqual(['good', 'newer']);
      expect((await catalogue.get('newer')).id).toBe('newer');

      await rm(join(root, 'labs', 'good'), { recursive: true });
      expect((await catalogue.list()).labs.map((l) => l.id)).toEqual(['newer']);
      await expect(catalogue.get('good')).rejects.toThrow('there is no lab called "good"');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

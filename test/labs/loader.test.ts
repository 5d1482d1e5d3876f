import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  catalogRoots,
  labsRoot,
  listLabs,
  loadLab,
  loadScenario,
  readLabPage,
  readManifestFile,
  readScenarioObjects,
  scenariosRoot,
  validateAll,
  validateLabDir,
} from '../../server/labs/index.js';
import { KubelabError, type Problem } from '../../server/errors.js';
import { PROBE_IMAGE } from '../../server/probe/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/labs/', import.meta.url));
const FIXTURE_LABS = join(FIXTURES, 'labs');

async function problemsOf(promise: Promise<unknown>): Promise<KubelabError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof KubelabError) return e;
    throw e;
  }
  throw new Error('expected a KubelabError');
}

/** The problems of one fixture lab, with paths relative to the fixture folder. */
async function fixtureProblems(id: string): Promise<Problem[]> {
  const result = await validateLabDir(join(FIXTURE_LABS, id));
  return result.problems.map((p) => ({ ...p, file: p.file?.replace(FIXTURES, '') }));
}

describe('the np-backend lab', () => {
  it('loads and validates with no problems', async () => {
    const lab = await loadLab('np-backend');
    expect(lab).toMatchObject({
      id: 'np-backend',
      difficulty: 'intermediate',
      scenario: 'np-backend',
      namespace: 'np-lab',
      tags: ['CKA', 'CKS', 'NetworkPolicy'],
    });
    expect(lab.checks.map((c) => c.id)).toEqual([
      'policy-exists',
      'backend-dns',
      'backend-reaches-databases',
      'backend-blocked-elsewhere',
      'dns-only-to-cluster-dns',
      'others-unaffected',
      'outside-unaffected',
      'backend-egress-exactly',
      'nothing-else-changes',
    ]);
    expect(lab.files.solution).toBe(join(labsRoot(), 'np-backend', 'solution.yaml'));
    expect(lab.knownWrong.length).toBeGreaterThanOrEqual(11);
    expect(lab.hints.length).toBeGreaterThanOrEqual(3);
  });

  it('fills defaults: pod-set namespaces, policy namespace, target protocol', async () => {
    const lab = await loadLab('np-backend');
    const policy = lab.checks.find((c) => c.id === 'policy-exists');
    expect(policy).toMatchObject({ kind: 'policy', namespace: 'np-lab', name: 'np-backend', policyTypes: ['Egress'] });
    const reach = lab.checks.find((c) => c.id === 'backend-reaches-databases');
    expect(reach).toEqual({
      kind: 'connectivity',
      id: 'backend-reaches-databases',
      title: expect.any(String),
      from: { namespace: 'np-lab', podSelector: { matchLabels: { app: 'backend' } } },
      expect: 'open',
      to: [
        { service: 'db1', ports: [1111], protocol: 'TCP' },
        { service: 'db2', ports: [2222], protocol: 'TCP' },
      ],
    });
    const outside = lab.checks.find((c) => c.id === 'outside-unaffected');
    expect(outside).toMatchObject({ from: { namespace: 'np-outside' } });
  });

  it('has its pages, written without mojibake', async () => {
    const lab = await loadLab('np-backend');
    for (const page of ['task', 'concept', 'completion'] as const) {
      const text = await readLabPage(lab, page);
      expect(text).toMatch(/^# /);
      // UTF-8 read as Latin-1 leaves these behind (the seed pages were full of them).
      expect(text).not.toMatch(/[ÃÂâð][\u0080-\u00ff]/);
    }
    expect(await readLabPage(lab, 'task')).toContain('np-backend');
  });

  it('is the whole repository catalogue, which validates clean', async () => {
    const result = await validateAll();
    expect(result.problems).toEqual([]);
    expect(result.labs.map((l) => l.id)).toContain('np-backend');
    expect((await listLabs()).map((l) => l.id)).toEqual(result.labs.map((l) => l.id));
  });
});

describe('the np-backend scenario', () => {
  it('loads with its namespaces and every manifest in name order', async () => {
    const scenario = await loadScenario('np-backend');
    expect(scenario.namespaces).toEqual(['np-lab', 'np-outside']);
    expect(scenario.externalHosts).toEqual([]);
    expect(scenario.dir).toBe(join(scenariosRoot(), 'np-backend'));
    expect(scenario.manifests.map((m) => m.slice(scenario.dir.length + 1))).toEqual([
      '00-namespaces.yaml',
      '10-backend.yaml',
      '20-db1.yaml',
      '21-db2.yaml',
      '22-vault.yaml',
      '30-dns-cache.yaml',
      '40-outside.yaml',
    ]);
  });

  it('holds the contract: workloads, labels, ports, Services', async () => {
    const objects = await readScenarioObjects(await loadScenario('np-backend'));
    expect(objects.slice(0, 2).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/np-lab', 'Namespace/np-outside']);
    const deployments = objects.filter((o) => o.kind === 'Deployment');
    const byName = new Map(deployments.map((d) => [d.metadata.name, d]));
    type Spec = {
      replicas: number;
      template: {
        metadata: { labels: Record<string, string> };
        spec: { containers: Array<{ image: string; imagePullPolicy: string; args: string[]; ports: Array<{ containerPort: number }>; resources: unknown }> };
      };
    };
    const spec = (name: string) => byName.get(name)!.spec as Spec;
    expect(spec('backend').replicas).toBe(2);
    for (const db of ['db1', 'db2', 'vault']) {
      const c = spec(db).template.spec.containers[0]!;
      expect(spec(db).template.metadata.labels).toEqual({ app: db });
      expect(c.args).toEqual(['porter']);
      expect(c.ports.map((p) => p.containerPort)).toEqual([1111, 2222, 3333]);
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === db)!;
      expect((svc.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port)).toEqual([1111, 2222, 3333]);
    }
    for (const d of deployments) {
      const c = (d.spec as Spec).template.spec.containers[0]!;
      expect(c.image).toBe(PROBE_IMAGE);
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(c.resources).toBeDefined();
    }
    expect(byName.get('outside')!.metadata.namespace).toBe('np-outside');
  });
});

describe('catalogue API', () => {
  it('refuses ids that could leave the labs folder, before touching the disk', async () => {
    for (const id of ['../x', '..', 'a/b', '/etc', 'Np-Backend', '', '-x']) {
      const err = await problemsOf(loadLab(id));
      expect(err.code, id).toBe('BAD_INPUT');
      expect(err.message).toContain('not a valid lab id');
    }
    expect((await problemsOf(loadScenario('../np-backend'))).code).toBe('BAD_INPUT');
  });

  it('answers NOT_FOUND for a lab or scenario that does not exist', async () => {
    const err = await problemsOf(loadLab('no-such-lab'));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.hint).toContain('kubelab lab list');
    expect((await problemsOf(loadScenario('no-such-scenario'))).code).toBe('NOT_FOUND');
  });

  it('resolves roots: default, a labs folder (scenarios next to it), or both explicitly', () => {
    expect(catalogRoots()).toEqual({ labs: labsRoot(), scenarios: scenariosRoot() });
    expect(catalogRoots(FIXTURE_LABS)).toEqual({ labs: FIXTURE_LABS, scenarios: join(FIXTURES, 'scenarios') });
    expect(catalogRoots({ scenarios: '/s' })).toEqual({ labs: labsRoot(), scenarios: '/s' });
  });

  it('loads a fixture lab from another root, with ip, pods and named-port targets', async () => {
    const lab = await loadLab('good', FIXTURE_LABS);
    expect(lab.dir).toBe(join(FIXTURE_LABS, 'good'));
    const blocked = lab.checks.find((c) => c.id === 'client-blocked');
    expect(blocked).toMatchObject({
      to: [
        { service: 'server', ports: [80] },
        { pods: { namespace: 'tiny', podSelector: { matchLabels: { app: 'server' } } }, ports: ['http'] },
        { ip: '203.0.113.10', ports: [443], label: 'partner API' },
      ],
    });
    expect(lab.knownRight).toEqual([]);
    const scenario = await loadScenario('tiny', join(FIXTURES, 'scenarios'));
    expect(scenario.externalHosts).toEqual([{ name: 'partner-api', ip: '203.0.113.10', ports: [{ port: 443, protocol: 'TCP' }] }]);
  });

  it('lists only valid labs from validateAll and throws from listLabs when any lab is broken', async () => {
    const result = await validateAll(FIXTURE_LABS);
    expect(result.labs.map((l) => l.id)).toEqual(['good']);
    expect(result.checked.labs).toBeGreaterThanOrEqual(8);
    const err = await problemsOf(listLabs(FIXTURE_LABS));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.problems.length).toBe(result.problems.length);
  });

  it('readManifestFile returns objects, or every problem with its line', async () => {
    const two = await readManifestFile(join(labsRoot(), 'np-backend', 'right', '04-default-deny-plus-allow.yaml'));
    expect(two.map((o) => o.metadata.name)).toEqual(['backend-default-deny-egress', 'np-backend']);

    const fromStdin = await readManifestFile('-', async () => 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n');
    expect(fromStdin).toEqual([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }]);

    const err = await problemsOf(readManifestFile('-', async () => 'kind: Pod\nmetadata:\n  labels: {}\n---\n- 1\n'));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.problems).toEqual([
      { file: '<stdin>', line: 5, column: 1, message: expect.stringContaining('expected a Kubernetes object') },
      expect.objectContaining({ file: '<stdin>', line: 1, path: 'apiVersion', message: expect.stringContaining('is required') }),
      expect.objectContaining({ file: '<stdin>', line: 3, path: 'metadata.name', message: 'is required' }),
    ]);
    expect((await problemsOf(readManifestFile('/no/such/file.yaml'))).message).toContain('no such file');

    // A folder: every manifest in it, recursively, in name order.
    const folder = await readManifestFile(join(labsRoot(), 'np-backend', 'right'));
    expect(folder.map((o) => o.metadata.name)).toEqual([
      'np-backend',
      'np-backend',
      'backend-default-deny-egress',
      'np-backend',
      'np-backend',
    ]);
  });
});

describe('bad lab files: every problem with file:line and field path', () => {
  it('unknown keys, with a suggestion, and the field they displaced', async () => {
    expect(await fixtureProblems('unknown-key')).toEqual([
      { file: 'labs/unknown-key/lab.yaml', line: 1, column: 1, path: 'hints', message: 'is required' },
      {
        file: 'labs/unknown-key/lab.yaml',
        line: 17,
        column: 3,
        path: 'hint',
        message: 'unknown field "hint" (did you mean "hints"?)',
      },
      { file: 'labs/unknown-key/lab.yaml', line: 56, column: 5, path: 'knownWrong[0].failsCheck', message: 'is required' },
      {
        file: 'labs/unknown-key/lab.yaml',
        line: 57,
        column: 16,
        path: 'knownWrong[0].failCheck',
        message: 'unknown field "failCheck" (did you mean "failsCheck"?)',
      },
    ]);
  });

  it('wrong types and values', async () => {
    expect(await fixtureProblems('wrong-type')).toEqual([
      { file: 'labs/wrong-type/lab.yaml', line: 5, column: 7, path: 'tags', message: 'must be a list of tags' },
      { file: 'labs/wrong-type/lab.yaml', line: 6, column: 10, path: 'minutes', message: 'must be a number of minutes' },
      { file: 'labs/wrong-type/lab.yaml', line: 34, column: 13, path: 'checks[1].expect', message: 'must be one of open, blocked' },
    ]);
  });

  it('a page that does not exist', async () => {
    expect(await fixtureProblems('missing-page')).toEqual([
      {
        file: 'labs/missing-page/lab.yaml',
        line: 13,
        column: 12,
        path: 'pages.concept',
        message: `file not found: ${join(FIXTURE_LABS, 'missing-page', 'concepts.md')}`,
      },
    ]);
  });

  it('a knownWrong attempt naming a check that does not exist', async () => {
    expect(await fixtureProblems('bad-fails-check')).toEqual([
      {
        file: 'labs/bad-fails-check/lab.yaml',
        line: 57,
        column: 17,
        path: 'knownWrong[0].failsCheck',
        message: 'no check has id "client-blockd" (check ids: policy-exists, client-blocked, client-dns)',
      },
    ]);
  });

  it('paths and names that try to leave their folder', async () => {
    expect(await fixtureProblems('traversal')).toEqual([
      {
        file: 'labs/traversal/lab.yaml',
        line: 9,
        column: 11,
        path: 'scenario',
        message: 'must use only lowercase letters, digits and dashes, starting with a letter or digit',
      },
      {
        file: 'labs/traversal/lab.yaml',
        line: 12,
        column: 9,
        path: 'pages.task',
        message: 'must be a relative path inside this folder (no leading /, no .., no backslashes)',
      },
    ]);
  });

  it('checks that do not fit the scenario they run against', async () => {
    const problems = await fixtureProblems('checks-vs-scenario');
    expect(problems.map((p) => `${p.line}: ${p.path}: ${p.message}`)).toEqual([
      '36: checks[1].to[0].service: scenario tiny has no Service sever in tiny',
      '39: checks[1].to[1].ports[0]: Service tiny/server has no TCP port 8080 (it has http=80/TCP)',
      '41: checks[1].to[2].pods.namespace: namespace elsewhere is not created by scenario tiny (tiny)',
      '48: checks[1].to[3].pods.podSelector: selects no pod of scenario tiny in tiny (app=srv): the check would test nothing',
      '51: checks[1].to[4].ip: 198.51.100.7 is not one of the externalHosts of scenario tiny',
      '54: checks[2].id: check id "client-blocked" is used twice; ids must be unique',
      '69: checks[3].names[1]: nosuch is not a Service of scenario tiny in tiny, so it can never resolve',
    ]);
  });

  it('solution and attempts that would not apply, and attempts nobody listed', async () => {
    expect(await fixtureProblems('bad-attempts')).toEqual([
      {
        file: 'labs/bad-attempts/lab.yaml',
        line: 22,
        column: 11,
        path: 'checks[0].name',
        message: 'the solution (solution.yaml) has no NetworkPolicy client-egress in namespace tiny',
      },
      {
        file: 'labs/bad-attempts/solution.yaml',
        line: 4,
        column: 3,
        path: 'metadata',
        message: 'needs metadata.namespace: attempts are applied as written, not into a current namespace',
      },
      {
        file: 'labs/bad-attempts/wrong/ingress.yaml',
        line: 14,
        column: 21,
        path: 'spec.ingress[0].ports[0].protocol',
        message: 'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"',
      },
      {
        file: 'labs/bad-attempts/wrong/ingress.yaml',
        line: 15,
        column: 17,
        path: 'spec.ingress[0].ports[0].port',
        message: 'Invalid value: 70000: must be between 1 and 65535, inclusive',
      },
      {
        file: 'labs/bad-attempts/wrong/unlisted.yaml',
        message: 'is not listed under knownWrong or knownRight in lab.yaml; list it (with the check it must fail) or delete it',
      },
    ]);
  });

  it('loadLab throws all of a lab’s problems at once as BAD_INPUT', async () => {
    const err = await problemsOf(loadLab('checks-vs-scenario', FIXTURE_LABS));
    expect(err.code).toBe('BAD_INPUT');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('lab checks-vs-scenario is not valid: 7 problems');
    expect(err.format()).toContain('lab.yaml:36:18: checks[1].to[0].service: scenario tiny has no Service sever in tiny');
  });
});

describe('labs built on the fly', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubelab-labs-'));
    await cp(FIXTURES, dir, { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const labYaml = (id: string) => join(dir, 'labs', id, 'lab.yaml');
  async function copyGood(id: string, edit: (text: string) => string): Promise<void> {
    await cp(join(dir, 'labs', 'good'), join(dir, 'labs', id), { recursive: true });
    await writeFile(labYaml(id), edit((await readFile(labYaml('good'), 'utf8')).replace('id: good', `id: ${id}`)));
  }

  it('a YAML syntax error, with its line', async () => {
    await copyGood('yaml-syntax', (t) => t.replace('tags: [CKA]', 'tags: [CKA'));
    const result = await validateLabDir(join(dir, 'labs', 'yaml-syntax'));
    expect(result.labs).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ file: labYaml('yaml-syntax'), line: expect.any(Number) });
    expect(result.problems[0]!.line).toBeGreaterThanOrEqual(5);
    expect(result.problems[0]!.line).toBeLessThanOrEqual(6);
  });

  it('a lab.yaml with two documents, or not a mapping', async () => {
    await copyGood('two-docs', (t) => `${t}---\nid: again\n`);
    expect((await validateLabDir(join(dir, 'labs', 'two-docs'))).problems).toEqual([
      { file: labYaml('two-docs'), line: expect.any(Number), column: 1, message: 'must hold one YAML document (remove the extra ---)' },
    ]);
    await copyGood('a-list', () => '- id: a-list\n');
    expect((await validateLabDir(join(dir, 'labs', 'a-list'))).problems).toEqual([
      { file: labYaml('a-list'), line: 1, column: 1, message: 'must be a mapping (key: value lines)' },
    ]);
  });

  it('an id that does not match the folder, and a check kind that does not exist', async () => {
    await copyGood('renamed', (t) => t.replace('id: renamed', 'id: other').replace('kind: dns', 'kind: dnss'));
    const problems = (await validateLabDir(join(dir, 'labs', 'renamed'))).problems;
    expect(problems.map((p) => `${p.line}: ${p.path}: ${p.message}`)).toEqual([
      '1: id: must be "renamed", the name of the lab\'s folder',
      '47: checks[2].kind: must be one of policy, connectivity, dns, traffic, unchanged, admission, state, access',
    ]);
  });

  it('a misspelled key in a knownWrong entry is one problem, not also "file not listed"', async () => {
    // Two attempts in one folder: the folder is scanned for unlisted files because of the second.
    await copyGood('typo-in-attempt', (t) =>
      t
        .replace('failsCheck: client-blocked', 'failCheck: client-blocked')
        .replace('knownWrong:\n', 'knownWrong:\n  - file: wrong/again.yaml\n    failsCheck: client-blocked\n    mistake: The same mistake again\n'),
    );
    await cp(join(dir, 'labs', 'good', 'wrong', 'ingress.yaml'), join(dir, 'labs', 'typo-in-attempt', 'wrong', 'again.yaml'));
    const problems = (await validateLabDir(join(dir, 'labs', 'typo-in-attempt'))).problems;
    expect(problems.map((p) => p.message)).toEqual([
      'is required',
      'unknown field "failCheck" (did you mean "failsCheck"?)',
    ]);
  });

  it('a page that is a symlink out of the lab folder', async () => {
    await copyGood('symlink', (t) => t);
    await rm(join(dir, 'labs', 'symlink', 'task.md'));
    await symlink('/etc/hostname', join(dir, 'labs', 'symlink', 'task.md'));
    const problems = (await validateLabDir(join(dir, 'labs', 'symlink'))).problems;
    expect(problems).toEqual([{ file: labYaml('symlink'), line: 12, column: 9, path: 'pages.task', message: 'task.md points outside the lab folder' }]);
  });

  it('a target naming both a service and pods, and a selector operator without values', async () => {
    await copyGood('bad-target', (t) =>
      t
        .replace('      - service: server\n        ports: [80]', '      - service: server\n        ip: 203.0.113.10\n        ports: []')
        .replace('    selects:\n      matchLabels:\n        app: client', '    selects:\n      matchExpressions:\n        - key: app\n          operator: In'),
    );
    const problems = (await validateLabDir(join(dir, 'labs', 'bad-target'))).problems;
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'checks[0].selects.matchExpressions[0].values: must list at least one value for In',
      'checks[1].to[0].ip: must name exactly one of service, pods or ip (found service and ip)',
      'checks[1].to[0].ports: must list at least one port',
    ]);
  });

  it('a broken scenario: unknown key, objects outside its namespaces, a Service selecting nothing', async () => {
    const sdir = join(dir, 'scenarios', 'tiny');
    const scenarioYaml = await readFile(join(sdir, 'scenario.yaml'), 'utf8');
    await writeFile(
      join(sdir, 'extra.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: lost\n  namespace: other\nspec:\n  selector:\n    app: nobody\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: no-namespace\n',
    );
    await writeFile(
      join(sdir, 'scenario.yaml'),
      scenarioYaml.replace('namespaces:', 'namespace: tiny\nnamespaces:').replace('  - app.yaml', '  - app.yaml\n  - ../../etc/passwd'),
    );
    const err = await problemsOf(loadScenario('tiny', join(dir, 'scenarios')));
    expect(err.problems.map((p) => `${p.file!.slice(sdir.length + 1)}:${p.line}: ${p.path}: ${p.message}`)).toEqual([
      'scenario.yaml:3: namespace: unknown field "namespace" (did you mean "namespaces"?)',
      'scenario.yaml:13: manifests[1]: must be a relative path inside this folder (no leading /, no .., no backslashes)',
    ]);
    await writeFile(join(sdir, 'scenario.yaml'), scenarioYaml.replace('  - app.yaml', '  - app.yaml\n  - extra.yaml'));
    const err2 = await problemsOf(loadScenario('tiny', join(dir, 'scenarios')));
    expect(err2.problems.map((p) => `${p.file!.slice(sdir.length + 1)}:${p.line}: ${p.path}: ${p.message}`)).toEqual([
      'extra.yaml:5: metadata.namespace: other is not a namespace this scenario creates (tiny)',
      // A mapping is located at its first entry, one line below its key.
      'extra.yaml:8: spec.selector: selects no pod of the scenario in other',
      'extra.yaml:13: metadata: ConfigMap no-namespace needs metadata.namespace (one of tiny), or it lands in whatever namespace is current',
    ]);
    // The lab using the scenario reports the scenario's problems too.
    const labProblems = (await validateLabDir(join(dir, 'labs', 'good'))).problems;
    expect(labProblems.some((p) => p.file === join(sdir, 'extra.yaml'))).toBe(true);
    await writeFile(join(sdir, 'scenario.yaml'), scenarioYaml);
    await rm(join(sdir, 'extra.yaml'));
  });

  it('an object a scenario defines twice names the line of the first one', async () => {
    const sdir = join(dir, 'scenarios', 'tiny');
    const scenarioYaml = await readFile(join(sdir, 'scenario.yaml'), 'utf8');
    const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n  namespace: tiny\n';
    await writeFile(join(sdir, 'dup.yaml'), `# the same object twice\n${configMap}---\n${configMap}`);
    await writeFile(join(sdir, 'scenario.yaml'), scenarioYaml.replace('  - app.yaml', '  - app.yaml\n  - dup.yaml'));
    try {
      const err = await problemsOf(loadScenario('tiny', join(dir, 'scenarios')));
      expect(err.problems.map((p) => `${p.file!.slice(sdir.length + 1)}:${p.line}: ${p.path}: ${p.message}`)).toEqual([
        `dup.yaml:11: metadata.name: ConfigMap twice is defined twice (also at ${join(sdir, 'dup.yaml')}:2)`,
      ]);
    } finally {
      await writeFile(join(sdir, 'scenario.yaml'), scenarioYaml);
      await rm(join(sdir, 'dup.yaml'));
    }
  });
});

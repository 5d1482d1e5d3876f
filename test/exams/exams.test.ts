/**
 * Exam files and grading on one cluster: schema errors with file:line and field path, scenario
 * collisions refused at validate time, and each task graded through its own view so another
 * task's objects neither fake nor break it.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectExamDir, loadExam } from '../../server/exams/load.js';
import { createExamCluster, gradeExam } from '../../server/exams/grade.js';
import { solutionObjects } from '../../server/exams/selftest.js';
import { TaskView } from '../../server/exams/view.js';
import { gradeLab } from '../../server/grader/index.js';
import { formatProblem } from '../../server/errors.js';

const REPO = join(import.meta.dirname, '../..');

function examDir(yaml: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kubelab-exam-')), 'my-exam');
  mkdirSync(dir);
  writeFileSync(join(dir, 'exam.yaml'), yaml);
  return dir;
}

const HEAD = `id: my-exam
title: t
description: d
style: CKA
minutes: 30
passPercent: 60
checkPerTask: true
`;

describe('exam files', () => {
  it('reports every problem with file:line and field path', async () => {
    const dir = examDir(`${HEAD}tasks:
  - lab: np-backend
    checks: {policy-exists: 1, no-such-check: 2, nothing-else-changes: 1}
  - lab: np-nope
    points: 3
  - lab: np-port-range
  - lab: np-and-vs-or
    points: 2
    check: {x: 1}
`);
    const lines = (await inspectExamDir(dir)).problems.map(formatProblem);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /exam\.yaml:1\d:\d+: tasks\[3\]\.check: unknown field "check" \(did you mean "checks"\?\)/,
        ),
        expect.stringMatching(/exam\.yaml:1\d:\d+: tasks\[2\]\.points: is required/),
      ]),
    );
    const fixed = examDir(`${HEAD}tasks:
  - lab: np-backend
    checks: {policy-exists: 1, no-such-check: 2, nothing-else-changes: 1}
  - lab: np-nope
    points: 3
`);
    const more = (await inspectExamDir(fixed)).problems.map(formatProblem);
    expect(more).toEqual([
      expect.stringMatching(
        /exam\.yaml:10:\d+: tasks\[0\]\.checks\.no-such-check: lab np-backend has no check no-such-check/,
      ),
      expect.stringMatching(
        /exam\.yaml:10:\d+: tasks\[0\]\.checks\.nothing-else-changes: .*condition of the task .*cannot carry points/,
      ),
      expect.stringMatching(/exam\.yaml:11:\d+: tasks\[1\]\.lab: there is no lab np-nope/),
    ]);
  });

  it('refuses two scenarios that share a namespace, naming both tasks', async () => {
    // A copy of np-port-range under another name, on a scenario that owns the same namespace.
    const root = mkdtempSync(join(tmpdir(), 'kubelab-exam-collide-'));
    cpSync(join(REPO, 'labs'), join(root, 'labs'), { recursive: true });
    cpSync(join(REPO, 'scenarios'), join(root, 'scenarios'), { recursive: true });
    cpSync(join(root, 'scenarios/np-port-range'), join(root, 'scenarios/pr-copy'), { recursive: true });
    const sc = join(root, 'scenarios/pr-copy/scenario.yaml');
    writeFileSync(sc, readFileSync(sc, 'utf8').replace('name: np-port-range', 'name: pr-copy'));
    cpSync(join(root, 'labs/np-port-range'), join(root, 'labs/pr-copy'), { recursive: true });
    const lab = join(root, 'labs/pr-copy/lab.yaml');
    writeFileSync(
      lab,
      readFileSync(lab, 'utf8')
        .replace('id: np-port-range', 'id: pr-copy')
        .replace('scenario: np-port-range', 'scenario: pr-copy'),
    );
    const dir = examDir(`${HEAD}tasks:
  - lab: np-port-range
    points: 3
  - lab: pr-copy
    points: 3
`);
    const problems = (await inspectExamDir(dir, join(root, 'labs'))).problems.map(formatProblem);
    expect(problems).toEqual([
      expect.stringMatching(
        /exam\.yaml:11:\d+: tasks\[1\]\.lab: namespace portrange-lab belongs to the scenarios of both task 1 \(lab np-port-range, scenario np-port-range\) and this task \(lab pr-copy, scenario pr-copy\)/,
      ),
    ]);
  });
});

describe('grading one exam cluster task by task', () => {
  it(
    "another task's scenario and policies neither fake nor break a task; without the view they would",
    { timeout: 60_000 },
    async () => {
      const loaded = await loadExam('cks-network');
      const cluster = await createExamCluster(loaded);
      // Task A's solution, plus a deny-all in another task's namespace (np-named-ports').
      await cluster.apply(await solutionObjects(loaded.labs.get('np-and-vs-or')!));
      await cluster.apply([
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'deny', namespace: 'namedport-lab' },
          spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
        },
      ]);
      const score = await gradeExam(loaded, cluster, new Date(0));
      expect(score.tasks.map((t) => [t.lab, t.earned])).toEqual([
        ['np-default-deny-all', 0],
        ['np-namespace-isolation', 0],
        ['np-and-vs-or', 6],
        ['np-allow-monitoring', 0],
        ['np-named-ports', 0],
        ['psa-restricted', 0],
        ['rbac-ci-deployer', 0],
      ]);
      // The view hides other tasks' namespaces from the grader...
      const view = new TaskView(cluster, ['avo-shared']);
      expect(new Set((await view.list('Pod')).map((p) => p.metadata.namespace))).toEqual(
        new Set(['avo-shared', 'kube-system']),
      );
      // ...which matters: graded on the whole cluster, the same solution fails "nothing else changes",
      // because np-allow-monitoring's own scenario policies count as changes.
      const lab = loaded.labs.get('np-and-vs-or')!;
      const scenario = loaded.scenarios.get(lab.scenario)!;
      const raw = await gradeLab({ lab, scenario, cluster });
      expect(raw.passed).toBe(false);
      const viewed = await gradeLab({ lab, scenario, cluster: new TaskView(cluster, scenario.namespaces) });
      expect(viewed.passed).toBe(true);
    },
  );
});

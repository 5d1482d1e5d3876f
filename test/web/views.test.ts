import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../server/web/markdown.js';
import { buildMatrix, cellOk, matrixFromReport } from '../../server/web/matrix.js';
import { buildTopology } from '../../server/web/topology.js';
import { starterManifest, withoutLeadingTitle } from '../../server/web/routes/pages.js';
import { fakeCatalogue, fakeLab, FakeChecker } from './fakes.js';

describe('renderMarkdown', () => {
  it('drops raw HTML, dangerous links and handlers, keeps ordinary Markdown', () => {
    const html = renderMarkdown(
      '# T\n\n<img src=x onerror=alert(1)> <b>raw</b>\n\n[x](javascript:alert(1)) [ok](https://k8s.io) ![i](data:image/png;base64,AA)\n\n```yaml\na: 1\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |',
    );
    expect(html).toContain('<h1>T</h1>');
    expect(html).not.toMatch(/<img[^>]*onerror/);
    expect(html).not.toContain('<b>');
    expect(html).not.toMatch(/href="javascript/);
    expect(html).toContain('<a href="https://k8s.io" rel="noopener noreferrer">ok</a>');
    expect(html).not.toContain('src="data:');
    expect(html).toContain('<code class="language-yaml">');
    expect(html).toContain('<table>');
  });

  it("the lab page drops the task's own title", () => {
    expect(withoutLeadingTitle('# Title\n\nBody\n# Later')).toBe('\nBody\n# Later');
    expect(withoutLeadingTitle('Body')).toBe('Body');
  });
});

describe('matrix', () => {
  it('a refusal counts as reached; DNS failure and drops as not', () => {
    expect(cellOk('open', 'allowed')).toBe(true);
    expect(cellOk('open', 'refused')).toBe(true);
    expect(cellOk('open', 'dns-failure')).toBe(false);
    expect(cellOk('blocked', 'blocked')).toBe(true);
    expect(cellOk('blocked', 'allowed')).toBe(false);
    expect(cellOk('blocked', 'error')).toBe(false);
    expect(cellOk('resolves', 'allowed')).toBe(true);
    expect(cellOk('fails', 'dns-failure')).toBe(true);
  });

  it('lays probes out as sources x targets, with gaps where no check pairs them', () => {
    const m = buildMatrix(
      [
        { from: 'a', to: 'x', expected: 'open', outcome: 'allowed', explanation: '' },
        { from: 'b', to: 'y', expected: 'blocked', outcome: 'allowed', explanation: 'no policy' },
      ],
      { basis: 'test', before: true },
    );
    expect(m.sources).toEqual(['a', 'b']);
    expect(m.targets).toEqual(['x', 'y']);
    expect(m.cells[0]![1]).toBeNull();
    expect(m.cells[1]![1]).toMatchObject({ ok: false, explanation: 'no policy' });
  });

  it('names Deployment pods as `netpol matrix` does (workload-N), keeping the real name for a tooltip', () => {
    const m = buildMatrix(
      [
        {
          from: 'np-lab/backend-6f4bc979cb-rvt5v',
          to: 'db1.np-lab:1111/TCP',
          expected: 'open',
          outcome: 'allowed',
          explanation: '',
        },
        {
          from: 'np-lab/backend-6f4bc979cb-k8mvq',
          to: 'db1.np-lab:1111/TCP',
          expected: 'open',
          outcome: 'allowed',
          explanation: '',
        },
        {
          from: 'np-lab/db-0',
          to: 'outside pod (np-outside/outside-66c74db95d-q7cgc):8080/TCP',
          expected: 'blocked',
          outcome: 'blocked',
          explanation: 'np-outside/outside-66c74db95d-q7cgc is isolated',
        },
      ],
      { basis: 'test', before: false },
    );
    expect(m.sources).toEqual(['np-lab/backend-1', 'np-lab/backend-0', 'np-lab/db-0']);
    expect(m.sourcePods[0]).toBe('np-lab/backend-6f4bc979cb-rvt5v');
    expect(m.targets).toContain('outside pod (np-outside/outside-0):8080/TCP');
    expect(m.cells[2]![1]!.explanation).toBe('np-outside/outside-0 is isolated');
  });

  it('one column per destination: by name (open) and by ClusterIP (blocked) are the same Service', () => {
    const m = buildMatrix(
      [
        { from: 'a/v-0', to: 'db1.a:2222/TCP', expected: 'open', outcome: 'allowed', explanation: '' },
        {
          from: 'a/b-0',
          to: 'db1.a:2222/TCP (ClusterIP 10.0.0.9)',
          expected: 'blocked',
          outcome: 'blocked',
          explanation: '',
        },
        // The same source probed both ways: the failing probe is the one the cell shows.
        { from: 'a/b-0', to: 'db1.a:2222/TCP', expected: 'open', outcome: 'blocked', explanation: 'by name' },
      ],
      { basis: 'test', before: false },
    );
    expect(m.targets).toEqual(['db1.a:2222/TCP']);
    expect(m.cells[0]![0]).toMatchObject({ expected: 'open', ok: true });
    expect(m.cells[1]![0]).toMatchObject({ ok: false, explanation: 'by name' });
  });

  it('can be built from a report (connectivity checks only)', async () => {
    const report = await new FakeChecker().check({ lab: fakeLab(), learnerId: 'l', manifests: [] });
    const m = matrixFromReport(report);
    expect(m.sources).toEqual(['np-lab/backend-0']);
    expect(m.cells[0]![0]).toMatchObject({ outcome: 'dns-failure', ok: false });
  });
});

describe('buildTopology', () => {
  it('groups workloads and Services by namespace, marks the pods the policy must select, lab namespace first', async () => {
    const lab = fakeLab();
    lab.checks[0] = {
      kind: 'policy',
      id: 'p',
      title: 'p',
      namespace: 'np-lab',
      name: 'np-backend',
      selects: { matchLabels: { app: 'backend' } },
    };
    const objects = await fakeCatalogue().scenarioObjects(lab);
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'aaa', labels: { app: 'backend' } },
      spec: {},
    });
    const t = buildTopology(objects, lab);
    expect(t.map((n) => n.name)).toEqual(['np-lab', 'aaa', 'kube-system']);
    const backend = t[0]!.workloads[0]!;
    expect(backend).toMatchObject({
      name: 'backend',
      replicas: 2,
      subject: true,
      ports: ['8080/TCP (http)'],
    });
    expect(t[0]!.services[0]).toMatchObject({ name: 'db1', selector: { app: 'db1' }, ports: ['1111/TCP'] });
    // Same labels in another namespace are not selected by a namespaced policy.
    expect(t[1]!.workloads[0]!.subject).toBe(false);
    expect(t[2]!.note).toContain('CoreDNS');
  });
});

describe('starterManifest', () => {
  it('names the policy the lab checks for, in the lab namespace, without giving the answer', () => {
    const text = starterManifest(fakeLab());
    expect(text).toContain('name: np-backend');
    expect(text).toContain('namespace: np-lab');
    expect(text).not.toContain('egress');
  });
});

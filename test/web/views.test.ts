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

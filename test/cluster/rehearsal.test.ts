/**
 * A dress rehearsal of test/cluster-integration on the simulated cluster: the same steps and the
 * same assertions (lab start, failing grade, solution, passing grade, reset), so the real suite's
 * expectations are checked on every `npm test`, even where no Docker exists.
 */
import { describe, expect, it } from 'vitest';
import { deployScenario } from '../../server/cluster/deploy.js';
import { SimulatedCluster } from '../../server/cluster/sim/index.js';
import { gradeLab } from '../../server/grader/index.js';
import { loadLab, loadScenario, readManifestFile, readScenarioObjects } from '../../server/labs/index.js';

describe('integration steps, rehearsed on the simulated cluster', () => {
  it('start -> fail -> solution -> pass -> reset -> fail', async () => {
    const lab = await loadLab('np-backend');
    const scenario = await loadScenario(lab.scenario);
    const cluster = new SimulatedCluster({ externalHosts: scenario.externalHosts });
    const content = {
      name: scenario.name,
      namespaces: scenario.namespaces,
      objects: await readScenarioObjects(scenario),
    };
    const start = () => deployScenario(cluster, content, { reset: true });
    const check = () => gradeLab({ lab, scenario, cluster });

    expect((await start()).applied.length).toBeGreaterThan(5);
    expect(
      (await cluster.list('Pod', 'np-lab')).filter((p) => p.metadata.labels?.app === 'backend'),
    ).toHaveLength(2);

    const before = await check();
    expect(before.status, before.summary).toBe('failed');
    expect(before.checks.find((c) => c.kind === 'preflight')?.status).toBe('pass');

    await cluster.apply(await readManifestFile(lab.files.solution));
    const solved = await check();
    expect(
      solved.status,
      JSON.stringify(
        solved.checks.filter((c) => c.status !== 'pass'),
        null,
        2,
      ),
    ).toBe('passed');

    await start();
    expect(await cluster.list('NetworkPolicy', 'np-lab')).toEqual([]);
    expect((await check()).status).toBe('failed');
  });
});

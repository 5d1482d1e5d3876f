/**
 * Reproducible labs: every image a scenario or the canary runs is pinned by digest, so a tag that
 * is pushed again cannot change the binaries a lab was proved with.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { canaryObjects } from '../../server/cluster/canary.js';
import type { KubeObject } from '../../server/cluster/types.js';
import { loadScenario, readScenarioObjects, scenariosRoot } from '../../server/labs/index.js';
import { PROBE_IMAGE } from '../../server/probe/index.js';

const DIGEST_PINNED = /^[^\s@]+:[^\s@:/]+@sha256:[0-9a-f]{64}$/;

/** Every container and init container image in an object, wherever its pod template sits. */
function imagesOf(o: KubeObject): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if ((k === 'containers' || k === 'initContainers') && Array.isArray(child)) {
          for (const c of child) if (typeof c?.image === 'string') found.push(c.image);
        } else walk(child);
      }
    }
  };
  walk(o);
  return found;
}

describe('image pinning', () => {
  it('the probe image is agnhost 2.53 pinned by digest', () => {
    expect(PROBE_IMAGE).toMatch(DIGEST_PINNED);
    expect(PROBE_IMAGE.startsWith('registry.k8s.io/e2e-test-images/agnhost:2.53@')).toBe(true);
  });

  it('the enforcement canary runs the pinned probe image', () => {
    const { setup } = canaryObjects('kubelab-canary-test');
    const images = setup.flatMap(imagesOf);
    expect(images.length).toBe(2);
    expect(new Set(images)).toEqual(new Set([PROBE_IMAGE]));
  });

  it('every container of every scenario is pinned by digest', async () => {
    const names = (await readdir(scenariosRoot(), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(names.length).toBeGreaterThan(5);
    const unpinned: string[] = [];
    let containers = 0;
    for (const name of names) {
      const objects = await readScenarioObjects(await loadScenario(name));
      for (const o of objects)
        for (const image of imagesOf(o)) {
          containers++;
          if (!DIGEST_PINNED.test(image)) unpinned.push(`${name}: ${o.kind}/${o.metadata.name}: ${image}`);
        }
    }
    expect(containers).toBeGreaterThan(20);
    expect(unpinned).toEqual([]);
  });

  it('the agnhost pods of the scenarios use exactly the probe image', async () => {
    const objects = await readScenarioObjects(await loadScenario('np-backend'));
    const agnhost = objects.flatMap(imagesOf).filter((i) => i.includes('/agnhost'));
    expect(agnhost.length).toBeGreaterThan(4);
    expect(new Set(agnhost)).toEqual(new Set([PROBE_IMAGE]));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogRoots, labsRoot, loadLab, loadLabForCheck, scenariosRoot } from '../../server/labs/index.js';
import { labDigest, wasValidated } from '../../server/labs/validated.js';
import { KubelabError } from '../../server/errors.js';

let root: string;
let store: string;
const roots = () => catalogRoots({ labs: join(root, 'labs'), scenarios: join(root, 'scenarios') });

async function failure(promise: Promise<unknown>): Promise<KubelabError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof KubelabError) return e;
    throw e;
  }
  throw new Error('expected a KubelabError');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubelab-validated-'));
  store = join(root, 'store');
  await cp(join(labsRoot(), 'np-backend'), join(root, 'labs', 'np-backend'), { recursive: true });
  await cp(join(scenariosRoot(), 'np-backend'), join(root, 'scenarios', 'np-backend'), { recursive: true });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('loadLabForCheck', () => {
  it('gives the lab loadLab gives, with its scenario, and records a clean lab', async () => {
    const { lab, scenario } = await loadLabForCheck('np-backend', roots(), store);
    expect(lab).toEqual(await loadLab('np-backend', roots()));
    expect(scenario.name).toBe(lab.scenario);
    const digest = await labDigest('np-backend', roots());
    expect(await wasValidated(store, 'np-backend', digest!)).toBe(true);
    // From the record on: the same lab, the attempts left unread.
    expect((await loadLabForCheck('np-backend', roots(), store)).lab).toEqual(lab);
  });

  it('still reports a known attempt broken after the lab was recorded as valid', async () => {
    await loadLabForCheck('np-backend', roots(), store);
    const attempt = join(root, 'labs', 'np-backend', 'wrong', '01-forgot-dns.yaml');
    const original = await readFile(attempt, 'utf8');
    await writeFile(attempt, `${original}\n---\nkind: NetworkPolicy\n`);
    try {
      const e = await failure(loadLabForCheck('np-backend', roots(), store));
      expect(e.code).toBe('BAD_INPUT');
      expect(e.problems.some((p) => p.file === attempt)).toBe(true);
    } finally {
      await writeFile(attempt, original);
    }
    await expect(loadLabForCheck('np-backend', roots(), store)).resolves.toBeDefined();
  });

  it('still reports an unlisted attempt file added after the lab was recorded as valid', async () => {
    await loadLabForCheck('np-backend', roots(), store);
    const extra = join(root, 'labs', 'np-backend', 'wrong', '99-extra.yaml');
    await writeFile(extra, await readFile(join(root, 'labs', 'np-backend', 'solution.yaml'), 'utf8'));
    try {
      const e = await failure(loadLabForCheck('np-backend', roots(), store));
      expect(e.problems.map((p) => p.file)).toContain(extra);
    } finally {
      await rm(extra);
    }
  });
});

describe('labDigest', () => {
  it('changes with any byte of the lab folder, an added file, and the roots', async () => {
    const base = await labDigest('np-backend', roots());
    const file = join(root, 'labs', 'np-backend', 'right', '01-protocol-defaulted.yaml');
    const original = await readFile(file);
    await writeFile(file, Buffer.concat([original, Buffer.from(' ')]));
    expect(await labDigest('np-backend', roots())).not.toBe(base);
    await writeFile(file, original);
    expect(await labDigest('np-backend', roots())).toBe(base);

    const added = join(root, 'labs', 'np-backend', 'notes.txt');
    await writeFile(added, '');
    expect(await labDigest('np-backend', roots())).not.toBe(base);
    await rm(added);

    const otherScenarios = catalogRoots({ labs: join(root, 'labs'), scenarios: join(root, 'elsewhere') });
    expect(await labDigest('np-backend', otherScenarios)).not.toBe(base);
    expect(await labDigest('no-such-lab', roots())).toBeUndefined();
  });
});

/**
 * A record of labs that passed a full inspection, keyed by a digest of everything that inspection
 * read: `lab check` grades one file against one lab and should not re-read the lab's two dozen
 * known attempts on every call, yet must still report every problem they have. A lab whose folder,
 * roots or validating code changed in any byte gets a new digest and is inspected in full again.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogRoots } from './lab.js';

/** The folder of the running code (server/ or dist/): a changed validator is a changed digest. */
const CODE_ROOT = fileURLToPath(new URL('../', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function defaultValidatedDir(): string {
  return process.env.KUBELAB_VALIDATED_DIR ?? join(REPO_ROOT, '.kubelab', 'validated');
}

let codeFingerprint: string | undefined;

/** Every source file of the running code by path, size and mtime: an edit anywhere changes it. */
export function fingerprintCode(): string {
  codeFingerprint ??= computeCodeFingerprint();
  return codeFingerprint;
}

function computeCodeFingerprint(): string {
  const hash = createHash('sha256');
  const entries = readdirSync(CODE_ROOT, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    const s = statSync(file);
    hash.update(`${relative(CODE_ROOT, file)}\0${s.size}\0${Math.trunc(s.mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

/**
 * Digest of the lab folder (every path and every byte, recursively, symlinks followed by reading),
 * the roots and the validating code. Undefined when the folder cannot be read.
 */
export async function labDigest(id: string, roots: CatalogRoots): Promise<string | undefined> {
  const dir = join(roots.labs, id);
  const hash = createHash('sha256');
  hash.update(`${fingerprintCode()}\0${roots.labs}\0${roots.scenarios}\0${id}\n`);
  try {
    const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
    const paths = entries.map((e) => join(e.parentPath, e.name)).sort();
    for (const path of paths) {
      const s = statSync(path);
      hash.update(`${relative(dir, path)}\0${s.isFile() ? 'f' : s.isDirectory() ? 'd' : 'o'}\0`);
      if (s.isFile()) hash.update(readFileSync(path));
      hash.update('\n');
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

function recordFile(store: string, id: string): string {
  return join(store, `${id}.json`);
}

/** True when this exact digest was recorded as a lab without problems. */
export async function wasValidated(store: string, id: string, digest: string): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(recordFile(store, id), 'utf8')) as unknown;
    return typeof record === 'object' && record !== null && (record as { digest?: unknown }).digest === digest;
  } catch {
    return false;
  }
}

/** Records a clean full inspection. Best effort: a read-only checkout simply inspects in full. */
export async function recordValidated(store: string, id: string, digest: string): Promise<void> {
  const file = recordFile(store, id);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, JSON.stringify({ digest }));
    await rename(tmp, file);
  } catch {
    // Not recording costs speed on the next call, never correctness.
  }
}

/**
 * Lab and scenario texts the precise YAML parser has accepted, remembered across processes, so
 * that the next process may read the same bytes with the fast reader (manifests/fast.ts).
 *
 * The fast reader alone is not enough for lab files: on some malformed input it is still more
 * lenient than the precise parser, and an instructor must hear about every broken line. On text
 * the precise parser accepts, the two agree on every value (test/manifests/fast.test.ts), and the
 * fast reader reads a catalogue in under half the CPU. So a text is read fast only when these
 * very bytes were accepted before, by this code with these parsers: the record is a marker file
 * named by a digest of the text, the running code and the two YAML libraries, next to the
 * records of validated labs (KUBELAB_VALIDATED_DIR), in a folder per code and library version.
 * Best effort: where nothing can be written, every read is precise.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defaultValidatedDir, fingerprintCode } from './validated.js';

let version: string | undefined;

/** The running code and the installed YAML libraries: an upgrade or an edit starts afresh. */
function parsersVersion(): string {
  if (version === undefined) {
    const require = createRequire(import.meta.url);
    const libraries = ['yaml', 'js-yaml'].map((name) => {
      const entry = require.resolve(name);
      const s = statSync(entry);
      return `${entry}\0${s.size}\0${Math.trunc(s.mtimeMs)}`;
    });
    version = createHash('sha256')
      .update([fingerprintCode(), ...libraries].join('\n'))
      .digest('hex')
      .slice(0, 16);
  }
  return version;
}

function markerOf(text: string, store: string): string {
  return join(store, 'yaml', parsersVersion(), createHash('sha256').update(text).digest('hex'));
}

/** Folders of other versions untouched for this long go: every edit of the code starts a new one. */
const STALE_MS = 24 * 60 * 60 * 1000;
const prunedStores = new Set<string>();

function pruneOtherVersions(store: string): void {
  if (prunedStores.has(store)) return;
  prunedStores.add(store);
  const root = join(store, 'yaml');
  for (const name of readdirSync(root)) {
    const folder = join(root, name);
    // The compiled build and the sources are two versions in use at once: only old ones go.
    if (name !== parsersVersion() && Date.now() - statSync(folder).mtimeMs > STALE_MS)
      rmSync(folder, { recursive: true, force: true });
  }
}

/** True when the precise parser accepted exactly this text before. */
export function acceptedBefore(text: string, store: string = defaultValidatedDir()): boolean {
  try {
    return statSync(markerOf(text, store)).isFile();
  } catch {
    return false;
  }
}

/** Records that the precise parser accepted this text. Best effort, as its use is. */
export function recordAccepted(text: string, store: string = defaultValidatedDir()): void {
  const marker = markerOf(text, store);
  try {
    mkdirSync(dirname(marker), { recursive: true });
    writeFileSync(marker, '');
    pruneOtherVersions(store);
  } catch {
    // A read-only checkout reads precisely every time.
  }
}

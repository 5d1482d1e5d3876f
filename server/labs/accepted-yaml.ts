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
 * records of validated labs (KUBELAB_VALIDATED_DIR). Best effort: where nothing can be written,
 * every read is precise.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { defaultValidatedDir, fingerprintCode } from './validated.js';

let salt: string | undefined;

/** The running code and the installed YAML libraries: an upgrade or an edit starts afresh. */
function parsers(): string {
  if (salt === undefined) {
    const require = createRequire(import.meta.url);
    const libraries = ['yaml', 'js-yaml'].map((name) => {
      const entry = require.resolve(name);
      const s = statSync(entry);
      return `${entry}\0${s.size}\0${Math.trunc(s.mtimeMs)}`;
    });
    salt = [fingerprintCode(), ...libraries].join('\n');
  }
  return salt;
}

function markerOf(text: string, store: string): string {
  const digest = createHash('sha256').update(parsers()).update('\0').update(text).digest('hex');
  return join(store, 'yaml', digest);
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
    mkdirSync(join(store, 'yaml'), { recursive: true });
    writeFileSync(marker, '');
  } catch {
    // A read-only checkout reads precisely every time.
  }
}

/**
 * Small file helpers shared by the lab and scenario loaders: reading one YAML file into documents
 * without throwing (problems are collected, so validation can report everything at once), reading
 * Kubernetes manifests into checked objects, and keeping paths inside their folder.
 *
 * The loaders read with the synchronous fs calls. A catalogue is ~500 small local files read one
 * after the other, and for those node's promise-based calls cost ~4x the CPU of the plain ones
 * (measured: validating the whole catalogue, its YAML already parsed, 0.45 -> 0.11 CPU-s) while
 * blocking the event loop for no more than a few milliseconds in all.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { relative, resolve, sep, isAbsolute } from 'node:path';
import type { KubeObject } from '../cluster/types.js';
import { deepCopy } from '../copy.js';
import { acceptedBefore, recordAccepted } from './accepted-yaml.js';
import { badInput, isKubelabError, KubelabError, type Problem } from '../errors.js';
import { validateNetworkPolicy } from '../netpol/index.js';
import {
  isRecord,
  loadManifestInputs,
  objectsOf,
  parseYamlDocuments,
  problemAt,
  type LoadedDocument,
  type LoadedObject,
} from '../manifests/load.js';

export type FileKind = 'file' | 'directory' | 'missing' | 'other';

export async function fileKind(path: string): Promise<FileKind> {
  try {
    const info = statSync(path);
    return info.isFile() ? 'file' : info.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/**
 * Values of the lab and scenario files last parsed, by path, with the text they were parsed from.
 * The same files are parsed again and again (each server start and catalogue reload, every
 * `lab test`, every known attempt graded, the scenario of every learner's first check), and the
 * YAML parser is most of that cost (measured in the test suite: 17,740 parses of about 400 files,
 * 20-28 s of CPU). Keyed by the whole text, so an edited file is parsed afresh. Only plain values
 * are kept (a parsed YAML document with its positions is many times larger): positions are found
 * by parsing again, on the rare occasion that a problem must be located.
 *
 * A text goes through the precise parser unless these very bytes were accepted by it before, in
 * this process or an earlier one (accepted-yaml.ts); then the fast reader reads it, and its
 * positions come from the precise parser only if a problem needs one.
 */
const parsedFiles = new Map<string, { text: string; docs: Array<Pick<LoadedDocument, 'value' | 'index' | 'source'>>; fast: boolean }>();
const PARSED_FILES_MAX = 1024;
const PARSED_FILE_MAX_CHARS = 64 * 1024;

/** parseYamlDocuments, remembered (see parsedFiles); each caller gets values of its own to change. */
function parsedCopy(text: string, file: string): LoadedDocument[] {
  // Large files go to the fast reader, whose positions are found lazily; they are not the ones read again.
  if (text.length > PARSED_FILE_MAX_CHARS) return parseYamlDocuments(text, file);
  let entry = parsedFiles.get(file);
  if (entry?.text === text) {
    parsedFiles.delete(file); // most recently used last
  } else {
    const fast = acceptedBefore(text);
    const docs = parseYamlDocuments(text, file, { reader: fast ? 'fast' : 'precise' });
    if (!fast) recordAccepted(text); // the precise parser did not throw
    // A fast document's source finds its line lazily (asking would parse precisely): kept as it is.
    entry = { text, fast, docs: docs.map(({ value, index, source }) => ({ value, index, source: fast ? source : { ...source } })) };
    if (parsedFiles.size >= PARSED_FILES_MAX) parsedFiles.delete(parsedFiles.keys().next().value!);
  }
  parsedFiles.set(file, entry);
  let located: LoadedDocument[] | undefined;
  return entry.docs.map((d) => ({
    value: deepCopy(d.value),
    index: d.index,
    source: entry.fast ? d.source : { ...d.source },
    locate: (path) => {
      located ??= parseYamlDocuments(text, file, { reader: 'precise' });
      return (located.find((l) => l.index === d.index) ?? { locate: () => d.source }).locate(path);
    },
  }));
}

/** Reads and parses a YAML file; syntax errors and read errors come back as problems. */
export async function readYamlFile(file: string): Promise<{ docs: LoadedDocument[]; problems: Problem[] }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { docs: [], problems: [{ file, message: `cannot read: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}` }] };
  }
  try {
    return { docs: parsedCopy(text, file), problems: [] };
  } catch (e) {
    if (isKubelabError(e)) {
      return { docs: [], problems: e.problems.length > 0 ? e.problems : [{ file, message: e.message }] };
    }
    throw e;
  }
}

/** Kinds that live outside namespaces (the ones a lab or scenario might plausibly contain). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'GlobalNetworkPolicy',
]);

export function isNamespaced(kind: string): boolean {
  return !CLUSTER_SCOPED.has(kind);
}

export interface CheckedObject {
  object: KubeObject;
  loaded: LoadedObject;
}

const NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Turns parsed documents into Kubernetes objects, with a problem (file:line, path) for every object
 * that lacks apiVersion, kind or metadata.name. Only well-formed objects are returned.
 */
export function kubeObjectsOf(docs: LoadedDocument[]): { objects: CheckedObject[]; problems: Problem[] } {
  const { objects: loaded, problems } = objectsOf(docs);
  const objects: CheckedObject[] = [];
  for (const lo of loaded) {
    const o = lo.object;
    const before = problems.length;
    if (typeof o.apiVersion !== 'string' || o.apiVersion.length === 0) {
      problems.push(problemAt(lo, ['apiVersion'], 'is required (e.g. networking.k8s.io/v1)'));
    }
    if (typeof o.kind !== 'string' || o.kind.length === 0) {
      problems.push(problemAt(lo, ['kind'], 'is required (e.g. NetworkPolicy)'));
    }
    const meta = o.metadata;
    if (!isRecord(meta)) {
      problems.push(problemAt(lo, ['metadata'], 'is required, with at least a name'));
    } else {
      if (typeof meta.name !== 'string' || meta.name.length === 0) {
        problems.push(problemAt(lo, ['metadata', 'name'], 'is required'));
      } else if (!NAME_PATTERN.test(meta.name) || meta.name.length > 253) {
        problems.push(problemAt(lo, ['metadata', 'name'], 'must be lowercase letters, digits, dashes and dots'));
      }
      if (meta.namespace !== undefined && (typeof meta.namespace !== 'string' || !NAME_PATTERN.test(meta.namespace))) {
        problems.push(problemAt(lo, ['metadata', 'namespace'], 'must be a namespace name'));
      }
    }
    if (problems.length === before) objects.push({ object: o as KubeObject, loaded: lo });
  }
  return { objects, problems };
}

/**
 * Reads a manifest file, a folder of them (recursively, in name order) or stdin text into checked
 * objects; every problem at once, thrown.
 */
export async function readObjects(file: string, stdin?: () => Promise<string>): Promise<KubeObject[]> {
  let docs: LoadedDocument[];
  if (file === '-') {
    if (!stdin) throw new KubelabError('USAGE', 'reading from stdin (-) is not available here');
    docs = parseYamlDocuments(await stdin(), '<stdin>');
  } else if ((await fileKind(file)) === 'directory') {
    docs = await loadManifestInputs([file]);
  } else {
    const read = await readYamlFile(file);
    if (read.problems.length > 0) {
      // The file is not YAML yet: what objects need does not matter until it is.
      throw badInput(`${file} is not valid YAML`, read.problems, 'Fix the YAML at the lines shown.');
    }
    docs = read.docs;
  }
  const { objects, problems } = kubeObjectsOf(docs);
  // NetworkPolicies are validated here too, so a rejected policy is reported at its file and line
  // (the cluster's own rejection only knows the field path).
  for (const o of objects) {
    if (o.object.kind !== 'NetworkPolicy') continue;
    for (const p of validateNetworkPolicy(o.object, o.object.metadata.namespace ?? 'default').problems) {
      problems.push(problemAt(o.loaded, p.fieldPath, p.message));
    }
  }
  if (problems.length > 0) throw badFile(file, problems);
  return objects.map((o) => o.object);
}

function badFile(file: string, problems: Problem[]): KubelabError {
  return badInput(
    `${file === '-' ? 'stdin' : file} is not a valid set of Kubernetes objects`,
    problems,
    'Fix the lines shown: each object needs apiVersion, kind and metadata.name, and NetworkPolicies are checked as the API server checks them.',
  );
}

/**
 * Resolves `rel` inside `dir` and proves it stays there, symlinks included: lab files are served to
 * browsers, so a lab must never be able to point at /etc/passwd.
 */
export async function insideFolder(dir: string, rel: string): Promise<{ path: string; escapes: boolean }> {
  const path = resolve(dir, rel);
  if (isAbsolute(rel) || escapes(dir, path)) return { path, escapes: true };
  try {
    const [realDir, realPath] = [realpathSync.native(dir), realpathSync.native(path)];
    return { path, escapes: escapes(realDir, realPath) };
  } catch {
    return { path, escapes: false }; // missing files are reported by the caller
  }
}

function escapes(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel);
}

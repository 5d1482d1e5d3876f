/**
 * Tab completion: the word under the cursor, completed from kubectl's commands, the resource
 * kinds the cluster serves (discovery) and the names of objects in the learner's cluster. The
 * lookups are injected (the session asks kubectl itself), so this stays pure.
 */
import { parse } from 'shell-quote';
import { ALLOWED_SUBCOMMANDS } from './policy.js';

export interface CompletionSources {
  /** Resource names as `kubectl api-resources` prints them (plural, short names, kind). */
  kinds(): Promise<string[]>;
  /** Names of objects of a kind (in a namespace, or the context's). */
  names(kind: string, namespace: string | undefined): Promise<string[]>;
}

export interface Completion {
  /** The word being completed (the text the candidates replace). */
  word: string;
  candidates: string[];
}

const TOP_LEVEL = ['kubectl', 'k', 'help', 'clear', 'history'];
export const SHELL_PROGRAMS = ['curl', 'wget', 'nc', 'nslookup', 'dig', 'cat', 'hostname', 'env', 'exit'];

/** Subcommands whose next word is a kind (then a name), or a name of a fixed kind. */
const TAKES_KIND = new Set([
  'get',
  'describe',
  'delete',
  'label',
  'annotate',
  'explain',
  'scale',
  'patch',
  'wait',
  'expose',
  'autoscale',
]);
const TAKES_POD = new Set(['exec', 'logs']);
const FLAGS_WITH_VALUE = new Set([
  '-n',
  '--namespace',
  '-l',
  '--selector',
  '-o',
  '--output',
  '-c',
  '--container',
  '-f',
  '--filename',
]);

function words(text: string): string[] {
  return parse(text).filter((t): t is string => typeof t === 'string');
}

/** Completes the last word of `before` (the line up to the cursor). */
export async function complete(
  before: string,
  sources: CompletionSources,
  mode: 'kubectl' | 'shell' = 'kubectl',
): Promise<Completion> {
  const endsInSpace = before === '' || /\s$/.test(before);
  const all = words(before);
  const word = endsInSpace ? '' : (all.pop() ?? '');
  const pick = (options: readonly string[]) => ({
    word,
    candidates: [...new Set(options)].filter((o) => o.startsWith(word)).sort(),
  });
  if (mode === 'shell') return all.length === 0 ? pick(SHELL_PROGRAMS) : { word, candidates: [] };
  if (all.length === 0) return pick(TOP_LEVEL);
  if (all[0] !== 'kubectl' && all[0] !== 'k') return { word, candidates: [] };
  const args = all.slice(1);
  const previous = args.at(-1);
  let namespace: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '--namespace') namespace = args[i + 1];
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (/^-n./.test(a)) namespace = a.slice(2);
    if (a.startsWith('-')) {
      if (FLAGS_WITH_VALUE.has(a)) i++;
      continue;
    }
    positional.push(a);
  }
  if (previous === '-n' || previous === '--namespace')
    return pick(await sources.names('namespaces', undefined));
  if (word.startsWith('-')) return { word, candidates: [] };
  const [sub, ...rest] = positional;
  if (sub === undefined) return pick(ALLOWED_SUBCOMMANDS);
  if (TAKES_POD.has(sub)) return rest.length === 0 ? pick(await sources.names('pods', namespace)) : pick([]);
  if (sub === 'rollout') {
    if (rest.length === 0) return pick(['status', 'history', 'restart', 'undo', 'pause', 'resume']);
    if (rest.length === 1) return pick(await sources.kinds());
    return pick(await sources.names(rest[1]!, namespace));
  }
  if (!TAKES_KIND.has(sub)) return { word, candidates: [] };
  if (rest.length === 0) {
    // `get pod/NAME`: a name after the slash.
    const slash = word.indexOf('/');
    if (slash > 0) {
      const kind = word.slice(0, slash);
      return pick((await sources.names(kind, namespace)).map((n) => `${kind}/${n}`));
    }
    return pick(await sources.kinds());
  }
  const kind = rest[0]!;
  if (kind.includes('/') || kind.includes(',')) return { word, candidates: [] };
  return pick(await sources.names(kind, namespace));
}

/** The longest text every candidate starts with. */
export function commonPrefix(candidates: readonly string[]): string {
  if (candidates.length === 0) return '';
  let prefix = candidates[0]!;
  for (const c of candidates) while (!c.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

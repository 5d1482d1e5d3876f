/**
 * Which kubectl command lines the terminal runs. kubectl runs on the server, so anything that
 * reads or writes the server's files, opens ports, runs other programs or reaches another cluster
 * is refused, each with a sentence saying why and what to do instead. Pure: no I/O.
 *
 * An allow-list of subcommands plus a deny-list of flags. Flags are read the way kubectl's flag
 * library (pflag) reads them: `--name=value` or `--name value`, `_` and `-` alike in names, short
 * flags grouped (`-it`) with a value attached (`-fFILE`, `-f=FILE`) or in the next word, and
 * nothing after `--` is a flag. Where a word could be a flag or a flag's value, it is checked as a
 * flag: a refusal too many is a nuisance, one too few a hole.
 */

export type KubectlVerdict =
  | {
      ok: true;
      argv: string[];
      subcommand: string;
      /** Runs until stopped (`-w`, `logs -f`): no time limit but the session's. */
      streams: boolean;
    }
  | { ok: false; message: string };

const CONFINED = 'this terminal works on your own cluster only, with the credentials kubelab gives it';
const NO_FILES = 'nothing is read from or written to files on the server';

/** Subcommands that run, and the words that follow some of them and are refused. */
export const ALLOWED_SUBCOMMANDS = [
  'get',
  'describe',
  'explain',
  'api-resources',
  'api-versions',
  'version',
  'cluster-info',
  'apply',
  'create',
  'replace',
  'delete',
  'patch',
  'run',
  'expose',
  'scale',
  'autoscale',
  'label',
  'annotate',
  'set',
  'rollout',
  'wait',
  'logs',
  'exec',
  'events',
  'auth',
  'top',
  'certificate',
  'cordon',
  'uncordon',
  'drain',
  'taint',
  'help',
  'options',
];
const ALLOWED = new Set(ALLOWED_SUBCOMMANDS);

/** Refused subcommands, with the reason given. */
export const REFUSED_SUBCOMMANDS: Record<string, string> = {
  cp: `kubectl cp copies files between pods and the server: ${NO_FILES}`,
  proxy: 'kubectl proxy opens a port on the server: not available here',
  'port-forward': 'kubectl port-forward opens a port on the server: not available here',
  attach:
    'kubectl attach needs a terminal on the server side: use kubectl logs, or kubectl exec -it POD -- sh',
  config: `kubectl config reads and writes kubeconfig files: ${CONFINED}`,
  plugin: 'kubectl plugins are other programs on the server: not available here',
  edit: 'kubectl edit opens an editor on the server: change objects with kubectl apply -f - <<EOF (paste the YAML), kubectl patch, kubectl label or kubectl set',
  debug:
    'kubectl debug starts interactive debugging containers: not available here; use kubectl exec -it POD -- sh',
  completion: 'kubectl completion writes shell scripts: this terminal completes with Tab already',
  krew: 'krew installs plugins on the server: not available here',
  kustomize: `kubectl kustomize reads directories on the server: ${NO_FILES}`,
  diff: 'kubectl diff runs a diff program on the server: not available here; compare with kubectl get -o yaml',
  alpha: 'kubectl alpha commands are not available here',
};

/** Words after an allowed subcommand that are refused: [subcommand, word, reason]. */
const REFUSED_SUBSUBCOMMANDS: Array<[string, string, string]> = [
  [
    'apply',
    'edit-last-applied',
    'kubectl apply edit-last-applied opens an editor on the server: use kubectl apply -f - <<EOF',
  ],
  ['cluster-info', 'dump', `kubectl cluster-info dump can write to directories on the server: ${NO_FILES}`],
];

/** Long flags that are refused (names with `-`; kubectl reads `_` as `-`), with the reason. */
export const REFUSED_FLAGS: Record<string, string> = {
  kubeconfig: `--kubeconfig reads another kubeconfig file: ${CONFINED}`,
  context: `--context picks another context: ${CONFINED}`,
  cluster: `--cluster picks another cluster: ${CONFINED}`,
  user: `--user picks other credentials: ${CONFINED}`,
  server: `--server points kubectl at another API server: ${CONFINED}`,
  token: `--token sends other credentials: ${CONFINED}`,
  username: `--username sends other credentials: ${CONFINED}`,
  password: `--password sends other credentials: ${CONFINED}`,
  as: `--as impersonates another user: ${CONFINED}`,
  'as-group': `--as-group impersonates another group: ${CONFINED}`,
  'as-uid': `--as-uid impersonates another user: ${CONFINED}`,
  'certificate-authority': `--certificate-authority reads a file on the server: ${CONFINED}`,
  'client-certificate': `--client-certificate reads a file on the server: ${CONFINED}`,
  'client-key': `--client-key reads a file on the server: ${CONFINED}`,
  'tls-server-name': `--tls-server-name changes how the API server is verified: ${CONFINED}`,
  'insecure-skip-tls-verify': `--insecure-skip-tls-verify changes how the API server is verified: ${CONFINED}`,
  'cache-dir': `--cache-dir writes to a directory on the server: ${NO_FILES}`,
  'log-file': `--log-file writes a file on the server: ${NO_FILES}`,
  'log-dir': `--log-dir writes to a directory on the server: ${NO_FILES}`,
  'log-file-max-size': `--log-file-max-size is about log files on the server: ${NO_FILES}`,
  logtostderr: `--logtostderr is about log files on the server: ${NO_FILES}`,
  alsologtostderr: `--alsologtostderr is about log files on the server: ${NO_FILES}`,
  profile: `--profile writes a profile file on the server: ${NO_FILES}`,
  'profile-output': `--profile-output writes a file on the server: ${NO_FILES}`,
  kustomize: `-k/--kustomize reads a directory on the server: ${NO_FILES}; give YAML with -f - and a heredoc`,
  'from-file': `--from-file reads files on the server: ${NO_FILES}; use --from-literal=KEY=VALUE`,
  'from-env-file': `--from-env-file reads a file on the server: ${NO_FILES}; use --from-literal=KEY=VALUE`,
  'patch-file': `--patch-file reads a file on the server: ${NO_FILES}; give the patch with -p '...'`,
  'output-directory': `--output-directory writes to a directory on the server: ${NO_FILES}`,
  kuberc: `--kuberc reads a preferences file on the server: ${NO_FILES}`,
  edit: '--edit opens an editor on the server: give the final YAML with -f - and a heredoc',
  cert: `--cert reads a certificate file on the server: ${NO_FILES}; create the Secret from YAML with -f - and a heredoc`,
  key: `--key reads a key file on the server: ${NO_FILES}; create the Secret from YAML with -f - and a heredoc`,
};

const FILENAME_REFUSAL = `-f/--filename takes only - here (${NO_FILES}, and URLs are not fetched): end the line with a heredoc, e.g. kubectl apply -f - <<EOF`;
const OUTPUT_FILE_REFUSAL = `output formats that read a template file (go-template-file, jsonpath-file, custom-columns-file) are refused: ${NO_FILES}; give the template inline, e.g. -o jsonpath='{.items[*].metadata.name}'`;

/** Flags allowed before the subcommand (kubectl -n NS get pods), and whether each takes a value. */
const GLOBAL_BEFORE: Record<string, boolean> = {
  namespace: true,
  n: true,
  v: true,
  'request-timeout': true,
  'match-server-version': false,
  'warnings-as-errors': false,
};

/**
 * Short flags that take a value, per subcommand where they differ. A value-taking letter ends its
 * group (pflag: the rest of the group is its value).
 */
function shortTakesValue(sub: string, letter: string): boolean {
  if (sub === 'logs' && (letter === 'f' || letter === 'p')) return false; // --follow, --previous
  if (letter === 'p') return sub === 'patch' || sub === 'exec';
  return ['n', 'l', 'o', 'c', 'f', 'k', 's', 'v', 'L', 'e'].includes(letter);
}

function normalise(name: string): string {
  return name.replace(/_/g, '-');
}

function refuse(message: string): KubectlVerdict {
  return { ok: false, message };
}

/** Checks one kubectl command line (the words after `kubectl`). */
export function checkKubectl(args: readonly string[]): KubectlVerdict {
  // The subcommand is the first word that is not a flag (or a flag's value) before it.
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i]!;
    if (!word.startsWith('-') || word === '-') break;
    if (word === '--') return refuse('kubectl needs a command first, e.g. kubectl get pods');
    const m = /^--?([^=]+)(=.*)?$/.exec(word);
    const name = normalise(m?.[1] ?? '');
    if (REFUSED_FLAGS[name]) return refuse(REFUSED_FLAGS[name]);
    if (name === 's') return refuse(REFUSED_FLAGS.server!);
    if (name === 'k') return refuse(REFUSED_FLAGS.kustomize!);
    const short = /^-[^-]/.test(word);
    const known = short ? (name[0] === 'n' || name[0] === 'v' ? name[0] : undefined) : name;
    if (known === undefined || !(known in GLOBAL_BEFORE))
      return refuse(
        `${word}: put flags after the command (e.g. kubectl get pods ${word}); before it, only -n/--namespace, -v and --request-timeout`,
      );
    const attached = m?.[2] !== undefined || (short && name.length > 1);
    if (GLOBAL_BEFORE[known] && !attached) i++;
  }
  const sub = args[i];
  // `kubectl` alone prints its help.
  if (sub === undefined) return { ok: true, argv: [...args], subcommand: '', streams: false };
  if (REFUSED_SUBCOMMANDS[sub]) return refuse(REFUSED_SUBCOMMANDS[sub]);
  if (!ALLOWED.has(sub))
    return refuse(
      `kubectl ${sub} is not available in this terminal (it runs kubectl's cluster commands only; kubectl help lists them)`,
    );
  const rest = args.slice(i + 1);
  const end = rest.indexOf('--');
  const flagWords = end < 0 ? rest : rest.slice(0, end);
  const positional = flagWords.filter((w) => !w.startsWith('-'));
  for (const [s, word, why] of REFUSED_SUBSUBCOMMANDS)
    if (sub === s && positional[0] === word) return refuse(why);

  let streams = false;
  for (let j = 0; j < flagWords.length; j++) {
    const word = flagWords[j]!;
    if (!word.startsWith('-') || word === '-') continue;
    const next = flagWords[j + 1];
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = normalise(word.slice(2, eq < 0 ? undefined : eq));
      const value = eq < 0 ? undefined : word.slice(eq + 1);
      if (REFUSED_FLAGS[name]) return refuse(REFUSED_FLAGS[name]);
      if (name === 'filename' && (value ?? next) !== '-') return refuse(FILENAME_REFUSAL);
      if (name === 'output' && readsTemplateFile(value ?? next)) return refuse(OUTPUT_FILE_REFUSAL);
      if (name === 'watch' || name === 'watch-only' || (sub === 'logs' && name === 'follow'))
        streams = value === undefined || value === 'true';
      if (sub === 'run' && ['stdin', 'tty', 'attach', 'rm'].includes(name) && value !== 'false')
        return refuse(runInteractive);
      continue;
    }
    // A group of short flags: letters until one that takes a value, which takes the rest.
    const group = word.slice(1);
    for (let k = 0; k < group.length; k++) {
      const letter = group[k]!;
      const takes = shortTakesValue(sub, letter);
      const attached = group.slice(k + 1).replace(/^=/, '');
      const value = takes ? (attached !== '' ? attached : next) : undefined;
      if (letter === 'k') return refuse(REFUSED_FLAGS.kustomize!);
      if (letter === 's') return refuse(REFUSED_FLAGS.server!);
      if (letter === 'f' && takes && value !== '-') return refuse(FILENAME_REFUSAL);
      if (letter === 'o' && readsTemplateFile(value)) return refuse(OUTPUT_FILE_REFUSAL);
      if (letter === 'w' || (sub === 'logs' && letter === 'f')) streams = true;
      if (sub === 'run' && (letter === 'i' || letter === 't')) return refuse(runInteractive);
      if (takes) break;
    }
  }
  return { ok: true, argv: [...args], subcommand: sub, streams };
}

function readsTemplateFile(format: string | undefined): boolean {
  return format !== undefined && /-file(=|$)/.test(format);
}

const runInteractive =
  'kubectl run -i/-t/--attach/--rm attaches a terminal on the server: create the pod with kubectl run NAME --image=IMAGE, then kubectl exec -it NAME -- sh';

/**
 * `kubectl exec -it POD -- sh` (or bash, ash): the terminal opens its own small shell in the pod
 * instead, running each line as a non-interactive exec. Returns what the shell's execs need:
 * the kubectl words before `--` without -i/-t.
 */
export interface ShellTarget {
  /** kubectl args up to (not including) `--`, with -i/-t/--stdin/--tty removed. */
  execArgs: string[];
  /** The pod (or TYPE/NAME) as typed, for the banner. */
  target: string;
}

const SHELLS = new Set(['sh', 'bash', 'ash', '/bin/sh', '/bin/bash', '/bin/ash', '/usr/bin/bash']);

/**
 * Whether these kubectl args ask for an interactive exec; if so, the same exec without -i/-t,
 * and whether the command is a shell.
 */
export function interactiveExec(
  args: readonly string[],
): { shell: ShellTarget } | { plain: string[] } | undefined {
  const end = args.indexOf('--');
  const before = end < 0 ? [...args] : args.slice(0, end);
  const after = end < 0 ? [] : args.slice(end + 1);
  const subAt = before.findIndex((w, k) => !w.startsWith('-') && !isGlobalValue(before, k));
  if (before[subAt] !== 'exec') return undefined;
  let interactive = false;
  const kept: string[] = [];
  for (const word of before) {
    if (word === '--stdin' || word === '--tty' || word === '--stdin=true' || word === '--tty=true') {
      interactive = true;
      continue;
    }
    const group = /^-([it]+)$/.exec(word);
    if (group) {
      interactive = true;
      continue;
    }
    kept.push(word);
  }
  if (!interactive) return undefined;
  if (after.length === 1 && SHELLS.has(after[0]!)) {
    const positional = kept.filter((w, k) => k > subAt && !w.startsWith('-') && !isFlagValue(kept, k));
    return { shell: { execArgs: kept, target: positional[0] ?? '' } };
  }
  return { plain: end < 0 ? kept : [...kept, '--', ...after] };
}

function isGlobalValue(words: readonly string[], k: number): boolean {
  const prev = words[k - 1];
  return prev === '-n' || prev === '--namespace' || prev === '-v' || prev === '--request-timeout';
}

function isFlagValue(words: readonly string[], k: number): boolean {
  const prev = words[k - 1];
  return prev === '-n' || prev === '--namespace' || prev === '-c' || prev === '--container';
}

/**
 * Lab commands on a real cluster: `lab start` deploys a lab's scenario, `lab reset` puts it back,
 * and `lab check` (without --simulated) grades the live cluster with the same grader.
 *
 * Which cluster: the kind cluster kubelab created (`kubelab cluster up`, default name kubelab), or
 * one the learner names with --context / --kubeconfig. A cluster kubelab did not create must prove
 * it enforces NetworkPolicy (the canary) before it is graded: otherwise every "blocked" probe of a
 * wrong policy would connect and the learner would be failed, or worse, passed, on a lie.
 */
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Lab } from '../labs/model.js';
import type { GradeReport } from '../grader/report.js';
import type { ClusterTarget, ProvisionDeps, ProvisionedCluster } from '../cluster/provision.js';
import { provisionDeps, progressPrinter } from './cluster.js';
import { interruptible } from './interrupt.js';
import { formatDuration } from '../cluster/poll.js';

// Loaded when a command runs: the Kubernetes client alone takes most of a second to load, and
// only these commands (not `lab check --simulated`, not --help) need it.
const labs = () => import('../labs/index.js');
const assertEnforcing: typeof import('../cluster/canary.js').assertEnforcing = async (...args) =>
  (await import('../cluster/canary.js')).assertEnforcing(...args);

interface TargetFlags {
  context?: string;
  kubeconfig?: string;
  name?: string;
}

function targetOf(flags: TargetFlags): ClusterTarget {
  return {
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.name ? { name: flags.name } : {}),
  };
}

/** A cluster the learner brought (not the kind cluster `kubelab cluster up` made and checked). */
function isBroughtCluster(target: ClusterTarget, env: NodeJS.ProcessEnv): boolean {
  return target.context !== undefined || target.kubeconfig !== undefined || Boolean(env.KUBELAB_CONTEXT);
}

function withTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--context <name>',
      'kubeconfig context of a cluster you brought (default: the kubelab kind cluster)',
    )
    .option('--kubeconfig <file>', 'kubeconfig file of a cluster you brought')
    .option('--name <name>', 'kind cluster name (default: kubelab)');
}

export function registerRealLabCommands(
  lab: Command,
  io: CliIO,
  overrides: Partial<ProvisionDeps> = {},
): void {
  withTargetOptions(
    lab
      .command('start')
      .description("Deploy a lab's scenario on the real cluster, wait until it is ready, print the task")
      .argument('<lab>', 'lab id'),
  ).action(async (id: string, flags: TargetFlags) => {
    const { loadLab, readLabPage } = await labs();
    const theLab = await loadLab(id);
    const { cluster, target } = await connect(io, flags, overrides);
    const progress = progressPrinter((s) => io.stderr(s));
    if (isBroughtCluster(target, io.env))
      await interruptible(io, (signal) =>
        assertEnforcing(cluster, { ...canaryOptions(overrides, progress), signal }),
      );
    const result = await deployLab(theLab, cluster, false, progress);
    io.stdout(
      `Lab ${theLab.id} is ready on ${cluster.description} (${formatDuration(result.elapsedMs)}).\n\n`,
    );
    io.stdout(await readLabPage(theLab, 'task'));
    io.stdout(
      `\n\nWork in namespace ${theLab.namespace}, e.g. kubectl -n ${theLab.namespace} apply -f np.yaml` +
        `${target.context ? ` --context ${target.context}` : ''}.\n` +
        `When you are done: kubelab lab check ${theLab.id}${flagsText(flags)}\n` +
        `To start over:     kubelab lab reset ${theLab.id}${flagsText(flags)}\n`,
    );
  });

  withTargetOptions(
    lab
      .command('reset')
      .description(
        "Delete the lab's namespaces (and everything you changed in them) and deploy the scenario again",
      )
      .argument('<lab>', 'lab id'),
  ).action(async (id: string, flags: TargetFlags) => {
    const theLab = await (await labs()).loadLab(id);
    const { cluster } = await connect(io, flags, overrides);
    const result = await deployLab(
      theLab,
      cluster,
      true,
      progressPrinter((s) => io.stderr(s)),
    );
    io.stdout(
      `Lab ${theLab.id} was reset on ${cluster.description} (${formatDuration(result.elapsedMs)}).\n`,
    );
  });
}

async function connect(
  io: CliIO,
  flags: TargetFlags,
  overrides: Partial<ProvisionDeps>,
): Promise<{ cluster: ProvisionedCluster; target: ClusterTarget }> {
  const target = targetOf(flags);
  const { openCluster } = await import('../cluster/provision.js');
  return { cluster: await openCluster(target, provisionDeps(io, overrides)), target };
}

async function deployLab(
  lab: Lab,
  cluster: ProvisionedCluster,
  reset: boolean,
  onProgress: ReturnType<typeof progressPrinter>,
) {
  const { loadScenario, readScenarioObjects } = await labs();
  const { deployScenario } = await import('../cluster/deploy.js');
  const scenario = await loadScenario(lab.scenario);
  return deployScenario(
    cluster,
    { name: scenario.name, namespaces: scenario.namespaces, objects: await readScenarioObjects(scenario) },
    { reset, onProgress },
  );
}

function canaryOptions(overrides: Partial<ProvisionDeps>, onProgress: ReturnType<typeof progressPrinter>) {
  return { onProgress, ...(overrides.clock ? { clock: overrides.clock } : {}) };
}

function flagsText(flags: TargetFlags): string {
  return [
    flags.context ? ` --context ${flags.context}` : '',
    flags.kubeconfig ? ` --kubeconfig ${flags.kubeconfig}` : '',
    flags.name ? ` --name ${flags.name}` : '',
  ].join('');
}

/** Grades the live cluster: the canary first on a brought cluster, then the grader with re-probing. */
export async function gradeOnRealCluster(
  lab: Lab,
  io: CliIO,
  flags: TargetFlags,
  overrides: Partial<ProvisionDeps> = {},
): Promise<GradeReport> {
  const { cluster, target } = await connect(io, flags, overrides);
  const progress = progressPrinter((s) => io.stderr(s));
  if (isBroughtCluster(target, io.env))
    await interruptible(io, (signal) =>
      assertEnforcing(cluster, { ...canaryOptions(overrides, progress), signal }),
    );
  const scenario = await (await labs()).loadScenario(lab.scenario);
  const { gradeLab, REAL_CLUSTER_CONCURRENCY, REAL_CLUSTER_SETTLE_MS } = await import('../grader/index.js');
  const clock = overrides.clock;
  return gradeLab({
    lab,
    scenario,
    cluster,
    settleMs: REAL_CLUSTER_SETTLE_MS,
    concurrency: REAL_CLUSTER_CONCURRENCY,
    onProgress: progress,
    ...(clock ? { now: () => clock.now(), sleep: (ms: number) => clock.sleep(ms) } : {}),
  });
}

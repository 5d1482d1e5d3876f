/**
 * `kubelab rbac can-i` and `kubelab rbac who-can`: read Roles, ClusterRoles and their bindings
 * from manifests (the API server's default ClusterRoles and bindings are always there), and
 * answer as the API server's RBAC authorizer would, saying which binding and rule allowed, or
 * why none did.
 *
 * The inputs come first and the question last: `can-i FILE|DIR... VERB RESOURCE[/SUB] [NAME]`.
 * Arguments are inputs for as long as they name existing files or directories (or `-`).
 * Exit codes: can-i 0 yes, 1 no; both 2 for bad input.
 */
// Declaring the commands loads nothing else; the engine and the YAML parser come with the command
// that runs (rbac-run.ts).
import type { Command } from 'commander';
import type { CliIO } from './io.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface CommonOptions {
  namespace: string;
  json?: boolean;
}

export function registerRbac(program: Command, io: CliIO): void {
  const rbac = program
    .command('rbac')
    .description('RBAC engine: who may do what, from Roles, ClusterRoles and their bindings in manifests');

  rbac
    .command('can-i')
    .description('May SUBJECT do VERB on RESOURCE? Says which binding and rule allow it, or why none does')
    .argument('<args...>', 'FILE|DIR|- ... VERB RESOURCE[/SUB] [NAME] (RESOURCE may be a /non-resource/url)')
    .requiredOption('--as <subject>', 'the user: a name, or system:serviceaccount:NAMESPACE:NAME')
    .option(
      '--as-group <group>',
      'a group of the user (repeatable; replaces the implicit ServiceAccount groups)',
      collect,
      [],
    )
    .option('-n, --namespace <ns>', 'the namespace of the request', 'default')
    .option('--json', 'print {"allowed": bool, "reasons": [...]} as JSON')
    .action(async (args: string[], opts: CommonOptions & { as: string; asGroup: string[] }) =>
      (await import('./rbac-run.js')).runCanI(args, opts, io),
    );

  rbac
    .command('who-can')
    .description('Every subject that may do VERB on RESOURCE, with the binding and rule that allow it')
    .argument('<args...>', 'FILE|DIR|- ... VERB RESOURCE[/SUB] [NAME]')
    .option('-n, --namespace <ns>', 'the namespace of the request', 'default')
    .option('--json', 'print {"allowed": bool, "subjects": [...], "reasons": [...]} as JSON')
    .action(async (args: string[], opts: CommonOptions) =>
      (await import('./rbac-run.js')).runWhoCan(args, opts, io),
    );
}

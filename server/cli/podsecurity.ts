/**
 * `kubelab podsecurity check`: read manifests (files, directories, `-`), and say for every Pod and
 * workload whether Pod Security admits it, every violated check with its field path, and the
 * API server's message. The policy is `--level`/`--version` when given, else each object's
 * namespace labels (Namespaces in the inputs), else the cluster default (privileged). A
 * PodSecurityConfiguration among the inputs sets the defaults and exemptions.
 * Exit 0 all admitted, 1 some pod would be rejected, 2 bad input.
 */

// Declaring the command loads nothing else: the engine and the YAML parser come with the command
// that runs (podsecurity-run.ts).
import type { Command } from 'commander';
import { NEWEST_MINOR } from '../podsecurity/version.js';
import type { CliIO } from './io.js';

export interface CheckOptions {
  level?: string;
  version?: string;
  user?: string;
  json?: boolean;
}

export function registerPodSecurity(program: Command, io: CliIO): void {
  const ps = program
    .command('podsecurity')
    .description('Pod Security Admission engine: would the API server admit these pods, and why');
  ps.command('check')
    .description('Check every Pod and workload pod template against Pod Security (baseline / restricted)')
    .argument('<inputs...>', 'YAML/JSON files, directories (read recursively) or - for stdin')
    .option(
      '--level <level>',
      'evaluate at this level (privileged, baseline, restricted) instead of namespace labels',
    )
    .option(
      '--version <version>',
      `policy version with --level: latest (default) or v1.0 ... v1.${NEWEST_MINOR}`,
    )
    .option('--user <name>', 'the requesting user (for username exemptions of a PodSecurityConfiguration)')
    .option('--json', 'print {"allowed": bool, "results": [...]} as JSON')
    .action(async (inputs: string[], opts: CheckOptions) =>
      (await import('./podsecurity-run.js')).runCheck(inputs, opts, io),
    );
}

/**
 * The `kubelab` command. Each area registers its own subcommands (netpol.ts, lab.ts, cluster.ts,
 * serve.ts, doctor.ts); this file only wires them and turns errors into exit codes.
 */
import { Command, CommanderError } from 'commander';
import { isKubelabError, EXIT_CODES } from '../errors.js';
import { registerNetpol } from './netpol.js';
import { registerLab } from './lab.js';
import { registerCluster } from './cluster.js';
import { registerServe } from './serve.js';
import { registerDoctor } from './doctor.js';
import { registerSim } from './sim.js';
import { registerKubeconfig } from './kubeconfig.js';
import { registerPodSecurity } from './podsecurity.js';
import { registerRbac } from './rbac.js';
import { registerExam } from './exam.js';
import type { CliIO } from './io.js';
import { processIO } from './io.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command();
  program
    .name('kubelab')
    .description('Hands-on Kubernetes labs with a grader that explains itself.')
    .version('0.1.0')
    .exitOverride()
    // Root options only before the subcommand, so `podsecurity check --version v1.35` reaches the subcommand.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerNetpol(program, io);
  registerLab(program, io);
  registerCluster(program, io);
  registerServe(program, io);
  registerDoctor(program, io);
  registerSim(program, io);
  registerKubeconfig(program, io);
  registerPodSecurity(program, io);
  registerRbac(program, io);
  registerExam(program, io);
  return program;
}

/** Runs the CLI and returns the exit code (never throws, never prints a stack for user errors). */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end with exit code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : EXIT_CODES.USAGE;
    }
    if (isKubelabError(e)) {
      io.stderr(`kubelab: ${e.format()}\n`);
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr(`kubelab: internal error: ${err.message}\n`);
    if (process.env.KUBELAB_DEBUG) io.stderr(`${err.stack ?? ''}\n`);
    else io.stderr('This is a bug in kubelab. Run again with KUBELAB_DEBUG=1 for details and report it.\n');
    return EXIT_CODES.INTERNAL;
  }
}

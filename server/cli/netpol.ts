/**
 * `kubelab netpol check` and `kubelab netpol matrix`. Declaring them loads nothing else: the engine
 * and the YAML parser are loaded by the command that runs (netpol-run.ts), so every other command
 * starts without them.
 */
import type { Command } from 'commander';
import type { CliIO } from './io.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerNetpol(program: Command, io: CliIO): void {
  const netpol = program
    .command('netpol')
    .description('NetworkPolicy engine: check connections and print reachability matrices from manifests');

  netpol
    .command('check')
    .description(
      'Say whether connections are allowed, and why (every pod pair on every declared port without --probe)',
    )
    .argument('<inputs...>', 'YAML/JSON files, directories (read recursively) or - for stdin')
    .option(
      '--probe <spec>',
      'NS/POD->NS/POD:PORT[/PROTO], PORT a number or a named port, PROTO TCP (default), UDP or SCTP; repeatable. An IP address may stand for either end',
      collect,
      [],
    )
    .option('--json', 'print {"results":[...]} as JSON')
    .action(async (inputs: string[], opts: { probe: string[]; json?: boolean }) =>
      (await import('./netpol-run.js')).runCheck(inputs, opts, io),
    );

  netpol
    .command('matrix')
    .description('Print the full source x destination matrix')
    .argument('<inputs...>', 'YAML/JSON files, directories (read recursively) or - for stdin')
    .option(
      '--port <port>',
      "PORT[/PROTO] to probe on every destination (default: each destination's declared ports)",
    )
    // The list is written out so that --help does not load the engine (a test holds it to MATRIX_FORMATS).
    .option('--format <format>', 'one of table, json, csv, md, dot, summary', 'table')
    .action(async (inputs: string[], opts: { port?: string; format: string }) =>
      (await import('./netpol-run.js')).runMatrix(inputs, opts, io),
    );
}

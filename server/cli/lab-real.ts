/** Real-cluster lab commands (start, reset) and grading the live cluster. */
import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Lab } from '../labs/model.js';
import type { GradeReport } from '../grader/report.js';
import { KubelabError } from '../errors.js';

export function registerRealLabCommands(_lab: Command, _io: CliIO): void {}

export async function gradeOnRealCluster(_lab: Lab, _io: CliIO, _opts: { context?: string }): Promise<GradeReport> {
  throw new KubelabError('ENVIRONMENT', 'grading a real cluster is not wired yet', { hint: 'use --simulated' });
}

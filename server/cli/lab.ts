import type { Command } from 'commander';
import type { CliIO } from './io.js';

// Placeholder until this area's commands land; owned by the lab work.
export function registerLab(_program: Command, _io: CliIO): void {}

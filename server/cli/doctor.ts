import type { Command } from 'commander';
import type { CliIO } from './io.js';

// Placeholder until this area's commands land; owned by the doctor work.
export function registerDoctor(_program: Command, _io: CliIO): void {}

import type { Command } from 'commander';
import type { CliIO } from './io.js';

// Placeholder until this area's commands land; owned by the netpol work.
export function registerNetpol(_program: Command, _io: CliIO): void {}

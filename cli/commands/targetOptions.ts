/** The `--target` / `--tenant` options of the commands that work on several targets at once. */
import type { Command } from 'commander';
import { parseTargetRef, parseTenantName } from '../arguments.js';
import type { TargetFilter } from '../selection.js';

export interface TargetFilterOptions {
  target?: string[];
  tenant?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Adds `--target T` (repeatable) and `--tenant N`. */
export function addTargetFilterOptions(command: Command, what: string): Command {
  return command
    .option('--target <tenant/id>', `only this target (repeatable); default: ${what}`, collect)
    .option('--tenant <name>', 'only the targets of this tenant');
}

export function targetFilterFrom(options: TargetFilterOptions): TargetFilter {
  return {
    targets: (options.target ?? []).map((text) => parseTargetRef(text)),
    ...(options.tenant !== undefined && { tenant: parseTenantName(options.tenant) }),
  };
}

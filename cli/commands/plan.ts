/**
 * `origin-sync plan`: drift per target computed live (registry vs Qlik) with the planner the
 * functions use, through `reconcile(..., { dryRun: true })`: nothing is written anywhere.
 * Exit 0 no drift, 2 drift (like `terraform plan -detailed-exitcode`), 1 error.
 */
import type { Command } from 'commander';
import { describeTarget } from '../../functions/core/model.js';
import type { HoldBackReason } from '../../functions/core/plan.js';
import { reconcile } from '../../functions/engine/reconcile.js';
import { parseCount } from '../arguments.js';
import type { Connection } from '../connection.js';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_OK, type CliContext, type Runner } from '../context.js';
import { explain } from '../errors.js';
import { plural, type Style } from '../output.js';
import { selectTargets, type TenantTargets } from '../selection.js';
import { addTargetFilterOptions, targetFilterFrom, type TargetFilterOptions } from './targetOptions.js';

/** One target in `plan --json` (stable keys). */
export interface TargetPlan {
  target: string;
  tenant: string;
  webIntegrationId: string;
  /** `hasChanges || guardTripped`: what makes `plan` exit 2. */
  drift: boolean;
  /** A write to Qlik is needed. */
  hasChanges: boolean;
  /** The removal guard holds removals back: `apply` needs `--allow-removals`. */
  guardTripped: boolean;
  add: string[];
  remove: string[];
  keep: string[];
  deduplicated: string[];
  heldBack: { origin: string; reason: HoldBackReason; detail: string | null }[];
  /** `validOrigins` in Qlik now, and after an apply of this plan. */
  before: string[];
  after: string[];
  removalLimit: number;
  /** The `--allow-removals` that lets every held-back removal through; `null` when the guard holds nothing. */
  allowRemovalsNeeded: number | null;
  /** Why this target could not be planned; the other fields are then empty. */
  error: string | null;
}

interface PlanOptions extends TargetFilterOptions {
  allowRemovals?: string;
}

const EXAMPLES = `
Exit codes: 0 no drift, 2 drift (changes or removals held back by the guard), 1 error.

Examples:
  $ npx origin-sync plan
  $ npx origin-sync plan --target demo/Abc123
  $ npx origin-sync plan --json | jq '.targets[] | select(.drift)'
  $ npx origin-sync plan --target demo/Abc123 --allow-removals 12   # preview a confirmed apply`;

export function registerPlanCommand(program: Command, run: Runner): void {
  const command = program.command('plan').description('show the drift of each target (registry vs Qlik, computed live); writes nothing');
  addTargetFilterOptions(command, 'every target')
    .option('--allow-removals <n>', 'plan as "apply --allow-removals N" would (raises the removal guard for this plan)')
    .addHelpText('after', EXAMPLES)
    .action(run(plan));
}

async function plan(context: CliContext, options: PlanOptions): Promise<number> {
  const allowRemovals = options.allowRemovals === undefined ? undefined : parseCount(options.allowRemovals, '--allow-removals');
  const filter = targetFilterFrom(options);
  const connection = await context.connection();
  const groups = await selectTargets(connection.registry, filter);
  const plans = await planTargets(context, connection, groups, allowRemovals);
  const drifted = plans.filter((entry) => entry.drift);
  const failed = plans.filter((entry) => entry.error !== null);
  if (context.out.json) {
    context.out.data({ drift: drifted.length > 0, targets: plans });
  } else {
    printPlans(context, plans);
    context.out.line();
    if (plans.length === 0) context.out.line('No targets: add one with "origin-sync targets add".');
    else if (drifted.length === 0 && failed.length === 0) context.out.line(context.out.style.green(`No drift: ${plural(plans.length, 'target')} in sync with the registry.`));
    else if (drifted.length > 0) context.out.line(`Drift on ${drifted.length} of ${plural(plans.length, 'target')}: "origin-sync apply" fixes it.`);
  }
  if (failed.length > 0) return EXIT_ERROR;
  return drifted.length > 0 ? EXIT_DRIFT : EXIT_OK;
}

/** Dry-run reconciles of every selected target; a target that cannot be planned carries its error. */
export async function planTargets(context: CliContext, connection: Connection, groups: readonly TenantTargets[], allowRemovals?: number): Promise<TargetPlan[]> {
  const plans: TargetPlan[] = [];
  for (const group of groups) {
    if (group.targets.length === 0) continue;
    let qlik;
    try {
      qlik = await connection.qlikFor(group.tenant);
    } catch (error) {
      const message = explain(error, connection.explainContext).line;
      for (const target of group.targets) plans.push(failedPlan(target.ref, message));
      continue;
    }
    for (const target of group.targets) {
      try {
        const result = await reconcile(
          target.ref,
          { registry: connection.registry, qlik },
          { cause: context.cause, dryRun: true, ...context.signalOption, ...(allowRemovals !== undefined && { allowRemovals }) },
        );
        if (result.status === 'busy') throw new Error('unexpected busy answer to a dry run');
        const thePlan = result.plan;
        const guarded = thePlan.heldBack.filter((held) => held.reason === 'removal-guard').length;
        plans.push({
          target: describeTarget(target.ref),
          tenant: target.ref.tenant,
          webIntegrationId: target.ref.webIntegrationId,
          drift: thePlan.hasChanges || thePlan.guardTripped,
          hasChanges: thePlan.hasChanges,
          guardTripped: thePlan.guardTripped,
          add: thePlan.add,
          remove: thePlan.remove,
          keep: thePlan.keep,
          deduplicated: thePlan.deduplicated,
          heldBack: thePlan.heldBack.map(({ origin, reason, detail }) => ({ origin, reason, detail: detail ?? null })),
          before: result.before,
          after: result.after,
          removalLimit: thePlan.removalLimit,
          allowRemovalsNeeded: thePlan.guardTripped ? guarded + thePlan.remove.length : null,
          error: null,
        });
      } catch (error) {
        plans.push(failedPlan(target.ref, explain(error, connection.explainContext).line));
      }
    }
  }
  return plans;
}

function failedPlan(ref: { tenant: string; webIntegrationId: string }, error: string): TargetPlan {
  return {
    target: describeTarget(ref),
    tenant: ref.tenant,
    webIntegrationId: ref.webIntegrationId,
    drift: false,
    hasChanges: false,
    guardTripped: false,
    add: [],
    remove: [],
    keep: [],
    deduplicated: [],
    heldBack: [],
    before: [],
    after: [],
    removalLimit: 0,
    allowRemovalsNeeded: null,
    error,
  };
}

const HELD_BACK_LABEL: Record<HoldBackReason, string> = {
  'not-managed': 'left alone: not added by origin-sync',
  'upsert-only': 'kept: mode upsert-only never removes',
  'removal-guard': 'held back by the removal guard',
  'outside-policy': 'not added: outside the target policy',
};

/** `+ added`, `- removed`, `= left alone` lines per target, for people. */
export function printPlans(context: CliContext, plans: readonly TargetPlan[]): void {
  const { style } = context.out;
  for (const entry of plans) {
    if (entry.error !== null) {
      context.out.line(`${style.bold(entry.target)}: ${style.red(`cannot plan: ${entry.error}`)}`);
      continue;
    }
    if (!entry.drift) {
      const alone = entry.heldBack.filter((held) => held.reason === 'not-managed').length;
      context.out.line(`${style.bold(entry.target)}: ${style.green('in sync')} (${plural(entry.before.length, 'origin')}${alone > 0 ? `, ${alone} not ours` : ''})`);
      continue;
    }
    const removals = entry.remove.length + entry.deduplicated.length;
    context.out.line(`${style.bold(entry.target)}: ${style.yellow(`${entry.add.length} to add, ${removals} to remove`)}${entry.guardTripped ? style.red(', removals held back by the guard') : ''}`);
    for (const origin of entry.add) context.out.line(style.green(`  + ${origin}`));
    for (const origin of entry.remove) context.out.line(style.red(`  - ${origin}`));
    for (const origin of entry.deduplicated) context.out.line(style.red(`  - ${origin}  (duplicate)`));
    printHeldBack(context.out.style, entry, (line) => context.out.line(line));
    if (entry.guardTripped) {
      context.out.line(
        `  the guard allows ${entry.removalLimit} removal(s) per run; after review confirm with: origin-sync apply --target ${entry.target} --allow-removals ${entry.allowRemovalsNeeded}`,
      );
    }
  }
}

function printHeldBack(style: Style, entry: TargetPlan, write: (line: string) => void): void {
  for (const held of entry.heldBack) {
    const mark = held.reason === 'removal-guard' ? style.red('  ! ') : '  = ';
    write(`${mark}${held.origin}  ${style.dim(HELD_BACK_LABEL[held.reason])}`);
  }
}

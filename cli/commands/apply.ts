/**
 * `origin-sync apply`: reconcile now, through the same engine as the functions (lease, write
 * budget, verification, audit with cause `cli`). A plan that removes more origins than a target's
 * guard allows is refused unless the operator confirms it: `--allow-removals N` and then `--yes`
 * (or "y" at the prompt on a terminal).
 */
import type { Command } from 'commander';
import { describeTarget } from '../../functions/core/model.js';
import { reconcile } from '../../functions/engine/reconcile.js';
import { parseCount } from '../arguments.js';
import { EXIT_ERROR, EXIT_OK, type CliContext, type Runner } from '../context.js';
import { CliError, explain } from '../errors.js';
import { plural } from '../output.js';
import { confirm } from '../prompt.js';
import { allTargets, selectTargets } from '../selection.js';
import { planTargets, type TargetPlan } from './plan.js';
import { addTargetFilterOptions, targetFilterFrom, type TargetFilterOptions } from './targetOptions.js';

/** One target in `apply --json` (stable keys). */
export interface TargetApply {
  target: string;
  tenant: string;
  webIntegrationId: string;
  /** `changed`/`unchanged`: done; `busy`: another run holds the lease; `held-back`: the guard stopped removals; `failed`: see `error`. */
  status: 'changed' | 'unchanged' | 'busy' | 'held-back' | 'failed';
  /** PATCHes sent to Qlik. */
  writes: number;
  added: string[];
  removed: string[];
  heldBack: { origin: string; reason: string }[];
  before: string[];
  after: string[];
  error: string | null;
}

interface ApplyOptions extends TargetFilterOptions {
  allowRemovals?: string;
  yes: boolean;
}

const EXAMPLES = `
A plan that removes more origins than a target's guard (maxRemovalsPerRun) allows is refused;
review it with "origin-sync plan", then confirm with --allow-removals N (and --yes, or answer
the prompt on a terminal).

Examples:
  $ npx origin-sync apply
  $ npx origin-sync apply --target demo/Abc123
  $ npx origin-sync apply --target demo/Abc123 --allow-removals 12 --yes`;

export function registerApplyCommand(program: Command, run: Runner): void {
  const command = program.command('apply').description('reconcile now: write to Qlik what the plan shows, through the same engine as the functions');
  addTargetFilterOptions(command, 'every target')
    .option('--allow-removals <n>', 'confirm up to N removals per target in this run (over the removal guard)')
    .option('-y, --yes', 'do not ask for confirmation of removals over the guard', false)
    .addHelpText('after', EXAMPLES)
    .action(run(apply));
}

async function apply(context: CliContext, options: ApplyOptions): Promise<number> {
  const allowRemovals = options.allowRemovals === undefined ? undefined : parseCount(options.allowRemovals, '--allow-removals');
  const filter = targetFilterFrom(options);
  const connection = await context.connection();
  const groups = await selectTargets(connection.registry, filter);
  const policyLimit = new Map(allTargets(groups).map((target) => [describeTarget(target.ref), target.policy.maxRemovalsPerRun]));
  const plans = await planTargets(context, connection, groups, allowRemovals);

  const guarded = plans.filter((entry) => entry.guardTripped);
  if (guarded.length > 0) throw guardError(guarded, allowRemovals);
  // Removals over a target's own guard, let through by --allow-removals: a person must say yes.
  const overGuard = plans.filter((entry) => entry.error === null && entry.remove.length > (policyLimit.get(entry.target) ?? 0));
  if (overGuard.length > 0 && !options.yes) await confirmRemovals(context, overGuard);

  const results: TargetApply[] = [];
  const qlikClients = new Map<string, Awaited<ReturnType<typeof connection.qlikFor>>>();
  for (const group of groups) {
    for (const target of group.targets) {
      const name = describeTarget(target.ref);
      const planned = plans.find((entry) => entry.target === name);
      if (planned?.error !== null && planned?.error !== undefined) {
        results.push(failed(target.ref, planned.error));
        continue;
      }
      try {
        let qlik = qlikClients.get(group.tenant.tenant);
        if (!qlik) {
          qlik = await connection.qlikFor(group.tenant);
          qlikClients.set(group.tenant.tenant, qlik);
        }
        const confirmed = overGuard.some((entry) => entry.target === name);
        const result = await reconcile(
          target.ref,
          { registry: connection.registry, qlik },
          { cause: context.cause, ...context.signalOption, ...(confirmed && allowRemovals !== undefined && { allowRemovals }) },
        );
        if (result.status === 'busy') {
          results.push({ ...failed(target.ref, null), status: 'busy' });
          continue;
        }
        results.push({
          target: name,
          tenant: target.ref.tenant,
          webIntegrationId: target.ref.webIntegrationId,
          status: result.guardTripped ? 'held-back' : result.status === 'changed' ? 'changed' : 'unchanged',
          writes: result.writes,
          added: result.after.filter((origin) => !result.before.includes(origin)),
          removed: result.before.filter((origin) => !result.after.includes(origin)),
          heldBack: result.plan.heldBack.map(({ origin, reason }) => ({ origin, reason })),
          before: result.before,
          after: result.after,
          error: null,
        });
      } catch (error) {
        results.push(failed(target.ref, explain(error, connection.explainContext).line));
      }
    }
  }

  if (context.out.json) context.out.data({ targets: results });
  else printResults(context, results);
  return results.every((entry) => entry.status === 'changed' || entry.status === 'unchanged') ? EXIT_OK : EXIT_ERROR;
}

function guardError(guarded: readonly TargetPlan[], allowRemovals: number | undefined): CliError {
  const needed = Math.max(...guarded.map((entry) => entry.allowRemovalsNeeded ?? 0));
  const targets = guarded.map((entry) => `--target ${entry.target}`).join(' ');
  const given = allowRemovals === undefined ? '' : ` (--allow-removals ${allowRemovals} is not enough)`;
  const what =
    guarded.length === 1
      ? `${guarded[0]!.target}: the plan removes ${guarded[0]!.allowRemovalsNeeded} origins, more than the ${guarded[0]!.removalLimit} per run the removal guard allows${given}; nothing was changed`
      : `${guarded.length} targets would remove more origins than their removal guard allows${given}; nothing was changed`;
  return new CliError(what, {
    code: 'removal-guard',
    hint: `review with "origin-sync plan ${targets}", then confirm with "origin-sync apply ${targets} --allow-removals ${needed}"`,
    details: guarded.length === 1 ? [] : guarded.map((entry) => `${entry.target}: ${entry.allowRemovalsNeeded} removals (guard: ${entry.removalLimit})`),
  });
}

async function confirmRemovals(context: CliContext, overGuard: readonly TargetPlan[]): Promise<void> {
  const count = overGuard.reduce((sum, entry) => sum + entry.remove.length, 0);
  if (context.io.stdin.isTTY !== true) {
    throw new CliError(`${plural(count, 'removal')} over the removal guard need confirmation, and stdin is not a terminal; nothing was changed`, {
      code: 'not-confirmed',
      hint: 'add --yes to confirm them',
    });
  }
  const lines = overGuard.flatMap((entry) => [`${entry.target} loses ${plural(entry.remove.length, 'origin')}:`, ...entry.remove.map((origin) => `  - ${origin}`)]);
  context.io.stderr.write(`${lines.join('\n')}\n`);
  if (!(await confirm(context.io, `Remove these ${plural(count, 'origin')}?`))) {
    throw new CliError('not confirmed; nothing was changed', { code: 'not-confirmed' });
  }
}

function failed(ref: { tenant: string; webIntegrationId: string }, error: string | null): TargetApply {
  return {
    target: describeTarget(ref),
    tenant: ref.tenant,
    webIntegrationId: ref.webIntegrationId,
    status: 'failed',
    writes: 0,
    added: [],
    removed: [],
    heldBack: [],
    before: [],
    after: [],
    error,
  };
}

function printResults(context: CliContext, results: readonly TargetApply[]): void {
  const { style } = context.out;
  for (const entry of results) {
    const head = style.bold(entry.target);
    switch (entry.status) {
      case 'changed':
        context.out.line(`${head}: ${style.green('changed')} (${entry.added.length} added, ${entry.removed.length} removed, ${plural(entry.writes, 'write')})`);
        for (const origin of entry.added) context.out.line(style.green(`  + ${origin}`));
        for (const origin of entry.removed) context.out.line(style.red(`  - ${origin}`));
        break;
      case 'unchanged':
        context.out.line(`${head}: in sync, nothing to write`);
        break;
      case 'busy':
        context.out.line(`${head}: ${style.yellow('busy')}: another run holds its lease and will apply the registry; check with "origin-sync status"`);
        break;
      case 'held-back':
        context.out.line(`${head}: ${style.red('removals held back by the guard')}: see "origin-sync plan --target ${entry.target}"`);
        break;
      case 'failed':
        context.out.line(`${head}: ${style.red(`failed: ${entry.error}`)}`);
        break;
    }
  }
  if (results.length === 0) context.out.line('No targets: add one with "origin-sync targets add".');
  else {
    const changed = results.filter((entry) => entry.status === 'changed').length;
    const inSync = results.filter((entry) => entry.status === 'unchanged').length;
    context.out.line();
    context.out.line(`Applied: ${plural(changed, 'target')} changed, ${inSync} already in sync${results.length - changed - inSync > 0 ? `, ${results.length - changed - inSync} not done` : ''}.`);
  }
}

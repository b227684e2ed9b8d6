/** `origin-sync status`: per target, what the registry says and what Qlik shows, side by side. */
import type { Command } from 'commander';
import { describeTarget, type TargetState } from '../../functions/core/model.js';
import type { Policy } from '../../functions/core/policy.js';
import type { WebIntegration } from '../../functions/qlik/index.js';
import { EXIT_ERROR, EXIT_OK, type CliContext, type Runner } from '../context.js';
import { explain } from '../errors.js';
import { leaseJson, leaseSummary, policySummary } from '../format.js';
import { plural, relativeTime } from '../output.js';
import { selectTargets } from '../selection.js';
import { addTargetFilterOptions, targetFilterFrom, type TargetFilterOptions } from './targetOptions.js';

/** One target in `status --json` (stable keys; `null` where there is nothing). */
export interface TargetStatus {
  target: string;
  tenant: string;
  webIntegrationId: string;
  integrationName: string | null;
  policy: Policy;
  desiredVersion: number;
  appliedVersion: number;
  /** `appliedVersion < desiredVersion`: a change is not in Qlik yet. */
  behind: boolean;
  /** `validOrigins` as Qlik shows them; `null` when Qlik could not be read. */
  originsInQlik: string[] | null;
  managedOrigins: string[];
  managedCount: number;
  lastReconcileAt: string | null;
  lastError: string | null;
  lease: { owner: string; expiresAt: string; expired: boolean } | null;
  /** Why Qlik could not be read for this target. */
  qlikError: string | null;
}

const EXAMPLES = `
Examples:
  $ npx origin-sync status
  $ npx origin-sync status --target demo/Abc123 --json
  $ npx origin-sync status --tenant acme --region eu-west-1 --profile ops`;

export function registerStatusCommand(program: Command, run: Runner): void {
  const command = program
    .command('status')
    .description('per target: integration, policy, desired vs applied version, origins in Qlik, managed origins, last reconcile and error, lease');
  addTargetFilterOptions(command, 'every target').addHelpText('after', EXAMPLES).action(run(status));
}

async function status(context: CliContext, options: TargetFilterOptions): Promise<number> {
  const filter = targetFilterFrom(options);
  const connection = await context.connection();
  const groups = await selectTargets(connection.registry, filter);
  const now = new Date();
  const statuses: TargetStatus[] = [];
  for (const group of groups) {
    if (group.targets.length === 0) continue;
    let integrations: Map<string, WebIntegration> | undefined;
    let qlikError: string | undefined;
    try {
      const qlik = await connection.qlikFor(group.tenant);
      integrations = new Map();
      for await (const integration of qlik.list({ limit: 100 })) integrations.set(integration.id, integration);
    } catch (error) {
      qlikError = explain(error, connection.explainContext).line;
    }
    for (const target of group.targets) statuses.push(targetStatus(target, integrations, qlikError, now));
  }

  const unreadable = statuses.filter((entry) => entry.qlikError !== null);
  if (context.out.json) {
    context.out.data({ targets: statuses });
  } else if (statuses.length === 0) {
    context.out.line('No targets yet: add one with "origin-sync targets add --target TENANT/ID --allowed-origin PATTERN".');
  } else {
    printStatus(context, statuses, now);
  }
  for (const entry of unreadable) context.out.warn(`${entry.target}: Qlik could not be read: ${entry.qlikError}`);
  return unreadable.length > 0 ? EXIT_ERROR : EXIT_OK;
}

function targetStatus(target: TargetState, integrations: Map<string, WebIntegration> | undefined, qlikError: string | undefined, now: Date): TargetStatus {
  const integration = integrations?.get(target.ref.webIntegrationId);
  const missing = integrations !== undefined && integration === undefined;
  return {
    target: describeTarget(target.ref),
    tenant: target.ref.tenant,
    webIntegrationId: target.ref.webIntegrationId,
    integrationName: integration?.name ?? null,
    policy: target.policy,
    desiredVersion: target.desiredVersion,
    appliedVersion: target.appliedVersion,
    behind: target.appliedVersion < target.desiredVersion,
    originsInQlik: integration ? [...integration.validOrigins] : null,
    managedOrigins: target.managedOrigins,
    managedCount: target.managedOrigins.length,
    lastReconcileAt: target.lastReconcileAt ?? null,
    lastError: target.lastError ?? null,
    lease: leaseJson(target.lease, now),
    qlikError: qlikError ?? (missing ? 'the web integration does not exist in Qlik (deleted?)' : null),
  };
}

function printStatus(context: CliContext, statuses: readonly TargetStatus[], now: Date): void {
  const { style } = context.out;
  context.out.table(
    ['TARGET', 'INTEGRATION', 'POLICY', 'APPLIED/DESIRED', 'IN QLIK', 'MANAGED', 'LAST RECONCILE', 'LEASE'],
    statuses.map((entry) => [
      entry.target,
      entry.integrationName ?? style.red('?'),
      policySummary(entry.policy),
      entry.behind ? style.yellow(`${entry.appliedVersion}/${entry.desiredVersion} behind`) : style.green(`${entry.appliedVersion}/${entry.desiredVersion}`),
      entry.originsInQlik === null ? style.red('?') : String(entry.originsInQlik.length),
      String(entry.managedCount),
      relativeTime(entry.lastReconcileAt ?? undefined, now),
      entry.lease === null ? 'free' : leaseSummary({ owner: entry.lease.owner, expiresAt: Date.parse(entry.lease.expiresAt) }, now),
    ]),
  );
  const errors = statuses.filter((entry) => entry.lastError !== null);
  if (errors.length > 0) {
    context.out.line();
    for (const entry of errors) context.out.line(`${style.bold(entry.target)} last error: ${style.red(entry.lastError!)}`);
  }
  const behind = statuses.filter((entry) => entry.behind).length;
  context.out.line();
  context.out.line(
    `${plural(statuses.length, 'target')}` +
      (behind > 0 ? `, ${behind} behind (the next scan catches up, or run "origin-sync apply")` : ', all applied') +
      '. Drift against Qlik: "origin-sync plan".',
  );
}

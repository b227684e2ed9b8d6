/**
 * `origin-sync audit`: what changed in Qlik, when, from what to what, and why (the deployment
 * event, the scan or the CLI invocation that caused it); also the inputs rejected at the door
 * and the removals the guard held back.
 */
import type { Command } from 'commander';
import { describeTarget, type AuditEntry } from '../../functions/core/model.js';
import { parseSince } from '../arguments.js';
import { EXIT_OK, type CliContext, type Runner } from '../context.js';
import { causeSummary } from '../format.js';
import { plural, shortTime, wrap } from '../output.js';
import { selectTargets } from '../selection.js';
import { addTargetFilterOptions, targetFilterFrom, type TargetFilterOptions } from './targetOptions.js';

/** One entry in `audit --json` (stable keys; `null` where the kind has nothing). */
export interface AuditRecord {
  time: string;
  target: string;
  tenant: string;
  webIntegrationId: string;
  kind: AuditEntry['kind'];
  cause: { type: 'event' | 'scan' | 'cli'; id: string };
  before: string[] | null;
  after: string[] | null;
  added: string[];
  removed: string[];
  heldBack: { origin: string; reason: string }[];
  reason: string | null;
}

interface AuditOptions extends TargetFilterOptions {
  since: string;
  long: boolean;
}

const EXAMPLES = `
Examples:
  $ npx origin-sync audit
  $ npx origin-sync audit --target demo/Abc123 --since 7d --long
  $ npx origin-sync audit --since 2026-05-01T00:00:00Z --json`;

export function registerAuditCommand(program: Command, run: Runner): void {
  const command = program.command('audit').description('what changed in Qlik, when, before/after and the cause (event id, scan, CLI)');
  addTargetFilterOptions(command, 'every target')
    .option('--since <when>', 'from this long ago (30m, 24h, 7d) or this ISO time', '24h')
    .option('-l, --long', 'also list the origins before and after each change', false)
    .addHelpText('after', EXAMPLES)
    .action(run(audit));
}

async function audit(context: CliContext, options: AuditOptions): Promise<number> {
  const since = parseSince(options.since, '--since', new Date());
  const filter = targetFilterFrom(options);
  const { registry } = await context.connection();
  const entries: AuditEntry[] = [];
  if (filter.targets !== undefined && filter.targets.length > 0) {
    // Named targets must exist (a typo should not look like "nothing happened").
    for (const group of await selectTargets(registry, filter)) {
      for (const target of group.targets) entries.push(...(await registry.listAudit(target.ref.tenant, { webIntegrationId: target.ref.webIntegrationId, since })));
    }
  } else {
    const tenants = filter.tenant !== undefined ? (await selectTargets(registry, filter)).map((group) => group.tenant) : await registry.listTenants();
    for (const tenant of tenants) entries.push(...(await registry.listAudit(tenant.tenant, { since })));
  }
  const records = entries.map(toRecord).sort((a, b) => a.time.localeCompare(b.time) || a.target.localeCompare(b.target));

  if (context.out.json) {
    context.out.data({ since: since.toISOString(), entries: records });
    return EXIT_OK;
  }
  if (records.length === 0) {
    context.out.line(`No changes since ${shortTime(since.toISOString())}.`);
    return EXIT_OK;
  }
  const { style } = context.out;
  context.out.table(
    ['TIME', 'TARGET', 'WHAT', 'CAUSE', 'CHANGES', ...(options.long ? ['BEFORE', 'AFTER'] : ['ORIGINS'])],
    records.map((record) => [
      shortTime(record.time),
      record.target,
      record.kind === 'origins-changed' ? 'changed' : record.kind === 'held-back' ? style.yellow('held back') : style.red('rejected'),
      causeSummary(record.cause),
      changeLines(record, style),
      ...(options.long
        ? [record.before ?? ['-'], record.after ?? ['-']]
        : [record.before === null || record.after === null ? '-' : `${record.before.length} -> ${record.after.length}`]),
    ]),
  );
  context.out.line();
  context.out.line(`${plural(records.length, 'entry', 'entries')} since ${shortTime(since.toISOString())}.`);
  return EXIT_OK;
}

function changeLines(record: AuditRecord, style: CliContext['out']['style']): string[] {
  const lines = [
    ...record.added.map((origin) => style.green(`+ ${origin}`)),
    ...record.removed.map((origin) => style.red(`- ${origin}`)),
    ...record.heldBack.filter((held) => held.reason === 'removal-guard').map((held) => style.yellow(`! ${held.origin} (held back)`)),
  ];
  if (record.reason !== null && record.kind === 'rejected') lines.push(...wrap(record.reason, 60));
  return lines.length > 0 ? lines : ['-'];
}

function toRecord(entry: AuditEntry): AuditRecord {
  return {
    time: entry.time,
    target: describeTarget(entry.ref),
    tenant: entry.ref.tenant,
    webIntegrationId: entry.ref.webIntegrationId,
    kind: entry.kind,
    cause: { type: entry.cause.type, id: entry.cause.id },
    before: entry.before ?? null,
    after: entry.after ?? null,
    added: entry.added ?? [],
    removed: entry.removed ?? [],
    heldBack: entry.heldBack ?? [],
    reason: entry.reason ?? null,
  };
}

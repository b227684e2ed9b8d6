/**
 * `origin-sync scan`: one drift scan now, from this machine, with the engine the drift-scan
 * function runs (`scanTenant`: one paginated list per tenant, reconcile what drifted, is behind,
 * or was left leased). `--json` prints the summary in the same shape the function logs.
 */
import type { Command } from 'commander';
import type { Tenant } from '../../functions/core/model.js';
import { scanNeedsAttention, scanTenant, summariseScan, type ScanSummary, type TenantScan } from '../../functions/engine/scan.js';
import { TenantNotFoundError } from '../../functions/registry/errors.js';
import type { Registry } from '../../functions/registry/registry.js';
import { parseTenantName } from '../arguments.js';
import { EXIT_ERROR, EXIT_OK, type CliContext, type Runner } from '../context.js';
import { explain } from '../errors.js';
import { plural } from '../output.js';

/** `scan --json`: the drift-scan function's summary. */
export type CliScanSummary = ScanSummary;

const EXAMPLES = `
Exit codes: 0 scanned (drift found is repaired, or held back by the guard), 1 a target or
tenant failed or an integration is missing.

Examples:
  $ npx origin-sync scan
  $ npx origin-sync scan --tenant acme --json`;

export function registerScanCommand(program: Command, run: Runner): void {
  program
    .command('scan')
    .description('run the drift scan once now (repairs drift, as the scheduled scan does) and print its summary')
    .option('--tenant <name>', 'only this tenant')
    .addHelpText('after', EXAMPLES)
    .action(run(scan));
}

async function scan(context: CliContext, options: { tenant?: string }): Promise<number> {
  const started = Date.now();
  const scanId = context.invocationId;
  const connection = await context.connection();
  const { registry } = connection;
  const tenants = options.tenant === undefined ? await registry.listTenants() : [await requireTenant(registry, parseTenantName(options.tenant))];
  tenants.sort((a, b) => a.tenant.localeCompare(b.tenant));

  const progress = context.out.progress();
  const scans: TenantScan[] = [];
  const tenantsFailed: ScanSummary['tenantsFailed'] = [];
  try {
    for (const [index, tenant] of tenants.entries()) {
      const label = `scanning ${tenant.tenant}${tenants.length > 1 ? ` (tenant ${index + 1}/${tenants.length})` : ''}`;
      progress.update(`${label}…`);
      try {
        const qlik = await connection.qlikFor(tenant);
        progress.update(`${label}…`);
        const onTargetScanned = (scanned: number, total: number) => progress.update(`${label}: ${scanned}/${plural(total, 'target')}`);
        scans.push(await scanTenant(tenant, { registry, qlik }, { scanId, onTargetScanned, ...context.signalOption }));
      } catch (error) {
        tenantsFailed.push({ tenant: tenant.tenant, error: explain(error, connection.explainContext).line });
      }
    }
  } finally {
    progress.stop();
  }

  const summary = summariseScan(scanId, tenants.length, scans, tenantsFailed, started);

  if (context.out.json) context.out.data(summary);
  else printSummary(context, summary);
  return scanNeedsAttention(summary) ? EXIT_ERROR : EXIT_OK;
}

async function requireTenant(registry: Registry, name: string): Promise<Tenant> {
  const tenant = await registry.getTenant(name);
  if (!tenant) throw new TenantNotFoundError(name);
  return tenant;
}


function printSummary(context: CliContext, summary: CliScanSummary): void {
  const { style } = context.out;
  context.out.line(
    `Scanned ${plural(summary.tenants, 'tenant')}, ${plural(summary.targetsScanned, 'target')} in ${(summary.durationMs / 1000).toFixed(1)} s: ` +
      `${summary.drifted} drifted, ${summary.repaired} repaired, ${summary.heldBack} held back, ${summary.busy} busy, ${summary.failed} failed.`,
  );
  if (summary.findings.length > 0) {
    context.out.line();
    context.out.table(
      ['TARGET', 'REASONS', 'OUTCOME', 'ERROR'],
      summary.findings.map((finding) => [
        finding.target,
        finding.reasons.length === 0 ? '-' : finding.reasons.join(', '),
        finding.outcome === 'repaired' ? style.green(finding.outcome) : finding.outcome === 'failed' || finding.outcome === 'missing' ? style.red(finding.outcome) : style.yellow(finding.outcome),
        finding.error ?? '',
      ]),
    );
  }
  for (const failed of summary.tenantsFailed) context.out.line(style.red(`tenant ${failed.tenant} could not be scanned: ${failed.error}`));
  if (summary.heldBack > 0) context.out.note('Removals held back by the guard: review with "origin-sync plan", confirm with "origin-sync apply --allow-removals N".');
}

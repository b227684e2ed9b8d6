import { desiredState } from '../core/desired.js';
import { describeTarget, type TargetRef, type TargetState, type Tenant } from '../core/model.js';
import { plan } from '../core/plan.js';
import type { WebIntegration, WebIntegrationsApi } from '../qlik/types.js';
import type { Registry } from '../registry/registry.js';
import { reconcile, type ReconcileResult } from './reconcile.js';

/** Why the scan decided a target needs a reconcile. */
export type ScanReason = 'drifted' | 'behind' | 'lease-expired' | 'guard';

export interface TargetFinding {
  ref: TargetRef;
  reasons: ScanReason[];
  outcome: 'in-sync' | 'repaired' | 'unchanged' | 'held-back' | 'busy' | 'missing' | 'failed';
  error?: string;
}

export interface TenantScan {
  tenant: string;
  /** Integrations Qlik listed (all pages). */
  integrations: number;
  findings: TargetFinding[];
}

export interface ScanDependencies {
  registry: Registry;
  qlik: WebIntegrationsApi;
  leaseDurationMs?: number;
  now?: () => Date;
}

export interface ScanOptions {
  scanId: string;
  signal?: AbortSignal;
  /** Targets reconciled at once (default 4; writes are paced by the write budget anyway). */
  concurrency?: number;
  /** Called after each target is compared (and reconciled if needed), for progress displays. */
  onTargetScanned?: (scanned: number, total: number) => void;
}

/**
 * Drift scan of one tenant: one paginated list call for all its integrations (not a GET per
 * integration), then each target is compared with its desired state and reconciled when it
 * drifted, is behind, has an expired lease, or registrations expired (which shows as drift).
 */
export async function scanTenant(tenant: Tenant, deps: ScanDependencies, options: ScanOptions): Promise<TenantScan> {
  const now = deps.now ?? (() => new Date());
  const targets = await deps.registry.listTargets(tenant.tenant);
  const integrations = new Map<string, WebIntegration>();
  if (targets.length > 0) {
    for await (const integration of deps.qlik.list({ limit: 100 }, options.signal ? { signal: options.signal } : {})) {
      integrations.set(integration.id, integration);
    }
  }
  let scanned = 0;
  const findings = await mapWithConcurrency(targets, options.concurrency ?? 4, async (target) => {
    const finding = await scanTarget(target, integrations.get(target.ref.webIntegrationId), deps, options, now);
    options.onTargetScanned?.(++scanned, targets.length);
    return finding;
  });
  return { tenant: tenant.tenant, integrations: integrations.size, findings };
}

async function scanTarget(
  target: TargetState,
  integration: WebIntegration | undefined,
  deps: ScanDependencies,
  options: ScanOptions,
  now: () => Date,
): Promise<TargetFinding> {
  const { ref } = target;
  if (!integration) return { ref, reasons: [], outcome: 'missing', error: 'the web integration no longer exists in Qlik' };
  try {
    const desired = desiredState(await deps.registry.listRegistrations(ref), now());
    const thePlan = plan(desired.origins, integration.validOrigins, target.managedOrigins, target.policy);
    const reasons: ScanReason[] = [];
    if (thePlan.hasChanges) reasons.push('drifted');
    if (target.appliedVersion < target.desiredVersion) reasons.push('behind');
    if (target.lease && target.lease.expiresAt < now().getTime()) reasons.push('lease-expired');
    if (thePlan.guardTripped) reasons.push('guard');
    if (reasons.length === 0) return { ref, reasons, outcome: 'in-sync' };

    const result: ReconcileResult = await reconcile(
      ref,
      {
        registry: deps.registry,
        qlik: deps.qlik,
        ...(deps.leaseDurationMs !== undefined && { leaseDurationMs: deps.leaseDurationMs }),
        now,
      },
      { cause: { type: 'scan', id: options.scanId }, ...(options.signal && { signal: options.signal }) },
    );
    if (result.status === 'busy') return { ref, reasons, outcome: 'busy' };
    if (result.guardTripped) return { ref, reasons, outcome: 'held-back' };
    return { ref, reasons, outcome: result.status === 'changed' ? 'repaired' : 'unchanged' };
  } catch (error) {
    return { ref, reasons: [], outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

/** What one scan found over all tenants: the summary the function logs and the CLI prints. */
export interface ScanSummary {
  scanId: string;
  tenants: number;
  tenantsFailed: { tenant: string; error: string }[];
  targetsScanned: number;
  /** Targets with any reason to reconcile. */
  drifted: number;
  repaired: number;
  heldBack: number;
  busy: number;
  failed: number;
  missingIntegrations: string[];
  /** Every target not found in sync (`error` is null when there is none: stable keys for scripts). */
  findings: { target: string; reasons: ScanReason[]; outcome: TargetFinding['outcome']; error: string | null }[];
  durationMs: number;
}

export function summariseScan(
  scanId: string,
  tenantCount: number,
  scans: readonly TenantScan[],
  tenantsFailed: ScanSummary['tenantsFailed'],
  startedAt: number,
): ScanSummary {
  const findings = scans.flatMap((scan) => scan.findings);
  const count = (outcome: TargetFinding['outcome']) => findings.filter((finding) => finding.outcome === outcome).length;
  return {
    scanId,
    tenants: tenantCount,
    tenantsFailed,
    targetsScanned: findings.length,
    drifted: findings.filter((finding) => finding.reasons.length > 0).length,
    repaired: count('repaired'),
    heldBack: count('held-back'),
    busy: count('busy'),
    failed: count('failed'),
    missingIntegrations: findings.filter((finding) => finding.outcome === 'missing').map((finding) => describeTarget(finding.ref)),
    findings: findings
      .filter((finding) => finding.outcome !== 'in-sync')
      .map(({ ref, reasons, outcome, error }) => ({ target: describeTarget(ref), reasons, outcome, error: error ?? null })),
    durationMs: Date.now() - startedAt,
  };
}

/** Whether a scan found something an operator must look at. */
export function scanNeedsAttention(summary: ScanSummary): boolean {
  return summary.failed + summary.tenantsFailed.length + summary.missingIntegrations.length > 0;
}

async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

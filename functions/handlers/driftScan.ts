/**
 * drift-scan: on a schedule, compares every target with Qlik and repairs what drifted, what is
 * behind, what a dead invocation left leased, and what expired. One paginated list call per
 * tenant, one summary log line and one set of metrics per scan.
 */
import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { scanNeedsAttention, scanTenant, summariseScan, type ScanSummary, type TenantScan } from '../engine/scan.js';
import { functionDependencies } from '../runtime/dependencies.js';
import { logger, metrics } from '../runtime/observability.js';
import { METRICS, readSettings } from '../runtime/settings.js';
import { invocationDeadline } from './deadline.js';
import { qlikFor } from './qlikForTenant.js';
import { tenantCredentials, type CredentialsContext } from './tenantCredentials.js';

export type { ScanSummary };

/** The scan stops this long before Lambda's timeout, leaving time to release leases and log the summary. */
const DEADLINE_MARGIN_MS = 10_000;

async function handleScheduledScan(event: ScheduledEvent | undefined, context: CredentialsContext): Promise<ScanSummary> {
  const signal = invocationDeadline(context, DEADLINE_MARGIN_MS);
  const started = Date.now();
  const scanId = typeof event?.id === 'string' && event.id.length > 0 ? event.id : randomUUID();
  const { registry, tenants, settings } = functionDependencies();
  logger.appendKeys({ scanId });

  const scans: TenantScan[] = [];
  const tenantsFailed: ScanSummary['tenantsFailed'] = [];
  const all = await tenants.all();
  // Start at a different tenant each scan: when a scan runs out of time, it is not always the
  // same tenants at the end of the list that go unscanned.
  const offset = all.length === 0 ? 0 : Math.floor(Math.random() * all.length);
  for (const tenant of [...all.slice(offset), ...all.slice(0, offset)]) {
    try {
      const qlik = await qlikFor(tenant, context, signal);
      scans.push(await scanTenant(tenant, { registry, qlik, leaseDurationMs: settings.leaseDurationMs }, { scanId, signal }));
    } catch (error) {
      logger.error('tenant could not be scanned', { tenant: tenant.tenant, error: error as Error });
      tenantsFailed.push({ tenant: tenant.tenant, error: (error as Error).message });
    }
  }

  const summary = summariseScan(scanId, all.length, scans, tenantsFailed, started);

  metrics.addMetric(METRICS.targetsScanned, MetricUnit.Count, summary.targetsScanned);
  metrics.addMetric(METRICS.targetsDrifted, MetricUnit.Count, summary.drifted);
  metrics.addMetric(METRICS.targetsRepaired, MetricUnit.Count, summary.repaired);
  metrics.addMetric(METRICS.targetsHeldBack, MetricUnit.Count, summary.heldBack);
  metrics.addMetric(METRICS.targetsFailed, MetricUnit.Count, summary.failed + tenantsFailed.length);
  metrics.addMetric(METRICS.integrationsMissing, MetricUnit.Count, summary.missingIntegrations.length);
  // A scan that reached every tenant counts as successful; the stack alarms when none is seen.
  if (tenantsFailed.length === 0) metrics.addMetric(METRICS.scansSucceeded, MetricUnit.Count, 1);

  const level = scanNeedsAttention(summary) ? 'warn' : 'info';
  logger[level]('drift scan finished', { summary });
  return summary;
}

export const handler = middy<ScheduledEvent | undefined, ScanSummary, Error, CredentialsContext>({
  // The deadline is per invocation (invocationDeadline), not middy's process-wide one.
  timeoutEarlyInMillis: 0,
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(tenantCredentials({ tenants: readSettings().tenants }))
  .handler(handleScheduledScan);

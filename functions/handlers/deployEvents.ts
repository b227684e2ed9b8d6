/**
 * deploy-events: an EventBridge deployment event (`App Deployed` / `App Removed`) registers or
 * removes an app's origins and reconciles its target.
 *
 * Bad input (malformed event, origin outside the policy, unknown tenant or target) is terminal:
 * logged with the reason, counted, audited when the target exists, and not retried. Transient
 * failures (Qlik 5xx/429 after the client's retries, DynamoDB errors) throw, so Lambda retries the
 * event and the rule's dead-letter queue keeps it; the drift scan is the safety net.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { describeTarget, type TargetRef } from '../core/model.js';
import { RejectedInputError } from '../engine/errors.js';
import { reconcile, type ReconcileResult } from '../engine/reconcile.js';
import { registerDeployment } from '../engine/registerDeployment.js';
import { TargetNotFoundError } from '../registry/errors.js';
import { functionDependencies } from '../runtime/dependencies.js';
import { logger, metrics } from '../runtime/observability.js';
import { METRICS, readSettings } from '../runtime/settings.js';
import { parseDeploymentEvent } from './deploymentEvent.js';
import { invocationDeadline } from './deadline.js';
import { isTerminal, summariseReconcile } from './outcomes.js';
import { qlikFor, tenantOf } from './qlikForTenant.js';
import { tenantCredentials, type CredentialsContext } from './tenantCredentials.js';

export type DeployEventOutcome =
  | { status: 'rejected'; reason: string }
  | { status: 'ignored'; reason: 'stale'; target: string }
  | { status: 'applied' | 'duplicate'; target: string; reconcile: ReturnType<typeof summariseReconcile> | { status: 'failed'; error: string } };

/** Work stops this long before Lambda's timeout, leaving time to release the lease and log. */
const DEADLINE_MARGIN_MS = 5_000;

async function handleDeploymentEvent(event: EventBridgeEvent<string, unknown>, context: CredentialsContext): Promise<DeployEventOutcome> {
  const signal = invocationDeadline(context, DEADLINE_MARGIN_MS);
  const { registry } = functionDependencies();
  const parsed = parseDeploymentEvent(event);
  if (!parsed.ok) {
    const known = parsed.tenant !== undefined && parsed.webIntegrationId !== undefined ? { tenant: parsed.tenant, webIntegrationId: parsed.webIntegrationId } : undefined;
    return reject(parsed.reason, eventIdOf(event), known);
  }
  const { request } = parsed;
  const target = describeTarget(request.ref);
  logger.appendKeys({ target, appId: request.appId, eventId: request.eventId });

  let registered;
  try {
    await tenantOf(request.ref);
    registered = await registerDeployment(registry, request);
  } catch (error) {
    if (error instanceof RejectedInputError || error instanceof TargetNotFoundError) {
      return reject(error.message, request.eventId, error instanceof TargetNotFoundError ? undefined : request.ref);
    }
    throw error;
  }
  if (registered.outcome.status === 'stale') {
    logger.info('older event ignored: a newer one for this app is recorded', { storedEventTime: registered.outcome.storedEventTime });
    metrics.addMetric(METRICS.eventsIgnored, MetricUnit.Count, 1);
    return { status: 'ignored', reason: 'stale', target };
  }
  metrics.addMetric(METRICS.eventsAccepted, MetricUnit.Count, 1);
  logger.info(request.kind === 'deploy' ? 'app registered' : 'app removed', {
    origins: registered.origins,
    duplicate: registered.outcome.status === 'duplicate',
  });

  // A duplicate is reconciled too: it may be Lambda's retry of an invocation that recorded the
  // registration and then failed to reach Qlik.
  try {
    const tenant = await tenantOf(request.ref);
    const result = await reconcile(
      request.ref,
      { registry, qlik: await qlikFor(tenant, context, signal), leaseDurationMs: functionDependencies().settings.leaseDurationMs },
      { cause: { type: 'event', id: request.eventId }, signal },
    );
    logReconcile(result);
    return { status: registered.outcome.status, target, reconcile: summariseReconcile(result) };
  } catch (error) {
    if (!isTerminal(error)) throw error;
    // The registration is safe in the registry; retrying cannot fix this (revoked key, missing
    // integration, broken secret): record it and let the scan repair once an operator fixes it.
    logger.error('reconcile failed; the registration is kept and the scan retries', { error: error as Error });
    metrics.addMetric(METRICS.targetsFailed, MetricUnit.Count, 1);
    return { status: registered.outcome.status, target, reconcile: { status: 'failed', error: (error as Error).message } };
  }
}

async function reject(reason: string, eventId: string, ref: TargetRef | undefined): Promise<DeployEventOutcome> {
  logger.warn('deployment event rejected', { reason });
  metrics.addMetric(METRICS.eventsRejected, MetricUnit.Count, 1);
  if (ref && (await functionDependencies().registry.getTarget(ref).catch(() => undefined))) {
    await functionDependencies().registry.appendAudit({
      ref,
      time: new Date().toISOString(),
      kind: 'rejected',
      cause: { type: 'event', id: eventId },
      reason,
    });
  }
  return { status: 'rejected', reason };
}

function logReconcile(result: ReconcileResult): void {
  if (result.status === 'busy') {
    logger.info('target is being reconciled by another invocation; it will apply this change');
    return;
  }
  metrics.addMetric(METRICS.reconciles, MetricUnit.Count, 1);
  if (result.writes > 0) metrics.addMetric(METRICS.originsWritten, MetricUnit.Count, result.writes);
  logger.info('reconciled', summariseReconcile(result));
}

function eventIdOf(event: unknown): string {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, 256) : 'unknown';
}

export const handler = middy<EventBridgeEvent<string, unknown>, DeployEventOutcome, Error, CredentialsContext>({
  // The deadline is per invocation (invocationDeadline), not middy's process-wide one.
  timeoutEarlyInMillis: 0,
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .use(tenantCredentials({ tenants: readSettings().tenants }))
  .use({
    onError: async (request) => {
      // Transient: rethrown by middy so Lambda retries and the dead-letter queue keeps the event.
      logger.error('deployment event failed; Lambda will retry it', { error: request.error as Error });
    },
  })
  .handler(handleDeploymentEvent);

import { CredentialsError } from '../credentials/tenantSecret.js';
import type { ReconcileResult } from '../engine/reconcile.js';
import { RejectedInputError } from '../engine/errors.js';
import { QlikApiError } from '../qlik/errors.js';
import { TargetNotFoundError, TenantNotFoundError } from '../registry/errors.js';

/**
 * Errors that no retry can fix: bad input, missing configuration, a secret that is missing or
 * malformed, or a Qlik answer that is a final 4xx (revoked key, missing integration). Everything
 * else (Qlik 5xx/429 after retries, network, DynamoDB) is transient.
 */
export function isTerminal(error: unknown): boolean {
  if (error instanceof RejectedInputError || error instanceof TargetNotFoundError || error instanceof TenantNotFoundError) return true;
  if (error instanceof CredentialsError) return !error.retryable;
  if (error instanceof QlikApiError) return !error.retryable;
  return false;
}

/** The part of a reconcile result worth logging and returning: counts and the plan's decisions. */
export function summariseReconcile(result: ReconcileResult) {
  if (result.status === 'busy') return { status: result.status };
  const { plan } = result;
  return {
    status: result.status,
    passes: result.passes,
    writes: result.writes,
    added: plan.add,
    removed: plan.remove,
    heldBack: plan.heldBack.map(({ origin, reason }) => ({ origin, reason })),
    guardTripped: result.guardTripped,
    validOrigins: result.after,
  };
}

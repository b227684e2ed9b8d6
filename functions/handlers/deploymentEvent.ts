import { z } from 'zod';
import { DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED } from '../events.js';
import type { DeploymentRequest } from '../engine/registerDeployment.js';

/**
 * The deployment event contract (DESIGN §4), validated before anything else happens. Limits are
 * generous for real pipelines and small enough that a hostile event cannot make us do much work.
 */
const name = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(128, `${what} must be at most 128 characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, `${what} may hold only letters, digits and . _ : - (and start with a letter or digit)`);

const isoTime = (what: string) => z.iso.datetime({ offset: true, error: `${what} must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z` });

const target = {
  tenant: z.string({ error: 'tenant must be a string' }).regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant must be a lower-case name of at most 63 characters (a-z, 0-9, -)'),
  webIntegrationId: name('webIntegrationId'),
  appId: name('appId'),
  deploymentId: name('deploymentId').optional(),
};

const deployedDetail = z.object({
  ...target,
  // Each origin is checked by the origin rules and the target's policy, with a reason per origin.
  origins: z.array(z.unknown(), { error: 'origins must be an array of origin strings' }).min(1, 'origins must name at least one origin').max(100, 'origins may name at most 100 origins'),
  expiresAt: isoTime('expiresAt').optional(),
});

const removedDetail = z.object(target);

const envelope = z.object({
  id: z.string({ error: 'the event has no id' }).min(1).max(256),
  source: z.string({ error: 'the event has no source' }).min(1),
  'detail-type': z.enum([DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED], { error: `detail-type must be "${DETAIL_TYPE_DEPLOYED}" or "${DETAIL_TYPE_REMOVED}"` }),
  time: isoTime('time'),
  detail: z.record(z.string(), z.unknown(), { error: 'detail must be a JSON object' }),
});

export type ParsedDeploymentEvent = { ok: true; request: DeploymentRequest } | { ok: false; reason: string; tenant?: string; webIntegrationId?: string };

/** Validates an EventBridge deployment event into a request, or says what is wrong with it. */
export function parseDeploymentEvent(event: unknown): ParsedDeploymentEvent {
  const outer = envelope.safeParse(event);
  if (!outer.success) return { ok: false, reason: describe(outer.error) };
  const { id, time, detail } = outer.data;
  const hint = {
    ...(typeof detail.tenant === 'string' && { tenant: detail.tenant.slice(0, 64) }),
    ...(typeof detail.webIntegrationId === 'string' && { webIntegrationId: detail.webIntegrationId.slice(0, 128) }),
  };
  if (outer.data['detail-type'] === DETAIL_TYPE_DEPLOYED) {
    const inner = deployedDetail.safeParse(detail);
    if (!inner.success) return { ok: false, reason: describe(inner.error, 'detail'), ...hint };
    const { tenant, webIntegrationId, appId, origins, deploymentId, expiresAt } = inner.data;
    return {
      ok: true,
      request: {
        kind: 'deploy',
        ref: { tenant, webIntegrationId },
        appId,
        origins,
        eventId: id,
        eventTime: time,
        ...(deploymentId !== undefined && { deploymentId }),
        ...(expiresAt !== undefined && { expiresAt }),
      },
    };
  }
  const inner = removedDetail.safeParse(detail);
  if (!inner.success) return { ok: false, reason: describe(inner.error, 'detail'), ...hint };
  const { tenant, webIntegrationId, appId, deploymentId } = inner.data;
  return {
    ok: true,
    request: { kind: 'remove', ref: { tenant, webIntegrationId }, appId, eventId: id, eventTime: time, ...(deploymentId !== undefined && { deploymentId }) },
  };
}

/** zod issues as one sentence with paths; never echoes the input values. */
function describe(error: z.ZodError, prefix?: string): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

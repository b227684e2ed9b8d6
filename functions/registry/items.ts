import { z } from 'zod';
import type { AuditEntry, Registration, TargetState, Tenant } from '../core/model.js';
import { parsePolicy } from '../core/policy.js';
import { RegistryError } from './errors.js';

/**
 * Items read from the table are checked before the engine trusts them: a hand-edited or
 * half-migrated item fails with a message naming the item and the field, not deep in a plan.
 */

const tenantItem = z.object({ tenant: z.string().min(1), url: z.url(), secretId: z.string().min(1) });

const targetItem = z.object({
  tenant: z.string().min(1),
  webIntegrationId: z.string().min(1),
  policy: z.unknown(),
  desiredVersion: z.number().int().min(0),
  appliedVersion: z.number().int().min(0),
  managedOrigins: z.array(z.string()),
  lastReconcileAt: z.string().optional(),
  lastError: z.string().optional(),
  leaseOwner: z.string().optional(),
  leaseExpiresAt: z.number().optional(),
  nextExpiryAt: z.string().optional(),
});

const registrationItem = z.object({
  tenant: z.string().min(1),
  webIntegrationId: z.string().min(1),
  appId: z.string().min(1),
  origins: z.array(z.string()),
  state: z.enum(['active', 'removed']),
  eventTime: z.string(),
  eventId: z.string(),
  expiresAt: z.string().optional(),
  deploymentId: z.string().optional(),
});

const auditItem = z.object({
  ref: z.object({ tenant: z.string(), webIntegrationId: z.string() }),
  time: z.string(),
  kind: z.enum(['origins-changed', 'rejected', 'held-back']),
  cause: z.object({ type: z.enum(['event', 'scan', 'cli']), id: z.string() }),
  before: z.array(z.string()).optional(),
  after: z.array(z.string()).optional(),
  added: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
  heldBack: z.array(z.object({ origin: z.string(), reason: z.string() })).optional(),
  reason: z.string().optional(),
});

function parseItem<T>(schema: z.ZodType<T>, item: Record<string, unknown>, what: string): T {
  const result = schema.safeParse(item);
  if (!result.success) {
    throw new RegistryError(`registry item ${String(item.pk)} / ${String(item.sk)} is not a valid ${what}: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

export function tenantFromItem(item: Record<string, unknown>): Tenant {
  const { tenant, url, secretId } = parseItem(tenantItem, item, 'tenant');
  return { tenant, url, secretId };
}

export function targetFromItem(item: Record<string, unknown>): TargetState {
  const parsed = parseItem(targetItem, item, 'target');
  let policy;
  try {
    policy = parsePolicy(parsed.policy);
  } catch (error) {
    throw new RegistryError(`registry item ${String(item.pk)} / ${String(item.sk)} has an invalid policy: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    ref: { tenant: parsed.tenant, webIntegrationId: parsed.webIntegrationId },
    policy,
    desiredVersion: parsed.desiredVersion,
    appliedVersion: parsed.appliedVersion,
    managedOrigins: parsed.managedOrigins,
    ...(parsed.lastReconcileAt !== undefined && { lastReconcileAt: parsed.lastReconcileAt }),
    ...(parsed.lastError !== undefined && { lastError: parsed.lastError }),
    ...(parsed.leaseOwner !== undefined && { lease: { owner: parsed.leaseOwner, expiresAt: parsed.leaseExpiresAt ?? 0 } }),
    ...(parsed.nextExpiryAt !== undefined && { nextExpiryAt: parsed.nextExpiryAt }),
  };
}

export function registrationFromItem(item: Record<string, unknown>): Registration {
  const parsed = parseItem(registrationItem, item, 'registration');
  return {
    ref: { tenant: parsed.tenant, webIntegrationId: parsed.webIntegrationId },
    appId: parsed.appId,
    origins: parsed.origins,
    state: parsed.state,
    eventTime: parsed.eventTime,
    eventId: parsed.eventId,
    ...(parsed.expiresAt !== undefined && { expiresAt: parsed.expiresAt }),
    ...(parsed.deploymentId !== undefined && { deploymentId: parsed.deploymentId }),
  };
}

export function auditFromItem(item: Record<string, unknown>): AuditEntry {
  return parseItem(auditItem, item, 'audit entry') as AuditEntry;
}

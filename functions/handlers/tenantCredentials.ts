import type { MiddlewareObj, Request } from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { getInternal } from '@middy/util';
import type { Context } from 'aws-lambda';
import type { Tenant } from '../core/model.js';
import { CredentialsError, parseTenantSecretValue } from '../credentials/tenantSecret.js';
import type { QlikCredentials } from '../qlik/auth.js';
import { functionDependencies } from '../runtime/dependencies.js';

/** The Lambda context, with a way to get a tenant's Qlik credentials. */
export interface CredentialsContext extends Context {
  credentialsFor(tenant: Tenant, signal?: AbortSignal): Promise<QlikCredentials>;
}

export const TENANT_SECRETS_CACHE_KEY = 'origin-sync-tenant-secrets';

/**
 * Tenant credentials through `@middy/secrets-manager`: the secrets of the tenants configured with
 * the deployment are fetched once and cached (own cache key; a failed fetch clears its entry so
 * the next invocation tries again). Each is parsed only when an event needs that tenant, so one
 * tenant's broken secret never fails another tenant's events. Tenants added later with the CLI
 * are read through the SDK.
 */
export function tenantCredentials(options: { tenants: readonly Tenant[]; cacheExpiryMs?: number }): MiddlewareObj<unknown, unknown, Error, CredentialsContext> {
  const keyOf = (tenant: string) => `tenantSecret_${tenant.replace(/[^A-Za-z0-9]/g, '_')}`;
  const fetcher = secretsManager({
    fetchData: Object.fromEntries(options.tenants.map((tenant) => [keyOf(tenant.tenant), tenant.secretId])),
    cacheKey: TENANT_SECRETS_CACHE_KEY,
    cacheExpiry: options.cacheExpiryMs ?? 5 * 60_000,
    // No fetch at import time: a missing secret must fail the events that need it, not cold start.
    disablePrefetch: true,
  });
  const configured = new Map(options.tenants.map((tenant) => [tenant.tenant, tenant]));

  const tenantCredentialsBefore = async (request: Request<unknown, unknown, Error, CredentialsContext>): Promise<void> => {
    if (options.tenants.length > 0) await fetcher.before!(request as never);
    // Mark every pending fetch as handled; the one an event needs is awaited (and reported) below.
    for (const tenant of options.tenants) {
      const pending = (request.internal as Record<string, unknown>)[keyOf(tenant.tenant)];
      if (pending instanceof Promise) pending.catch(() => undefined);
    }
    request.context.credentialsFor = async (tenant, signal) => {
      const prefetched = configured.get(tenant.tenant);
      if (!prefetched || prefetched.secretId !== tenant.secretId) {
        return functionDependencies().fallbackCredentials.credentialsFor(tenant, signal);
      }
      const key = keyOf(tenant.tenant);
      try {
        const values = (await getInternal([key], request as never)) as Record<string, unknown>;
        return parseTenantSecretValue(tenant.secretId, values[key]);
      } catch (error) {
        if (error instanceof CredentialsError) throw error;
        const causes = ((error as { cause?: { data?: unknown[] } }).cause?.data ?? [error]) as Error[];
        const notFound = causes.some((cause) => cause?.name === 'ResourceNotFoundException');
        throw new CredentialsError(tenant.secretId, notFound ? 'does not exist' : `could not be read: ${causes.map((cause) => cause?.name).join(', ')}`, {
          cause: error,
        });
      }
    };
  };

  return { before: tenantCredentialsBefore };
}

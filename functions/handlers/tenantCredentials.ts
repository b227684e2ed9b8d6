import type { MiddlewareObj, Request } from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { clearCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import type { Tenant } from '../core/model.js';
import { credentialsErrorFor } from '../credentials/secretsManagerCredentials.js';
import { parseTenantSecretValue } from '../credentials/tenantSecret.js';
import type { QlikCredentials } from '../qlik/auth.js';
import { functionDependencies } from '../runtime/dependencies.js';

/** The Lambda context, with a way to get a tenant's Qlik credentials. */
export interface CredentialsContext extends Context {
  credentialsFor(tenant: Tenant, signal?: AbortSignal): Promise<QlikCredentials>;
}

export const TENANT_SECRETS_CACHE_KEY = 'origin-sync-tenant-secrets';

const DEFAULT_CACHE_MS = 5 * 60_000;

/**
 * Tenant credentials through `@middy/secrets-manager`: the secrets of the tenants configured with
 * the deployment are fetched and cached (own cache key; a failed fetch clears its entry so the
 * next invocation tries again). Each is parsed only when an event needs that tenant, so one
 * tenant's broken secret never fails another tenant's events. Tenants added later with the CLI
 * are read through the SDK.
 *
 * The cache is expired here, at the start of an invocation, rather than by middy's background
 * refresh timer: a refresh that fails between invocations would be a rejection nobody handles,
 * which ends the Lambda process in the middle of the next invocation.
 */
export function tenantCredentials(options: { tenants: readonly Tenant[]; cacheExpiryMs?: number }): MiddlewareObj<unknown, unknown, Error, CredentialsContext> {
  // Hex keeps every tenant name a distinct, plain key (middy rewrites some characters in keys).
  const keyOf = (tenant: string) => `tenantSecret_${Buffer.from(tenant).toString('hex')}`;
  const fetcher = secretsManager({
    fetchData: Object.fromEntries(options.tenants.map((tenant) => [keyOf(tenant.tenant), tenant.secretId])),
    cacheKey: TENANT_SECRETS_CACHE_KEY,
    cacheExpiry: -1,
    // No fetch at import time: a missing secret must fail the events that need it, not cold start.
    disablePrefetch: true,
  });
  const configured = new Map(options.tenants.map((tenant) => [tenant.tenant, tenant]));
  const cacheMs = options.cacheExpiryMs ?? DEFAULT_CACHE_MS;
  let expiresAt = 0;

  const tenantCredentialsBefore = async (request: Request<unknown, unknown, Error, CredentialsContext>): Promise<void> => {
    if (options.tenants.length > 0) {
      if (Date.now() >= expiresAt) {
        clearCache([TENANT_SECRETS_CACHE_KEY]);
        expiresAt = Date.now() + cacheMs;
      }
      await fetcher.before!(request as never);
    }
    const internal = request.internal as Record<string, unknown>;
    // Mark every pending fetch as handled; the one an event needs is awaited (and reported) below.
    for (const tenant of options.tenants) {
      const pending = internal[keyOf(tenant.tenant)];
      if (pending instanceof Promise) pending.catch(() => undefined);
    }
    request.context.credentialsFor = async (tenant, signal) => {
      const prefetched = configured.get(tenant.tenant);
      if (!prefetched || prefetched.secretId !== tenant.secretId) {
        return functionDependencies().fallbackCredentials.credentialsFor(tenant, signal);
      }
      let value: unknown;
      try {
        value = await internal[keyOf(tenant.tenant)];
      } catch (error) {
        throw credentialsErrorFor(tenant.secretId, error);
      }
      return parseTenantSecretValue(tenant.secretId, value);
    };
  };

  return { before: tenantCredentialsBefore };
}


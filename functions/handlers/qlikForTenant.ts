import { createHash } from 'node:crypto';
import { describeTarget, type TargetRef, type Tenant } from '../core/model.js';
import { RejectedInputError } from '../engine/errors.js';
import { createQlikClient } from '../qlik/client.js';
import type { WebIntegrationsApi } from '../qlik/types.js';
import type { CredentialsContext } from './tenantCredentials.js';
import { functionDependencies } from '../runtime/dependencies.js';

/** The tenant of a target, or a terminal rejection naming it. */
export async function tenantOf(ref: TargetRef): Promise<Tenant> {
  const tenant = await functionDependencies().tenants.find(ref.tenant);
  if (!tenant) throw new RejectedInputError(`tenant "${ref.tenant}" of target ${describeTarget(ref)} is not configured`);
  return tenant;
}

/** Clients by tenant URL and credentials, so an OAuth token is fetched once, not per invocation. */
const clients = new Map<string, WebIntegrationsApi>();

/**
 * The Qlik client for one tenant with its current credentials, kept for the container: the
 * connection pool and the rate limiter are shared per tenant anyway, and keeping the client keeps
 * its OAuth token. Rotated credentials make a new client (the key includes a hash of them).
 */
export async function qlikFor(tenant: Tenant, context: CredentialsContext, signal?: AbortSignal): Promise<WebIntegrationsApi> {
  const credentials = await context.credentialsFor(tenant, signal);
  const key = `${tenant.url}\u0000${createHash('sha256').update(JSON.stringify(credentials)).digest('hex')}`;
  let client = clients.get(key);
  if (!client) {
    client = createQlikClient({ baseUrl: tenant.url, auth: credentials });
    clients.set(key, client);
  }
  return client;
}

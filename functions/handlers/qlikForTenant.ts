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

/**
 * A Qlik client for one tenant with its current credentials. Clients are cheap: the connection
 * pool and the rate limiter are shared per tenant across the whole container.
 */
export async function qlikFor(tenant: Tenant, context: CredentialsContext, signal?: AbortSignal): Promise<WebIntegrationsApi> {
  return createQlikClient({ baseUrl: tenant.url, auth: await context.credentialsFor(tenant, signal) });
}

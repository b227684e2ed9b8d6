/**
 * Which targets a command works on: those named with `--target`, those of one `--tenant`, or
 * every target of every tenant in the registry. Grouped by tenant, since Qlik clients and
 * credentials are per tenant.
 */
import type { TargetRef, TargetState, Tenant } from '../functions/core/model.js';
import { TargetNotFoundError, TenantNotFoundError } from '../functions/registry/errors.js';
import type { Registry } from '../functions/registry/registry.js';
import { CliError } from './errors.js';

export interface TargetFilter {
  /** `--target` (repeatable); empty for all. */
  targets?: readonly TargetRef[];
  /** `--tenant`: only this tenant's targets. */
  tenant?: string;
}

export interface TenantTargets {
  tenant: Tenant;
  targets: TargetState[];
}

/**
 * The targets selected, grouped by tenant, tenants and targets in name order.
 * @throws {TargetNotFoundError} a named target is not configured.
 * @throws {TenantNotFoundError} a named tenant is not configured.
 */
export async function selectTargets(registry: Registry, filter: TargetFilter): Promise<TenantTargets[]> {
  const named = filter.targets ?? [];
  if (named.length > 0) {
    const outside = named.find((ref) => filter.tenant !== undefined && ref.tenant !== filter.tenant);
    if (outside) {
      throw new CliError(`--target ${outside.tenant}/${outside.webIntegrationId} is not a target of --tenant ${filter.tenant}`, { code: 'usage', hint: 'drop one of them' });
    }
    const groups = new Map<string, TenantTargets>();
    for (const ref of dedupe(named)) {
      let group = groups.get(ref.tenant);
      if (!group) {
        const tenant = await registry.getTenant(ref.tenant);
        if (!tenant) throw new TenantNotFoundError(ref.tenant);
        group = { tenant, targets: [] };
        groups.set(ref.tenant, group);
      }
      const target = await registry.getTarget(ref);
      if (!target) throw new TargetNotFoundError(ref);
      group.targets.push(target);
    }
    return sorted([...groups.values()]);
  }
  let tenants: Tenant[];
  if (filter.tenant !== undefined) {
    const tenant = await registry.getTenant(filter.tenant);
    if (!tenant) throw new TenantNotFoundError(filter.tenant);
    tenants = [tenant];
  } else {
    tenants = await registry.listTenants();
  }
  const groups: TenantTargets[] = [];
  for (const tenant of tenants) groups.push({ tenant, targets: await registry.listTargets(tenant.tenant) });
  return sorted(groups);
}

function dedupe(refs: readonly TargetRef[]): TargetRef[] {
  const seen = new Map(refs.map((ref) => [`${ref.tenant}/${ref.webIntegrationId}`, ref]));
  return [...seen.values()];
}

function sorted(groups: TenantTargets[]): TenantTargets[] {
  for (const group of groups) group.targets.sort((a, b) => a.ref.webIntegrationId.localeCompare(b.ref.webIntegrationId));
  return groups.sort((a, b) => a.tenant.tenant.localeCompare(b.tenant.tenant));
}

/** Every selected target, in order. */
export function allTargets(groups: readonly TenantTargets[]): TargetState[] {
  return groups.flatMap((group) => group.targets);
}

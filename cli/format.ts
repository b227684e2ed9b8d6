/** Domain values as people read them in the CLI's tables and messages. */
import type { Cause, Lease } from '../functions/core/model.js';
import type { Policy } from '../functions/core/policy.js';
import { relativeTime } from './output.js';

/** `sync/managed/max 10`: mode, ownership and the removal guard, for a table column. */
export function policySummary(policy: Policy): string {
  return `${policy.mode}/${policy.ownership}/max ${policy.maxRemovalsPerRun}`;
}

/** `free`, `cli:cli-… (4m left)`, `expired (scan:… 2m ago)`. */
export function leaseSummary(lease: Lease | undefined, now: Date): string {
  if (!lease) return 'free';
  const expires = new Date(lease.expiresAt).toISOString();
  const owner = lease.owner.replace(/:[0-9a-f]{12}$/, '');
  return lease.expiresAt < now.getTime() ? `expired ${relativeTime(expires, now)} (${owner})` : `held by ${owner}, expires ${relativeTime(expires, now)}`;
}

/** The lease as `--json` shows it: ISO expiry and whether it has run out. */
export function leaseJson(lease: Lease | undefined, now: Date): { owner: string; expiresAt: string; expired: boolean } | null {
  return lease ? { owner: lease.owner, expiresAt: new Date(lease.expiresAt).toISOString(), expired: lease.expiresAt < now.getTime() } : null;
}

/** `event 1234…`, `scan 9f…`, `cli cli-…`. */
export function causeSummary(cause: Cause): string {
  return `${cause.type} ${cause.id}`;
}

/** `-` for nothing, else the items joined. */
export function listOrDash(items: readonly string[] | undefined, separator = ', '): string {
  return items === undefined || items.length === 0 ? '-' : items.join(separator);
}

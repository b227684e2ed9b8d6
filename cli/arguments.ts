/**
 * Values as people type them on the command line, checked with a message naming the flag:
 * targets (`demo/Abc123`), durations (`30m`, `12h`, `7d`), times and counts.
 */
import type { TargetRef } from '../functions/core/model.js';
import { CliError } from './errors.js';

const TENANT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const INTEGRATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * A target as `describeTarget` writes it: `tenant/webIntegrationId`, e.g. `demo/Abc123`.
 * The same rules as deployment events: a lower-case tenant name and an id of letters, digits and `._:-`.
 */
export function parseTargetRef(text: string, flag = '--target'): TargetRef {
  const slash = text.indexOf('/');
  const ref = { tenant: text.slice(0, slash), webIntegrationId: text.slice(slash + 1) };
  if (slash < 0 || !TENANT_NAME.test(ref.tenant) || !INTEGRATION_ID.test(ref.webIntegrationId)) {
    throw new CliError(`${flag} takes tenant/webIntegrationId (e.g. demo/Abc123), got "${text}"`, {
      code: 'usage',
      hint: 'list the targets with "origin-sync targets list"',
    });
  }
  return ref;
}

/** A tenant name: lower case, digits and hyphens, at most 63 characters (as in deployment events). */
export function parseTenantName(text: string, flag = '--tenant'): string {
  if (!TENANT_NAME.test(text)) {
    throw new CliError(`${flag} takes a lower-case name of at most 63 characters (a-z, 0-9, -), got "${text}"`, { code: 'usage' });
  }
  return text;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Milliseconds of a duration such as `45s`, `30m`, `12h`, `7d` or `2w` (a whole number and a unit).
 * @throws {CliError} naming the flag when the text is not such a duration.
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !(amount > 0)) {
    throw new CliError(`${flag} takes a duration such as 30m, 12h or 7d, got "${text}"`, { code: 'usage' });
  }
  return amount * UNITS[match[2]!.toLowerCase()]!;
}

/** A point in time: a duration back from now (`24h`) or an ISO 8601 time. */
export function parseSince(text: string, flag: string, now: Date): Date {
  if (/^\s*\d+\s*[smhdw]\s*$/i.test(text)) return new Date(now.getTime() - parseDuration(text, flag));
  const time = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time)) return new Date(time);
  throw new CliError(`${flag} takes a duration back from now (24h, 7d) or an ISO time (2026-05-01T00:00:00Z), got "${text}"`, { code: 'usage' });
}

/** A whole number of 0 or more, for flags such as `--allow-removals`. */
export function parseCount(text: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new CliError(`${flag} takes a whole number (0 or more), got "${text}"`, { code: 'usage' });
  return Number(text);
}

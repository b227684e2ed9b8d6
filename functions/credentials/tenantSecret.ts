import { z } from 'zod';
import type { QlikCredentials } from '../qlik/auth.js';

/**
 * The secret is missing, unreadable or not in either accepted shape. Never carries the value.
 * `retryable` is true when reading it failed for a passing reason (throttling, a 5xx, the network):
 * then the event is retried instead of dropped.
 */
export class CredentialsError extends Error {
  public readonly secretId: string;
  public readonly retryable: boolean;

  public constructor(secretId: string, problem: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(`tenant secret "${secretId}" ${problem}`, options);
    this.name = 'CredentialsError';
    this.secretId = secretId;
    this.retryable = options?.retryable ?? false;
  }
}

const nonEmpty = z.string().trim().min(1);

/** `{ "apiKey": "..." }` or `{ "clientId": "...", "clientSecret": "..." }` (DESIGN §2), nothing else. */
export const tenantSecretSchema = z.union([
  z.strictObject({ apiKey: nonEmpty }),
  z.strictObject({ clientId: nonEmpty, clientSecret: nonEmpty }),
]);

const KNOWN_FIELDS = new Set(['apiKey', 'clientId', 'clientSecret']);

const EXPECTED = 'must hold JSON {"apiKey": "..."} or {"clientId": "...", "clientSecret": "..."}';

/**
 * Parses a tenant secret's `SecretString`. Error messages name the secret and the fields that
 * were wrong, never a value: zod's own messages are not used because they may echo input.
 */
export function parseTenantSecret(secretId: string, secretString: string | undefined): QlikCredentials {
  if (secretString === undefined || secretString.trim() === '') {
    throw new CredentialsError(secretId, `is empty or binary; it ${EXPECTED}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new CredentialsError(secretId, `is not JSON; it ${EXPECTED}`);
  }
  const parsed = tenantSecretSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  // Only known field names are named: a key pasted into the key column of the console's
  // key/value editor would otherwise end up in a log line.
  const fields = json !== null && typeof json === 'object' && !Array.isArray(json) ? Object.keys(json) : [];
  const known = fields.filter((field) => KNOWN_FIELDS.has(field)).sort();
  const unknown = fields.length - known.length;
  const found =
    fields.length === 0
      ? 'has no fields'
      : `has ${[...known.map((field) => JSON.stringify(field)), ...(unknown > 0 ? [`${unknown} other field(s)`] : [])].join(', ')}`;
  throw new CredentialsError(secretId, `${found}; it ${EXPECTED} with non-empty strings`);
}

/**
 * Parses a secret value that was already JSON-decoded (as `@middy/secrets-manager` hands it over),
 * with the same rules and messages as {@link parseTenantSecret}.
 */
export function parseTenantSecretValue(secretId: string, value: unknown): QlikCredentials {
  if (value === undefined || value === null) return parseTenantSecret(secretId, undefined);
  return parseTenantSecret(secretId, typeof value === 'string' ? value : JSON.stringify(value));
}

import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Tenant } from '../core/model.js';
import type { QlikCredentials } from '../qlik/auth.js';
import { CredentialsError, parseTenantSecret } from './tenantSecret.js';

/** Where the engine gets a tenant's Qlik credentials. */
export interface CredentialsSource {
  credentialsFor(tenant: Tenant, signal?: AbortSignal): Promise<QlikCredentials>;
}

/**
 * Reads tenant secrets through the AWS SDK (the CLI and the local cloud). Lambda handlers get
 * theirs from `@middy/secrets-manager`, which caches them; this source caches for `cacheMs`.
 */
export class SecretsManagerCredentials implements CredentialsSource {
  readonly #client: SecretsManagerClient;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { credentials: Promise<QlikCredentials>; until: number }>();

  public constructor(client: SecretsManagerClient, options: { cacheMs?: number } = {}) {
    this.#client = client;
    this.#cacheMs = options.cacheMs ?? 5 * 60_000;
  }

  public credentialsFor(tenant: Tenant, signal?: AbortSignal): Promise<QlikCredentials> {
    const cached = this.#cache.get(tenant.secretId);
    if (cached && cached.until > Date.now()) return cached.credentials;
    const credentials = this.#fetch(tenant.secretId, signal);
    this.#cache.set(tenant.secretId, { credentials, until: Date.now() + this.#cacheMs });
    // A failed fetch must not be remembered: the next call tries again.
    credentials.catch(() => this.#cache.delete(tenant.secretId));
    return credentials;
  }

  public clearCache(): void {
    this.#cache.clear();
  }

  async #fetch(secretId: string, signal?: AbortSignal): Promise<QlikCredentials> {
    let secretString: string | undefined;
    try {
      const answer = await this.#client.send(new GetSecretValueCommand({ SecretId: secretId }), signal ? { abortSignal: signal } : {});
      secretString = answer.SecretString;
    } catch (error) {
      throw credentialsErrorFor(secretId, error);
    }
    return parseTenantSecret(secretId, secretString);
  }
}

/** Errors of Secrets Manager that no retry fixes: the secret is gone, forbidden or undecryptable. */
const FINAL_ERRORS = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidRequestException', 'InvalidParameterException', 'ValidationException']);

/** Maps a failure to read a tenant secret to a CredentialsError that says whether to retry. */
export function credentialsErrorFor(secretId: string, error: unknown): CredentialsError {
  const name = error instanceof Error ? error.name : 'Error';
  if (name === 'ResourceNotFoundException') return new CredentialsError(secretId, 'does not exist', { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new CredentialsError(secretId, `could not be read: ${name}: ${message}`, { cause: error, retryable: !FINAL_ERRORS.has(name) });
}

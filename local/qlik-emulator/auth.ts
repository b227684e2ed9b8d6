import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { httpErrors } from './errors.js';

/** Who is calling: rate limits are counted per user, `createdBy` names it. */
export interface Caller {
  userId: string;
  canWrite: boolean;
}

export interface AuthOptions {
  apiKey: string;
  readOnlyApiKeys?: readonly string[];
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of an OAuth access token in real seconds. */
  tokenTtlSeconds?: number;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  expires_at: string;
  scope: string;
}

/**
 * API keys and OAuth2 client credentials, as a Qlik tenant accepts them: `Authorization: Bearer`
 * with either an API key or an access token from `POST /oauth/token`. Tokens expire.
 */
export class Authenticator {
  readonly #keys = new Map<string, Caller>();
  readonly #tokens = new Map<string, Caller & { expiresAt: number }>();
  readonly #client: { id: string; secret: string; caller: Caller } | undefined;
  readonly #tokenTtlSeconds: number;

  public constructor(options: AuthOptions) {
    if (!options.apiKey) throw new Error('an API key is required');
    this.#keys.set(options.apiKey, { userId: userIdFor(`key:${options.apiKey}`), canWrite: true });
    for (const key of options.readOnlyApiKeys ?? []) {
      this.#keys.set(key, { userId: userIdFor(`key:${key}`), canWrite: false });
    }
    if ((options.clientId === undefined) !== (options.clientSecret === undefined)) {
      throw new Error('an OAuth client needs both a client id and a client secret');
    }
    if (options.clientId !== undefined && options.clientSecret !== undefined) {
      this.#client = {
        id: options.clientId,
        secret: options.clientSecret,
        caller: { userId: userIdFor(`client:${options.clientId}`), canWrite: true },
      };
    }
    this.#tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  }

  /** The caller behind an `Authorization` header; throws 401 when there is none. */
  public authenticate(header: string | undefined): Caller {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw httpErrors.unauthorized('Send Authorization: Bearer <API key or access token>.');
    const credential = match[1]!;
    const keyCaller = this.#keys.get(credential);
    if (keyCaller) return keyCaller;
    const token = this.#tokens.get(credential);
    if (token && token.expiresAt > Date.now()) return token;
    if (token) this.#tokens.delete(credential);
    throw httpErrors.unauthorized(token ? 'The access token has expired.' : 'The API key or access token is not valid.');
  }

  /** `POST /oauth/token` with the client-credentials grant. */
  public issueToken(body: Record<string, unknown>): IssuedToken {
    if (body.grant_type !== 'client_credentials') {
      throw httpErrors.badRequest(
        `grant_type ${JSON.stringify(body.grant_type ?? null)} is not supported; use "client_credentials".`,
        { parameter: 'grant_type' },
      );
    }
    const client = this.#client;
    if (!client || !sameSecret(String(body.client_id ?? ''), client.id) || !sameSecret(String(body.client_secret ?? ''), client.secret)) {
      throw httpErrors.unauthorized('The client id or client secret is not valid.');
    }
    const accessToken = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + this.#tokenTtlSeconds * 1000;
    this.#tokens.set(accessToken, { ...client.caller, expiresAt });
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: this.#tokenTtlSeconds,
      expires_at: new Date(expiresAt).toISOString(),
      scope: 'user_default',
    };
  }

  public revokeTokens(): void {
    this.#tokens.clear();
  }
}

/** A stable, secret-free user id for a credential (so `createdBy` never reveals the key). */
function userIdFor(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').replace(/[-_]/g, '').slice(0, 32);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

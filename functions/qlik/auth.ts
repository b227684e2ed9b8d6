/**
 * How the client authenticates to Qlik: a static API key, or OAuth2 client credentials.
 *
 * The OAuth provider caches its access token until shortly before it expires, and concurrent
 * callers share one in-flight token request. After Qlik answers 401 the client calls
 * {@link AuthProvider.invalidate} and, when it returns true, retries exactly once.
 */
import type { Dispatcher } from 'undici';
import { QlikApiError, QlikRequestAbortedError } from './errors.js';
import { defaultPoolTimeouts, poolFor } from './pool.js';
import type { PoolTimeouts } from './pool.js';
import { defaultRetryPolicy, withRetries } from './retry.js';
import type { RetryPolicy, Sleep } from './retry.js';
import { tokenResponseSchema } from './schemas.js';
import { exchange, parseBody, responseError } from './transport.js';

export interface AuthProvider {
  /** The `Authorization` header value for the next call. */
  authorization(signal?: AbortSignal): Promise<string>;
  /**
   * Qlik rejected `used` with a 401. Returns true when asking {@link authorization} again may give
   * a credential that works (so one retry is worth it).
   */
  invalidate(used: string): boolean;
}

/** The tenant secret as stored: an API key, or an OAuth2 client. */
export type QlikCredentials = { apiKey: string } | { clientId: string; clientSecret: string };

/** A static API key, sent as `Authorization: Bearer <key>`. */
export class ApiKeyAuth implements AuthProvider {
  readonly #header: string;

  constructor(apiKey: string) {
    if (apiKey === '') throw new TypeError('the Qlik API key is empty');
    this.#header = `Bearer ${apiKey}`;
  }

  authorization(): Promise<string> {
    return Promise.resolve(this.#header);
  }

  invalidate(): boolean {
    return false;
  }

  toJSON(): string {
    return 'ApiKeyAuth(***)';
  }
}

export interface ClientCredentialsOptions {
  /** The tenant URL; the token comes from `POST {baseUrl}/oauth/token`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Renew this long before `expires_in` runs out (at most half the lifetime). Default 60 s. */
  refreshSkewMs?: number;
  /** Default: the shared pool of the tenant's origin. */
  dispatcher?: Dispatcher;
  timeouts?: PoolTimeouts;
  retry?: RetryPolicy;
  sleep?: Sleep;
  now?: () => number;
}

interface CachedToken {
  header: string;
  /** Use it until this instant (ms, `now()` clock). */
  renewAt: number;
}

const TOKEN_PATH = '/oauth/token';

/** OAuth2 client credentials: `POST {baseUrl}/oauth/token` with a JSON body. */
export class ClientCredentialsAuth implements AuthProvider {
  readonly #dispatcher: Dispatcher;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #refreshSkewMs: number;
  readonly #retry: RetryPolicy;
  readonly #sleep: Sleep | undefined;
  readonly #now: () => number;
  #token: CachedToken | undefined;
  #inflight: Promise<CachedToken> | undefined;

  constructor(options: ClientCredentialsOptions) {
    if (options.clientId === '' || options.clientSecret === '') {
      throw new TypeError('the Qlik OAuth client id or secret is empty');
    }
    this.#dispatcher = options.dispatcher ?? poolFor(new URL(options.baseUrl).origin, options.timeouts ?? defaultPoolTimeouts);
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#refreshSkewMs = options.refreshSkewMs ?? 60_000;
    this.#retry = options.retry ?? defaultRetryPolicy;
    this.#sleep = options.sleep;
    this.#now = options.now ?? Date.now;
  }

  async authorization(signal?: AbortSignal): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && this.#now() < cached.renewAt) return cached.header;
    this.#inflight ??= this.#fetchToken().finally(() => {
      this.#inflight = undefined;
    });
    const token = await abortable(this.#inflight, signal, 'POST', TOKEN_PATH);
    return token.header;
  }

  invalidate(used: string): boolean {
    if (this.#token?.header === used) this.#token = undefined;
    return true;
  }

  toJSON(): string {
    return `ClientCredentialsAuth(${this.#clientId}, ***)`;
  }

  /** One token request (with retries on transient failures; it changes nothing on the server). */
  async #fetchToken(): Promise<CachedToken> {
    const requested = this.#now();
    const body = await withRetries(
      async () => {
        const result = await exchange(this.#dispatcher, {
          method: 'POST',
          path: TOKEN_PATH,
          headers: {},
          body: {
            client_id: this.#clientId,
            client_secret: this.#clientSecret,
            grant_type: 'client_credentials',
          },
        });
        if (result.status !== 200) throw tokenError(responseError('POST', TOKEN_PATH, result));
        return parseBody('POST', TOKEN_PATH, result, tokenResponseSchema);
      },
      {
        policy: this.#retry,
        ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
        shouldRetry: (error) => error instanceof QlikApiError && error.retryable,
        retryAfterMs: (error) => (error instanceof QlikApiError ? error.retryAfterMs : undefined),
        abortError: (reason) => new QlikRequestAbortedError('POST', TOKEN_PATH, reason),
        onGiveUp: (error, attempts) => {
          if (error instanceof QlikApiError) error.attempts = attempts;
        },
      },
    );
    const lifetimeMs = body.expires_in * 1000;
    const skew = Math.min(this.#refreshSkewMs, lifetimeMs / 2);
    const token = { header: `Bearer ${body.access_token}`, renewAt: requested + lifetimeMs - skew };
    this.#token = token;
    return token;
  }
}

/** Makes a rejected token request say what it means, without echoing the secret. */
function tokenError(error: QlikApiError): QlikApiError {
  if (error.status === undefined || ![400, 401, 403].includes(error.status)) return error;
  const said = error.detail === undefined ? '' : ` (Qlik said: ${error.detail})`;
  return new QlikApiError({
    kind: error.kind,
    method: error.method,
    path: error.path,
    status: error.status,
    code: error.code,
    title: error.title,
    detail: `the OAuth client credentials were rejected; check the client id and secret${said}`,
    traceId: error.traceId,
    source: error.source,
    errors: [...error.errors],
    retryable: false,
    cause: error,
  });
}

/** Waits for a shared promise, but lets this caller leave early when its signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, method: 'POST', path: string): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new QlikRequestAbortedError(method, path, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new QlikRequestAbortedError(method, path, signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The provider for a stored tenant secret. */
export function authFromCredentials(
  baseUrl: string,
  credentials: QlikCredentials,
  options: Omit<ClientCredentialsOptions, 'baseUrl' | 'clientId' | 'clientSecret'> = {},
): AuthProvider {
  if ('apiKey' in credentials) return new ApiKeyAuth(credentials.apiKey);
  return new ClientCredentialsAuth({ ...options, baseUrl, clientId: credentials.clientId, clientSecret: credentials.clientSecret });
}

export function isAuthProvider(value: unknown): value is AuthProvider {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { authorization?: unknown }).authorization === 'function' &&
    typeof (value as { invalidate?: unknown }).invalidate === 'function'
  );
}

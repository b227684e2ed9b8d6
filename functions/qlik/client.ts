/**
 * The Qlik web-integrations client: the only code in the product that talks to Qlik.
 *
 * Each call goes: wait for the tenant's rate-limit budget → get the `Authorization` header → one
 * HTTP exchange on the tenant's shared pool → validate the answer with zod. Failures are retried
 * by {@link withRetries} when that is safe: GET, PATCH (it replaces whole values) and DELETE on any
 * retryable error; POST only when it certainly was not applied (429, or the connection was refused
 * before anything was sent). A 401 with a refreshable credential (OAuth) is retried exactly once
 * with a fresh token.
 *
 * @example
 * ```ts
 * const qlik = createQlikClient({ baseUrl: tenant.url, auth: { apiKey } });
 * for await (const integration of qlik.list({ sort: 'name' }, { signal })) { ... }
 * await qlik.replaceOrigins(id, ['https://shop.example.com'], { signal });
 * ```
 */
import type { Dispatcher } from 'undici';
import { authFromCredentials, isAuthProvider } from './auth.js';
import type { AuthProvider, QlikCredentials } from './auth.js';
import { QlikApiError, QlikRequestAbortedError } from './errors.js';
import type { HttpMethod } from './errors.js';
import { defaultPoolTimeouts, poolFor } from './pool.js';
import type { PoolTimeouts } from './pool.js';
import { qlikRateLimits, rateLimiterFor, tierOf } from './rateLimiter.js';
import type { RateLimitBudget, RateLimitBudgets } from './rateLimiter.js';
import { defaultRetryPolicy, withRetries } from './retry.js';
import type { RetryPolicy, Sleep } from './retry.js';
import { createdWebIntegrationSchema, webIntegrationListSchema, webIntegrationSchema } from './schemas.js';
import { exchange, expectEmpty, malformedError, parseBody, responseError } from './transport.js';
import type { ExchangeResult } from './transport.js';
import type {
  CallOptions,
  CreateWebIntegrationInput,
  ListPageRequest,
  ListQuery,
  WebIntegration,
  WebIntegrationPage,
  WebIntegrationPatchOperation,
  WebIntegrationsApi,
} from './types.js';

export interface QlikClientOptions {
  /** The tenant URL, e.g. `https://acme.eu.qlikcloud.com` (an origin; no path). */
  baseUrl: string;
  /** The stored secret (`{ apiKey }` or `{ clientId, clientSecret }`) or a ready provider. */
  auth: QlikCredentials | AuthProvider;
  /** Retry policy; missing fields take {@link defaultRetryPolicy}. */
  retry?: Partial<RetryPolicy>;
  /** Per-process budgets per tier; missing tiers take Qlik's ({@link qlikRateLimits}). `false` turns the limiter off. */
  rateLimits?: Partial<RateLimitBudgets> | false;
  /** Pool timeouts; missing fields take {@link defaultPoolTimeouts}. */
  timeouts?: Partial<PoolTimeouts>;
  /** Page size `list()` asks for when the query does not say. Default 100 (Qlik's maximum). */
  listPageSize?: number;
  /** Use this dispatcher instead of the shared pool of the tenant's origin. */
  dispatcher?: Dispatcher;
  /** Injectable for unit tests; real timers by default. */
  sleep?: Sleep;
  random?: () => number;
}

const COLLECTION = '/api/v1/web-integrations';

interface Call<T> {
  method: HttpMethod;
  path: string;
  body?: unknown;
  /** Reads a success answer; any other status becomes a QlikApiError. */
  expect: number;
  read(result: ExchangeResult): T;
}

export class QlikClient implements WebIntegrationsApi {
  readonly origin: string;
  readonly #dispatcher: Dispatcher;
  readonly #auth: AuthProvider;
  readonly #retry: RetryPolicy;
  readonly #budgets: RateLimitBudgets | false;
  readonly #listPageSize: number;
  readonly #sleep: Sleep | undefined;
  readonly #random: (() => number) | undefined;

  constructor(options: QlikClientOptions) {
    this.origin = originOf(options.baseUrl);
    const timeouts = { ...defaultPoolTimeouts, ...options.timeouts };
    this.#retry = { ...defaultRetryPolicy, ...options.retry };
    this.#dispatcher = options.dispatcher ?? poolFor(this.origin, timeouts);
    this.#auth = isAuthProvider(options.auth)
      ? options.auth
      : authFromCredentials(this.origin, options.auth, {
          dispatcher: this.#dispatcher,
          retry: this.#retry,
          ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
        });
    this.#budgets = options.rateLimits === false ? false : { ...qlikRateLimits, ...options.rateLimits };
    this.#listPageSize = options.listPageSize ?? 100;
    this.#sleep = options.sleep;
    this.#random = options.random;
  }

  async *list(query: ListQuery = {}, opts: CallOptions = {}): AsyncGenerator<WebIntegration, void, undefined> {
    const seenPages = new Set<string>();
    const seenIds = new Set<string>();
    let request: ListPageRequest = { ...query, limit: query.limit ?? this.#listPageSize };
    for (;;) {
      const page = await this.listPage(request, opts);
      for (const item of page.data) {
        // Cursor pages can overlap when integrations change while we read; yield each once.
        if (seenIds.has(item.id)) continue;
        seenIds.add(item.id);
        yield item;
      }
      const next = page.links.next;
      if (next === undefined || page.data.length === 0) return;
      if (seenPages.has(next)) {
        throw invalidRequest('GET', next, 'links.next points to a page already read (pagination loop)');
      }
      seenPages.add(next);
      request = { href: next };
    }
  }

  listPage(request: ListPageRequest = {}, opts: CallOptions = {}): Promise<WebIntegrationPage> {
    const path = 'href' in request ? this.#pathOfHref(request.href) : `${COLLECTION}${queryString(request)}`;
    return this.#call(
      {
        method: 'GET',
        path,
        expect: 200,
        read: (result) => {
          const body = parseBody('GET', path, result, webIntegrationListSchema);
          return {
            data: body.data,
            links: {
              ...(body.links?.self === undefined ? {} : { self: body.links.self.href }),
              ...(body.links?.next === undefined ? {} : { next: body.links.next.href }),
              ...(body.links?.prev === undefined ? {} : { prev: body.links.prev.href }),
            },
          };
        },
      },
      opts,
    );
  }

  get(id: string, opts: CallOptions = {}): Promise<WebIntegration> {
    const path = itemPath(id);
    return this.#call(
      { method: 'GET', path, expect: 200, read: (result) => parseBody('GET', path, result, webIntegrationSchema) },
      opts,
    );
  }

  create(input: CreateWebIntegrationInput, opts: CallOptions = {}): Promise<WebIntegration> {
    const body = input.validOrigins === undefined ? { name: input.name } : { name: input.name, validOrigins: [...input.validOrigins] };
    return this.#call(
      {
        method: 'POST',
        path: COLLECTION,
        body,
        expect: 201,
        read: (result) => {
          const { links: _links, ...integration } = parseBody('POST', COLLECTION, result, createdWebIntegrationSchema);
          return integration;
        },
      },
      opts,
    );
  }

  update(id: string, operations: readonly WebIntegrationPatchOperation[], opts: CallOptions = {}): Promise<void> {
    const path = itemPath(id);
    return this.#call(
      {
        method: 'PATCH',
        path,
        body: operations.map((op) => ({ ...op, value: Array.isArray(op.value) ? [...op.value] : op.value })),
        expect: 204,
        read: (result) => expectEmpty('PATCH', path, result),
      },
      opts,
    );
  }

  delete(id: string, opts: CallOptions = {}): Promise<void> {
    const path = itemPath(id);
    return this.#call({ method: 'DELETE', path, expect: 204, read: (result) => expectEmpty('DELETE', path, result) }, opts);
  }

  replaceOrigins(id: string, origins: readonly string[], opts: CallOptions = {}): Promise<void> {
    return this.update(id, [{ op: 'replace', path: '/validOrigins', value: origins }], opts);
  }

  /** Rate limit, authenticate, send, read; retried per the policy. */
  async #call<T>(call: Call<T>, opts: CallOptions): Promise<T> {
    const { signal } = opts;
    const idempotent = call.method !== 'POST';
    return withRetries(() => this.#attempt(call, signal), {
      policy: this.#retry,
      signal,
      ...(this.#sleep === undefined ? {} : { sleep: this.#sleep }),
      ...(this.#random === undefined ? {} : { random: this.#random }),
      // A POST is repeated only when it certainly was not applied (429, connection refused).
      shouldRetry: (error) =>
        error instanceof QlikApiError && error.retryable && (idempotent || !error.mayHaveBeenApplied),
      retryAfterMs: (error) => (error instanceof QlikApiError ? error.retryAfterMs : undefined),
      abortError: (reason) => new QlikRequestAbortedError(call.method, call.path, reason),
      onGiveUp: (error, attempts) => {
        if (error instanceof QlikApiError) error.attempts = attempts;
      },
    });
  }

  /** One attempt; includes the single re-send after a 401 with a refreshed credential. */
  async #attempt<T>(call: Call<T>, signal: AbortSignal | undefined): Promise<T> {
    for (let refreshed = false; ; refreshed = true) {
      await this.#waitForBudget(call, signal);
      const authorization = await this.#auth.authorization(signal);
      const result = await exchange(this.#dispatcher, {
        method: call.method,
        path: call.path,
        headers: { authorization },
        body: call.body,
        signal,
      });
      if (result.status === call.expect) return call.read(result);
      if (result.status === 401 && !refreshed && this.#auth.invalidate(authorization)) continue;
      if (result.status >= 200 && result.status < 300) {
        throw malformedError(call.method, call.path, result.status, `expected status ${call.expect}, got ${result.status}`);
      }
      throw responseError(call.method, call.path, result);
    }
  }

  async #waitForBudget(call: Call<unknown>, signal: AbortSignal | undefined): Promise<void> {
    if (this.#budgets === false) return;
    const tier = tierOf(call.method);
    const budget: RateLimitBudget = this.#budgets[tier];
    try {
      await rateLimiterFor(this.origin, tier, budget).acquire(signal);
    } catch (error) {
      if (signal?.aborted === true) throw new QlikRequestAbortedError(call.method, call.path, signal.reason);
      throw error;
    }
  }

  /** A `links.next`/`prev` href, used as given but only on the tenant's own origin and API. */
  #pathOfHref(href: string): string {
    let url: URL;
    try {
      url = new URL(href, this.origin);
    } catch (error) {
      throw invalidRequest('GET', href, 'the pagination link is not a URL', error);
    }
    if (url.origin !== this.origin) {
      throw invalidRequest('GET', href, `the pagination link leaves the tenant (${url.origin} is not ${this.origin})`);
    }
    if (url.pathname !== COLLECTION) {
      throw invalidRequest('GET', href, `the pagination link does not point to ${COLLECTION}`);
    }
    return `${url.pathname}${url.search}`;
  }
}

function originOf(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`the Qlik base URL is not a URL: ${JSON.stringify(baseUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`the Qlik base URL must be http(s): ${url.origin}`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.username !== '' || url.password !== '') {
    throw new TypeError(`the Qlik base URL must be an origin such as https://tenant.region.qlikcloud.com, got ${url.origin}${url.pathname}`);
  }
  return url.origin;
}

function itemPath(id: string): string {
  if (id === '') throw new TypeError('a web integration id is required');
  return `${COLLECTION}/${encodeURIComponent(id)}`;
}

function queryString(query: ListQuery): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.sort !== undefined) params.set('sort', query.sort);
  if (query.startingAfter !== undefined) params.set('startingAfter', query.startingAfter);
  if (query.endingBefore !== undefined) params.set('endingBefore', query.endingBefore);
  if (query.tenantId !== undefined) params.set('tenantId', query.tenantId);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function invalidRequest(method: HttpMethod, path: string, detail: string, cause?: unknown): QlikApiError {
  return new QlikApiError({
    kind: 'invalid-request',
    method,
    path,
    code: 'INVALID_PAGINATION_LINK',
    title: 'Refused to follow a pagination link',
    detail,
    retryable: false,
    cause,
  });
}

/** Creates the client the product uses; see {@link QlikClientOptions}. */
export function createQlikClient(options: QlikClientOptions): WebIntegrationsApi {
  return new QlikClient(options);
}

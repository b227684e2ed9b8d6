/**
 * OAuth2 client credentials against the emulator: token cached and shared, exactly one refresh
 * and retry after a 401, clear errors for a wrong secret.
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  ClientCredentialsAuth,
  QlikApiError,
  closeQlikPools,
  createQlikClient,
  resetRateLimiters,
} from '../../functions/qlik/index.js';
import type { AuthProvider } from '../../functions/qlik/index.js';
import { EmulatorControls, rejectionOf } from './helpers/emulatorControls.js';

const API_KEY = 'auth-test-key';
const CLIENT_ID = 'origin-sync';
const CLIENT_SECRET = 'very-secret-client-secret';

let emulator: Awaited<ReturnType<typeof startQlikEmulator>>;
let controls: EmulatorControls;
const pools: Pool[] = [];

/** A pool on the emulator that counts token requests and answers by status (an interceptor, not a mock). */
function countingDispatcher(url: string): { dispatcher: Dispatcher; tokenRequests: () => number; statuses: number[] } {
  let tokenRequests = 0;
  const statuses: number[] = [];
  const pool = new Pool(url);
  pools.push(pool);
  const dispatcher = pool.compose((dispatch) => (opts, handler) => {
    if (opts.path === '/oauth/token') tokenRequests += 1;
    return dispatch(opts, {
      ...handler,
      onResponseStart(controller, statusCode, headers, statusMessage) {
        statuses.push(statusCode);
        handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
      },
      onRequestStart: handler.onRequestStart?.bind(handler),
      onResponseData: handler.onResponseData?.bind(handler),
      onResponseEnd: handler.onResponseEnd?.bind(handler),
      onResponseError: handler.onResponseError?.bind(handler),
    } as Dispatcher.DispatchHandler);
  });
  return { dispatcher, tokenRequests: () => tokenRequests, statuses };
}

beforeAll(async () => {
  emulator = await startQlikEmulator({ apiKey: API_KEY, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, port: 0 });
  controls = new EmulatorControls(emulator.url);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await closeQlikPools();
  await emulator?.close();
});

beforeEach(async () => {
  await controls.reset();
  resetRateLimiters();
});

describe('Class: ClientCredentialsAuth', () => {
  it('gets a token and uses it; concurrent callers share one token request', async () => {
    await controls.seed({ count: 3 });
    const counting = countingDispatcher(emulator.url);
    const qlik = createQlikClient({
      baseUrl: emulator.url,
      auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      dispatcher: counting.dispatcher,
      rateLimits: false,
    });

    const pages = await Promise.all(Array.from({ length: 8 }, () => qlik.listPage()));
    await qlik.listPage();

    expect(pages.every((p) => p.data.length === 3)).toBe(true);
    expect(counting.tokenRequests()).toBe(1);
  });

  it('after the tokens are revoked: one 401, one refresh, success', async () => {
    const counting = countingDispatcher(emulator.url);
    const qlik = createQlikClient({
      baseUrl: emulator.url,
      auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      dispatcher: counting.dispatcher,
      rateLimits: false,
    });
    await qlik.listPage();
    await controls.revokeTokens();
    counting.statuses.length = 0;

    const created = await qlik.create({ name: 'after-revoke' });

    expect(created.name).toBe('after-revoke');
    expect(counting.tokenRequests()).toBe(2);
    // POST 401, token 200, POST 201.
    expect(counting.statuses).toEqual([401, 200, 201]);
    expect((await controls.writeLog()).filter((e) => e.method === 'POST')).toHaveLength(1);
  });

  it('refreshes exactly once: a second 401 is terminal', async () => {
    let invalidations = 0;
    let authorizations = 0;
    const alwaysStale: AuthProvider = {
      authorization: () => {
        authorizations += 1;
        return Promise.resolve(`Bearer stale-${authorizations}`);
      },
      invalidate: () => {
        invalidations += 1;
        return true;
      },
    };
    const counting = countingDispatcher(emulator.url);
    const qlik = createQlikClient({
      baseUrl: emulator.url,
      auth: alwaysStale,
      dispatcher: counting.dispatcher,
      rateLimits: false,
    });

    const error = await rejectionOf(qlik.get('x'));

    expect(error).toMatchObject({ status: 401, retryable: false, attempts: 1 });
    expect(invalidations).toBe(1);
    expect(authorizations).toBe(2);
    expect(counting.statuses).toEqual([401, 401]);
  });

  it('a wrong client secret is a clear 401 that does not echo the secret', async () => {
    const qlik = createQlikClient({
      baseUrl: emulator.url,
      auth: { clientId: CLIENT_ID, clientSecret: 'not-the-secret' },
      rateLimits: false,
    });

    const error = await rejectionOf(qlik.listPage());

    expect(error).toBeInstanceOf(QlikApiError);
    expect(error).toMatchObject({ status: 401, method: 'POST', path: '/oauth/token', retryable: false });
    const message = (error as Error).message;
    expect(message).toContain('OAuth client credentials were rejected');
    expect(message).not.toContain('not-the-secret');
    expect(message).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(error)).not.toContain('not-the-secret');
    expect((await controls.stats()).requests.GET).toBe(0);
  });

  it('the token request is retried on a transient 503', async () => {
    await controls.setFaults({ POST: { error503: 1, times: 1 } });
    const auth = new ClientCredentialsAuth({
      baseUrl: emulator.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      retry: { maxAttempts: 3, maxElapsedMs: 5_000, baseDelayMs: 10, maxDelayMs: 50 },
    });

    const header = await auth.authorization();

    expect(header).toMatch(/^Bearer \S+$/);
    expect((await controls.stats()).faults.error503).toBe(1);
  });
});

describe('Token lifetime', () => {
  let shortLived: Awaited<ReturnType<typeof startQlikEmulator>>;

  beforeAll(async () => {
    shortLived = await startQlikEmulator({
      apiKey: API_KEY,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tokenTtlSeconds: 2,
      port: 0,
    });
  });

  afterEach(async () => {
    await new EmulatorControls(shortLived.url).reset();
  });

  afterAll(async () => {
    await closeQlikPools();
    await shortLived?.close();
  });

  it('renews the token before it expires (no 401 needed)', async () => {
    const counting = countingDispatcher(shortLived.url);
    // expires_in 2 s: the skew is capped at half the lifetime, so it renews after 1 s.
    const qlik = createQlikClient({
      baseUrl: shortLived.url,
      auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      dispatcher: counting.dispatcher,
      rateLimits: false,
    });

    await qlik.listPage();
    await qlik.listPage();
    expect(counting.tokenRequests()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await qlik.listPage();

    expect(counting.tokenRequests()).toBe(2);
    expect(counting.statuses).not.toContain(401);
  });
});

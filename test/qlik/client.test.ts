/**
 * The Qlik client against the emulator over real HTTP on loopback: pagination, every error
 * mapped, retries (503, 429 with Retry-After, dropped connections), the POST rules, bounds,
 * aborts and the per-process rate limiter.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  QlikApiError,
  QlikRequestAbortedError,
  closeQlikPools,
  createQlikClient,
  resetRateLimiters,
} from '../../functions/qlik/index.js';
import type { QlikClientOptions, WebIntegration, WebIntegrationsApi } from '../../functions/qlik/index.js';
import { EmulatorControls, rejectionOf, timed } from './helpers/emulatorControls.js';

const API_KEY = 'test-key-0123456789';
const READ_ONLY_KEY = 'read-only-key-0123456789';

let emulator: Awaited<ReturnType<typeof startQlikEmulator>>;
let controls: EmulatorControls;

/** A client with fast back-off and no client-side limiter unless a test asks for one. */
function client(overrides: Partial<QlikClientOptions> = {}): WebIntegrationsApi {
  return createQlikClient({
    baseUrl: emulator.url,
    auth: { apiKey: API_KEY },
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    rateLimits: false,
    ...overrides,
  });
}

async function collect(iterable: AsyncIterable<WebIntegration>): Promise<WebIntegration[]> {
  const items: WebIntegration[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

beforeAll(async () => {
  emulator = await startQlikEmulator({ apiKey: API_KEY, readOnlyApiKeys: [READ_ONLY_KEY], port: 0 });
  controls = new EmulatorControls(emulator.url);
});

afterAll(async () => {
  await closeQlikPools();
  await emulator?.close();
});

beforeEach(async () => {
  await controls.reset();
  resetRateLimiters();
});

describe('Function: list() and listPage()', () => {
  it('reads 25 integrations in 3 pages of 10, each once, ordered by name', async () => {
    // Prepare
    await controls.seed({ count: 25, namePrefix: 'app' });
    const qlik = client();

    // Act
    const first = await qlik.listPage({ limit: 10 });
    const all = await collect(qlik.list({ limit: 10 }));

    // Assess
    expect(first.data).toHaveLength(10);
    expect(first.links.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/web-integrations\?/);
    expect(first.links.prev).toBeUndefined();
    const second = await qlik.listPage({ href: first.links.next as string });
    const third = await qlik.listPage({ href: second.links.next as string });
    expect(second.data).toHaveLength(10);
    expect(third.data).toHaveLength(5);
    expect(third.links.next).toBeUndefined();
    expect(third.links.prev).toBeDefined();

    expect(all).toHaveLength(25);
    expect(new Set(all.map((i) => i.id)).size).toBe(25);
    const names = all.map((i) => i.name);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toBe('app-01');
    // 1 listPage + 2 more pages + 3 for list(): one GET per page.
    expect((await controls.stats()).requests.GET).toBe(6);
  });

  it('sorts by -name', async () => {
    await controls.seed({ count: 12, namePrefix: 'x' });

    const all = await collect(client().list({ sort: '-name', limit: 5 }));

    const names = all.map((i) => i.name);
    expect(names).toHaveLength(12);
    expect(names).toEqual([...names].sort().reverse());
  });

  it('asks for pages of 100 when the query does not say', async () => {
    await controls.seed({ count: 150 });

    const all = await collect(client().list());

    expect(all).toHaveLength(150);
    expect((await controls.stats()).requests.GET).toBe(2);
  });
});

describe('Functions: get(), create(), update(), replaceOrigins(), delete()', () => {
  it('round-trips an integration and writes one log entry per write', async () => {
    const qlik = client();

    const created = await qlik.create({ name: 'shop', validOrigins: ['https://shop.example.com'] });
    await qlik.replaceOrigins(created.id, ['https://a.example.com', 'https://b.example.com']);
    await qlik.update(created.id, [{ op: 'replace', path: '/name', value: 'shop-2' }]);
    const fetched = await qlik.get(created.id);
    await qlik.delete(created.id);

    expect(created).toMatchObject({ name: 'shop', validOrigins: ['https://shop.example.com'] });
    expect(created).not.toHaveProperty('links');
    expect(fetched).toMatchObject({
      id: created.id,
      name: 'shop-2',
      validOrigins: ['https://a.example.com', 'https://b.example.com'],
    });
    const log = await controls.writeLog();
    expect(log.map((e) => e.method)).toEqual(['POST', 'PATCH', 'PATCH', 'DELETE']);
    expect(log[1]?.body).toEqual([
      { op: 'replace', path: '/validOrigins', value: ['https://a.example.com', 'https://b.example.com'] },
    ]);
    expect(await controls.integrations()).toEqual([]);
  });
});

describe('Errors: Qlik envelope mapped to QlikApiError', () => {
  it('401 for a wrong API key, without the key in the message', async () => {
    const error = await rejectionOf(client({ auth: { apiKey: 'wrong-secret-key' } }).get('x'));

    expect(error).toBeInstanceOf(QlikApiError);
    expect(error).toMatchObject({
      status: 401,
      code: 'HTTP-401',
      title: 'Unauthorized',
      method: 'GET',
      path: '/api/v1/web-integrations/x',
      retryable: false,
      attempts: 1,
    });
    expect((error as QlikApiError).traceId).toMatch(/\w+/);
    expect((error as Error).message).not.toContain('wrong-secret-key');
    expect((error as Error).message).not.toContain(API_KEY);
  });

  it('403 when a read-only key creates', async () => {
    const error = await rejectionOf(client({ auth: { apiKey: READ_ONLY_KEY } }).create({ name: 'n' }));

    expect(error).toMatchObject({ status: 403, code: 'HTTP-403', method: 'POST', retryable: false });
    expect(await controls.writeLog()).toEqual([]);
  });

  it('404 for an unknown id', async () => {
    const error = await rejectionOf(client().get('does-not-exist'));

    expect(error).toMatchObject({
      kind: 'http',
      status: 404,
      code: 'WEBINTEGRATIONS_NOT_FOUND',
      retryable: false,
      mayHaveBeenApplied: false,
    });
    expect((error as QlikApiError).detail).toContain('does-not-exist');
    expect((error as Error).message).toContain('404 WEBINTEGRATIONS_NOT_FOUND');
  });

  it('400 for an invalid origin, pointing at it (POST and PATCH)', async () => {
    const qlik = client();

    const onCreate = await rejectionOf(
      qlik.create({ name: 'n', validOrigins: ['https://ok.example.com', 'https://bad.example.com/path'] }),
    );
    const [created] = await controls.seed({ integrations: [{ name: 'p' }] });
    const onPatch = await rejectionOf(qlik.replaceOrigins(created?.id as string, ['https://*.example.com']));

    expect(onCreate).toMatchObject({ status: 400, code: 'WEBINTEGRATIONS-6', retryable: false });
    expect((onCreate as QlikApiError).source).toEqual({ pointer: '/validOrigins/1' });
    expect((onCreate as Error).message).toContain('/validOrigins/1');
    expect(onPatch).toMatchObject({ status: 400, source: { pointer: '/0/value/0' } });
    expect((onPatch as QlikApiError).errors.length).toBeGreaterThanOrEqual(1);
  });

  it('400 for a bad query parameter names it', async () => {
    const error = await rejectionOf(client().listPage({ startingAfter: 'no-such-id' }));

    expect(error).toMatchObject({ status: 400, retryable: false, source: { parameter: 'startingAfter' } });
  });

  it('429 injected: retryable with retryAfterMs, surfaced when attempts are spent', async () => {
    await controls.setFaults({ GET: { error429: 1, retryAfterSeconds: 7, times: 1 } });

    const error = await rejectionOf(client({ retry: { maxAttempts: 1 } }).listPage());

    expect(error).toMatchObject({
      status: 429,
      code: 'HTTP-429',
      title: 'API rate limit reached.',
      retryable: true,
      retryAfterMs: 7000,
    });
  });

  it('429 from the real Tier 2 limiter after 100 writes in a minute', async () => {
    const qlik = client({ retry: { maxAttempts: 1 } });
    const [seeded] = await controls.seed({ integrations: [{ name: 'rl' }] });
    const id = seeded?.id as string;

    for (let i = 0; i < 100; i += 1) await qlik.replaceOrigins(id, [`https://a${i}.example.com`]);
    const error = await rejectionOf(qlik.replaceOrigins(id, ['https://late.example.com']));

    expect(error).toMatchObject({ status: 429, retryable: true });
    expect((error as QlikApiError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect((await controls.stats()).rateLimited.tier2).toBe(1);
  });
});

describe('Retries', () => {
  it('PATCH retried on two injected 503s: succeeds on the third attempt, applied once', async () => {
    const [seeded] = await controls.seed({ integrations: [{ name: 'r' }] });
    await controls.setFaults({ PATCH: { error503: 1, times: 2 } });

    await client().replaceOrigins(seeded?.id as string, ['https://r.example.com']);

    const log = await controls.writeLog();
    expect(log.filter((e) => e.method === 'PATCH')).toHaveLength(1);
    expect((await controls.stats()).faults.error503).toBe(2);
    expect((await controls.integrations())[0]?.validOrigins).toEqual(['https://r.example.com']);
  });

  it('GET retried on 429 waits at least Retry-After (1 s)', async () => {
    await controls.seed({ count: 1 });
    await controls.setFaults({ GET: { error429: 1, retryAfterSeconds: 1, times: 1 } });

    const { ms, result } = await timed(() => client().listPage());

    expect(result.status).toBe('fulfilled');
    expect(ms).toBeGreaterThanOrEqual(990);
    expect(ms).toBeLessThan(2500);
    console.info(`[measured] GET after injected 429 Retry-After: 1 -> ${ms.toFixed(0)} ms`);
    expect((await controls.stats()).faults.error429).toBe(1);
  });

  it('POST is not retried on 503: the error surfaces and nothing is created', async () => {
    await controls.setFaults({ POST: { error503: 1, times: 1 } });

    const error = await rejectionOf(client().create({ name: 'once' }));

    expect(error).toMatchObject({ status: 503, retryable: true, mayHaveBeenApplied: true, attempts: 1 });
    expect((await controls.writeLog()).filter((e) => e.method === 'POST').length).toBeLessThanOrEqual(1);
    expect((await controls.stats()).faults.error503).toBe(1);
    expect(await controls.integrations()).toEqual([]);
  });

  it('POST is retried on 429 (rejected unapplied) and created once', async () => {
    await controls.setFaults({ POST: { error429: 1, retryAfterSeconds: 1, times: 1 } });

    const { ms, result } = await timed(() => client().create({ name: 'after-429' }));

    expect(result.status).toBe('fulfilled');
    expect(ms).toBeGreaterThanOrEqual(990);
    expect((await controls.writeLog()).filter((e) => e.method === 'POST')).toHaveLength(1);
    expect(await controls.integrations()).toHaveLength(1);
  });

  it('GET retried after dropped connections', async () => {
    await controls.seed({ count: 3 });
    await controls.setFaults({ GET: { drop: 1, times: 2 } });

    const page = await client().listPage();

    expect(page.data).toHaveLength(3);
    expect((await controls.stats()).faults.drop).toBe(2);
  });

  it('POST not retried after a dropped connection (it may have been applied)', async () => {
    await controls.setFaults({ POST: { drop: 1, times: 1 } });

    const error = await rejectionOf(client().create({ name: 'dropped' }));

    expect(error).toMatchObject({ kind: 'network', retryable: true, mayHaveBeenApplied: true, attempts: 1 });
    expect((error as QlikApiError).status).toBeUndefined();
    expect((await controls.stats()).faults.drop).toBe(1);
  });

  it('gives up after maxAttempts with a retryable error when the server always fails', async () => {
    await controls.setFaults({ GET: { error503: 1 } });

    const error = await rejectionOf(client({ retry: { maxAttempts: 3, baseDelayMs: 10 } }).get('x'));

    expect(error).toMatchObject({ status: 503, code: 'HTTP-503', retryable: true, attempts: 3 });
    expect((await controls.stats()).faults.error503).toBe(3);
  });

  it('gives up at once when Retry-After exceeds the elapsed-time budget', async () => {
    await controls.setFaults({ GET: { error429: 1, retryAfterSeconds: 5 } });

    const { ms, result } = await timed(() => client({ retry: { maxElapsedMs: 2_000 } }).listPage());

    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toMatchObject({ status: 429, retryAfterMs: 5000, attempts: 1 });
    expect(ms).toBeLessThan(500);
  });
});

describe('Abort', () => {
  it('a signal fired during injected latency aborts within ~100 ms and is not retried', async () => {
    await controls.setFaults({ GET: { latencyMs: 3_000 } });
    const controller = new AbortController();
    const call = client().listPage({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);

    const start = performance.now();
    const error = await rejectionOf(call);
    const afterAbort = performance.now() - start - 200;

    expect(error).toBeInstanceOf(QlikRequestAbortedError);
    expect(error).toMatchObject({ name: 'AbortError', retryable: false, method: 'GET' });
    expect(afterAbort).toBeLessThan(100);
    console.info(`[measured] abort during latency: rejected ${Math.max(0, afterAbort).toFixed(1)} ms after abort()`);
    expect((await controls.stats()).faults.latency).toBe(1);
  });

  it('a signal fired during a Retry-After back-off stops the wait', async () => {
    await controls.setFaults({ GET: { error429: 1, retryAfterSeconds: 5 } });

    const { ms, result } = await timed(() => client().listPage({}, { signal: AbortSignal.timeout(300) }));

    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toBeInstanceOf(QlikRequestAbortedError);
    expect(ms).toBeLessThan(600);
    expect((await controls.stats()).faults.error429).toBe(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const error = await rejectionOf(client().create({ name: 'never' }, { signal: AbortSignal.abort() }));

    expect(error).toBeInstanceOf(QlikRequestAbortedError);
    expect((await controls.stats()).requests.POST).toBe(0);
  });
});

describe('Per-process rate limiter', () => {
  it('10 writes at 5 per second take at least ~1 s and never see a 429', async () => {
    const qlik = client({ rateLimits: { tier2: { limit: 5, intervalMs: 1_000 } } });

    const { ms, result } = await timed(() =>
      Promise.all(Array.from({ length: 10 }, (_, i) => qlik.create({ name: `w${i}` }))),
    );

    expect(result.status).toBe('fulfilled');
    expect(ms).toBeGreaterThanOrEqual(950);
    console.info(`[measured] 10 writes at 5/s: ${ms.toFixed(0)} ms`);
    const stats = await controls.stats();
    expect(stats.rateLimited.tier2).toBe(0);
    expect(stats.requests.POST).toBe(10);
  });

  it('is shared by two clients of the same tenant', async () => {
    const options: Partial<QlikClientOptions> = { rateLimits: { tier2: { limit: 5, intervalMs: 1_000 } } };
    const a = client(options);
    const b = client(options);

    const { ms } = await timed(() =>
      Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).create({ name: `s${i}` }))),
    );

    expect(ms).toBeGreaterThanOrEqual(950);
  });

  it('a waiting caller can be aborted', async () => {
    const qlik = client({ rateLimits: { tier2: { limit: 2, intervalMs: 60_000, burst: 1 } } });
    await qlik.create({ name: 'first' });

    const { ms, result } = await timed(() => qlik.create({ name: 'second' }, { signal: AbortSignal.timeout(150) }));

    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toBeInstanceOf(QlikRequestAbortedError);
    expect(ms).toBeLessThan(400);
    expect((await controls.stats()).requests.POST).toBe(1);
  });

  it('keeps 150 writes under a time-scaled Tier 2 window (no 429)', async () => {
    // At time scale 60 the emulator's minute lasts 1 s: 100 writes per real second.
    await controls.configure({ timeScale: 60 });
    const [seeded] = await controls.seed({ integrations: [{ name: 'scaled' }] });
    const qlik = client({ rateLimits: { tier2: { limit: 90, intervalMs: 1_000 } } });

    const { ms, result } = await timed(async () => {
      for (let i = 0; i < 150; i += 1) await qlik.replaceOrigins(seeded?.id as string, [`https://s${i}.example.com`]);
    });

    expect(result.status).toBe('fulfilled');
    expect((await controls.stats()).rateLimited.tier2).toBe(0);
    console.info(`[measured] 150 writes under a 90/s client budget (emulator 100/s): ${ms.toFixed(0)} ms`);
  });

  it('without the client limiter, the emulator 429s and the client waits Retry-After and succeeds', async () => {
    await controls.configure({ timeScale: 60 });
    const [seeded] = await controls.seed({ integrations: [{ name: 'burst' }] });
    const qlik = client();

    const { ms, result } = await timed(async () => {
      for (let i = 0; i < 110; i += 1) await qlik.replaceOrigins(seeded?.id as string, [`https://b${i}.example.com`]);
    });

    expect(result.status).toBe('fulfilled');
    const stats = await controls.stats();
    expect(stats.rateLimited.tier2).toBeGreaterThanOrEqual(1);
    expect((await controls.writeLog()).filter((e) => e.method === 'PATCH')).toHaveLength(110);
    expect(ms).toBeGreaterThanOrEqual(900);
  });
});

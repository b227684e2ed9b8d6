/**
 * Answers the emulator never gives: a tiny node:http server on loopback answers with malformed
 * bodies, foreign pagination links, non-envelope errors, HTTP-date Retry-After, silence; and a
 * closed port refuses connections.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QlikApiError, closeQlikPools, createQlikClient } from '../../functions/qlik/index.js';
import type { QlikClientOptions, WebIntegrationsApi } from '../../functions/qlik/index.js';
import { rejectionOf, timed } from './helpers/emulatorControls.js';

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

interface JunkServer {
  url: string;
  hits: string[];
  handle: Handler;
  server: Server;
}

async function startJunkServer(): Promise<JunkServer> {
  const junk: JunkServer = {
    url: '',
    hits: [],
    handle: (_req, res) => res.writeHead(500).end(),
    server: createServer((req, res) => {
      junk.hits.push(`${req.method} ${req.url}`);
      req.resume();
      junk.handle(req, res, junk.hits.length);
    }),
  };
  await new Promise<void>((resolve) => junk.server.listen(0, '127.0.0.1', resolve));
  junk.url = `http://127.0.0.1:${(junk.server.address() as AddressInfo).port}`;
  return junk;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

let junk: JunkServer;
let foreign: JunkServer;

function client(overrides: Partial<QlikClientOptions> = {}): WebIntegrationsApi {
  return createQlikClient({
    baseUrl: junk.url,
    auth: { apiKey: 'k' },
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    rateLimits: false,
    ...overrides,
  });
}

beforeAll(async () => {
  junk = await startJunkServer();
  foreign = await startJunkServer();
});

afterAll(async () => {
  await closeQlikPools();
  for (const s of [junk, foreign]) {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

beforeEach(() => {
  junk.hits.length = 0;
  foreign.hits.length = 0;
});

const valid = { id: 'a1', name: 'a', validOrigins: ['https://a.example.com'] };

describe('Malformed answers are terminal and say what was wrong', () => {
  it('validOrigins that is not an array of strings', async () => {
    junk.handle = (_req, res) => json(res, 200, { ...valid, validOrigins: 'https://a.example.com' });

    const error = await rejectionOf(client().get('a1'));

    expect(error).toBeInstanceOf(QlikApiError);
    expect(error).toMatchObject({ kind: 'malformed', code: 'MALFORMED_RESPONSE', status: 200, retryable: false, attempts: 1 });
    expect((error as Error).message).toContain('validOrigins: expected array, received string');
    expect(junk.hits).toHaveLength(1);
  });

  it('an origin that is not a string, deep in a list page', async () => {
    junk.handle = (_req, res) => json(res, 200, { data: [valid, { ...valid, id: 'a2', validOrigins: ['x', 42] }], links: {} });

    const error = await rejectionOf(client().listPage());

    expect((error as Error).message).toContain('data[1].validOrigins[1]: expected string, received number');
  });

  it('a missing id', async () => {
    junk.handle = (_req, res) => json(res, 201, { name: 'a', validOrigins: [] });

    const error = await rejectionOf(client().create({ name: 'a' }));

    expect(error).toMatchObject({ kind: 'malformed', retryable: false });
    expect((error as Error).message).toContain('id: expected string, received undefined');
  });

  it('a body that is not JSON', async () => {
    junk.handle = (_req, res) => json(res, 200, '<html>gateway</html>');

    const error = await rejectionOf(client().get('a1'));

    expect(error).toMatchObject({ kind: 'malformed', retryable: false });
    expect((error as Error).message).toContain('not JSON');
  });

  it('an unexpected success status (200 with a body where 204 is promised)', async () => {
    junk.handle = (_req, res) => json(res, 200, { ok: true });

    const error = await rejectionOf(client().replaceOrigins('a1', []));

    expect(error).toMatchObject({ kind: 'malformed', status: 200, retryable: false });
    expect((error as Error).message).toContain('expected status 204, got 200');
  });

  it('an empty 200', async () => {
    junk.handle = (_req, res) => res.writeHead(200).end();

    const error = await rejectionOf(client().get('a1'));

    expect((error as Error).message).toContain('empty body');
  });
});

describe('Pagination links', () => {
  it('refuses a links.next on another origin and never calls it', async () => {
    junk.handle = (_req, res) =>
      json(res, 200, { data: [valid], links: { self: { href: `${junk.url}/api/v1/web-integrations` }, next: { href: `${foreign.url}/api/v1/web-integrations?page=2` } } });

    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client().list()) seen.push(item.id);
      })(),
    );

    expect(seen).toEqual(['a1']);
    expect(error).toMatchObject({ kind: 'invalid-request', code: 'INVALID_PAGINATION_LINK', retryable: false });
    expect((error as Error).message).toContain('leaves the tenant');
    expect(foreign.hits).toEqual([]);
  });

  it('follows links.next as given (query kept) and stops on a repeated link', async () => {
    junk.handle = (req, res, hit) =>
      json(res, 200, {
        data: [{ ...valid, id: `id${hit}` }],
        links: { next: { href: `${junk.url}/api/v1/web-integrations?cursor=opaque%2Bvalue&limit=1` } },
      });

    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client().list({ limit: 1 })) seen.push(item.id);
      })(),
    );

    expect(junk.hits).toEqual([
      'GET /api/v1/web-integrations?limit=1',
      'GET /api/v1/web-integrations?cursor=opaque%2Bvalue&limit=1',
    ]);
    expect(seen).toEqual(['id1', 'id2']);
    expect((error as Error).message).toContain('pagination loop');
  });
});

describe('Errors and retries off the happy path', () => {
  it('a 500 that is not Qlik\u2019s envelope keeps the text and is retried', async () => {
    junk.handle = (_req, res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');

    const error = await rejectionOf(client({ retry: { maxAttempts: 2, baseDelayMs: 10 } }).get('a1'));

    expect(error).toMatchObject({ status: 502, code: 'HTTP-502', title: 'Bad Gateway', detail: 'bad gateway', retryable: true, attempts: 2 });
    expect(junk.hits).toHaveLength(2);
  });

  it('Retry-After as an HTTP date is honoured', async () => {
    junk.handle = (_req, res, hit) => {
      if (hit === 1) {
        const at = new Date(Date.now() + 2_000).toUTCString();
        json(res, 503, { errors: [{ code: 'HTTP-503', title: 'Service Unavailable', status: '503' }] }, { 'retry-after': at });
      } else {
        json(res, 200, valid);
      }
    };

    const { ms, result } = await timed(() => client().get('a1'));

    expect(result.status).toBe('fulfilled');
    // The date has whole seconds: the wait is between 1 and 2 s.
    expect(ms).toBeGreaterThanOrEqual(990);
    console.info(`[measured] Retry-After as HTTP date (+2 s, truncated to seconds): waited ${ms.toFixed(0)} ms`);
  });

  // undici runs headers timeouts on its coarse timer (about 1 s resolution), so each takes ~1 s.
  it('a headers timeout on GET is retried, on POST it is not', async () => {
    junk.handle = () => {
      /* never answers */
    };
    const slow = client({ timeouts: { headersTimeoutMs: 150 }, retry: { maxAttempts: 2, baseDelayMs: 10 } });

    const onGet = await rejectionOf(slow.get('a1'));
    const getHits = junk.hits.length;
    const onPost = await rejectionOf(slow.create({ name: 'x' }));

    expect(onGet).toMatchObject({ kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT', retryable: true, attempts: 2 });
    expect(getHits).toBe(2);
    expect(onPost).toMatchObject({ kind: 'timeout', retryable: true, mayHaveBeenApplied: true, attempts: 1 });
    expect(junk.hits.length - getHits).toBe(1);
  });

  it('a POST to a refused port is retried: it never reached a server', async () => {
    const closed = await startJunkServer();
    const url = closed.url;
    await new Promise((resolve) => closed.server.close(resolve));
    const qlik = createQlikClient({ baseUrl: url, auth: { apiKey: 'k' }, rateLimits: false, retry: { maxAttempts: 3, baseDelayMs: 10 } });

    const error = await rejectionOf(qlik.create({ name: 'x' }));

    expect(error).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', retryable: true, mayHaveBeenApplied: false, attempts: 3 });
  });

  it('never sends or reports the credential', async () => {
    junk.handle = (req, res) => json(res, 401, { errors: [{ code: 'HTTP-401', title: 'Unauthorized', detail: 'no', status: '401' }] });

    const error = await rejectionOf(client({ auth: { apiKey: 'super-secret-key' } }).get('a1'));

    expect((error as Error).message).not.toContain('super-secret-key');
    expect(JSON.stringify(error)).not.toContain('super-secret-key');
  });
});

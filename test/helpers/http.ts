// Tiny HTTP helper for the conformance suites: plain fetch, JSON in and out, status and headers.
// Deliberately independent of the product's own Qlik client so it can act as an oracle.
import { expect } from 'vitest';

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Raw response body text ('' when the body is empty). */
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
  /** Wall-clock milliseconds the call took. */
  elapsedMs: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Serialised with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** Sent as is (no content type added unless given in headers, except for URLSearchParams). */
  body?: string | URLSearchParams;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  query?: Record<string, string | number | undefined>;
}

export function withQuery(url: string, query?: RequestOptions['query']): string {
  if (!query) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) u.searchParams.set(k, String(v));
  }
  return u.toString();
}

export async function http(method: string, url: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | URLSearchParams | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const started = performance.now();
  const res = await fetch(withQuery(url, opts.query), { method, headers, body });
  const text = await res.text();
  const elapsedMs = performance.now() - started;
  let parsed: unknown;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text, body: parsed, elapsedMs };
}

export interface Client {
  base: string;
  get(path: string, opts?: RequestOptions): Promise<HttpResult>;
  post(path: string, json?: unknown, opts?: RequestOptions): Promise<HttpResult>;
  put(path: string, json?: unknown, opts?: RequestOptions): Promise<HttpResult>;
  patch(path: string, json?: unknown, opts?: RequestOptions): Promise<HttpResult>;
  del(path: string, opts?: RequestOptions): Promise<HttpResult>;
  request(method: string, path: string, opts?: RequestOptions): Promise<HttpResult>;
}

/** A client bound to a base URL and (optionally) a bearer token. `path` may also be an absolute URL. */
export function client(base: string, token?: string): Client {
  const abs = (path: string) => (/^https?:\/\//.test(path) ? path : base.replace(/\/$/, '') + path);
  const request = (method: string, path: string, opts: RequestOptions = {}) =>
    http(method, abs(path), { token, ...opts });
  return {
    base,
    request,
    get: (path, opts) => request('GET', path, opts),
    post: (path, json, opts) => request('POST', path, { ...opts, json }),
    put: (path, json, opts) => request('PUT', path, { ...opts, json }),
    patch: (path, json, opts) => request('PATCH', path, { ...opts, json }),
    del: (path, opts) => request('DELETE', path, opts),
  };
}

export const WI = '/api/v1/web-integrations';

export const INTEGRATION_FIELDS = ['created', 'createdBy', 'id', 'lastUpdated', 'name', 'tenantId', 'validOrigins'];

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function expectIsoDate(value: unknown): void {
  expect(typeof value, `expected an ISO date string, got ${JSON.stringify(value)}`).toBe('string');
  expect(value as string).toMatch(ISO_RE);
  expect(Number.isNaN(Date.parse(value as string))).toBe(false);
}

/** An integration as GET returns it: exactly the seven documented fields, well typed. */
export function expectIntegration(value: unknown): void {
  expect(value).toBeTypeOf('object');
  const v = value as Record<string, unknown>;
  expect(Object.keys(v).sort()).toEqual(INTEGRATION_FIELDS);
  expect(typeof v.id).toBe('string');
  expect((v.id as string).length).toBeGreaterThan(0);
  expect(typeof v.name).toBe('string');
  expect(typeof v.tenantId).toBe('string');
  expect(typeof v.createdBy).toBe('string');
  expectIsoDate(v.created);
  expectIsoDate(v.lastUpdated);
  expect(Array.isArray(v.validOrigins)).toBe(true);
  for (const o of v.validOrigins as unknown[]) expect(typeof o).toBe('string');
}

export interface QlikError {
  code: string;
  title: string;
  status: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

/**
 * Asserts Qlik's error envelope `{errors:[{code,title,status,detail?,source?,meta?}],traceId}`
 * with the given HTTP status (and code when given); returns the first error.
 */
export function expectQlikError(
  res: HttpResult,
  status: number,
  code?: string,
  { traceId = true }: { traceId?: boolean } = {},
): QlikError {
  const ctx = `${status} ${code ?? ''} expected; got ${res.status} ${res.text.slice(0, 500)}`;
  expect(res.status, ctx).toBe(status);
  expect(res.headers.get('content-type') ?? '', ctx).toMatch(/application\/json/);
  expect(res.body, ctx).toBeTypeOf('object');
  const body = res.body as Record<string, unknown>;
  for (const k of Object.keys(body)) expect(['errors', 'traceId'], ctx).toContain(k);
  if (traceId) {
    expect(typeof body.traceId, ctx).toBe('string');
    expect((body.traceId as string).length, ctx).toBeGreaterThan(0);
  } else if (body.traceId !== undefined) {
    expect(typeof body.traceId, ctx).toBe('string');
  }
  expect(Array.isArray(body.errors), ctx).toBe(true);
  const errors = body.errors as Record<string, unknown>[];
  expect(errors.length, ctx).toBeGreaterThan(0);
  for (const e of errors) {
    for (const k of Object.keys(e)) expect(['code', 'title', 'status', 'detail', 'source', 'meta'], ctx).toContain(k);
    expect(typeof e.code, ctx).toBe('string');
    expect(typeof e.title, ctx).toBe('string');
    expect((e.title as string).length, ctx).toBeGreaterThan(0);
    expect(e.status, ctx).toBe(String(status));
    if (e.detail !== undefined) expect(typeof e.detail, ctx).toBe('string');
    if (e.meta !== undefined) expect(e.meta, ctx).toBeTypeOf('object');
    if (e.source !== undefined) {
      expect(e.source, ctx).toBeTypeOf('object');
      for (const k of Object.keys(e.source as object)) expect(['pointer', 'parameter'], ctx).toContain(k);
    }
  }
  const first = errors[0] as unknown as QlikError;
  if (code !== undefined) expect(first.code, ctx).toBe(code);
  return first;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** POST /__emulator/reset, failing loudly when the control does not answer 204. */
export async function resetEmulator(base: string): Promise<void> {
  const res = await http('POST', `${base}/__emulator/reset`);
  if (res.status !== 204) throw new Error(`POST /__emulator/reset answered ${res.status}: ${res.text}`);
}

/** Runs `fn` over `items` with at most `concurrency` in flight, preserving result order. */
export async function mapLimit<T, R>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

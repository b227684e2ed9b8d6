/**
 * One HTTP exchange with Qlik over an undici pool, and the mapping of what can go wrong to a
 * {@link QlikApiError}: Qlik's error envelope, transport failures, malformed answers.
 */
import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { QlikApiError, QlikRequestAbortedError } from './errors.js';
import type { HttpMethod, QlikErrorItem } from './errors.js';
import { parseRetryAfter } from './retry.js';
import { describeIssues, errorEnvelopeSchema } from './schemas.js';

export interface Exchange {
  method: HttpMethod;
  /** Path and query, e.g. `/api/v1/web-integrations?limit=10`. */
  path: string;
  headers: Record<string, string>;
  /** Serialised as JSON when present. */
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export interface ExchangeResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Transport codes after which the request certainly never reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EAI_AGAIN',
  // A failed name lookup sends nothing; in Lambda it is usually a passing DNS fault.
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** Transport codes worth another try (resets, dropped connections, timeouts). */
const RETRYABLE_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ECONNABORTED',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Sends one request and reads the whole answer. Throws only transport failures and aborts. */
export async function exchange(dispatcher: Dispatcher, req: Exchange): Promise<ExchangeResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = JSON.stringify(req.body);
    headers['content-type'] = 'application/json';
  }
  try {
    const response = await dispatcher.request({
      method: req.method,
      path: req.path,
      headers,
      body: body ?? null,
      signal: req.signal ?? null,
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text };
  } catch (error) {
    if (req.signal?.aborted === true) {
      throw new QlikRequestAbortedError(req.method, req.path, req.signal.reason);
    }
    throw transportError(req.method, req.path, error);
  }
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy Eyeballs (autoSelectFamily) reports refused connections as an AggregateError.
    if (error instanceof AggregateError) {
      const first: unknown = error.errors[0];
      if (first !== undefined) return errorCode(first);
    }
  }
  return 'UNKNOWN';
}

/** Maps a transport failure (no complete answer) to a QlikApiError. */
export function transportError(method: HttpMethod, path: string, error: unknown): QlikApiError {
  const code = errorCode(error);
  const timeout = TIMEOUT_CODES.has(code);
  const notSent = NOT_SENT_CODES.has(code);
  const message = error instanceof Error ? error.message : String(error);
  return new QlikApiError({
    kind: timeout ? 'timeout' : 'network',
    method,
    path,
    code,
    title: timeout ? 'Request timed out' : 'Connection failed',
    detail: message,
    retryable: RETRYABLE_CODES.has(code),
    mayHaveBeenApplied: method !== 'GET' && !notSent,
    cause: error,
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Maps a non-success answer to a QlikApiError, reading Qlik's error envelope when it is one. */
export function responseError(method: HttpMethod, path: string, result: ExchangeResult): QlikApiError {
  const { status } = result;
  const json = result.text === '' ? undefined : parseJson(result.text);
  const envelope = json?.ok === true ? errorEnvelopeSchema.safeParse(json.value) : undefined;
  const items: QlikErrorItem[] = envelope?.success === true ? envelope.data.errors : [];
  const first = items[0];
  const snippet = result.text.length > 200 ? `${result.text.slice(0, 200)}...` : result.text;
  return new QlikApiError({
    kind: 'http',
    method,
    path,
    status,
    code: first?.code ?? `HTTP-${status}`,
    title: first?.title ?? STATUS_CODES[status] ?? 'Unexpected status',
    detail: first !== undefined ? first.detail : snippet === '' ? undefined : snippet,
    traceId: envelope?.success === true ? envelope.data.traceId : undefined,
    source: first?.source,
    errors: items,
    retryable: status === 429 || status === 408 || status >= 500,
    mayHaveBeenApplied: method !== 'GET' && status >= 500,
    retryAfterMs: parseRetryAfter(result.headers['retry-after']),
  });
}

/** A terminal error for an answer that is not what the API promises. */
export function malformedError(
  method: HttpMethod,
  path: string,
  status: number,
  detail: string,
  cause?: unknown,
): QlikApiError {
  return new QlikApiError({
    kind: 'malformed',
    method,
    path,
    status,
    code: 'MALFORMED_RESPONSE',
    title: 'Qlik answered with an unexpected body',
    detail,
    retryable: false,
    cause,
  });
}

/** Parses a JSON answer and validates it against `schema`; anything else is a malformed error. */
export function parseBody<S extends z.ZodType>(
  method: HttpMethod,
  path: string,
  result: ExchangeResult,
  schema: S,
): z.infer<S> {
  if (result.text === '') {
    throw malformedError(method, path, result.status, `expected a JSON body with status ${result.status}, got an empty body`);
  }
  const json = parseJson(result.text);
  if (!json.ok) {
    const why = json.error instanceof Error ? json.error.message : String(json.error);
    throw malformedError(method, path, result.status, `the body is not JSON (${why})`, json.error);
  }
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    throw malformedError(method, path, result.status, describeIssues(parsed.error), parsed.error);
  }
  return parsed.data;
}

/** Checks that a 204 answer has no body. */
export function expectEmpty(method: HttpMethod, path: string, result: ExchangeResult): void {
  if (result.text !== '') {
    const snippet = result.text.length > 100 ? `${result.text.slice(0, 100)}...` : result.text;
    throw malformedError(method, path, result.status, `expected an empty body with status ${result.status}, got ${JSON.stringify(snippet)}`);
  }
}

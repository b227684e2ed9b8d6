/**
 * Errors raised by the Qlik client.
 *
 * Every failure of a call to Qlik surfaces as a {@link QlikApiError}, except an aborted call, which
 * surfaces as a {@link QlikRequestAbortedError} (its `name` is `AbortError`, like the DOM's) so that
 * nobody mistakes a cancellation for a Qlik failure or retries it.
 *
 * Messages never contain credentials: they are built from the method, the path (never the
 * `Authorization` header or a request body) and what Qlik said.
 */

/** HTTP methods the client uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One entry of Qlik's error envelope `{ errors: [...], traceId }`. */
export interface QlikErrorItem {
  code: string;
  title: string;
  detail?: string;
  /** Qlik sends the HTTP status as a string here. */
  status?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

/**
 * What kind of failure it was:
 * - `http`: Qlik answered with a non-success status (see `status`, `code`);
 * - `network`: the connection failed or was reset, no (complete) answer;
 * - `timeout`: connecting, waiting for headers or reading the body took too long;
 * - `malformed`: Qlik answered, but not with what the API promises (the call is not retried);
 * - `invalid-request`: the client refused to send the call (e.g. a foreign `links.next`).
 */
export type QlikErrorKind = 'http' | 'network' | 'timeout' | 'malformed' | 'invalid-request';

export interface QlikApiErrorOptions {
  kind: QlikErrorKind;
  method: HttpMethod;
  path: string;
  status?: number | undefined;
  code: string;
  title: string;
  detail?: string | undefined;
  traceId?: string | undefined;
  source?: { pointer?: string; parameter?: string } | undefined;
  errors?: QlikErrorItem[] | undefined;
  retryable: boolean;
  /** True when the server may have applied a write although the call failed. */
  mayHaveBeenApplied?: boolean | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** A failed call to the Qlik API. */
export class QlikApiError extends Error {
  override readonly name = 'QlikApiError';
  readonly kind: QlikErrorKind;
  /** HTTP status of Qlik's answer; undefined when there was no answer (network, timeout). */
  readonly status: number | undefined;
  /** Qlik's error code (`WEBINTEGRATIONS_NOT_FOUND`, `HTTP-429`, ...), or the transport's (`UND_ERR_SOCKET`, `ECONNREFUSED`), or `MALFORMED_RESPONSE`. */
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly traceId: string | undefined;
  /** The first error's `source` (`pointer` into the request body, or the query `parameter`). */
  readonly source: { pointer?: string; parameter?: string } | undefined;
  /** Every entry of Qlik's error envelope, as sent. */
  readonly errors: readonly QlikErrorItem[];
  readonly method: HttpMethod;
  /** Path and query of the call, never the host's credentials. */
  readonly path: string;
  /** True for 429, 5xx, connection resets and timeouts: trying again later may succeed. */
  readonly retryable: boolean;
  /**
   * True when the call was a write that reached the server and its outcome is unknown (a 5xx, a
   * reset or a timeout after the request was sent). A caller must not blindly repeat such a POST:
   * list first to see whether it was created.
   */
  readonly mayHaveBeenApplied: boolean;
  /** How long the server asked us to wait (`Retry-After`), when it said so. */
  readonly retryAfterMs: number | undefined;
  /** How many attempts the client made before giving up (set by the retry loop). */
  attempts = 1;

  constructor(options: QlikApiErrorOptions) {
    super(describe(options), options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind;
    this.status = options.status;
    this.code = options.code;
    this.title = options.title;
    this.detail = options.detail;
    this.traceId = options.traceId;
    this.source = options.source;
    this.errors = options.errors ?? [];
    this.method = options.method;
    this.path = options.path;
    this.retryable = options.retryable;
    this.mayHaveBeenApplied = options.mayHaveBeenApplied ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

function describe(o: QlikApiErrorOptions): string {
  const status = o.status === undefined ? '' : ` ${o.status}`;
  const detail = o.detail === undefined || o.detail === '' ? '' : `: ${o.detail}`;
  const where = o.source?.pointer ?? o.source?.parameter;
  const source = where === undefined ? '' : ` (at ${where})`;
  const trace = o.traceId === undefined ? '' : ` [traceId ${o.traceId}]`;
  return `Qlik ${o.method} ${o.path} failed:${status} ${o.code} ${o.title}${detail}${source}${trace}`;
}

/** A call cancelled through its `AbortSignal`. Never retried. */
export class QlikRequestAbortedError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORTED';
  readonly retryable = false;
  readonly method: HttpMethod;
  readonly path: string;

  constructor(method: HttpMethod, path: string, reason: unknown) {
    super(`Qlik ${method} ${path} was aborted${reasonText(reason)}`, { cause: reason });
    this.method = method;
    this.path = path;
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error && reason.message !== '') return `: ${reason.message}`;
  return '';
}

export function isQlikApiError(error: unknown): error is QlikApiError {
  return error instanceof QlikApiError;
}

export function isQlikRequestAbortedError(error: unknown): error is QlikRequestAbortedError {
  return error instanceof QlikRequestAbortedError;
}

/**
 * Retrying failed calls: exponential back-off with full jitter, honouring `Retry-After`, bounded in
 * attempts and in total elapsed time.
 *
 * Why not undici's own `RetryAgent` / `RetryHandler` (undici 7, `lib/handler/retry-handler.js`)?
 * We read its source and docs; it does not fit this API:
 * - its back-off is deterministic, `min(minTimeout * timeoutFactor ** n, maxTimeout)`: no jitter,
 *   so every Lambda that hit the same 429 comes back at the same instant;
 * - it caps `Retry-After` at `maxTimeout` (`Math.min(retryAfter, maxTimeout)`), i.e. it may retry
 *   *before* the server allows, and it has no bound on the total elapsed time;
 * - its rules are per method OR per status code; they cannot say "retry a POST on 429 or when the
 *   connection was refused, but never on a 5xx or a reset after the request was sent";
 * - each retry re-dispatches straight to the pool, bypassing our per-tenant rate limiter and the
 *   auth provider (a refreshed OAuth token would not be used), and with `throwOnError` the final
 *   error loses Qlik's error body (code, detail, traceId);
 * - its wait is a bare `setTimeout`: the caller's `AbortSignal` does not cut a back-off short.
 * A custom `retry` callback could patch some of this, but then we would write the policy anyway,
 * inside a callback with less information. So: this small loop, with injectable sleep, clock and
 * randomness for unit tests.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** No retry starts once this much time has passed since the call began (or would pass while waiting). */
  maxElapsedMs: number;
  /** Back-off cap before jitter for the first retry; doubles each retry. */
  baseDelayMs: number;
  /** Upper bound of the computed back-off (a server's `Retry-After` may ask for more). */
  maxDelayMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 5,
  maxElapsedMs: 30_000,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
});

/** Waits `ms`, rejecting early when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real sleep: a timer that the signal cancels. */
export const realSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? undefined : { signal });
};

/**
 * Parses `Retry-After` (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) into milliseconds from
 * `now`. Returns undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP-date names its day and month (`Wed, 21 Oct 2015 07:28:00 GMT`); a bare "-5" is no date.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Full-jitter back-off before retry number `retry` (1 for the first retry):
 * a uniform random wait in `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`.
 */
export function backoffDelay(
  retry: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** The wait before retry number `retry`: the jittered back-off, but never less than `Retry-After`. */
export function retryDelay(
  retry: number,
  retryAfterMs: number | undefined,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  return Math.max(retryAfterMs ?? 0, backoffDelay(retry, policy, random));
}

export interface RetryLoopOptions {
  policy: RetryPolicy;
  signal?: AbortSignal | undefined;
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
  /** Whether this failure of attempt number `attempt` may be tried again. */
  shouldRetry(error: unknown, attempt: number): boolean;
  /** The server's requested wait for this failure, if any. */
  retryAfterMs(error: unknown): number | undefined;
  /** Turns an abort (signal fired while waiting) into the error the caller sees. */
  abortError(reason: unknown): Error;
  /** Told the number of attempts made when giving up with `error`. */
  onGiveUp?(error: unknown, attempts: number): void;
}

/**
 * Runs `attempt(n)` (n = 1, 2, ...) until it succeeds, fails terminally, or the policy's attempts
 * or elapsed-time budget is spent. The last failure is rethrown as it is.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryLoopOptions,
): Promise<T> {
  const { policy, signal } = options;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const started = now();

  for (let n = 1; ; n += 1) {
    if (signal !== undefined && isAborted(signal)) throw options.abortError(signal.reason);
    try {
      return await attempt(n);
    } catch (error) {
      if (signal !== undefined && isAborted(signal)) throw options.abortError(signal.reason);
      const giveUp = (): never => {
        options.onGiveUp?.(error, n);
        throw error;
      };
      if (n >= policy.maxAttempts || !options.shouldRetry(error, n)) giveUp();
      const wait = retryDelay(n, options.retryAfterMs(error), policy, random);
      if (now() - started + wait > policy.maxElapsedMs) giveUp();
      try {
        await sleep(wait, signal);
      } catch (sleepError) {
        if (signal !== undefined && isAborted(signal)) throw options.abortError(signal.reason);
        throw sleepError;
      }
    }
  }
}

/** Reads `aborted` through a call, so TypeScript does not narrow it across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

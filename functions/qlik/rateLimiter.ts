/**
 * A per-process limiter per tenant and rate-limit tier, so that one process never exceeds Qlik's
 * budgets (Tier 1: GET 1000/min; Tier 2: POST, PATCH, DELETE 100/min). Callers over budget WAIT
 * (their `AbortSignal` cuts the wait short); they do not fail.
 *
 * It is a token bucket whose parameters are chosen so that ANY window of `intervalMs` admits at
 * most `limit` calls (Qlik counts in a sliding window): with a burst of `b` tokens and a refill
 * rate of `(limit - b) / intervalMs`, a window can use at most the `b` tokens present at its start
 * plus what refills during it, `b + (limit - b) = limit`. A bucket of `limit` tokens refilled at
 * `limit / intervalMs` would admit up to twice the budget in one window. The price is a sustained
 * rate of `limit - burst` per interval (90/min for Tier 2 with the default burst of a tenth).
 *
 * The registry is module-level: every client in the process that talks to the same tenant with the
 * same budget shares one bucket per tier. It bounds one process only; several processes (Lambda
 * instances) share Qlik's budget and rely on the retry of 429s.
 */
import type { HttpMethod } from './errors.js';

export type RateLimitTier = 'tier1' | 'tier2';

export interface RateLimitBudget {
  /** Calls allowed in any window of `intervalMs`. */
  limit: number;
  intervalMs: number;
  /** Calls that may go at once after a quiet spell; default a tenth of `limit` (at least 1). */
  burst?: number;
}

export type RateLimitBudgets = Record<RateLimitTier, RateLimitBudget>;

/** Qlik's documented tiers. */
export const qlikRateLimits: Readonly<RateLimitBudgets> = Object.freeze({
  tier1: Object.freeze({ limit: 1000, intervalMs: 60_000 }),
  tier2: Object.freeze({ limit: 100, intervalMs: 60_000 }),
});

export function tierOf(method: HttpMethod): RateLimitTier {
  return method === 'GET' ? 'tier1' : 'tier2';
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** A token bucket with a FIFO queue of waiting callers. */
export class TokenBucket {
  readonly capacity: number;
  /** Tokens per millisecond. */
  readonly refillRate: number;
  #tokens: number;
  #updated: number;
  readonly #now: () => number;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(budget: RateLimitBudget, now: () => number = () => performance.now()) {
    if (!(budget.limit >= 1) || !(budget.intervalMs > 0)) {
      throw new RangeError(`invalid rate-limit budget ${JSON.stringify(budget)}`);
    }
    // A budget of 1 is one token refilled once per interval; otherwise the burst must leave room
    // for some refill within the window (see the file's comment).
    const maxBurst = budget.limit === 1 ? 1 : budget.limit - 1;
    const burst = budget.burst ?? Math.max(1, Math.floor(budget.limit / 10));
    if (!(burst >= 1) || burst > maxBurst) {
      throw new RangeError(`rate-limit burst must be 1..${maxBurst}, got ${burst}`);
    }
    this.capacity = burst;
    const perWindow = budget.limit === 1 ? 1 : budget.limit - burst;
    this.refillRate = perWindow / budget.intervalMs;
    this.#now = now;
    this.#tokens = burst;
    this.#updated = now();
  }

  /** Resolves when the caller may send one call; rejects with the signal's reason on abort. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const index = this.#queue.indexOf(waiter);
          if (index !== -1) this.#queue.splice(index, 1);
          reject(signal.reason);
          this.#schedule();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      this.#schedule();
    });
  }

  /** Takes a token if one is free and nobody waits; never waits. */
  tryAcquire(): boolean {
    this.#refill();
    if (this.#queue.length > 0 || this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Callers waiting for a token. */
  get waiting(): number {
    return this.#queue.length;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#updated) * this.refillRate);
    this.#updated = now;
  }

  #drain(): void {
    this.#timer = undefined;
    this.#refill();
    while (this.#queue.length > 0 && this.#tokens >= 1) {
      const waiter = this.#queue.shift() as Waiter;
      this.#tokens -= 1;
      if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#queue.length === 0) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#refill();
    const wait = Math.max(0, Math.ceil((1 - this.#tokens) / this.refillRate));
    this.#timer = setTimeout(() => this.#drain(), wait);
  }
}

const registry = new Map<string, TokenBucket>();

/**
 * The process-wide bucket for a tenant (its origin) and tier. Clients with the same origin, tier
 * and budget share it.
 */
export function rateLimiterFor(origin: string, tier: RateLimitTier, budget: RateLimitBudget): TokenBucket {
  const key = `${origin}|${tier}|${budget.limit}/${budget.intervalMs}/${budget.burst ?? ''}`;
  let bucket = registry.get(key);
  if (bucket === undefined) {
    bucket = new TokenBucket(budget);
    registry.set(key, bucket);
  }
  return bucket;
}

/** Forgets every bucket (tests). */
export function resetRateLimiters(): void {
  registry.clear();
}

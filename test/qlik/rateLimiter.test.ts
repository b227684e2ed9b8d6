/**
 * The token bucket: callers wait instead of failing, no window of `intervalMs` ever admits more
 * than `limit`, aborts leave the queue, the registry shares buckets per tenant and tier.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenBucket, rateLimiterFor, resetRateLimiters } from '../../functions/qlik/rateLimiter.js';

afterEach(() => resetRateLimiters());

/** Grant instants a bucket gives callers arriving at `arrivals` (ms), on a fake clock. */
function simulate(limit: number, intervalMs: number, arrivals: number[]): number[] {
  let now = 0;
  const bucket = new TokenBucket({ limit, intervalMs }, () => now);
  const grants: number[] = [];
  const pending = [...arrivals].sort((a, b) => a - b);
  const step = intervalMs / 1000;
  let queued = 0;
  for (now = 0; grants.length < arrivals.length; now += step) {
    while (pending.length > 0 && (pending[0] as number) <= now) {
      pending.shift();
      queued += 1;
    }
    while (queued > 0 && bucket.tryAcquire()) {
      grants.push(now);
      queued -= 1;
    }
  }
  return grants;
}

describe('Class: TokenBucket', () => {
  it('never admits more than limit in any window of intervalMs (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 120 }),
        (limit, arrivals) => {
          const intervalMs = 1000;
          const grants = simulate(limit, intervalMs, arrivals);
          for (let i = 0; i < grants.length; i += 1) {
            const windowEnd = (grants[i] as number) + intervalMs;
            const inWindow = grants.filter((t) => t >= (grants[i] as number) && t < windowEnd).length;
            if (inWindow > limit) return false;
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });

  it('makes callers wait, in order, and lets them through at the refill rate', async () => {
    const bucket = new TokenBucket({ limit: 5, intervalMs: 500, burst: 2 });
    const start = performance.now();
    const order: number[] = [];

    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        bucket.acquire().then(() => {
          order.push(i);
        }),
      ),
    );

    // 2 at once, then 3 more at (5 - 2) per 500 ms: ~500 ms.
    const ms = performance.now() - start;
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(ms).toBeGreaterThanOrEqual(480);
    expect(ms).toBeLessThan(900);
  });

  it('an aborted waiter rejects with the reason and gives up its place', async () => {
    const bucket = new TokenBucket({ limit: 2, intervalMs: 60_000, burst: 1 });
    await bucket.acquire();
    const controller = new AbortController();

    const waiting = bucket.acquire(controller.signal);
    expect(bucket.waiting).toBe(1);
    controller.abort(new Error('stop'));

    await expect(waiting).rejects.toThrow('stop');
    expect(bucket.waiting).toBe(0);
  });

  it('rejects budgets that cannot be honoured', () => {
    expect(() => new TokenBucket({ limit: 0, intervalMs: 1000 })).toThrow(RangeError);
    expect(() => new TokenBucket({ limit: 10, intervalMs: 1000, burst: 10 })).toThrow(RangeError);
    expect(() => new TokenBucket({ limit: 10, intervalMs: 0 })).toThrow(RangeError);
  });
});

describe('Function: rateLimiterFor()', () => {
  it('shares one bucket per tenant, tier and budget', () => {
    const budget = { limit: 100, intervalMs: 60_000 };
    const a = rateLimiterFor('https://acme.eu.qlikcloud.com', 'tier2', budget);

    expect(rateLimiterFor('https://acme.eu.qlikcloud.com', 'tier2', { ...budget })).toBe(a);
    expect(rateLimiterFor('https://acme.eu.qlikcloud.com', 'tier1', budget)).not.toBe(a);
    expect(rateLimiterFor('https://other.eu.qlikcloud.com', 'tier2', budget)).not.toBe(a);
  });
});

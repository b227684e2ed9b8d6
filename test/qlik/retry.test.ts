/**
 * The retry policy with injected sleep, clock and randomness: full jitter, Retry-After as a floor,
 * bounds on attempts and elapsed time, aborts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay, withRetries } from '../../functions/qlik/retry.js';
import type { RetryLoopOptions, RetryPolicy } from '../../functions/qlik/retry.js';

const policy: RetryPolicy = { maxAttempts: 5, maxElapsedMs: 30_000, baseDelayMs: 200, maxDelayMs: 10_000 };

class Transient extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('transient');
  }
}

/** A fake clock whose sleep advances time and records the waits. */
function fakeTime(): { sleeps: number[]; options: Pick<RetryLoopOptions, 'sleep' | 'now'> } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
    },
  };
}

function loopOptions(overrides: Partial<RetryLoopOptions> = {}): RetryLoopOptions {
  return {
    policy,
    shouldRetry: (error) => error instanceof Transient,
    retryAfterMs: (error) => (error instanceof Transient ? error.retryAfterMs : undefined),
    abortError: (reason) => new Error('aborted', { cause: reason }),
    ...overrides,
  };
}

describe('Function: parseRetryAfter()', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3000);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
  });
});

describe('Function: backoffDelay()', () => {
  it('is full jitter: uniform in [0, min(max, base * 2^(n-1)))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (retry, r) => {
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
        const delay = backoffDelay(retry, policy, () => r);
        return delay >= 0 && delay < ceiling;
      }),
    );
    expect(backoffDelay(1, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(20, policy, () => 0.5)).toBe(5000);
  });

  it('never waits less than Retry-After', () => {
    expect(retryDelay(1, 1000, policy, () => 0.9)).toBe(1000);
    expect(retryDelay(8, 1000, policy, () => 0.9)).toBe(9000);
    expect(retryDelay(1, 60_000, policy, () => 0.9)).toBe(60_000);
  });
});

describe('Function: withRetries()', () => {
  it('retries transient failures until success, with growing jittered waits', async () => {
    const time = fakeTime();
    let calls = 0;

    const result = await withRetries(
      () => {
        calls += 1;
        return calls < 4 ? Promise.reject(new Transient()) : Promise.resolve('ok');
      },
      loopOptions({ ...time.options, random: () => 0.5 }),
    );

    expect(result).toBe('ok');
    expect(time.sleeps).toEqual([100, 200, 400]);
  });

  it('stops after maxAttempts and reports the attempts', async () => {
    const time = fakeTime();
    let gaveUpAfter = 0;

    const failure = withRetries(() => Promise.reject(new Transient()), loopOptions({
      ...time.options,
      onGiveUp: (_e, attempts) => {
        gaveUpAfter = attempts;
      },
    }));

    await expect(failure).rejects.toBeInstanceOf(Transient);
    expect(gaveUpAfter).toBe(5);
    expect(time.sleeps).toHaveLength(4);
  });

  it('stops when the next wait would pass maxElapsedMs', async () => {
    const time = fakeTime();
    let calls = 0;

    const failure = withRetries(
      () => {
        calls += 1;
        return Promise.reject(new Transient(4_000));
      },
      loopOptions({ ...time.options, policy: { ...policy, maxAttempts: 100, maxElapsedMs: 10_000 } }),
    );

    await expect(failure).rejects.toBeInstanceOf(Transient);
    expect(time.sleeps).toEqual([4_000, 4_000]);
    expect(calls).toBe(3);
  });

  it('does not retry a terminal failure', async () => {
    const time = fakeTime();
    let calls = 0;

    await expect(
      withRetries(() => {
        calls += 1;
        return Promise.reject(new Error('terminal'));
      }, loopOptions(time.options)),
    ).rejects.toThrow('terminal');
    expect(calls).toBe(1);
  });

  it('an abort during the real back-off rejects at once with the abort error', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const start = performance.now();

    const failure = withRetries(() => Promise.reject(new Transient(10_000)), loopOptions({ signal: controller.signal }));

    await expect(failure).rejects.toThrow('aborted');
    expect(performance.now() - start).toBeLessThan(500);
  });
});

import type { ScaledClock } from './clock.js';

/** Qlik's rate-limit tiers: reads are Tier 1, writes Tier 2. */
export type Tier = 'tier1' | 'tier2';

export const TIER_LIMITS_PER_MINUTE: Readonly<Record<Tier, number>> = { tier1: 1000, tier2: 100 };

const WINDOW_MS = 60_000;

export function tierOf(method: string): Tier {
  return method === 'GET' || method === 'HEAD' ? 'tier1' : 'tier2';
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A sliding one-minute window per user and tier, as Qlik documents its limits ("N requests per
 * minute" for each user). A sliding log is exact: a client that spends its budget evenly never
 * sees a 429, one that bursts is told how long until its oldest request leaves the window.
 */
export class SlidingWindowRateLimiter {
  readonly #windows = new Map<string, number[]>();
  readonly #clock: ScaledClock;

  public constructor(clock: ScaledClock) {
    this.#clock = clock;
  }

  public take(user: string, tier: Tier): RateDecision {
    const now = this.#clock.now();
    const key = `${user}\u0000${tier}`;
    const window = this.#windows.get(key) ?? [];
    while (window.length > 0 && window[0]! <= now - WINDOW_MS) window.shift();
    if (window.length >= TIER_LIMITS_PER_MINUTE[tier]) {
      const emulatedWaitMs = window[0]! + WINDOW_MS - now;
      // Retry-After is in real seconds so that a client waiting that long is let in, at any time scale.
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(this.#clock.toRealMs(emulatedWaitMs) / 1000)) };
    }
    window.push(now);
    this.#windows.set(key, window);
    return { allowed: true };
  }

  public reset(): void {
    this.#windows.clear();
  }
}

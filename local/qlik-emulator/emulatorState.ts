import type { Authenticator } from './auth.js';
import type { ScaledClock } from './clock.js';
import type { FaultInjector } from './faults.js';
import type { SlidingWindowRateLimiter } from './rateLimiter.js';
import type { IntegrationStore } from './store.js';
import type { WriteLog } from './writeLog.js';

/** API calls and injected faults since start or reset, as `GET /__emulator/stats` shows them. */
export interface EmulatorStats {
  requests: Record<'GET' | 'POST' | 'PATCH' | 'DELETE', number>;
  rateLimited: { tier1: number; tier2: number };
  faults: { latency: number; error500: number; error503: number; error429: number; drop: number };
}

export function emptyStats(): EmulatorStats {
  return {
    requests: { GET: 0, POST: 0, PATCH: 0, DELETE: 0 },
    rateLimited: { tier1: 0, tier2: 0 },
    faults: { latency: 0, error500: 0, error503: 0, error429: 0, drop: 0 },
  };
}

/** Everything one running emulator holds; the route modules share it. */
export interface EmulatorState {
  store: IntegrationStore;
  auth: Authenticator;
  clock: ScaledClock;
  limiter: SlidingWindowRateLimiter;
  faults: FaultInjector;
  writeLog: WriteLog;
  stats: EmulatorStats;
  rateLimits: boolean;
}

import { isRegistrationLive, type Registration } from './model.js';

/** The desired origins of a target at one instant, and when that will next change by itself. */
export interface DesiredState {
  /** Union of the origins of live registrations, sorted, without duplicates. */
  origins: string[];
  /** Apps whose registrations count. */
  liveApps: string[];
  /** Earliest `expiresAt` among live registrations: desired changes then without any event. */
  nextExpiryAt?: string;
}

/**
 * Desired origins = the union of the origins of active, unexpired registrations (DESIGN §2).
 * The policy's static origins are added by the planner, which also re-checks the policy.
 */
export function desiredState(registrations: readonly Registration[], now: Date): DesiredState {
  const origins = new Set<string>();
  const liveApps: string[] = [];
  let nextExpiry: number | undefined;
  for (const registration of registrations) {
    if (!isRegistrationLive(registration, now)) continue;
    liveApps.push(registration.appId);
    for (const origin of registration.origins) origins.add(origin);
    if (registration.expiresAt !== undefined) {
      const expiry = Date.parse(registration.expiresAt);
      nextExpiry = nextExpiry === undefined ? expiry : Math.min(nextExpiry, expiry);
    }
  }
  return {
    origins: [...origins].sort(),
    liveApps: liveApps.sort(),
    ...(nextExpiry !== undefined && { nextExpiryAt: new Date(nextExpiry).toISOString() }),
  };
}

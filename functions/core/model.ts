import type { Policy } from './policy.js';

/**
 * The domain records the product keeps (DESIGN §2). Plain data: the registry stores them, the
 * planner and reconcile read them, nothing here does I/O.
 */

/** A Qlik Cloud tenant and where its credentials live. */
export interface Tenant {
  /** Short name used in events and the CLI, e.g. "acme". */
  tenant: string;
  /** Base URL, e.g. "https://acme.eu.qlikcloud.com". */
  url: string;
  /** Secrets Manager id of `{ "apiKey" }` or `{ "clientId", "clientSecret" }`. */
  secretId: string;
}

/** One web integration of one tenant: the unit the synchronizer reconciles. */
export interface TargetRef {
  tenant: string;
  webIntegrationId: string;
}

export function describeTarget(ref: TargetRef): string {
  return `${ref.tenant}/${ref.webIntegrationId}`;
}

export interface Lease {
  owner: string;
  /** Epoch milliseconds after which anyone may take the lease over. */
  expiresAt: number;
}

/** A target with its policy and the bookkeeping of reconciles. */
export interface TargetState {
  ref: TargetRef;
  policy: Policy;
  /** Bumped by every registration change; reconcile works until `appliedVersion` catches up. */
  desiredVersion: number;
  /** The `desiredVersion` the last successful reconcile made true in Qlik. */
  appliedVersion: number;
  /** Origins this system wrote and still owns (normalised). */
  managedOrigins: string[];
  lastReconcileAt?: string;
  lastError?: string;
  lease?: Lease;
  /** Earliest `expiresAt` among active registrations: the scan reconciles once it has passed. */
  nextExpiryAt?: string;
}

export type RegistrationState = 'active' | 'removed';

/** An app's origins on a target, as the latest deployment event stated them. */
export interface Registration {
  ref: TargetRef;
  appId: string;
  origins: string[];
  state: RegistrationState;
  /** Time of the event that wrote this (ISO 8601, UTC, milliseconds). */
  eventTime: string;
  eventId: string;
  expiresAt?: string;
  deploymentId?: string;
}

/** A change to a registration, from a deployment event or the CLI. */
export type RegistrationChange = Omit<Registration, 'state' | 'origins'> &
  ({ kind: 'deploy'; origins: string[] } | { kind: 'remove'; origins?: undefined });

/** Why a reconcile or a rejection happened. */
export interface Cause {
  type: 'event' | 'scan' | 'cli';
  /** Event id, scan id or CLI invocation id. */
  id: string;
}

/** One line of the audit trail: a change written to Qlik, or an input rejected at the door. */
export interface AuditEntry {
  ref: TargetRef;
  time: string;
  kind: 'origins-changed' | 'rejected' | 'held-back';
  cause: Cause;
  before?: string[];
  after?: string[];
  added?: string[];
  removed?: string[];
  heldBack?: { origin: string; reason: string }[];
  /** For rejections: what was wrong, in words. */
  reason?: string;
}

/** A registration counts toward the desired origins while active and not expired. */
export function isRegistrationLive(registration: Registration, now: Date): boolean {
  return registration.state === 'active' && (registration.expiresAt === undefined || Date.parse(registration.expiresAt) > now.getTime());
}

import type { AuditEntry, Registration, RegistrationChange, TargetRef, TargetState, Tenant } from '../core/model.js';
import type { Policy } from '../core/policy.js';

/** What became of a registration change. */
export type RegistrationOutcome =
  /** Written, and the target's `desiredVersion` bumped in the same transaction. */
  | { status: 'applied' }
  /** The same event (same `eventId` and time) was already recorded: nothing changed. */
  | { status: 'duplicate' }
  /** A newer event for this app is already recorded: this older one changes nothing. */
  | { status: 'stale'; storedEventTime: string };

/** The outcome of finishing one pass of a reconcile while holding the lease. */
export type FinishOutcome =
  /** Nothing new arrived meanwhile: the lease is released. */
  | { released: true; target: TargetState }
  /** `desiredVersion` moved on while we worked: the lease is kept (and extended) for another pass. */
  | { released: false; target: TargetState };

/** What a reconcile pass records on the target. */
export interface PassRecord {
  appliedVersion: number;
  managedOrigins: string[];
  lastReconcileAt: string;
  nextExpiryAt?: string;
  /** Set when the pass finished with something an operator must see (e.g. removals held back by the guard). */
  lastError?: string;
}

/**
 * The registry behind the engine: tenants, targets, registrations, leases, the audit trail and
 * the tenant-wide write budget. The engine depends on this interface only; `DynamoDbRegistry` is
 * the implementation, so nothing in the logic names DynamoDB.
 *
 * Every read that decides anything is strongly consistent.
 */
export interface Registry {
  putTenant(tenant: Tenant): Promise<void>;
  getTenant(tenant: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;

  /** Creates a target or changes its policy; versions, managed origins and lease are kept. */
  putTarget(ref: TargetRef, policy: Policy): Promise<void>;
  getTarget(ref: TargetRef): Promise<TargetState | undefined>;
  listTargets(tenant: string): Promise<TargetState[]>;

  /**
   * Records a deployment or removal: writes the registration and bumps the target's
   * `desiredVersion` in one transaction, conditional on event order and idempotent on `eventId`.
   * @throws {TargetNotFoundError} when the target is not configured.
   */
  recordRegistration(change: RegistrationChange): Promise<RegistrationOutcome>;
  listRegistrations(ref: TargetRef): Promise<Registration[]>;

  /**
   * Takes the target's lease when it is free or expired; `undefined` when another holds it.
   * @throws {TargetNotFoundError} when the target is not configured.
   */
  acquireLease(ref: TargetRef, owner: string, durationMs: number): Promise<TargetState | undefined>;
  /**
   * Records a finished pass and releases the lease, unless `desiredVersion` moved past the
   * version the pass applied: then the lease is extended for another pass.
   * @throws {LeaseLostError} when `owner` no longer holds the lease.
   */
  finishPass(ref: TargetRef, owner: string, record: PassRecord, leaseDurationMs: number): Promise<FinishOutcome>;
  /**
   * Records, before a write to Qlik, the origins the write will own. Ownership must never lag
   * behind Qlik: if the run dies after the PATCH, the next one still knows these are ours.
   * @throws {LeaseLostError} when `owner` no longer holds the lease.
   */
  recordIntent(ref: TargetRef, owner: string, managedOrigins: string[]): Promise<void>;
  /** Records why a run failed and releases the lease (no-op when the lease was lost). */
  abandonLease(ref: TargetRef, owner: string, error: string): Promise<void>;

  appendAudit(entry: AuditEntry): Promise<void>;
  /** Audit entries of a tenant (optionally one target) since a time, oldest first. */
  listAudit(tenant: string, options?: { webIntegrationId?: string; since?: Date }): Promise<AuditEntry[]>;

  /**
   * Waits until the tenant-wide Tier 2 budget has a write for us and takes it: all concurrent
   * invocations together stay under Qlik's write limit.
   */
  takeWriteToken(tenant: string, signal?: AbortSignal): Promise<void>;
}

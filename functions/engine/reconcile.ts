import { randomBytes } from 'node:crypto';
import { desiredState } from '../core/desired.js';
import type { Cause, TargetRef, TargetState } from '../core/model.js';
import { normalizeOrigin } from '../core/origins.js';
import { plan, type Plan } from '../core/plan.js';
import type { WebIntegrationsApi } from '../qlik/types.js';
import { LeaseLostError, TargetNotFoundError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import { VerificationFailedError } from './errors.js';

export interface ReconcileDependencies {
  registry: Registry;
  /** The Qlik API of the target's tenant. */
  qlik: WebIntegrationsApi;
  /** Longer than any function timeout, so a live holder never loses its lease (default 5 min). */
  leaseDurationMs?: number;
  /** Passes one invocation makes before it leaves further changes to the next run (default 10). */
  maxPasses?: number;
  now?: () => Date;
}

export interface ReconcileOptions {
  cause: Cause;
  /** Plan only: nothing is written to Qlik or recorded in the registry. */
  dryRun?: boolean;
  /** An operator confirmed this many removals for this run (raises the guard). */
  allowRemovals?: number;
  signal?: AbortSignal;
}

export type ReconcileResult =
  /**
   * Another invocation holds the lease: its next pass will see our change (see `reconcile`); if
   * it gives up first (`maxPasses`, an error), the target stays behind and the next event or scan
   * applies it.
   */
  | { status: 'busy'; target: TargetRef }
  | {
      status: 'changed' | 'unchanged' | 'dry-run';
      target: TargetRef;
      /** Passes made (each reads the registry and Qlik once and writes at most once). */
      passes: number;
      /** PATCHes sent to Qlik. */
      writes: number;
      /** The plan of the last pass. */
      plan: Plan;
      before: string[];
      after: string[];
      /** Set when the removal guard held removals back: an operator must confirm them. */
      guardTripped: boolean;
    };

export const DEFAULT_LEASE_DURATION_MS = 5 * 60_000;

/**
 * Brings one target's web integration in line with the registry, single-flight per target.
 *
 * Each pass: read `desiredVersion` (with the lease), then the registrations, then GET the
 * integration; plan; PATCH only when the plan has changes, and verify with a GET; then record
 * `appliedVersion` and the managed origins and release the lease, unless `desiredVersion` moved
 * on meanwhile, in which case keep the lease and make another pass.
 *
 * Why no change can be lost: a writer first bumps `desiredVersion` (in the registration
 * transaction), then tries to take the lease. If it gets it, it reconciles itself. If the lease
 * is held, the holder has not yet released, and it releases only with a conditional write that
 * requires `desiredVersion` to equal the version its pass read; both operations touch the same
 * item, which DynamoDB serialises, so the bump happened before that release and the condition
 * fails: the holder makes another pass, which reads registrations written before the bump.
 * A holder that dies leaves a lease that expires; the scan then finds `appliedVersion <
 * desiredVersion` and reconciles.
 */
export async function reconcile(ref: TargetRef, deps: ReconcileDependencies, options: ReconcileOptions): Promise<ReconcileResult> {
  const now = deps.now ?? (() => new Date());
  if (options.dryRun) return dryRun(ref, deps, options, now);

  const leaseDurationMs = deps.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
  const owner = `${options.cause.type}:${options.cause.id}:${randomBytes(6).toString('hex')}`;
  let target = await deps.registry.acquireLease(ref, owner, leaseDurationMs);
  if (!target) return { status: 'busy', target: ref };

  let writes = 0;
  let first: string[] | undefined;
  try {
    for (let pass = 1; ; pass += 1) {
      const outcome = await reconcilePass(target, owner, deps, options, now);
      first ??= outcome.before;
      if (outcome.wrote) writes += 1;
      const finished = await deps.registry.finishPass(
        ref,
        owner,
        {
          appliedVersion: outcome.appliedVersion,
          managedOrigins: outcome.plan.nextManaged,
          lastReconcileAt: now().toISOString(),
          ...(outcome.nextExpiryAt !== undefined && { nextExpiryAt: outcome.nextExpiryAt }),
          ...(outcome.plan.guardTripped && { lastError: guardMessage(outcome.plan) }),
        },
        leaseDurationMs,
      );
      if (finished.released || pass >= (deps.maxPasses ?? 10)) {
        if (!finished.released) {
          // Still changing after many passes: leave it to the next event or scan rather than spin.
          await deps.registry.abandonLease(ref, owner, `still changing after ${pass} passes; the next run continues`);
        }
        return {
          status: writes > 0 ? 'changed' : 'unchanged',
          target: ref,
          passes: pass,
          writes,
          plan: outcome.plan,
          before: first,
          after: outcome.after,
          guardTripped: outcome.plan.guardTripped,
        };
      }
      target = finished.target;
    }
  } catch (error) {
    if (!(error instanceof LeaseLostError)) {
      await deps.registry.abandonLease(ref, owner, errorMessage(error)).catch(() => undefined);
    }
    throw error;
  }
}

interface PassOutcome {
  plan: Plan;
  before: string[];
  after: string[];
  wrote: boolean;
  /** The `desiredVersion` this pass made true (read before the registrations it planned from). */
  appliedVersion: number;
  nextExpiryAt?: string;
}

/**
 * A token wait longer than this means others were writing: look again before we write. Taking a
 * token without waiting costs two DynamoDB round trips, well below this.
 */
const STALE_AFTER_WAIT_MS = 200;

async function reconcilePass(
  target: TargetState,
  owner: string,
  deps: ReconcileDependencies,
  options: ReconcileOptions,
  now: () => Date,
): Promise<PassOutcome> {
  const { ref } = target;
  let current = await planPass(target, deps, options, now);
  if (!current.plan.hasChanges) {
    if (current.plan.guardTripped) await audit(deps, target, options, 'held-back', current.plan, current.before, current.before, now);
    return { ...current, after: current.before, wrote: false };
  }

  const waitStarted = Date.now();
  await deps.registry.takeWriteToken(ref.tenant, options.signal);
  if (Date.now() - waitStarted > STALE_AFTER_WAIT_MS) {
    // Under load the write budget makes us wait; what was registered meanwhile joins this write
    // instead of costing another pass and another PATCH. The target is read again first, so the
    // version we will record is still one read before the registrations.
    const fresh = await deps.registry.getTarget(ref);
    if (!fresh) throw new TargetNotFoundError(ref);
    target = fresh;
    current = await planPass(target, deps, options, now);
    if (!current.plan.hasChanges) return { ...current, after: current.before, wrote: false };
  }
  const { plan: thePlan, before } = current;
  // Ownership first: if this run dies after the PATCH, the next still knows the added origins are
  // ours. Origins owned but never written fall out of the managed set on the next pass.
  await deps.registry.recordIntent(ref, owner, [...new Set([...target.managedOrigins, ...thePlan.add])].sort());
  await deps.qlik.replaceOrigins(ref.webIntegrationId, thePlan.nextValidOrigins, signalOption(options));
  // Audited as soon as Qlik accepted the write: a failure after this point must not leave a
  // change in Qlik that the audit trail does not show.
  await audit(deps, target, options, 'origins-changed', thePlan, before, thePlan.nextValidOrigins, now);
  const after = (await deps.qlik.get(ref.webIntegrationId, signalOption(options))).validOrigins;
  verify(ref, thePlan.nextValidOrigins, after);
  return { ...current, after, wrote: true };
}

/** Reads what a pass decides on (registrations, then the integration) and plans. */
async function planPass(
  target: TargetState,
  deps: ReconcileDependencies,
  options: ReconcileOptions,
  now: () => Date,
): Promise<Omit<PassOutcome, 'after' | 'wrote'>> {
  const { ref } = target;
  // Registrations are read after desiredVersion (which came with the lease or the re-read):
  // anything written later has a higher version and fails our release, so it is never skipped.
  const desired = desiredState(await deps.registry.listRegistrations(ref), now());
  const before = (await deps.qlik.get(ref.webIntegrationId, signalOption(options))).validOrigins;
  return {
    plan: plan(desired.origins, before, target.managedOrigins, target.policy, allowRemovalsOption(options)),
    before,
    appliedVersion: target.desiredVersion,
    ...(desired.nextExpiryAt !== undefined && { nextExpiryAt: desired.nextExpiryAt }),
  };
}

async function dryRun(ref: TargetRef, deps: ReconcileDependencies, options: ReconcileOptions, now: () => Date): Promise<ReconcileResult> {
  const target = await deps.registry.getTarget(ref);
  if (!target) throw new TargetNotFoundError(ref);
  const { plan: thePlan, before } = await planPass(target, deps, options, now);
  return {
    status: 'dry-run',
    target: ref,
    passes: 1,
    writes: 0,
    plan: thePlan,
    before,
    after: thePlan.nextValidOrigins,
    guardTripped: thePlan.guardTripped,
  };
}

/** What Qlik shows after our write must hold exactly the origins we wrote (compared normalised). */
function verify(ref: TargetRef, written: readonly string[], shown: readonly string[]): void {
  const wanted = new Set(written.map(recognise));
  const seen = new Set(shown.map(recognise));
  const missing = [...wanted].filter((origin) => !seen.has(origin));
  const unexpected = [...seen].filter((origin) => !wanted.has(origin));
  if (missing.length > 0 || unexpected.length > 0) throw new VerificationFailedError(ref, missing, unexpected);
}

function recognise(entry: string): string {
  const normalized = normalizeOrigin(entry, { allowHttpLocalhost: true });
  return normalized.ok ? normalized.origin : entry;
}

async function audit(
  deps: ReconcileDependencies,
  target: TargetState,
  options: ReconcileOptions,
  kind: 'origins-changed' | 'held-back',
  thePlan: Plan,
  before: string[],
  after: string[],
  now: () => Date,
): Promise<void> {
  await deps.registry.appendAudit({
    ref: target.ref,
    time: now().toISOString(),
    kind,
    cause: options.cause,
    before,
    after,
    added: thePlan.add,
    removed: [...thePlan.remove, ...thePlan.deduplicated],
    heldBack: thePlan.heldBack.map(({ origin, reason }) => ({ origin, reason })),
    ...(thePlan.guardTripped && { reason: guardMessage(thePlan) }),
  });
}

function guardMessage(thePlan: Plan): string {
  const guarded = thePlan.heldBack.filter((held) => held.reason === 'removal-guard').length;
  return (
    `removal guard: ${guarded} removal(s) held back (more than the ${thePlan.removalLimit} allowed per run); ` +
    `confirm with "origin-sync apply --allow-removals ${guarded + thePlan.remove.length}"`
  );
}

function signalOption(options: ReconcileOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function allowRemovalsOption(options: ReconcileOptions): { allowRemovals?: number } {
  return options.allowRemovals !== undefined ? { allowRemovals: options.allowRemovals } : {};
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}


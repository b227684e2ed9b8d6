/**
 * The planner: from desired, actual and managed origins of one target to the
 * `validOrigins` list that should be written, and a report of every decision.
 *
 * Modelled on external-dns's `plan.Calculate()`: pure, deterministic, and
 * explicit about what policy held back (nothing is dropped silently). The
 * caller writes `nextValidOrigins` only when `hasChanges` is true, and records
 * `nextManaged` as the target's managed origins afterwards.
 *
 * Decisions, each chosen so that a plan of its own result is a no-op:
 * - Entries of `actual` are compared after normalisation, but kept in the
 *   spelling Qlik returned (`HTTPS://Shop.Example.com:443` stays as typed when
 *   `https://shop.example.com` is desired): rewriting only to fix casing would
 *   be a write that changes nothing a browser sees.
 * - Entries of `actual` that are not origins at all (text a person typed) are
 *   never touched unless ownership is `exclusive`; they are reported.
 * - Entries that normalise equal to an earlier entry are dropped and listed in
 *   `deduplicated`: the origin stays allowed through its first entry, so this
 *   is safe in every mode, and it keeps the list from carrying noise forever.
 * - Additions are appended after the kept entries, sorted, so the list people
 *   see keeps its order and a plan is the same whatever order `desired` had.
 * - Removals honour the mode, then ownership, then the per-run guard, in the
 *   order of `actual`; whatever is not removed is in `heldBack` with a reason.
 */
import { normalizeOrigin } from './origins.js';
import { isOriginAllowed, outsidePolicyReason } from './policy.js';
import type { Policy } from './policy.js';

/** Why an origin was not added or not removed. */
export type HoldBackReason = 'not-managed' | 'upsert-only' | 'removal-guard' | 'outside-policy';

export interface HeldBackOrigin {
  /** The origin as it was given: the actual entry's text, or the desired origin. */
  readonly origin: string;
  readonly reason: HoldBackReason;
  /** A sentence for people: what exactly held it back. */
  readonly detail?: string;
}

export interface Plan {
  /** Desired origins missing from the integration, normalised and sorted. */
  readonly add: string[];
  /** Entries of `actual` (as spelt there) that are removed. */
  readonly remove: string[];
  /** Entries of `actual` (as spelt there) that are desired and stay. */
  readonly keep: string[];
  /** Later entries of `actual` that normalise equal to an earlier entry, dropped. */
  readonly deduplicated: string[];
  /** Everything the policy kept from being added or removed, with the reason. */
  readonly heldBack: HeldBackOrigin[];
  /** The `validOrigins` to write: surviving entries of `actual` in their order, then `add`. */
  readonly nextValidOrigins: string[];
  /** The managed origins to record after the write, normalised and sorted. */
  readonly nextManaged: string[];
  /** `true` iff `nextValidOrigins` differs from `actual`, i.e. a write is needed. */
  readonly hasChanges: boolean;
  /** `true` when removals were held back by the per-run guard: the caller should stop and report, or get confirmation. */
  readonly guardTripped: boolean;
  /** The most removals this run was allowed (the policy's guard, raised by `allowRemovals`). */
  readonly removalLimit: number;
}

export interface PlanOptions {
  /**
   * Raises the removal guard for this run only (an operator confirmed the
   * removals, e.g. with the CLI). Never lowers the policy's limit;
   * `Number.POSITIVE_INFINITY` confirms all.
   */
  readonly allowRemovals?: number;
}

/**
 * Actual and managed origins are normalised only to recognise them, never to
 * judge them: a `http://localhost:3000` a person put on the integration is an
 * origin, whether or not this policy would accept it.
 */
const RECOGNITION_OPTIONS = { allowHttpLocalhost: true } as const;

interface RemovalCandidate {
  readonly index: number;
  readonly text: string;
  /** The normalised origin, or `undefined` when the entry is not an origin. */
  readonly origin: string | undefined;
  /** Why the entry is not an origin, when it is not. */
  readonly invalidReason?: string;
}

/**
 * Plans one reconcile of one target.
 *
 * @param desired - desired origins of the target (already checked on the way
 *   in; checked again here, so nothing outside the policy is ever added). The
 *   policy's `staticOrigins` are always desired and are added to these.
 * @param actual - the integration's `validOrigins` exactly as Qlik returned them.
 * @param managed - origins this system wrote earlier and still owns.
 * @param policy - the target's policy.
 * @param options - per-run overrides (operator confirmation of removals).
 *
 * @example
 * const policy = parsePolicy({ allowedOrigins: ['https://*.example.com'] });
 * plan(['https://b.example.com'], ['https://A.example.com', 'https://old.example.com'], ['https://old.example.com'], policy);
 * // add: ['https://b.example.com'], remove: ['https://old.example.com'], keep: [],
 * // heldBack: [{ origin: 'https://A.example.com', reason: 'not-managed', ... }],
 * // nextValidOrigins: ['https://A.example.com', 'https://b.example.com'], nextManaged: ['https://b.example.com']
 */
export function plan(
  desired: Iterable<string>,
  actual: readonly string[],
  managed: Iterable<string>,
  policy: Policy,
  options: PlanOptions = {},
): Plan {
  const removalLimit = resolveRemovalLimit(policy, options);
  const wanted = collectDesired(desired, policy);
  const owned = collectManaged(managed);

  const keep: string[] = [];
  const deduplicated: string[] = [];
  const candidates: RemovalCandidate[] = [];
  const dropped = new Set<number>();
  const present = new Set<string>();

  for (const [index, text] of actual.entries()) {
    const normalized = normalizeOrigin(text, RECOGNITION_OPTIONS);
    if (!normalized.ok) {
      candidates.push({ index, text, origin: undefined, invalidReason: normalized.reason });
    } else if (present.has(normalized.origin)) {
      deduplicated.push(text);
      dropped.add(index);
    } else {
      present.add(normalized.origin);
      if (wanted.origins.has(normalized.origin)) {
        keep.push(text);
      } else {
        candidates.push({ index, text, origin: normalized.origin });
      }
    }
  }

  const removals = decideRemovals(candidates, owned, policy, removalLimit);
  for (const candidate of removals.removed) {
    dropped.add(candidate.index);
  }

  const add = [...wanted.origins].filter((origin) => !present.has(origin)).sort();
  const nextValidOrigins = [...actual.filter((_, index) => !dropped.has(index)), ...add];

  return {
    add,
    remove: removals.removed.map((candidate) => candidate.text),
    keep,
    deduplicated,
    heldBack: [...wanted.heldBack, ...removals.heldBack],
    nextValidOrigins,
    nextManaged: computeNextManaged(owned, nextValidOrigins, add),
    hasChanges: !sameList(nextValidOrigins, actual),
    guardTripped: removals.guardTripped,
    removalLimit,
  };
}

function resolveRemovalLimit(policy: Policy, options: PlanOptions): number {
  const { allowRemovals } = options;
  if (allowRemovals !== undefined && (Number.isNaN(allowRemovals) || allowRemovals < 0)) {
    throw new RangeError(`allowRemovals must be a number of 0 or more, got ${allowRemovals}`);
  }
  const policyLimit = Math.max(0, Math.floor(policy.maxRemovalsPerRun));
  return Math.max(policyLimit, Math.floor(allowRemovals ?? 0));
}

/**
 * Normalises desired origins (and the policy's static ones) and drops those
 * the policy does not allow. Desired origins should have been checked when
 * they were registered; the check is repeated because a policy may have been
 * narrowed since, and the planner is the last step before a write.
 */
function collectDesired(desired: Iterable<string>, policy: Policy): { origins: Set<string>; heldBack: HeldBackOrigin[] } {
  const origins = new Set<string>();
  const heldBack: HeldBackOrigin[] = [];
  const reported = new Set<string>();
  const holdBack = (origin: string, detail: string): void => {
    if (!reported.has(origin)) {
      reported.add(origin);
      heldBack.push({ origin, reason: 'outside-policy', detail });
    }
  };
  for (const input of [...desired, ...(policy.staticOrigins ?? [])]) {
    const normalized = normalizeOrigin(input, { allowHttpLocalhost: policy.allowHttpLocalhost });
    if (!normalized.ok) {
      holdBack(input, normalized.reason);
    } else if (!isOriginAllowed(normalized.origin, policy)) {
      holdBack(normalized.origin, outsidePolicyReason(normalized.origin, policy));
    } else {
      origins.add(normalized.origin);
    }
  }
  return { origins, heldBack };
}

/** Managed origins are stored normalised; anything else in the record cannot be owned and is ignored. */
function collectManaged(managed: Iterable<string>): Set<string> {
  const owned = new Set<string>();
  for (const origin of managed) {
    const normalized = normalizeOrigin(origin, RECOGNITION_OPTIONS);
    if (normalized.ok) {
      owned.add(normalized.origin);
    }
  }
  return owned;
}

interface RemovalDecision {
  readonly removed: RemovalCandidate[];
  readonly heldBack: HeldBackOrigin[];
  readonly guardTripped: boolean;
}

/**
 * Applies mode, ownership and the guard, in that order, to the entries that
 * are not desired. The guard counts only what mode and ownership would let
 * go; when that is more than the limit, it holds all of them back.
 */
function decideRemovals(
  candidates: readonly RemovalCandidate[],
  owned: ReadonlySet<string>,
  policy: Policy,
  removalLimit: number,
): RemovalDecision {
  const heldBack: HeldBackOrigin[] = [];
  const removable: RemovalCandidate[] = [];
  for (const candidate of candidates) {
    if (policy.mode === 'upsert-only') {
      heldBack.push({ origin: candidate.text, reason: 'upsert-only', detail: 'the policy never removes origins (mode "upsert-only")' });
    } else if (policy.ownership === 'managed' && (candidate.origin === undefined || !owned.has(candidate.origin))) {
      heldBack.push({ origin: candidate.text, reason: 'not-managed', detail: describeUnmanaged(candidate) });
    } else {
      removable.push(candidate);
    }
  }
  // Over the guard, nothing is removed at all: removing the first N each run would only turn a
  // mass delete into a slow one (external-dns #414, #3841). An operator confirms with allowRemovals.
  const overGuard = removable.length > removalLimit;
  const removed = overGuard ? [] : removable;
  const guarded = overGuard ? removable : [];
  for (const candidate of guarded) {
    heldBack.push({
      origin: candidate.text,
      reason: 'removal-guard',
      detail: `this run would remove ${removable.length} origins, more than the ${removalLimit} allowed per run: nothing is removed until an operator confirms`,
    });
  }
  return { removed, heldBack, guardTripped: guarded.length > 0 };
}

function describeUnmanaged(candidate: RemovalCandidate): string {
  return candidate.invalidReason === undefined
    ? 'added by someone else: left alone (ownership "managed")'
    : `not a valid origin (${candidate.invalidReason}): left as it is (ownership "managed")`;
}

/**
 * What this system owns after the write: what it owned and is still on the
 * integration (including origins whose removal was held back, so a later run
 * can still remove them), plus what it adds now.
 *
 * An origin a person added by hand stays theirs even when it later becomes
 * desired: it is kept, but never becomes managed, so this system will never
 * remove it (external-dns: pre-existing values are never touched). The price
 * is that such an origin outlives its registration; that is the safe side.
 */
function computeNextManaged(owned: ReadonlySet<string>, nextValidOrigins: readonly string[], add: readonly string[]): string[] {
  const stillPresent = new Set<string>();
  for (const text of nextValidOrigins) {
    const normalized = normalizeOrigin(text, RECOGNITION_OPTIONS);
    if (normalized.ok) {
      stillPresent.add(normalized.origin);
    }
  }
  const next = new Set([...owned].filter((origin) => stillPresent.has(origin)));
  for (const origin of add) {
    next.add(origin);
  }
  return [...next].sort();
}

function sameList(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/**
 * The pure core of qlik-origin-sync: origin rules, target policy and the
 * planner. No I/O happens below this folder; adapters and handlers build on it.
 */
export { InvalidOriginError, InvalidPolicyError } from './errors.js';
export type { PolicyIssue } from './errors.js';
export { MAX_ORIGIN_LENGTH, normalizeOrigin, normalizeOriginOrThrow } from './origins.js';
export type { NormalizedOrigin, OriginOptions, OriginResult, OriginScheme, RejectedOrigin } from './origins.js';
export {
  DEFAULT_POLICY,
  checkOrigins,
  isOriginAllowed,
  matchesOriginPattern,
  outsidePolicyReason,
  parseOriginPattern,
  parsePolicy,
  policySchema,
} from './policy.js';
export type { OriginCheck, OriginPattern, OriginPatternResult, OriginRejection, Policy, PolicyInput } from './policy.js';
export { plan } from './plan.js';
export type { HeldBackOrigin, HoldBackReason, Plan, PlanOptions } from './plan.js';

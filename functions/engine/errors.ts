import { describeTarget, type TargetRef } from '../core/model.js';

/** After our PATCH, Qlik did not show the origins we wrote: a concurrent writer, or a lost write. Retryable. */
export class VerificationFailedError extends Error {
  public readonly retryable = true;

  public constructor(ref: TargetRef, missing: string[], unexpected: string[]) {
    super(
      `after writing ${describeTarget(ref)}, Qlik shows a different validOrigins ` +
        `(missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'}); someone else wrote at the same time`,
    );
    this.name = 'VerificationFailedError';
  }
}

/**
 * Input that can never succeed however often it is retried: a malformed event, an origin outside
 * the policy, an unknown target. Handlers log, count and audit it, and do not throw (no retry).
 */
export class RejectedInputError extends Error {
  public readonly reasons: string[];

  public constructor(summary: string, reasons: string[] = []) {
    super(reasons.length > 0 ? `${summary}: ${reasons.join('; ')}` : summary);
    this.name = 'RejectedInputError';
    this.reasons = reasons;
  }
}

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

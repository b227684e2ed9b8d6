/**
 * Typed errors of the pure core.
 *
 * The core reports most problems as values (a rejected origin is an everyday
 * event, not an exception), but callers that prefer to throw get errors that
 * carry the same machine-readable facts as the values: the input and a reason a
 * person can act on.
 */

/**
 * An origin that does not satisfy the origin contract (DESIGN §2).
 *
 * `reason` is the same sentence {@link normalizeOrigin} returns, so a handler
 * can log, audit or answer with it without re-deriving anything.
 */
export class InvalidOriginError extends Error {
  public override readonly name = 'InvalidOriginError';
  public readonly input: unknown;
  public readonly reason: string;

  public constructor(input: unknown, reason: string) {
    super(`invalid origin: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

/** One problem found in a policy, located by the path of the offending field. */
export interface PolicyIssue {
  /** Path into the policy object, e.g. `allowedOrigins.2`; empty for the object itself. */
  readonly path: string;
  readonly message: string;
}

/**
 * A target policy that failed validation. Keeps every issue, not only the
 * first, so an operator fixes a configuration in one round trip.
 */
export class InvalidPolicyError extends Error {
  public override readonly name = 'InvalidPolicyError';
  public readonly issues: readonly PolicyIssue[];

  public constructor(issues: readonly PolicyIssue[], options?: { cause?: unknown }) {
    super(
      `invalid policy: ${issues
        .map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
        .join('; ')}`,
      options,
    );
    this.issues = issues;
  }
}

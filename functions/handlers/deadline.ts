import type { Context } from 'aws-lambda';

/**
 * A signal that aborts this invocation's work `marginMs` before Lambda would stop the function,
 * so reconcile's cleanup (releasing the lease, recording the error) runs inside the invocation.
 *
 * Per invocation on purpose: middy's own early timeout shares one AbortController across every
 * invocation of a process, so where invocations run concurrently (Lambda Managed Instances, the
 * local cloud) one invocation's deadline would abort all the others.
 */
export function invocationDeadline(context: Context, marginMs: number): AbortSignal {
  return AbortSignal.timeout(Math.max(0, context.getRemainingTimeInMillis() - marginMs));
}

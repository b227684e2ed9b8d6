import { randomUUID } from 'node:crypto';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

/** How many invocations of one function may run at once in this process. */
export const LOCAL_MAX_CONCURRENCY = 100;

/**
 * The local cloud runs concurrent invocations in one process, as Lambda Managed Instances do. Like
 * Lambda's runtime in that mode, it declares `AWS_LAMBDA_MAX_CONCURRENCY` and runs each
 * invocation inside its own `InvokeStore` context, so Powertools keeps log keys and metrics per
 * invocation instead of mixing concurrent ones. Call it before anything creates an AWS SDK
 * client: the SDK asks for the store too, and the first request decides its kind for good.
 */
export async function prepareConcurrentRuntime(): Promise<InvokeStoreBase> {
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= String(LOCAL_MAX_CONCURRENCY);
  const runtimeGlobal = globalThis as { awslambda?: Record<string, unknown> };
  runtimeGlobal.awslambda ??= {};
  const store = await InvokeStore.getInstanceAsync(true);
  if (!store.constructor.name.includes('Multi')) {
    throw new Error('the Lambda InvokeStore was created before the local runtime was prepared; call prepareConcurrentRuntime() first');
  }
  return store;
}

/** A Lambda handler as middy exports it. */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

export interface LocalFunction {
  name: string;
  /** Seconds, as configured on the real function; `getRemainingTimeInMillis` counts down from it. */
  timeoutSeconds: number;
  memoryMb?: number;
}

/**
 * Invokes a handler in this process the way Lambda does: the same event shape and a real context
 * object (request id, function name and ARN, remaining time), so the middy chain (timeouts that
 * abort early, Powertools' context injection) runs unchanged.
 */
export function createLocalInvoker<TEvent, TResult>(fn: LocalFunction, handler: LambdaHandler<TEvent, TResult>, region = 'us-east-1') {
  return async (event: TEvent): Promise<TResult> => {
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const requestId = randomUUID();
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${fn.name}`,
      memoryLimitInMB: String(fn.memoryMb ?? 256),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/${requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`)), fn.timeoutSeconds * 1000);
    });
    const store = await prepareConcurrentRuntime();
    try {
      return await Promise.race([store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: requestId }, () => handler(event, context)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

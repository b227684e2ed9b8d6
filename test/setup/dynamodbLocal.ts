import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb/dynamodbLocal.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the DynamoDB Local started once for the whole test run. */
    dynamodbEndpoint: string;
  }
}

/**
 * Vitest global setup: one DynamoDB Local (AWS's jar) for the whole run, on a free port, stopped
 * by its PID when the run ends. Suites read the endpoint with `inject('dynamodbEndpoint')` and
 * create their own uniquely named tables, so files running in parallel never share data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamodb = await startDynamoDbLocal();
  project.provide('dynamodbEndpoint', dynamodb.endpoint);
  return () => dynamodb.stop();
}

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDbRegistry, type DynamoDbRegistryOptions } from '../functions/registry/dynamoDbRegistry.js';
import { createTableInput } from '../functions/registry/tableDefinition.js';

/** Progress goes to stderr so stdout stays one JSON object. */
export function progress(message: string): void {
  process.stderr.write(`bench ${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** Polls until `condition` holds or the deadline passes; returns whether it held. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(everyMs);
  }
  return condition();
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/** A registry on a fresh table of the running DynamoDB Local (endpoint from the environment). */
export async function freshRegistry(tableName: string, options: Omit<DynamoDbRegistryOptions, 'client' | 'tableName'> = {}): Promise<DynamoDbRegistry> {
  const client = new DynamoDBClient({});
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  return new DynamoDbRegistry({ ...options, client: DynamoDBDocumentClient.from(client), tableName });
}


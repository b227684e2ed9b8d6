import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './keys.js';

export interface WriteBudgetOptions {
  /** Sustained writes per minute for one tenant across all invocations (default 95). */
  perMinute?: number;
  /** Writes that may go at once after a quiet period (default 5). */
  burst?: number;
}

/**
 * A token bucket per tenant, kept in the registry so every concurrent Lambda draws from one budget.
 *
 * Qlik counts Tier 2 (100 writes/min) in a one-minute window. A bucket with burst B refilling at
 * R per minute lets through at most B + R writes in any minute, so the defaults (5 + 95) stay
 * inside 100 while using 95 % of it sustained. Updates are optimistic (a `seq` compare-and-set):
 * under contention a loser re-reads and tries again instead of overdrawing.
 */
export class WriteBudget {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #perMs: number;
  readonly #burst: number;

  public constructor(client: DynamoDBDocumentClient, table: string, options: WriteBudgetOptions = {}) {
    const perMinute = options.perMinute ?? 95;
    const burst = options.burst ?? 5;
    if (!(perMinute > 0) || !(burst >= 1)) throw new RangeError('write budget needs perMinute > 0 and burst >= 1');
    this.#client = client;
    this.#table = table;
    this.#perMs = perMinute / 60_000;
    this.#burst = burst;
  }

  public async take(tenant: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const key = keys.writeBudget(tenant);
      const { Item } = await this.#client.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }));
      const now = Date.now();
      const seq = typeof Item?.seq === 'number' ? Item.seq : 0;
      const tokens = Item
        ? Math.min(this.#burst, Number(Item.tokens) + Math.max(0, now - Number(Item.refilledAt)) * this.#perMs)
        : this.#burst;
      if (tokens >= 1) {
        try {
          await this.#client.send(
            new PutCommand({
              TableName: this.#table,
              Item: { ...key, kind: 'write-budget', tokens: tokens - 1, refilledAt: now, seq: seq + 1 },
              ConditionExpression: 'attribute_not_exists(pk) OR seq = :seq',
              ExpressionAttributeValues: { ':seq': seq },
            }),
          );
          return;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          await sleep(Math.random() * 20, undefined, { signal });
          continue;
        }
      }
      const waitMs = (1 - tokens) / this.#perMs;
      await sleep(waitMs + Math.random() * 10, undefined, { signal });
    }
  }
}

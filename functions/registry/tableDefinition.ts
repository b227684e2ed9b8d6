import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The registry table, declared once: the CDK stack, the local cloud and the tests all build
 * their table from these names, so they cannot drift apart.
 *
 * One table, generic keys (`pk`, `sk`), item kinds told apart by key prefix (see `keys.ts`).
 */
export const REGISTRY_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes the item some time after (audit entries, tombstones). */
  timeToLiveAttribute: 'ttl',
} as const;

/** `CreateTable` input for DynamoDB Local and tests (the stack declares the same with CDK). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: REGISTRY_TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: REGISTRY_TABLE.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: REGISTRY_TABLE.sortKey, KeyType: 'RANGE' },
    ],
  };
}

/**
 * A registry on its own table in the DynamoDB Local that the vitest global setup started
 * (`test/setup/dynamodbLocal.ts`). Every call makes a uniquely named table, so test files running
 * in parallel, and tests within a file, never see each other's items.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { DynamoDbRegistry, type DynamoDbRegistryOptions } from '../../functions/registry/dynamoDbRegistry.js';
import { createTableInput } from '../../functions/registry/tableDefinition.js';

export interface TestRegistryOptions {
  /** Registry options other than the client and the table (e.g. `writeBudget`). */
  registry?: Omit<DynamoDbRegistryOptions, 'client' | 'tableName'>;
  /** Prefix of the table name, to tell tables apart when debugging (default `registry`). */
  tablePrefix?: string;
}

export interface TestRegistry {
  registry: DynamoDbRegistry;
  /** The document client the registry uses, for reading and planting items directly. */
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Deletes the table and closes the clients. */
  destroy(): Promise<void>;
}

/** Creates a fresh registry table (waits until it is ACTIVE) and a `DynamoDbRegistry` on it. */
export async function createTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const client = new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = `${options.tablePrefix ?? 'registry'}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  await client.send(new CreateTableCommand(createTableInput(tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 2 }, { TableName: tableName });

  const registry = new DynamoDbRegistry({ ...options.registry, client: documentClient, tableName });
  return {
    registry,
    documentClient,
    tableName,
    async destroy() {
      try {
        await client.send(new DeleteTableCommand({ TableName: tableName }));
      } finally {
        documentClient.destroy();
        client.destroy();
      }
    },
  };
}

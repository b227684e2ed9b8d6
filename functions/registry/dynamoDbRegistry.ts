import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditEntry, Registration, RegistrationChange, TargetRef, TargetState, Tenant } from '../core/model.js';
import type { Policy } from '../core/policy.js';
import { LeaseLostError, RegistryError, TargetNotFoundError, TenantNotFoundError } from './errors.js';
import { keys } from './keys.js';
import { auditFromItem, registrationFromItem, targetFromItem, tenantFromItem } from './items.js';
import type { FinishOutcome, PassRecord, RegistrationOutcome, Registry } from './registry.js';
import { WriteBudget, type WriteBudgetOptions } from './writeBudget.js';

export interface DynamoDbRegistryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** How long audit entries are kept (default 90 days). */
  auditRetentionDays?: number;
  /** Tenant-wide Tier 2 budget shared by every invocation. */
  writeBudget?: WriteBudgetOptions;
}

const DAY_SECONDS = 86_400;
/** Removed registrations stay as tombstones this long, so a late, older deploy event stays ignored. */
const TOMBSTONE_DAYS = 30;
/** Concurrent transactions on one target item conflict; they are retried this often before giving up. */
const MAX_TRANSACTION_ATTEMPTS = 12;
/** How long an event id is remembered: longer than EventBridge retries (24 h) plus DLQ retention (14 days). */
const EVENT_RECORD_DAYS = 21;

/** The registry on one DynamoDB table (key design in `keys.ts`). */
export class DynamoDbRegistry implements Registry {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #auditRetentionSeconds: number;
  readonly #budget: WriteBudget;

  public constructor(options: DynamoDbRegistryOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#auditRetentionSeconds = (options.auditRetentionDays ?? 90) * DAY_SECONDS;
    this.#budget = new WriteBudget(options.client, options.tableName, options.writeBudget);
  }

  public async putTenant(tenant: Tenant): Promise<void> {
    await this.#client.send(
      new PutCommand({ TableName: this.#table, Item: { ...keys.tenant(tenant.tenant), kind: 'tenant', ...tenant } }),
    );
  }

  public async getTenant(tenant: string): Promise<Tenant | undefined> {
    const { Item } = await this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.tenant(tenant), ConsistentRead: true }));
    return Item ? tenantFromItem(Item) : undefined;
  }

  public async listTenants(): Promise<Tenant[]> {
    return (await this.#queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.tenantPartition } })).map(
      tenantFromItem,
    );
  }

  public async putTarget(ref: TargetRef, policy: Policy): Promise<void> {
    const now = new Date().toISOString();
    try {
      await this.#transact(
        [
          { ConditionCheck: { TableName: this.#table, Key: keys.tenant(ref.tenant), ConditionExpression: 'attribute_exists(pk)' } },
          {
            Update: {
              TableName: this.#table,
              Key: keys.target(ref),
              // A policy change changes what is desired, so it bumps desiredVersion like a registration does.
              UpdateExpression:
                'SET kind = :kind, tenant = :tenant, webIntegrationId = :wi, policy = :policy, updatedAt = :now, ' +
                'createdAt = if_not_exists(createdAt, :now), appliedVersion = if_not_exists(appliedVersion, :zero), ' +
                'managedOrigins = if_not_exists(managedOrigins, :empty), desiredVersion = if_not_exists(desiredVersion, :zero) + :one',
              ExpressionAttributeValues: {
                ':kind': 'target',
                ':tenant': ref.tenant,
                ':wi': ref.webIntegrationId,
                ':policy': policy,
                ':now': now,
                ':zero': 0,
                ':one': 1,
                ':empty': [],
              },
            },
          },
        ],
        `put target ${ref.tenant}/${ref.webIntegrationId}`,
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        throw new TenantNotFoundError(ref.tenant);
      }
      throw error;
    }
  }

  public async getTarget(ref: TargetRef): Promise<TargetState | undefined> {
    const { Item } = await this.#client.send(new GetCommand({ TableName: this.#table, Key: keys.target(ref), ConsistentRead: true }));
    return Item ? targetFromItem(Item) : undefined;
  }

  public async listTargets(tenant: string): Promise<TargetState[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.targetPartition(tenant) },
    });
    return items.map(targetFromItem);
  }

  public async recordRegistration(change: RegistrationChange): Promise<RegistrationOutcome> {
    const eventTime = canonicalTime(change.eventTime, 'eventTime');
    // A later event wins and a redelivered one (same id) is a no-op. EventBridge stamps events to
    // the second, so a deploy and a removal sent within one second carry the same time: then the
    // one that arrives last wins, which is the order the pipeline sent them in nearly always.
    // Redelivery is recognised by the event's own record, not by comparing with the registration.
    const nowSeconds = Math.floor(Date.now() / 1000);
    const item: Record<string, unknown> = {
      ...keys.registration(change.ref, change.appId),
      kind: 'registration',
      tenant: change.ref.tenant,
      webIntegrationId: change.ref.webIntegrationId,
      appId: change.appId,
      origins: change.kind === 'deploy' ? [...change.origins] : [],
      state: change.kind === 'deploy' ? 'active' : 'removed',
      eventTime,
      eventId: change.eventId,
      ...(change.deploymentId !== undefined && { deploymentId: change.deploymentId }),
    };
    if (change.kind === 'remove') {
      item.ttl = nowSeconds + TOMBSTONE_DAYS * DAY_SECONDS;
    } else if (change.expiresAt !== undefined) {
      item.expiresAt = canonicalTime(change.expiresAt, 'expiresAt');
      item.ttl = Math.floor(Date.parse(item.expiresAt as string) / 1000) + TOMBSTONE_DAYS * DAY_SECONDS;
    }

    try {
      await this.#transact(
        [
          {
            // One record per event id, kept longer than EventBridge retries an event (24 h) plus the
            // dead-letter queue's retention (14 days): a redelivered event is a no-op even when a
            // newer event of the same second has replaced the registration since.
            Put: {
              TableName: this.#table,
              Item: { ...keys.event(change.ref, change.eventId), kind: 'event', ttl: nowSeconds + EVENT_RECORD_DAYS * DAY_SECONDS },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.#table,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk) OR eventTime <= :time',
              ExpressionAttributeValues: { ':time': eventTime },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Update: {
              TableName: this.#table,
              Key: keys.target(change.ref),
              UpdateExpression: 'ADD desiredVersion :one',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ],
        `record ${change.kind} of app "${change.appId}"`,
      );
      return { status: 'applied' };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [event, registration, target] = error.CancellationReasons ?? [];
      if (target?.Code === 'ConditionalCheckFailed') throw new TargetNotFoundError(change.ref);
      if (event?.Code === 'ConditionalCheckFailed') return { status: 'duplicate' };
      if (registration?.Code === 'ConditionalCheckFailed') {
        const stored = registration.Item ? unmarshall(registration.Item as never) : {};
        return { status: 'stale', storedEventTime: String(stored.eventTime) };
      }
      throw error;
    }
  }

  public async listRegistrations(ref: TargetRef): Promise<Registration[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.registrationPartition(ref) },
    });
    return items.map(registrationFromItem);
  }

  public async acquireLease(ref: TargetRef, owner: string, durationMs: number): Promise<TargetState | undefined> {
    const now = Date.now();
    try {
      const { Attributes } = await this.#update(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.target(ref),
          UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAt = :expires',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(leaseOwner) OR leaseExpiresAt < :now)',
          ExpressionAttributeValues: { ':owner': owner, ':expires': now + durationMs, ':now': now },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return targetFromItem(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (!error.Item) throw new TargetNotFoundError(ref);
        return undefined;
      }
      throw error;
    }
  }

  public async finishPass(ref: TargetRef, owner: string, record: PassRecord, leaseDurationMs: number): Promise<FinishOutcome> {
    const recorded = {
      ':applied': record.appliedVersion,
      ':managed': record.managedOrigins,
      ':at': record.lastReconcileAt,
      ':owner': owner,
    };
    const setRecord = 'appliedVersion = :applied, managedOrigins = :managed, lastReconcileAt = :at';
    const expiry = record.nextExpiryAt === undefined ? { remove: ['nextExpiryAt'], set: '' } : { remove: [], set: ', nextExpiryAt = :expiry' };
    const error = record.lastError === undefined ? { remove: ['lastError'], set: '' } : { remove: [], set: ', lastError = :error' };
    const optionalValues = {
      ...(record.nextExpiryAt !== undefined && { ':expiry': record.nextExpiryAt }),
      ...(record.lastError !== undefined && { ':error': record.lastError }),
    };
    try {
      // Release only if nothing new arrived: a writer that bumped desiredVersion and then found the
      // lease held relies on this condition failing, so its change gets another pass (no lost wake-up).
      const { Attributes } = await this.#update(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.target(ref),
          UpdateExpression: `SET ${setRecord}${expiry.set}${error.set} REMOVE ${['leaseOwner', 'leaseExpiresAt', ...expiry.remove, ...error.remove].join(', ')}`,
          ConditionExpression: 'leaseOwner = :owner AND desiredVersion = :applied',
          ExpressionAttributeValues: { ...recorded, ...optionalValues },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { released: true, target: targetFromItem(Attributes!) };
    } catch (failure) {
      if (!(failure instanceof ConditionalCheckFailedException)) throw failure;
      const old = failure.Item ? unmarshall(failure.Item as never) : undefined;
      if (old?.leaseOwner !== owner) throw new LeaseLostError(ref, owner);
    }
    try {
      const { Attributes } = await this.#update(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.target(ref),
          UpdateExpression: `SET ${setRecord}${expiry.set}${error.set}, leaseExpiresAt = :expires${
            expiry.remove.length + error.remove.length > 0 ? ` REMOVE ${[...expiry.remove, ...error.remove].join(', ')}` : ''
          }`,
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ...recorded, ...optionalValues, ':expires': Date.now() + leaseDurationMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { released: false, target: targetFromItem(Attributes!) };
    } catch (failure) {
      if (failure instanceof ConditionalCheckFailedException) throw new LeaseLostError(ref, owner);
      throw failure;
    }
  }

  public async recordIntent(ref: TargetRef, owner: string, managedOrigins: string[]): Promise<void> {
    try {
      await this.#update(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.target(ref),
          UpdateExpression: 'SET managedOrigins = :managed',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':managed': managedOrigins, ':owner': owner },
        }),
      );
    } catch (failure) {
      if (failure instanceof ConditionalCheckFailedException) throw new LeaseLostError(ref, owner);
      throw failure;
    }
  }

  public async abandonLease(ref: TargetRef, owner: string, error: string): Promise<void> {
    try {
      await this.#update(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.target(ref),
          UpdateExpression: 'SET lastError = :error, lastErrorAt = :at REMOVE leaseOwner, leaseExpiresAt',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':error': error, ':owner': owner, ':at': new Date().toISOString() },
        }),
      );
    } catch (failure) {
      // Someone else holds the lease now; the error is theirs to see again.
      if (!(failure instanceof ConditionalCheckFailedException)) throw failure;
    }
  }

  public async appendAudit(entry: AuditEntry): Promise<void> {
    const time = canonicalTime(entry.time, 'time');
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          pk: keys.auditPartition(entry.ref.tenant),
          sk: `${time}#${entry.ref.webIntegrationId}#${randomBytes(4).toString('hex')}`,
          tenant: entry.ref.tenant,
          webIntegrationId: entry.ref.webIntegrationId,
          ttl: Math.floor(Date.parse(time) / 1000) + this.#auditRetentionSeconds,
          ...entry,
          time,
        },
      }),
    );
  }

  public async listAudit(tenant: string, options: { webIntegrationId?: string; since?: Date } = {}): Promise<AuditEntry[]> {
    const items = await this.#queryAll({
      KeyConditionExpression: 'pk = :pk AND sk >= :since',
      ...(options.webIntegrationId !== undefined && { FilterExpression: 'webIntegrationId = :wi' }),
      ExpressionAttributeValues: {
        ':pk': keys.auditPartition(tenant),
        ':since': (options.since ?? new Date(0)).toISOString(),
        ...(options.webIntegrationId !== undefined && { ':wi': options.webIntegrationId }),
      },
    });
    return items.map(auditFromItem);
  }

  public takeWriteToken(tenant: string, signal?: AbortSignal): Promise<void> {
    return this.#budget.take(tenant, signal);
  }

  /**
   * Runs a transaction, retrying it while it is cancelled only by conflicts with other
   * transactions on the same items (a burst of events to one target); any other cancellation
   * (a failed condition) is thrown for the caller to read its reasons.
   */
  async #transact(items: NonNullable<TransactWriteCommandInput['TransactItems']>, what: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#client.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const onlyConflicts = reasons.some((reason) => reason.Code === 'TransactionConflict') && !reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
        if (!onlyConflicts) throw error;
        if (attempt >= MAX_TRANSACTION_ATTEMPTS) {
          throw new RegistryError(`could not ${what} after ${attempt} attempts: ${error.message}`, { cause: error });
        }
        // Full jitter: a burst of events to one target spreads out instead of colliding again.
        await sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
      }
    }
  }

  /**
   * Sends a single-item write, retrying `TransactionConflictException`: on DynamoDB a write to an
   * item that a registration transaction is changing at that instant is refused with it, and the
   * SDK does not retry it. (DynamoDB Local serialises everything and never answers it.)
   */
  async #update(command: UpdateCommand): Promise<UpdateCommandOutput> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#client.send(command);
      } catch (error) {
        if ((error as Error).name !== 'TransactionConflictException' || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
        await sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
      }
    }
  }

  async #queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({ ...input, TableName: this.#table, ConsistentRead: true, ...(startKey && { ExclusiveStartKey: startKey }) }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** ISO 8601 in UTC with milliseconds: fixed width, so strings sort in time order. */
function canonicalTime(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RegistryError(`${field} "${value}" is not an ISO 8601 time`);
  return new Date(time).toISOString();
}

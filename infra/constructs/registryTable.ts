import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { REGISTRY_TABLE } from '../../functions/registry/tableDefinition.js';

/**
 * What a function that reconciles may do with the registry, and nothing more: item reads and
 * writes, queries on one partition, and the condition checks of transactions. `TransactWriteItems`
 * is not an IAM action: each part of a transaction is authorised as its own item action
 * (`Put` → `PutItem`, `Update` → `UpdateItem`, `ConditionCheck` → `ConditionCheckItem`). No
 * `Scan`, no `DeleteItem` (expired items go by TTL), no table management.
 */
export const REGISTRY_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The registry: one table with the keys and TTL attribute declared once in
 * `functions/registry/tableDefinition.ts`. Safe by default: on demand, point-in-time recovery,
 * deletion protection, retained when the stack goes, encrypted with the AWS managed key.
 */
export class RegistryTable extends Table {
  public constructor(scope: Construct, id: string) {
    super(scope, id, {
      partitionKey: { name: REGISTRY_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: REGISTRY_TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: REGISTRY_TABLE.timeToLiveAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: TableEncryption.AWS_MANAGED,
    });
  }

  /** Grants exactly {@link REGISTRY_ACTIONS} on this table. */
  public grantReconcile(grantee: IGrantable): Grant {
    return this.grant(grantee, ...REGISTRY_ACTIONS);
  }
}

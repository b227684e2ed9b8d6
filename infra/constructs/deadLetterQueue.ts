import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What lands here and what to do with it; shown in the console. */
  readonly purpose: string;
}

/**
 * Where an event that could not be delivered or processed waits for a person: encrypted at rest
 * with SQS-managed keys (EventBridge, EventBridge Scheduler and Lambda can all send to it without
 * a key policy), TLS enforced by the queue policy, kept for the SQS maximum of 14 days.
 *
 * @example
 * ```ts
 * const queue = new DeadLetterQueue(this, 'DeployEventsDlq', { purpose: 'deployment events not processed' });
 * ```
 */
export class DeadLetterQueue extends Queue {
  public readonly purpose: string;

  public constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.purpose = props.purpose;
  }
}

import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS } from '../../functions/runtime/settings.js';
import type { OriginSyncFunction } from './originSyncFunction.js';

export interface OriginSyncAlarmsProps {
  /** Functions to watch for errors, throttles and dead letters, by the name alarms show. */
  readonly functions: Record<string, OriginSyncFunction>;
  /** How often drift-scan runs: the period of the alarms on its custom metrics. */
  readonly scanInterval: Duration;
  /** Intervals without a successful scan before `ScansMissing` fires. */
  readonly missedScansBeforeAlarm: number;
  /** Consecutive scans that each repaired drift before `DriftRepairedRepeatedly` fires. */
  readonly driftRepairsBeforeAlarm: number;
  /** An address subscribed to the topic this construct creates. */
  readonly alarmEmail?: string;
  /** An existing topic to notify instead of creating one. */
  readonly alarmTopicArn?: string;
}

/**
 * The alarms that page before users meet a CORS error, all notifying one SNS topic (on alarm and
 * on recovery). What each one means, and what to do, is in the README ("Deploy to AWS") and in its description.
 */
export class OriginSyncAlarms extends Construct {
  public readonly topic: ITopic;
  public readonly alarms: Alarm[] = [];
  readonly #action: SnsAction;

  public constructor(scope: Construct, id: string, props: OriginSyncAlarmsProps) {
    super(scope, id);
    this.topic = props.alarmTopicArn ? Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn) : this.#createTopic(props.alarmEmail);
    this.#action = new SnsAction(this.topic);

    for (const [name, fn] of Object.entries(props.functions)) {
      this.#alarm(`${name}Errors`, {
        metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        description: `${name} failed (an error or a timeout). Its log group holds the error; the event is retried, then sent to the function's dead-letter queue.`,
      });
      this.#alarm(`${name}Throttles`, {
        metric: fn.function.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        description: `${name} was throttled: the account's Lambda concurrency is exhausted. Events wait and are retried; raise the concurrency quota if this persists.`,
      });
      this.#alarm(`${name}DeadLetters`, {
        metric: fn.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        description: `Messages wait in the dead-letter queue of ${name}: ${fn.deadLetterQueue.purpose}. Read them, fix the cause, then replay or purge (README, "Deploy to AWS").`,
      });
    }

    const scanPeriods = { period: props.scanInterval, statistic: 'Sum' } as const;
    this.#alarm('ScansMissing', {
      metric: customMetric(METRICS.scansSucceeded, scanPeriods),
      threshold: 1,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.missedScansBeforeAlarm,
      missingData: TreatMissingData.BREACHING,
      description: `No drift scan succeeded in ${props.missedScansBeforeAlarm} scan intervals: drift is not being repaired. Check the DriftScan function's errors and logs, and the schedule.`,
    });
    this.#alarm('DriftRepairedRepeatedly', {
      metric: customMetric(METRICS.targetsRepaired, scanPeriods),
      threshold: 1,
      evaluationPeriods: props.driftRepairsBeforeAlarm,
      description: `${props.driftRepairsBeforeAlarm} scans in a row repaired drift: something keeps changing the allowed origins back (a person, a script, another tool). Find it in the audit log and Qlik's.`,
    });
    this.#alarm('ReconcilesFailing', {
      metric: customMetric(METRICS.targetsFailed, scanPeriods),
      threshold: 1,
      evaluationPeriods: props.missedScansBeforeAlarm,
      description: `Reconciling at least one target failed in ${props.missedScansBeforeAlarm} scans in a row (Qlik errors, missing credentials or integration). The scan's summary log line names the targets.`,
    });
  }

  #createTopic(alarmEmail: string | undefined): Topic {
    const topic = new Topic(this, 'Topic', { displayName: 'qlik-origin-sync alarms', enforceSSL: true });
    // CloudWatch publishes to the topic on behalf of this account's alarms only.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (alarmEmail !== undefined) topic.addSubscription(new EmailSubscription(alarmEmail));
    Validations.of(topic.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and metric values, no secrets. Encrypting them would need a customer managed KMS key (CloudWatch cannot publish to a topic under the aws/sns key) with a monthly cost and a key policy of its own; not worth it for this content.',
    });
    return topic;
  }

  #alarm(
    id: string,
    options: {
      metric: IMetric;
      threshold: number;
      description: string;
      comparison?: ComparisonOperator;
      evaluationPeriods?: number;
      missingData?: TreatMissingData;
    },
  ): void {
    const evaluationPeriods = options.evaluationPeriods ?? 1;
    const alarm = new Alarm(this, id, {
      alarmName: `${Stack.of(this).stackName}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      treatMissingData: options.missingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    this.alarms.push(alarm);
  }
}

/** A custom metric as Powertools Metrics emits it: namespace and `service` dimension from METRICS. */
function customMetric(metricName: string, options: { period: Duration; statistic: string }): Metric {
  return new Metric({ namespace: METRICS.namespace, metricName, dimensionsMap: { service: METRICS.service }, ...options });
}

import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnEventBusPolicy, EventBus, Rule, type EventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, ArnPrincipal, PolicyStatement, type IPrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression, ScheduleTargetInput, ContextAttribute, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import { deploymentEventPattern, SCHEDULED_EVENT_DETAIL_TYPE } from '../functions/events.js';
import { ENVIRONMENT } from '../functions/runtime/settings.js';
import { functionTenants, type OriginSyncConfig } from './config.js';
import { OriginSyncAlarms } from './constructs/originSyncAlarms.js';
import { OriginSyncFunction } from './constructs/originSyncFunction.js';
import { RegistryTable } from './constructs/registryTable.js';

/** The repository root (this file lives in `infra/`). */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** How long a reconcile lease lasts (LEASE_DURATION_SECONDS); every function timeout is shorter. */
export const LEASE_DURATION = Duration.seconds(300);

/** Timeouts: one deployment event reconciles one target; a scan walks every tenant. */
export const DEPLOY_EVENTS_TIMEOUT = Duration.seconds(60);
export const DRIFT_SCAN_TIMEOUT = Duration.seconds(240);

/**
 * Delivery of deployment events to deploy-events: EventBridge retries a failed delivery (throttling,
 * a missing permission) for up to 6 hours, then parks the event in the dead-letter queue. A lost
 * deployment event is not repaired by the scan (desired state comes from the events), so it waits
 * there to be replayed.
 */
export const DEPLOYMENT_DELIVERY = { maxEventAge: Duration.hours(6), retryAttempts: 20 } as const;

/** Lambda retries a failed deploy-events run twice (the default) within the same 6 hours. */
export const DEPLOY_EVENTS_ASYNC = { maxEventAge: Duration.hours(6), retryAttempts: 2 } as const;

/** Lambda does not retry a failed scan: the next scheduled scan does the same work. */
export const DRIFT_SCAN_ASYNC = { retryAttempts: 0 } as const;

/**
 * Delivery of a scheduled scan: Scheduler retries a failed invocation (throttling) a few times, for
 * at most one scan interval, then parks the event in drift-scan's dead-letter queue.
 */
export const SCAN_DELIVERY_RETRY_ATTEMPTS = 3;

/** Stack outputs, read by people and by the CLI's `--stack` option. */
export const STACK_OUTPUTS = {
  tableName: 'RegistryTableName',
  deployEventsFunction: 'DeployEventsFunctionName',
  driftScanFunction: 'DriftScanFunctionName',
  eventBusName: 'EventBusName',
  alarmTopicArn: 'AlarmTopicArn',
  deployEventsDeadLetterQueue: 'DeployEventsDeadLetterQueueUrl',
  driftScanDeadLetterQueue: 'DriftScanDeadLetterQueueUrl',
} as const;

/** Lambda environment variables may take 4 KB in all; leave room for the others. */
const MAX_TENANTS_VARIABLE_LENGTH = 3000;

export interface OriginSyncStackProps extends StackProps {
  readonly config: OriginSyncConfig;
}

/**
 * qlik-origin-sync in one stack: the registry table, the deploy-events and drift-scan functions,
 * the deployment rule and the scan schedule (each with a retry policy and a dead-letter queue),
 * read access to the configured tenant secrets only, and the alarms.
 */
export class OriginSyncStack extends Stack {
  public readonly table: RegistryTable;
  public readonly deployEvents: OriginSyncFunction;
  public readonly driftScan: OriginSyncFunction;
  public readonly deploymentRule: Rule;
  public readonly scanSchedule: Schedule;
  public readonly alarms: OriginSyncAlarms;

  public constructor(scope: Construct, id: string, props: OriginSyncStackProps) {
    super(scope, id, { description: 'qlik-origin-sync: keeps Qlik Cloud web-integration origins in step with deployments', ...props });
    const { config } = props;
    for (const timeout of [DEPLOY_EVENTS_TIMEOUT, DRIFT_SCAN_TIMEOUT]) {
      if (timeout.toSeconds() >= LEASE_DURATION.toSeconds()) throw new Error('every function timeout must be shorter than the lease');
    }

    this.table = new RegistryTable(this, 'Registry');

    const tenants = JSON.stringify(functionTenants(config.tenants));
    if (tenants.length > MAX_TENANTS_VARIABLE_LENGTH) {
      throw new Error(`the configured tenants take ${tenants.length} characters in TENANTS, more than ${MAX_TENANTS_VARIABLE_LENGTH}; configure fewer tenants per stack`);
    }
    const environment: Record<string, string> = {
      [ENVIRONMENT.tableName]: this.table.tableName,
      [ENVIRONMENT.tenants]: tenants,
      [ENVIRONMENT.leaseSeconds]: String(LEASE_DURATION.toSeconds()),
      ...(config.qlikWritesPerMinute !== undefined && { [ENVIRONMENT.writesPerMinute]: String(config.qlikWritesPerMinute) }),
      ...(config.auditRetentionDays !== undefined && { [ENVIRONMENT.auditRetentionDays]: String(config.auditRetentionDays) }),
    };

    this.deployEvents = new OriginSyncFunction(this, 'DeployEvents', {
      handler: 'deployEvents',
      description: 'Records deployment events and reconciles their target',
      timeout: DEPLOY_EVENTS_TIMEOUT,
      environment,
      logRetention: config.logRetentionDays,
      projectRoot: PROJECT_ROOT,
      ...DEPLOY_EVENTS_ASYNC,
    });
    const scanInterval = Duration.minutes(config.scanIntervalMinutes);
    this.driftScan = new OriginSyncFunction(this, 'DriftScan', {
      handler: 'driftScan',
      description: 'Scans every tenant for drift and reconciles the targets that need it',
      timeout: DRIFT_SCAN_TIMEOUT,
      // Lambda's CPU share grows with memory; a scan parses every integration of every tenant.
      memorySize: 512,
      environment,
      logRetention: config.logRetentionDays,
      projectRoot: PROJECT_ROOT,
      ...DRIFT_SCAN_ASYNC,
      // A scan that waited longer than an interval is worthless: the next one is due.
      maxEventAge: clamp(scanInterval, Duration.minutes(1), Duration.hours(6)),
    });

    const secretArns = config.tenants.map((tenant) => this.#secretArnPattern(tenant.secretName));
    for (const fn of [this.deployEvents, this.driftScan]) {
      this.table.grantReconcile(fn.role);
      if (secretArns.length > 0) fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns }));
    }

    const bus = this.#eventBus(config);
    this.deploymentRule = new Rule(this, 'DeploymentRule', {
      description: 'Deployment events for qlik-origin-sync',
      ...(bus && { eventBus: bus }),
      eventPattern: toCdkEventPattern(deploymentEventPattern({ sources: config.deploymentSources, detailTypes: config.deploymentDetailTypes })),
      targets: [
        new LambdaFunction(this.deployEvents.function, {
          deadLetterQueue: this.deployEvents.deadLetterQueue,
          ...DEPLOYMENT_DELIVERY,
        }),
      ],
    });

    this.scanSchedule = new Schedule(this, 'ScanSchedule', {
      description: `Drift scan of qlik-origin-sync, every ${config.scanIntervalMinutes} min`,
      schedule: ScheduleExpression.rate(scanInterval),
      timeWindow: TimeWindow.off(),
      target: new InvokeFunction(this.driftScan.function, {
        input: scheduledEvent(this),
        deadLetterQueue: this.driftScan.deadLetterQueue,
        maxEventAge: clamp(scanInterval, Duration.minutes(1), Duration.hours(24)),
        retryAttempts: SCAN_DELIVERY_RETRY_ATTEMPTS,
      }),
    });

    this.alarms = new OriginSyncAlarms(this, 'Alarms', {
      functions: { DeployEvents: this.deployEvents, DriftScan: this.driftScan },
      scanInterval,
      missedScansBeforeAlarm: config.missedScansBeforeAlarm,
      driftRepairsBeforeAlarm: config.driftRepairsBeforeAlarm,
      ...(config.alarmEmail !== undefined && { alarmEmail: config.alarmEmail }),
      ...(config.alarmTopicArn !== undefined && { alarmTopicArn: config.alarmTopicArn }),
    });

    const outputs: Record<keyof typeof STACK_OUTPUTS, string> = {
      tableName: this.table.tableName,
      deployEventsFunction: this.deployEvents.function.functionName,
      driftScanFunction: this.driftScan.function.functionName,
      eventBusName: bus?.eventBusName ?? 'default',
      alarmTopicArn: this.alarms.topic.topicArn,
      deployEventsDeadLetterQueue: this.deployEvents.deadLetterQueue.queueUrl,
      driftScanDeadLetterQueue: this.driftScan.deadLetterQueue.queueUrl,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new CfnOutput(this, STACK_OUTPUTS[key as keyof typeof STACK_OUTPUTS], { value });
    }
  }

  /**
   * The ARN of a secret, in this account and region, from its name: Secrets Manager appends a
   * hyphen and six random characters to every secret's ARN, which `-??????` matches (and nothing
   * longer, so `acme` does not match the secret `acme-old`).
   */
  #secretArnPattern(secretName: string): string {
    return this.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretName}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** The bus the deployment rule listens on; undefined for the account's default bus. */
  #eventBus(config: OriginSyncConfig): IEventBus | undefined {
    if (config.eventBusName === 'default') return undefined;
    const bus = config.createEventBus
      ? new EventBus(this, 'EventBus', { eventBusName: config.eventBusName, description: 'Deployment events for qlik-origin-sync' })
      : EventBus.fromEventBusName(this, 'EventBus', config.eventBusName);
    if (config.putEventsPrincipals.length > 0) {
      // Only the named principals may put events, and only with the configured sources and detail-types.
      const statementId = 'OriginSyncDeploymentPipelines';
      new CfnEventBusPolicy(this, 'PutEventsPolicy', {
        eventBusName: bus.eventBusName,
        statementId,
        statement: new PolicyStatement({
          sid: statementId,
          principals: config.putEventsPrincipals.map(toPrincipal),
          actions: ['events:PutEvents'],
          resources: [bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': config.deploymentSources, 'events:detail-type': config.deploymentDetailTypes } },
        }).toStatementJson(),
      });
    }
    return bus;
  }
}

/**
 * A Scheduler target whose role may invoke the function itself and nothing else: the stock
 * `LambdaInvoke` grants with `grantInvoke`, which adds every version and alias (`<arn>:*`), and the
 * schedule only ever invokes the unqualified function.
 */
class InvokeFunction extends LambdaInvoke {
  protected override addTargetActionToRole(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.targetArn] }));
  }
}

/** An account id stands for the whole account (its root principal); anything else is an IAM ARN. */
function toPrincipal(principal: string): IPrincipal {
  return /^\d{12}$/.test(principal) ? new AccountPrincipal(principal) : new ArnPrincipal(principal);
}

/** The declared pattern (`source`, `detail-type`) in CDK's spelling (`detailType`). */
function toCdkEventPattern(pattern: Record<string, string[]>): EventPattern {
  return Object.fromEntries(Object.entries(pattern).map(([field, values]) => [field === 'detail-type' ? 'detailType' : field, values])) as EventPattern;
}

/**
 * What the schedule sends drift-scan: the envelope of an EventBridge scheduled event, filled from
 * the Scheduler's context, so the handler sees the same shape from Scheduler, a rule, or the local
 * cloud.
 */
function scheduledEvent(stack: Stack): ScheduleTargetInput {
  return ScheduleTargetInput.fromObject({
    version: '0',
    id: ContextAttribute.executionId,
    'detail-type': SCHEDULED_EVENT_DETAIL_TYPE,
    source: 'aws.scheduler',
    account: stack.account,
    time: ContextAttribute.scheduledTime,
    region: stack.region,
    resources: [ContextAttribute.scheduleArn],
    detail: {},
  });
}

function clamp(duration: Duration, min: Duration, max: Duration): Duration {
  if (duration.toSeconds() < min.toSeconds()) return min;
  return duration.toSeconds() > max.toSeconds() ? max : duration;
}

import { readFileSync } from 'node:fs';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_DEPLOYMENT_RULE, deploymentEventPattern, SCHEDULED_EVENT_DETAIL_TYPE } from '../../functions/events.js';
import { REGISTRY_TABLE } from '../../functions/registry/tableDefinition.js';
import { ENVIRONMENT, METRICS } from '../../functions/runtime/settings.js';
import { functionTenants } from '../../infra/config.js';
import { BUNDLING } from '../../infra/constructs/originSyncFunction.js';
import { createOriginSyncApp } from '../../infra/originSyncApp.js';
import { LEASE_DURATION, STACK_OUTPUTS, type OriginSyncStack } from '../../infra/originSyncStack.js';

/**
 * The stack's promises, checked on the synthesized template. Synths here do not bundle
 * (`aws:cdk:bundling-stacks: []`) and skip CDK's built-in CloudFormation validation, so the whole
 * file runs in seconds; `npx cdk synth` does both.
 */

// Importing aws-cdk-lib and synthesizing take seconds on a cold 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  app: string;
  notices?: boolean;
  context: Record<string, unknown>;
};

const TENANTS = [
  { name: 'acme', url: 'https://acme.eu.qlikcloud.com', secretName: 'origin-sync/acme' },
  { name: 'globex', url: 'https://globex.us.qlikcloud.com', secretName: 'origin-sync/globex' },
];

const CONFIGURED = {
  tenants: JSON.stringify(TENANTS),
  alarmEmail: 'ops@example.com',
  eventBusName: 'deployments',
  createEventBus: 'true',
  putEventsPrincipals: '111122223333,arn:aws:iam::444455556666:role/deployer',
  deploymentSources: 'com.example.ci,origin-sync.deployments',
  scanIntervalMinutes: '10',
  missedScansBeforeAlarm: '4',
  logRetentionDays: '90',
  qlikWritesPerMinute: '50',
};

interface Synthesized {
  app: App;
  stack: OriginSyncStack;
  template: Template;
}

/** The app as `npx cdk synth` builds it (same context as cdk.json), without bundling. */
function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const { app, stack } = createOriginSyncApp({
    builtinCloudFormationValidation: false,
    context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const ref = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const only = (template: Template, type: string, props: Record<string, unknown> = {}) => {
  const found = template.findResources(type, props);
  expect(Object.keys(found)).toHaveLength(1);
  return Object.keys(found)[0]!;
};

/** Every policy document in the template: identity policies, trust policies and resource policies. */
function policyStatements(template: Template): { resource: string; statement: Statement }[] {
  const documents: { resource: string; document: { Statement: Statement | Statement[] } }[] = [];
  for (const [type, property] of [
    ['AWS::IAM::Policy', 'PolicyDocument'],
    ['AWS::IAM::Role', 'AssumeRolePolicyDocument'],
    ['AWS::SQS::QueuePolicy', 'PolicyDocument'],
    ['AWS::SNS::TopicPolicy', 'PolicyDocument'],
  ] as const) {
    for (const [resource, body] of Object.entries(template.findResources(type))) documents.push({ resource, document: body.Properties[property] });
  }
  for (const [resource, body] of Object.entries(template.findResources('AWS::Events::EventBusPolicy'))) {
    documents.push({ resource, document: { Statement: body.Properties.Statement } });
  }
  return documents.flatMap(({ resource, document }) => [document.Statement].flat().map((statement) => ({ resource, statement })));
}

function roleStatements(template: Template, roleLogicalIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref.startsWith(roleLogicalIdPrefix)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

describe('Stack: OriginSyncStack with the default configuration', () => {
  let synthesized: Synthesized;
  let template: Template;
  let table: string;
  const fn = (name: 'DeployEvents' | 'DriftScan') => only(template, 'AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(name === 'DeployEvents' ? 'deployment events' : 'Scans') } });
  const queueOf = (name: 'DeployEvents' | 'DriftScan') => template.findResources('AWS::Lambda::Function')[fn(name)]!.Properties.DeadLetterConfig.TargetArn['Fn::GetAtt'][0] as string;

  beforeAll(() => {
    synthesized = synthesize();
    template = synthesized.template;
    table = only(template, 'AWS::DynamoDB::Table');
  });

  it('keeps the registry: on demand, PITR, TTL, deletion protection, encryption, retained', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: REGISTRY_TABLE.timeToLiveAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
        KeySchema: [
          { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: REGISTRY_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      },
    });
  });

  it('runs two functions on Node 22, arm64, with timeouts shorter than the lease', () => {
    // Assess
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(2);
    for (const body of Object.values(functions)) {
      expect(body.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(body.Properties.Timeout).toBeLessThan(LEASE_DURATION.toSeconds());
    }
    expect(functions[fn('DeployEvents')]!.Properties.Timeout).toBe(60);
    expect(functions[fn('DriftScan')]!.Properties.Timeout).toBe(240);
  });

  it('gives the functions the table, the tenants, the lease and the Powertools settings', () => {
    // Assess
    for (const name of ['DeployEvents', 'DriftScan'] as const) {
      const variables = template.findResources('AWS::Lambda::Function')[fn(name)]!.Properties.Environment.Variables;
      expect(variables).toEqual({
        [ENVIRONMENT.tableName]: { Ref: table },
        [ENVIRONMENT.tenants]: '[]',
        [ENVIRONMENT.leaseSeconds]: String(LEASE_DURATION.toSeconds()),
        POWERTOOLS_SERVICE_NAME: METRICS.service,
        POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
  });

  it('bundles ESM for Node 22, minified, with source maps and a require for CommonJS dependencies', () => {
    // Assess
    expect(BUNDLING).toMatchObject({ target: 'node22', format: 'esm', minify: true, sourceMap: true, bundleAwsSDK: true });
    expect(BUNDLING.banner).toBe("import { createRequire } from 'module'; const require = createRequire(import.meta.url);");
  });

  it('writes each function to its own log group with the configured retention', () => {
    // Assess
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const name of ['DeployEvents', 'DriftScan'] as const) {
      const logGroup = template.findResources('AWS::Lambda::Function')[fn(name)]!.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.findResources('AWS::Logs::LogGroup')[logGroup]).toBeDefined();
    }
  });

  it('retries failed runs and parks what still fails in the function dead-letter queue', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: fn('DeployEvents') }, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: fn('DriftScan') }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 300 });
    expect(queueOf('DeployEvents')).not.toBe(queueOf('DriftScan'));
  });

  it('routes the declared deployment events to deploy-events with a retry policy and a dead-letter queue', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: deploymentEventPattern(DEFAULT_DEPLOYMENT_RULE),
      EventBusName: Match.absent(),
      Targets: [
        {
          Arn: ref(fn('DeployEvents')),
          RetryPolicy: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: ref(queueOf('DeployEvents')) },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: ref(fn('DeployEvents')), Principal: 'events.amazonaws.com', SourceArn: ref(only(template, 'AWS::Events::Rule')) });
  });

  it('scans on a schedule with its own retry policy and dead-letter queue', () => {
    // Assess
    const schedule = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.keys(schedule)).toHaveLength(1);
    const target = Object.values(schedule)[0]!.Properties.Target;
    expect(Object.values(schedule)[0]!.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(target).toMatchObject({
      Arn: ref(fn('DriftScan')),
      RetryPolicy: { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 3 },
      DeadLetterConfig: { Arn: ref(queueOf('DriftScan')) },
    });
    const input = JSON.stringify(target.Input);
    expect(input).toContain(`\\"detail-type\\":\\"${SCHEDULED_EVENT_DETAIL_TYPE}\\"`);
    expect(input).toContain('<aws.scheduler.execution-id>');
  });

  it('lets the schedule invoke drift-scan and write to its dead-letter queue, nothing else', () => {
    // Assess
    const role = only(template, 'AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } } });
    expect(roleStatements(template, role)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: ref(fn('DriftScan')) },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(queueOf('DriftScan')) },
    ]);
  });

  it('encrypts the dead-letter queues, keeps messages 14 days and refuses requests without TLS', () => {
    // Assess
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues).sort()).toEqual([queueOf('DeployEvents'), queueOf('DriftScan')].sort());
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    for (const queue of Object.keys(queues)) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  it('grants each function exact actions on its log group, its queue and the table, and no secrets without tenants', () => {
    // Assess
    for (const name of ['DeployEvents', 'DriftScan'] as const) {
      const body = template.findResources('AWS::Lambda::Function')[fn(name)]!;
      const role = body.Properties.Role['Fn::GetAtt'][0] as string;
      expect(template.findResources('AWS::IAM::Role')[role]!.Properties.ManagedPolicyArns).toBeUndefined();
      expect(roleStatements(template, role)).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: ref(body.Properties.LoggingConfig.LogGroup.Ref) },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: ref(queueOf(name)) },
        {
          Effect: 'Allow',
          Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
          Resource: ref(table),
        },
      ]);
    }
  });

  it('allows no wildcard action: every * sits in a Deny that enforces TLS', () => {
    // Assess
    const statements = policyStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    for (const { resource, statement } of statements) {
      const wildcards = actionsOf(statement).filter((action) => action === '*' || /^[\w-]+:\*$/.test(action));
      if (wildcards.length === 0) continue;
      expect({ resource, effect: statement.Effect, condition: statement.Condition }).toEqual({ resource, effect: 'Deny', condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
  });

  it('alarms on errors, throttles and dead letters of each function', () => {
    // Assess
    for (const name of ['DeployEvents', 'DriftScan'] as const) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn(name) } }],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueOf(name), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('alarms when no scan succeeds for N intervals, missing data counting as a miss', () => {
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS.namespace,
      MetricName: METRICS.scansSucceeded,
      Dimensions: [{ Name: 'service', Value: METRICS.service }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
  });

  it('alarms when scans repair drift again and again, and when reconciles keep failing', () => {
    // Assess
    for (const metric of [METRICS.targetsRepaired, METRICS.targetsFailed]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS.namespace,
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: METRICS.service }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('sends every alarm, and its recovery, to a TLS-only topic CloudWatch may publish to', () => {
    // Assess
    const topic = only(template, 'AWS::SNS::Topic');
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(9);
    for (const alarm of alarms) expect(alarm.Properties).toMatchObject({ AlarmActions: [{ Ref: topic }], OKActions: [{ Ref: topic }] });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
  });

  it('names in its outputs what people and the CLI look up', () => {
    // Assess
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
  });
});

describe('Stack: OriginSyncStack configured through context', () => {
  let template: Template;

  beforeAll(() => {
    template = synthesize(CONFIGURED).template;
  });

  it('lets both functions read the configured tenant secrets, by name, and no others', () => {
    // Assess
    const secretArn = (name: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${name}-??????`]],
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    const secretStatements = policies.filter((statement) => actionsOf(statement).some((action) => action.startsWith('secretsmanager:')));
    expect(secretStatements).toHaveLength(2);
    for (const statement of secretStatements) {
      expect(statement).toEqual({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: TENANTS.map((tenant) => secretArn(tenant.secretName)) });
    }
  });

  it('hands the tenants to the functions in TENANTS, and the optional settings when given', () => {
    // Assess
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENVIRONMENT.tenants]: JSON.stringify(functionTenants(TENANTS)), [ENVIRONMENT.writesPerMinute]: '50' }) },
    });
  });

  it('creates the named bus, listens on it, and lets only the named principals put the configured events', () => {
    // Assess
    const bus = only(template, 'AWS::Events::EventBus', { Properties: { Name: 'deployments' } });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: bus },
      EventPattern: deploymentEventPattern({ sources: ['com.example.ci', 'origin-sync.deployments'], detailTypes: DEFAULT_DEPLOYMENT_RULE.detailTypes }),
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: { Ref: bus },
      Statement: {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: { AWS: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] }, 'arn:aws:iam::444455556666:role/deployer'] },
        Resource: ref(bus),
        Condition: { StringEquals: { 'events:source': ['com.example.ci', 'origin-sync.deployments'], 'events:detail-type': DEFAULT_DEPLOYMENT_RULE.detailTypes } },
      },
    });
  });

  it('follows the scan interval, the alarm window, the log retention and the alarm e-mail', () => {
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(10 minutes)', Target: Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 3 } }) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRICS.scansSucceeded, Period: 600, EvaluationPeriods: 4 });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('still allows no wildcard action', () => {
    // Assess
    for (const { statement } of policyStatements(template)) {
      if (statement.Effect === 'Deny') continue;
      expect(actionsOf(statement).filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
    }
  });
});

describe('Stack: OriginSyncStack with an existing topic and an existing bus', () => {
  it('notifies the given topic and listens on the named bus without creating either', () => {
    // Act
    const { template } = synthesize({ alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops', eventBusName: 'shared' });

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::Events::EventBus', 0);
    template.resourceCountIs('AWS::Events::EventBusPolicy', 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: ['arn:aws:sns:eu-west-1:111122223333:ops'] });
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'shared' });
  });
});

describe('Validation: cdk-nag AWS Solutions checks', () => {
  it.each([
    ['the default configuration', {}],
    ['a configured deployment', CONFIGURED],
  ])('finds nothing unacknowledged in %s, and only the known acknowledgements', (_case, context) => {
    // Prepare
    const { app, template } = synthesize(context);

    // Act
    const report = new AwsSolutionsChecks().validateScope(app);

    // Assess
    expect(report.violations.map((violation) => `${violation.ruleName} ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
    const acknowledged = Object.values(template.toJSON().Resources as Record<string, { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }>)
      .flatMap((resource) => (resource.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((rule) => `${resource.Type} ${rule.id}`))
      .sort();
    expect(acknowledged).toEqual(['AWS::Lambda::Function AwsSolutions-L1', 'AWS::Lambda::Function AwsSolutions-L1', 'AWS::SNS::Topic AwsSolutions-SNS2']);
  });
});

describe('File: cdk.json', () => {
  it('runs the app with tsx, with notices and CLI telemetry off, so synth makes no outside connection', () => {
    // Assess
    expect(CDK_JSON.app).toBe('npx tsx infra/app.ts');
    expect(CDK_JSON.notices).toBe(false);
    expect(CDK_JSON.context['cli-telemetry']).toBe(false);
  });
});

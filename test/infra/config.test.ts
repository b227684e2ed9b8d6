import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEPLOYMENT_RULE, DEFAULT_SCAN_INTERVAL_MINUTES } from '../../functions/events.js';
import { ENVIRONMENT, readSettings } from '../../functions/runtime/settings.js';
import { CONTEXT_KEYS, DEFAULT_STACK_NAME, functionTenants, parseConfig, readConfig } from '../../infra/config.js';

const ACME = { name: 'acme', url: 'https://acme.eu.qlikcloud.com', secretName: 'origin-sync/acme' };

describe('Function: parseConfig()', () => {
  it('gives every key its documented default when the context is empty', () => {
    // Act
    const config = parseConfig({});

    // Assess
    expect(config).toEqual({
      stackName: DEFAULT_STACK_NAME,
      deploymentSources: DEFAULT_DEPLOYMENT_RULE.sources,
      deploymentDetailTypes: DEFAULT_DEPLOYMENT_RULE.detailTypes,
      eventBusName: 'default',
      createEventBus: false,
      putEventsPrincipals: [],
      scanIntervalMinutes: DEFAULT_SCAN_INTERVAL_MINUTES,
      missedScansBeforeAlarm: 3,
      driftRepairsBeforeAlarm: 3,
      tenants: [],
      logRetentionDays: 30,
    });
  });

  it('reads the string forms `cdk deploy -c key=value` passes: lists, JSON, numbers, booleans', () => {
    // Act
    const config = parseConfig({
      deploymentSources: 'com.example.ci, origin-sync.deployments',
      deploymentDetailTypes: '["App Deployed"]',
      eventBusName: 'deployments',
      createEventBus: 'true',
      putEventsPrincipals: '111122223333,arn:aws:iam::444455556666:role/ci',
      scanIntervalMinutes: '10',
      logRetentionDays: '90',
      tenants: JSON.stringify([ACME]),
      alarmEmail: 'ops@example.com',
      qlikWritesPerMinute: '50',
    });

    // Assess
    expect(config).toMatchObject({
      deploymentSources: ['com.example.ci', 'origin-sync.deployments'],
      deploymentDetailTypes: ['App Deployed'],
      eventBusName: 'deployments',
      createEventBus: true,
      putEventsPrincipals: ['111122223333', 'arn:aws:iam::444455556666:role/ci'],
      scanIntervalMinutes: 10,
      logRetentionDays: 90,
      tenants: [ACME],
      alarmEmail: 'ops@example.com',
      qlikWritesPerMinute: 50,
    });
  });

  it('reads the JSON values of cdk.json as they are', () => {
    // Act
    const config = parseConfig({ deploymentSources: ['a.b'], scanIntervalMinutes: 15, createEventBus: false, eventBusName: 'bus', tenants: [ACME] });

    // Assess
    expect(config).toMatchObject({ deploymentSources: ['a.b'], scanIntervalMinutes: 15, createEventBus: false, tenants: [ACME] });
  });

  it.each([
    ['a detail-type that is not declared', { deploymentDetailTypes: 'App Moved' }, 'deploymentDetailTypes'],
    ['no event source', { deploymentSources: '' }, 'deploymentSources'],
    ['both an alarm e-mail and a topic', { alarmEmail: 'ops@example.com', alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops' }, 'alarmTopicArn'],
    ['a bus policy on the default bus', { putEventsPrincipals: '111122223333' }, 'putEventsPrincipals'],
    ['creating the default bus', { createEventBus: true }, 'createEventBus'],
    ['a principal that is neither an account nor an IAM ARN', { eventBusName: 'bus', putEventsPrincipals: '*' }, 'putEventsPrincipals'],
    ['a retention CloudWatch Logs does not offer', { logRetentionDays: 10 }, 'logRetentionDays'],
    ['an alarm window longer than a day', { scanIntervalMinutes: 600, missedScansBeforeAlarm: 3 }, 'missedScansBeforeAlarm'],
    ['a scan interval of zero', { scanIntervalMinutes: '0' }, 'scanIntervalMinutes'],
    ['an e-mail that is not one', { alarmEmail: 'ops' }, 'alarmEmail'],
    ['tenants that are not JSON', { tenants: '[{name:acme}]' }, 'tenants'],
    ['a tenant without a secret', { tenants: [{ name: 'acme', url: 'https://acme.eu.qlikcloud.com' }] }, 'tenants'],
    ['the same tenant twice', { tenants: [ACME, { ...ACME, secretName: 'other' }] }, 'tenants'],
    ['a tenant name the functions refuse', { tenants: [{ ...ACME, name: 'Acme Corp' }] }, 'tenants'],
    ['a tenant URL the functions refuse', { tenants: [{ ...ACME, url: 'acme.eu.qlikcloud.com' }] }, 'tenants'],
    ['a key the stack does not know', { scanInterval: 5 }, 'scanInterval'],
  ])('rejects %s, naming the key', (_case, values, key) => {
    // Act & Assess
    expect(() => parseConfig(values as never)).toThrow(new RegExp(`invalid qlik-origin-sync context[\\s\\S]*${key}`));
  });
});

describe('Function: readConfig()', () => {
  it('reads every known key from the CDK context', () => {
    // Prepare
    const app = new App({ context: { scanIntervalMinutes: '7', alarmEmail: 'ops@example.com', unrelatedKey: 'ignored' } });

    // Act
    const config = readConfig(app.node);

    // Assess
    expect(config.scanIntervalMinutes).toBe(7);
    expect(config.alarmEmail).toBe('ops@example.com');
    expect(CONTEXT_KEYS).toContain('tenants');
  });
});

describe('Function: functionTenants()', () => {
  it('gives the tenants in the shape the functions read from TENANTS', () => {
    // Act
    const tenants = functionTenants([ACME]);
    const settings = readSettings({ [ENVIRONMENT.tableName]: 'table', [ENVIRONMENT.tenants]: JSON.stringify(tenants) });

    // Assess
    expect(tenants).toEqual([{ tenant: 'acme', url: ACME.url, secretId: ACME.secretName }]);
    expect(settings.tenants).toEqual(tenants);
  });
});

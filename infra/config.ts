import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { DEFAULT_DEPLOYMENT_RULE, DEFAULT_SCAN_INTERVAL_MINUTES, DEPLOYMENT_DETAIL_TYPES } from '../functions/events.js';
import { ENVIRONMENT, readSettings } from '../functions/runtime/settings.js';

/**
 * The stack's configuration, read from CDK context (`cdk.json` → `"context"`, `cdk.context.json`,
 * or `npx cdk deploy -c key=value`). Every key is optional; the defaults below are the documented
 * ones (the README, "Deploy to AWS", lists them). A value given with `-c` arrives as a string, so lists accept
 * JSON (`["a","b"]`) or a comma-separated string, numbers and booleans accept their string form.
 *
 * @example
 * ```sh
 * npx cdk deploy -c alarmEmail=ops@example.com \
 *   -c 'tenants=[{"name":"acme","url":"https://acme.eu.qlikcloud.com","secretName":"origin-sync/acme"}]'
 * ```
 */

/** Stack name when `stackName` is not given. */
export const DEFAULT_STACK_NAME = 'QlikOriginSync';

/** Log retention (days) when `logRetentionDays` is not given. */
export const DEFAULT_LOG_RETENTION_DAYS = RetentionDays.ONE_MONTH;

/** How many scan intervals without a successful scan before the alarm fires. */
export const DEFAULT_MISSED_SCANS_BEFORE_ALARM = 3;

/** How many consecutive scans that each repaired drift before the alarm fires. */
export const DEFAULT_DRIFT_REPAIRS_BEFORE_ALARM = 3;

/** CloudWatch evaluates an alarm over at most one day (evaluation periods × period). */
const MAX_ALARM_WINDOW_MINUTES = 24 * 60;

const RETENTION_DAY_VALUES = Object.values(RetentionDays).filter((value): value is RetentionDays => typeof value === 'number');

/** `["a","b"]` (JSON, as in cdk.json or `-c 'k=["a"]'`) or `a,b` (as typed on a command line). */
function listFromContext(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) return parseJson(text);
  return text === '' ? [] : text.split(',').map((item) => item.trim());
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Left to the schema, which then reports the expected shape for this key.
    return text;
  }
}

function booleanFromContext(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

const stringList = <T extends z.ZodType>(item: T) => z.preprocess(listFromContext, z.array(item));
const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** An AWS account id (12 digits) or the ARN of an IAM principal in some account. */
const principal = z
  .string()
  .regex(/^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+))$/, 'an account id (12 digits) or an IAM role, user or root ARN');

/** A tenant the functions may reach, with the Secrets Manager secret holding its credentials. */
const tenantSchema = z.strictObject({
  /** The tenant's name in the registry and in deployment events (`detail.tenant`). */
  name: z.string(),
  /** Base URL of the Qlik Cloud tenant, e.g. `https://acme.eu.qlikcloud.com`. */
  url: z.string(),
  /** Name of the Secrets Manager secret (not its ARN); the functions may read only these secrets. */
  secretName: z.string().regex(/^[\w/+=.@-]{1,512}$/, 'a Secrets Manager secret name (letters, digits and /_+=.@-)'),
});

export type TenantConfig = z.infer<typeof tenantSchema>;

const contextSchema = z
  .strictObject({
    /** Name of the CloudFormation stack. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name')
      .default(DEFAULT_STACK_NAME),
    /** Event sources the deployment rule accepts. */
    deploymentSources: stringList(z.string().min(1).max(256))
      .refine((sources) => sources.length > 0, 'at least one event source')
      .default([...DEFAULT_DEPLOYMENT_RULE.sources]),
    /** Detail-types the deployment rule accepts: a non-empty subset of the declared ones. */
    deploymentDetailTypes: stringList(z.enum(DEPLOYMENT_DETAIL_TYPES))
      .refine((types) => types.length > 0, `at least one of ${DEPLOYMENT_DETAIL_TYPES.join(', ')}`)
      .default([...DEFAULT_DEPLOYMENT_RULE.detailTypes]),
    /** `default` (the account's default bus) or the name of a custom bus. */
    eventBusName: z
      .string()
      .regex(/^[\w.-]{1,256}$/, 'an event bus name')
      .default('default'),
    /** Create the named bus in this stack (otherwise it must already exist). */
    createEventBus: z.preprocess(booleanFromContext, z.boolean()).default(false),
    /** Accounts or IAM principals allowed to put deployment events on the (named) bus. */
    putEventsPrincipals: stringList(principal).default([]),
    /** Minutes between drift scans. */
    scanIntervalMinutes: wholeNumber(1, MAX_ALARM_WINDOW_MINUTES).default(DEFAULT_SCAN_INTERVAL_MINUTES),
    /** Scan intervals without a successful scan before the `ScansMissing` alarm fires. */
    missedScansBeforeAlarm: wholeNumber(1, MAX_ALARM_WINDOW_MINUTES).default(DEFAULT_MISSED_SCANS_BEFORE_ALARM),
    /** Consecutive scans that each repaired drift before the `DriftRepairedRepeatedly` alarm fires. */
    driftRepairsBeforeAlarm: wholeNumber(1, MAX_ALARM_WINDOW_MINUTES).default(DEFAULT_DRIFT_REPAIRS_BEFORE_ALARM),
    /** Tenants configured with the deployment; their secrets are the only ones the functions may read. */
    tenants: z
      .preprocess((value) => (typeof value === 'string' ? parseJson(value) : value), z.array(tenantSchema))
      .default([]),
    /** E-mail address subscribed to a topic this stack creates for the alarms. */
    alarmEmail: z.email().optional(),
    /** An existing SNS topic for the alarms (instead of `alarmEmail`). */
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'an SNS topic ARN')
      .optional(),
    /** Retention of the functions' log groups, one of the values CloudWatch Logs accepts. */
    logRetentionDays: z.coerce
      .number()
      .refine((days) => RETENTION_DAY_VALUES.includes(days), `one of ${RETENTION_DAY_VALUES.join(', ')} days`)
      .transform((days) => days as RetentionDays)
      .default(DEFAULT_LOG_RETENTION_DAYS),
    /** Qlik writes per minute per tenant (unset: the functions' own default). */
    qlikWritesPerMinute: z.coerce.number().positive().max(95).optional(),
    /** Days audit entries are kept (unset: the functions' own default). */
    auditRetentionDays: wholeNumber(1, 36_500).optional(),
  })
  .superRefine((config, context) => {
    const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (config.alarmEmail !== undefined && config.alarmTopicArn !== undefined) {
      issue('alarmTopicArn', 'give alarmEmail or alarmTopicArn, not both (subscribe the address to your own topic instead)');
    }
    if (config.eventBusName === 'default' && config.putEventsPrincipals.length > 0) {
      issue('putEventsPrincipals', 'a bus policy is only set on a named bus; set eventBusName too (this stack does not change the default bus policy)');
    }
    if (config.eventBusName === 'default' && config.createEventBus) {
      issue('createEventBus', 'the default bus always exists; set eventBusName to the name of the bus to create');
    }
    if (config.scanIntervalMinutes * config.missedScansBeforeAlarm > MAX_ALARM_WINDOW_MINUTES) {
      issue('missedScansBeforeAlarm', `scanIntervalMinutes × missedScansBeforeAlarm must be at most ${MAX_ALARM_WINDOW_MINUTES} (CloudWatch evaluates at most one day)`);
    }
    if (config.scanIntervalMinutes * config.driftRepairsBeforeAlarm > MAX_ALARM_WINDOW_MINUTES) {
      issue('driftRepairsBeforeAlarm', `scanIntervalMinutes × driftRepairsBeforeAlarm must be at most ${MAX_ALARM_WINDOW_MINUTES} (CloudWatch evaluates at most one day)`);
    }
    const names = config.tenants.map((tenant) => tenant.name);
    const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
    if (duplicates.length > 0) issue('tenants', `tenant names must be unique; repeated: ${[...new Set(duplicates)].join(', ')}`);
    // The functions check their TENANTS setting at cold start; check it now with the same schema,
    // so a bad tenant fails the synth instead of every invocation after the deploy.
    try {
      readSettings({ [ENVIRONMENT.tableName]: 'synth-check', [ENVIRONMENT.tenants]: JSON.stringify(functionTenants(config.tenants)) });
    } catch (error) {
      issue('tenants', (error as Error).message);
    }
  });

export type OriginSyncConfig = z.infer<typeof contextSchema>;

/** Every context key the stack reads. */
export const CONTEXT_KEYS = Object.keys(contextSchema.shape) as (keyof OriginSyncConfig)[];

/** The tenants as the functions read them from their `TENANTS` variable (`functions/runtime/settings.ts`). */
export function functionTenants(tenants: readonly TenantConfig[]): { tenant: string; url: string; secretId: string }[] {
  return tenants.map((tenant) => ({ tenant: tenant.name, url: tenant.url, secretId: tenant.secretName }));
}

/** Checks raw context values (unset keys take their defaults); throws one error naming every bad key. */
export function parseConfig(values: Partial<Record<keyof OriginSyncConfig, unknown>>): OriginSyncConfig {
  const defined = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  const parsed = contextSchema.safeParse(defined);
  if (!parsed.success) {
    throw new Error(`invalid qlik-origin-sync context (see "Deploy to AWS" in the README):\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Reads the configuration from the CDK context of a construct (usually the App). */
export function readConfig(node: Node): OriginSyncConfig {
  return parseConfig(Object.fromEntries(CONTEXT_KEYS.map((key) => [key, node.tryGetContext(key)])));
}

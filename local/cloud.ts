/**
 * The local cloud: the synchronizer on one machine with no AWS and no Docker (DESIGN §4).
 *
 * DynamoDB Local (AWS's jar), the Qlik emulator, a Secrets Manager endpoint and an EventBridge
 * endpoint speaking the AWS wire protocols; the deployment rule and the schedule routed to the
 * real handlers, invoked in this process as Lambda would. The handlers find the endpoints through
 * the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables: only endpoints differ from AWS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { parsePolicy, type PolicyInput } from '../functions/core/policy.js';
import type { Tenant } from '../functions/core/model.js';
import { deploymentEventPattern, SCHEDULED_EVENT_DETAIL_TYPE } from '../functions/events.js';
import { DynamoDbRegistry } from '../functions/registry/dynamoDbRegistry.js';
import { createTableInput } from '../functions/registry/tableDefinition.js';
import { ENVIRONMENT } from '../functions/runtime/settings.js';
import { startEventBridgeServer } from './aws/eventBridgeServer.js';
import { createEventRouter } from './aws/eventRouter.js';
import { startSecretsManagerServer } from './aws/secretsManagerServer.js';
import { startDynamoDbLocal } from './dynamodb/dynamodbLocal.js';
import { createLocalInvoker, LOCAL_MAX_CONCURRENCY, prepareConcurrentRuntime, type LambdaHandler } from './lambdaInvoker.js';
import { EmulatorControlClient } from './qlik-emulator/controlClient.js';
import { startQlikEmulator } from './qlik-emulator/server.js';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_TABLE = 'origin-sync-local';
export const DEMO_TENANT = 'demo';
export const DEMO_SECRET = 'origin-sync/demo';
export const DEMO_POLICY: PolicyInput = { allowedOrigins: ['https://*.example.com'], mode: 'sync', ownership: 'managed' };
/** An origin a person added by hand before the synchronizer arrived: it must never be removed. */
export const DEMO_HAND_ADDED_ORIGIN = 'https://intranet.example.net';

export interface LocalCloudOptions {
  /** Endpoints on N (Qlik), N+1 (EventBridge), N+2 (Secrets Manager), N+3 (DynamoDB); free ports when omitted. */
  portBase?: number;
  /** Seconds between drift scans; 0 turns the scheduler off. */
  scanIntervalSeconds?: number;
  /** Where the CLI finds the endpoints (`.origin-sync/local.json`). */
  stateFile?: string;
  /** Where dead-lettered events are appended, one JSON line each. */
  deadLetterFile?: string;
  /** Qlik emulator rate limits (on by default, as in Qlik). */
  qlikRateLimits?: boolean;
  /** Progress while starting (each service as it comes up). */
  onProgress?: (message: string) => void;
}

export interface ReadyLine {
  ready: true;
  endpoints: { qlik: string; eventbridge: string; secretsmanager: string; dynamodb: string };
  tenant: string;
  apiKey: string;
  webIntegrationId: string;
  allowedOrigins: string[];
}

export interface LocalCloud {
  ready: ReadyLine;
  tableName: string;
  /** Runs one drift scan now (as the scheduler does) and resolves with its summary. */
  scanNow(): Promise<unknown>;
  /** Resolves when no routed event is being handled or waiting for a retry. */
  drain(): Promise<void>;
  deadLetters(): readonly unknown[];
  stop(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const progress = options.onProgress ?? (() => undefined);
  const port = (offset: number) => (options.portBase === undefined ? 0 : options.portBase + offset);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of stops.reverse()) await close().catch(() => undefined);
  };

  try {
    await prepareConcurrentRuntime();
    progress('starting DynamoDB Local (AWS jar)…');
    const dynamodb = await startDynamoDbLocal({ port: port(3) });
    stops.push(() => dynamodb.stop());

    progress('starting the Qlik emulator…');
    const apiKey = `demo-${randomBytes(12).toString('hex')}`;
    const qlik = await startQlikEmulator({ apiKey, port: port(0), rateLimits: options.qlikRateLimits ?? true });
    stops.push(() => qlik.close());

    progress('starting the Secrets Manager endpoint…');
    const secretsManager = await startSecretsManagerServer({ port: port(2), region: LOCAL_REGION });
    stops.push(() => secretsManager.close());

    // The SDK reads these itself: production code runs unchanged, only endpoints differ.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      [ENVIRONMENT.tableName]: LOCAL_TABLE,
      POWERTOOLS_SERVICE_NAME: 'origin-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'OriginSync',
    });

    progress('creating the registry table and seeding the demo tenant…');
    const dynamoClient = new DynamoDBClient({});
    await dynamoClient.send(new CreateTableCommand(createTableInput(LOCAL_TABLE)));
    const registry = new DynamoDbRegistry({ client: DynamoDBDocumentClient.from(dynamoClient), tableName: LOCAL_TABLE });
    await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: DEMO_SECRET, SecretString: JSON.stringify({ apiKey }) }));
    const tenant: Tenant = { tenant: DEMO_TENANT, url: qlik.url, secretId: DEMO_SECRET };
    process.env[ENVIRONMENT.tenants] = JSON.stringify([tenant]);
    await registry.putTenant(tenant);
    const [portal] = await new EmulatorControlClient(qlik.url).seed({ integrations: [{ name: 'demo-portal', validOrigins: [DEMO_HAND_ADDED_ORIGIN] }] });
    const webIntegrationId = portal!.id;
    const policy = parsePolicy(DEMO_POLICY);
    await registry.putTarget({ tenant: DEMO_TENANT, webIntegrationId }, policy);

    // The handlers read their settings at import, like a Lambda cold start: import them now.
    const { handler: deployEvents } = await import('../functions/handlers/deployEvents.js');
    const { handler: driftScan } = await import('../functions/handlers/driftScan.js');
    // middy's handler type also accepts an optional third argument; Lambda calls it with two.
    const invokeDeploy = createLocalInvoker({ name: 'deploy-events', timeoutSeconds: 60 }, deployEvents as unknown as LambdaHandler<EventBridgeEvent<string, unknown>, unknown>);
    const invokeScan = createLocalInvoker({ name: 'drift-scan', timeoutSeconds: 240 }, driftScan as unknown as LambdaHandler<ScheduledEvent, unknown>);

    const deadLetters: unknown[] = [];
    const router = createEventRouter({
      // Lambda scales asynchronous invocations out: a few invocations waiting for Qlik's write
      // budget must not keep the rest of a burst from being registered.
      maxConcurrency: LOCAL_MAX_CONCURRENCY,
      rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: (event) => invokeDeploy(event as EventBridgeEvent<string, unknown>), retry: { maximumRetryAttempts: 2, baseDelayMs: 1000 } }],
      deadLetter: async (record) => {
        deadLetters.push(record);
        if (options.deadLetterFile) {
          await mkdir(dirname(options.deadLetterFile), { recursive: true });
          await writeFile(options.deadLetterFile, `${JSON.stringify(record)}\n`, { flag: 'a' });
        }
      },
    });
    stops.push(() => router.close());

    progress('starting the EventBridge endpoint…');
    const eventBridge = await startEventBridgeServer({ port: port(1), region: LOCAL_REGION, onEvents: (events) => router.publish(events) });
    stops.push(() => eventBridge.close());

    const scanNow = () =>
      invokeScan({
        version: '0',
        id: randomUUID(),
        'detail-type': SCHEDULED_EVENT_DETAIL_TYPE,
        source: 'aws.scheduler',
        account: '000000000000',
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: LOCAL_REGION,
        resources: ['arn:aws:scheduler:us-east-1:000000000000:schedule/default/origin-sync-drift-scan'],
        detail: {},
      });
    const interval = options.scanIntervalSeconds ?? 30;
    if (interval > 0) {
      let scanning = false;
      const timer = setInterval(() => {
        if (scanning) return; // a schedule never overlaps itself here
        scanning = true;
        scanNow()
          .catch(() => undefined)
          .finally(() => {
            scanning = false;
          });
      }, interval * 1000);
      stops.push(async () => clearInterval(timer));
    }

    const ready: ReadyLine = {
      ready: true,
      endpoints: { qlik: qlik.url, eventbridge: eventBridge.url, secretsmanager: secretsManager.url, dynamodb: dynamodb.endpoint },
      tenant: DEMO_TENANT,
      apiKey,
      webIntegrationId,
      allowedOrigins: policy.allowedOrigins,
    };
    if (options.stateFile) {
      await mkdir(dirname(options.stateFile), { recursive: true });
      await writeFile(options.stateFile, `${JSON.stringify({ ...ready, region: LOCAL_REGION, tableName: LOCAL_TABLE, pid: process.pid }, null, 2)}\n`);
    }
    return { ready, tableName: LOCAL_TABLE, scanNow, drain: () => router.drain(), deadLetters: () => deadLetters, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

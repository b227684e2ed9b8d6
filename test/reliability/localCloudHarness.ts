/**
 * The reliability suite's harness: one local cloud per test file (DynamoDB Local, the Qlik
 * emulator, Secrets Manager and EventBridge endpoints, the real handlers in this process), the
 * real SDK clients to talk to it, the emulator's test controls, and a copy of every log line the
 * functions write, so each file can prove at the end that no secret reached a log (R8).
 *
 * The handlers read their settings at import, like a Lambda cold start, and vitest gives every
 * test file its own module graph: so one local cloud per file, started in `beforeAll`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { TargetRef } from '../../functions/core/model.js';
import { parsePolicy, type PolicyInput } from '../../functions/core/policy.js';
import { DEPLOYMENT_EVENT_SOURCE, DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED } from '../../functions/events.js';
import type { DeployEventOutcome } from '../../functions/handlers/deployEvents.js';
import type { ScanSummary } from '../../functions/handlers/driftScan.js';
import { DynamoDbRegistry } from '../../functions/registry/dynamoDbRegistry.js';
import { DEMO_POLICY, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.js';
import { createLocalInvoker } from '../../local/lambdaInvoker.js';
import { EmulatorControlClient, type WriteLogEntry } from '../../local/qlik-emulator/controlClient.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The real stderr, taken before any capture: measured numbers are shown whatever happens to logs. */
const realStderr = process.stderr.write.bind(process.stderr);
const REGION = 'us-east-1';

// ---------------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------------

/**
 * Keeps a copy of everything written to stdout and stderr (the functions log JSON lines there,
 * one write per line). The lines are not passed on unless `RELIABILITY_LOGS=1`: a burst of 200
 * events logs about a megabyte. A failing test prints the tail instead (`printTail`, called by `useLocalCloud`).
 */
export class CapturedLogs {
  readonly #chunks: string[] = [];
  readonly #restore: (() => void)[] = [];
  #stderr: ((text: string) => void) | undefined;

  public start(): void {
    const passThrough = process.env.RELIABILITY_LOGS === '1';
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        this.#chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        if (passThrough) return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
        const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
      this.#restore.push(() => {
        stream.write = original;
      });
      if (stream === process.stderr) this.#stderr = (text) => original(text);
    }
  }

  public stop(): void {
    for (const restore of this.#restore.splice(0)) restore();
  }

  /** A position in the log; `since(mark)` returns what was written after it. */
  public mark(): number {
    return this.#chunks.length;
  }

  public since(mark = 0): string {
    return this.#chunks.slice(mark).join('');
  }

  /** The structured (JSON) lines written after `mark`. */
  public jsonLinesSince(mark = 0): Record<string, unknown>[] {
    return this.since(mark)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  /** Writes the last lines to the real stderr: what a failing test needs to be understood. */
  public printTail(title: string, lines = 60): void {
    const tail = this.since().split('\n').slice(-lines).join('\n');
    this.#stderr?.(`\n--- ${title}: last ${lines} log lines ---\n${tail}\n--- end ---\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// The Qlik emulator's write log
// ---------------------------------------------------------------------------------------------

/** The PATCHes Qlik accepted, optionally for one integration, with what each wrote. */
export async function patchesOf(emulator: EmulatorControlClient, webIntegrationId?: string): Promise<WriteLogEntry[]> {
  return (await emulator.writeLog()).filter((entry) => entry.method === 'PATCH' && (webIntegrationId === undefined || entry.id === webIntegrationId));
}

/** The `validOrigins` one PATCH wrote (the product's client sends one `replace` of `/validOrigins`). */
export function writtenBy(patch: WriteLogEntry): string[] {
  const [operation] = patch.body as { path: string; value: string[] | string }[];
  if (operation?.path !== '/validOrigins') return [];
  return typeof operation.value === 'string' ? (JSON.parse(operation.value) as string[]) : operation.value;
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

export interface Harness {
  cloud: LocalCloud;
  /** The real EventBridge client on the local endpoint. */
  events: EventBridgeClient;
  secrets: SecretsManagerClient;
  /** The product's registry on the local cloud's table. */
  registry: DynamoDbRegistry;
  documentClient: DynamoDBDocumentClient;
  /** The Qlik emulator's test controls. */
  emulator: EmulatorControlClient;
  /** The demo target the local cloud seeds (policy `https://*.example.com`, sync, managed). */
  demo: TargetRef;
  /** Invokes the deploy-events function directly, as Lambda would, and returns its result. */
  invokeDeployEvents(event: unknown): Promise<DeployEventOutcome>;
  scanNow(): Promise<ScanSummary>;
  stop(): Promise<void>;
}

/** Starts a local cloud with its scheduler off (tests run scans themselves) and connects to it. */
export async function startHarness(options: LocalCloudOptions = {}): Promise<Harness> {
  const { startLocalCloud } = await import('../../local/cloud.js');
  const cloud = await startLocalCloud({ scanIntervalSeconds: 0, ...options });
  const { endpoints } = cloud.ready;
  const events = new EventBridgeClient({ endpoint: endpoints.eventbridge, region: REGION, credentials: LOCAL_CREDENTIALS });
  const secrets = new SecretsManagerClient({ endpoint: endpoints.secretsmanager, region: REGION, credentials: LOCAL_CREDENTIALS });
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION, credentials: LOCAL_CREDENTIALS });
  const documentClient = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const registry = new DynamoDbRegistry({ client: documentClient, tableName: cloud.tableName });

  // The same module instance the local cloud routes events to (imported by startLocalCloud).
  const { handler } = await import('../../functions/handlers/deployEvents.js');
  const invoke = createLocalInvoker(
    { name: 'deploy-events', timeoutSeconds: 60 },
    handler as unknown as (event: unknown, context: Context) => Promise<DeployEventOutcome>,
  );

  return {
    cloud,
    events,
    secrets,
    registry,
    documentClient,
    emulator: new EmulatorControlClient(endpoints.qlik),
    demo: { tenant: cloud.ready.tenant, webIntegrationId: cloud.ready.webIntegrationId },
    invokeDeployEvents: (event) => invoke(event),
    scanNow: async () => (await cloud.scanNow()) as ScanSummary,
    async stop() {
      events.destroy();
      secrets.destroy();
      documentClient.destroy();
      dynamodb.destroy();
      await cloud.stop();
      const { closeQlikPools } = await import('../../functions/qlik/index.js');
      await closeQlikPools();
    },
  };
}

/**
 * A new integration in Qlik (with the origins people put there by hand) configured as a target of
 * `tenant` (default: the demo tenant) with `policy` (default: the demo policy).
 */
export async function newTarget(
  harness: Harness,
  name: string,
  options: { validOrigins?: string[]; policy?: PolicyInput; tenant?: string } = {},
): Promise<TargetRef> {
  const [integration] = await harness.emulator.seed({ integrations: [{ name, validOrigins: options.validOrigins ?? [] }] });
  const ref = { tenant: options.tenant ?? harness.demo.tenant, webIntegrationId: integration!.id };
  await harness.registry.putTarget(ref, parsePolicy(options.policy ?? DEMO_POLICY));
  return ref;
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

export function deployedEntry(ref: TargetRef, appId: string, origins: unknown[], extra: { time?: Date; detail?: Record<string, unknown> } = {}): PutEventsRequestEntry {
  return {
    Source: DEPLOYMENT_EVENT_SOURCE,
    DetailType: DETAIL_TYPE_DEPLOYED,
    Detail: JSON.stringify({ appId, tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, origins, ...extra.detail }),
    ...(extra.time !== undefined && { Time: extra.time }),
  };
}

export function removedEntry(ref: TargetRef, appId: string, extra: { time?: Date } = {}): PutEventsRequestEntry {
  return {
    Source: DEPLOYMENT_EVENT_SOURCE,
    DetailType: DETAIL_TYPE_REMOVED,
    Detail: JSON.stringify({ appId, tenant: ref.tenant, webIntegrationId: ref.webIntegrationId }),
    ...(extra.time !== undefined && { Time: extra.time }),
  };
}

/** An event as EventBridge hands it to the function, for direct invocations. */
export function deliveredEvent(
  detailType: string,
  detail: Record<string, unknown>,
  extra: { id?: string; time?: Date } = {},
): EventBridgeEvent<string, Record<string, unknown>> {
  return {
    version: '0',
    id: extra.id ?? randomUUID(),
    'detail-type': detailType,
    source: DEPLOYMENT_EVENT_SOURCE,
    account: '000000000000',
    time: (extra.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail,
  };
}

/** Puts entries in calls of at most 10 (EventBridge's limit), all calls at once; returns every entry's result. */
export async function putEvents(client: EventBridgeClient, entries: PutEventsRequestEntry[]): Promise<PutEventsResultEntry[]> {
  const batches: PutEventsRequestEntry[][] = [];
  for (let index = 0; index < entries.length; index += 10) batches.push(entries.slice(index, index + 10));
  const answers = await Promise.all(batches.map((batch) => client.send(new PutEventsCommand({ Entries: batch }))));
  return answers.flatMap((answer) => answer.Entries ?? []);
}

// ---------------------------------------------------------------------------------------------
// Registry state
// ---------------------------------------------------------------------------------------------

/**
 * Every item of the registry that is state (tenants, targets, registrations, the write budget),
 * sorted: audit entries are a log and are left out. A test may scan; the product never does.
 */
export async function registryState(harness: Harness): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await harness.documentClient.send(
      new ScanCommand({ TableName: harness.cloud.tableName, ConsistentRead: true, ...(startKey && { ExclusiveStartKey: startKey }) }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items
    .filter((item) => !String(item.pk).startsWith('AUDIT#'))
    .sort((a, b) => `${String(a.pk)}|${String(a.sk)}`.localeCompare(`${String(b.pk)}|${String(b.sk)}`));
}

/** Audit entries of the whole table (every tenant), as stored. */
export async function auditItems(harness: Harness): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await harness.documentClient.send(
      new ScanCommand({
        TableName: harness.cloud.tableName,
        ConsistentRead: true,
        FilterExpression: 'begins_with(pk, :audit)',
        ExpressionAttributeValues: { ':audit': 'AUDIT#' },
        ...(startKey && { ExclusiveStartKey: startKey }),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Whether `work` settles within `ms` (it keeps running if not: the caller decides what next). */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    // The timer is cancelled once `work` settles; its AbortError is expected and dropped.
    return await Promise.race([work.then(() => true), sleep(ms, false, { signal: timer.signal }).catch(() => false)]);
  } finally {
    timer.abort();
  }
}

/** Counts how often each entry occurs. */
export function occurrences(list: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of list) counts.set(entry, (counts.get(entry) ?? 0) + 1);
  return counts;
}

/** Reports a measured number in the test output (never a secret). */
export function report(line: string): void {
  realStderr(`[reliability] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// One local cloud per file, and R8
// ---------------------------------------------------------------------------------------------

export interface LocalCloudFixture {
  /** Set in `beforeAll`. */
  harness: Harness;
  logs: CapturedLogs;
  /** Secret values this file handed to the system besides the demo API key (R8 looks for each). */
  secrets: string[];
}

/**
 * Registers the file's hooks: capture the logs, start the local cloud, stop it afterwards, and
 * print the log tail when a test fails.
 */
export function useLocalCloud(label: string, options: LocalCloudOptions = {}): LocalCloudFixture {
  const fixture = { logs: new CapturedLogs(), secrets: [] as string[] } as LocalCloudFixture;
  beforeAll(async () => {
    fixture.logs.start();
    fixture.harness = await startHarness(options);
  }, 120_000);
  afterEach((context) => {
    if (context.task.result?.state === 'fail') fixture.logs.printTail(`${label}: ${context.task.name}`);
  });
  afterAll(async () => {
    try {
      await fixture.harness?.stop();
    } finally {
      fixture.logs.stop();
    }
  }, 60_000);
  return fixture;
}

/**
 * R8, once per file and last in it: no log line of the file's tests carries the tenant's API key or
 * any other secret value the file used. The logs must be there (a capture that saw nothing proves
 * nothing).
 */
export function itKeepsSecretsOutOfLogs(label: string, fixture: LocalCloudFixture): void {
  it(`R8 no log line of the ${label} tests contains a secret value`, () => {
    // Prepare
    const secrets = [fixture.harness.cloud.ready.apiKey, ...fixture.secrets];
    const logged = fixture.logs.since();

    // Assess
    expect(logged.length).toBeGreaterThan(1000);
    expect(logged).toContain('"service":"origin-sync"');
    for (const secret of secrets) {
      expect(secret.length, 'a secret this short could match by chance').toBeGreaterThanOrEqual(12);
      const found = logged.includes(secret);
      // The value itself is never printed, not even in a failure message.
      expect(found, `a secret value (${secret.length} characters, starting "${secret.slice(0, 3)}") appears in the logs`).toBe(false);
    }
  });
}

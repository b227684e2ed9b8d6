/**
 * The local EventBridge endpoint, driven by the real SDK v3 client: PutEvents' answers (ids,
 * per-entry errors in order, whole-call validation) and the events it hands on, shaped exactly
 * as EventBridge delivers them to a Lambda target.
 */
import { EventBridgeClient, EventBridgeServiceException, ListRulesCommand, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalLogger } from '../../local/aws/awsJsonProtocol.js';
import { startEventBridgeServer, type DeliveredEvent, type RunningEventBridge } from '../../local/aws/eventBridgeServer.js';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const deployed = (appId: string): PutEventsRequestEntry => ({
  Source: 'origin-sync.deployments',
  DetailType: 'App Deployed',
  Detail: JSON.stringify({ appId, tenant: 'acme', webIntegrationId: 'wi-1', origins: [`https://${appId}.example.com`] }),
});

/** Collects what the server hands on, and lets a test wait for a number of events. */
function recorder() {
  const batches: DeliveredEvent[][] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const total = () => batches.reduce((sum, batch) => sum + batch.length, 0);
  return {
    batches,
    events: () => batches.flat(),
    onEvents(events: DeliveredEvent[]) {
      batches.push(events);
      const ready = waiters.filter((waiter) => total() >= waiter.count);
      waiters = waiters.filter((waiter) => total() < waiter.count);
      ready.forEach((waiter) => waiter.resolve());
    },
    async waitFor(count: number): Promise<DeliveredEvent[]> {
      if (total() < count) await new Promise<void>((resolve) => waiters.push({ count, resolve }));
      return batches.flat();
    },
  };
}

/** Lets pending hand-offs run, to check that nothing more arrives. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

let bus: RunningEventBridge;
let delivered: ReturnType<typeof recorder>;
let client: EventBridgeClient;

beforeEach(async () => {
  delivered = recorder();
  bus = await startEventBridgeServer({ port: 0, onEvents: (events) => delivered.onEvents(events) });
  client = new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await bus.close();
});

describe('Function: startEventBridgeServer()', () => {
  it('gives accepted entries event ids and delivers them as EventBridge delivers to Lambda', async () => {
    // Act
    const answer = await client.send(new PutEventsCommand({ Entries: [deployed('shop'), deployed('blog')] }));
    const events = await delivered.waitFor(2);

    // Assess
    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries).toHaveLength(2);
    const ids = answer.Entries!.map((entry) => entry.EventId);
    expect(ids.every((id) => typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(2);

    expect(events.map((event) => event.id)).toEqual(ids);
    const [first] = events;
    expect(Object.keys(first!).sort()).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    expect(first).toMatchObject({
      version: '0',
      'detail-type': 'App Deployed',
      source: 'origin-sync.deployments',
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
      detail: { appId: 'shop', tenant: 'acme', webIntegrationId: 'wi-1', origins: ['https://shop.example.com'] },
    });
    expect(first!.time).toMatch(ISO_SECONDS);
    expect(Math.abs(Date.parse(first!.time) - Date.now())).toBeLessThan(60_000);
    // One call is handed on as one batch, in request order.
    expect(delivered.batches).toHaveLength(1);
  });

  it('delivers the entry Time given as a Date as that ISO time, to the second', async () => {
    await client.send(new PutEventsCommand({ Entries: [{ ...deployed('shop'), Time: new Date('2026-12-03T12:00:00.789Z') }] }));

    const [event] = await delivered.waitFor(1);

    expect(event!.time).toBe('2026-12-03T12:00:00Z');
  });

  it('passes Resources through and accepts the served bus by name or ARN', async () => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          { ...deployed('a'), Resources: ['arn:aws:s3:::bucket'], EventBusName: 'default' },
          { ...deployed('b'), EventBusName: bus.eventBusArn },
        ],
      }),
    );

    const events = await delivered.waitFor(2);

    expect(answer.FailedEntryCount).toBe(0);
    expect(events[0]!.resources).toEqual(['arn:aws:s3:::bucket']);
    expect(bus.eventBusArn).toBe('arn:aws:events:us-east-1:000000000000:event-bus/default');
  });

  it('fails bad entries one by one, in request order, and delivers only the good ones', async () => {
    // Prepare
    const { Source: _source, ...withoutSource } = deployed('x');
    const { DetailType: _type, ...withoutDetailType } = deployed('x');
    const { Detail: _detail, ...withoutDetail } = deployed('x');
    const entries: PutEventsRequestEntry[] = [
      deployed('good-1'),
      withoutSource,
      withoutDetailType,
      withoutDetail,
      { ...deployed('x'), Detail: '{"unterminated": ' },
      { ...deployed('x'), Detail: '["an", "array"]' },
      { ...deployed('x'), Detail: '"a string"' },
      { ...deployed('x'), EventBusName: 'no-such-bus' },
      deployed('good-2'),
    ];

    // Act
    const answer = await client.send(new PutEventsCommand({ Entries: entries }));
    const events = await delivered.waitFor(2);
    await settle();

    // Assess
    expect(answer.FailedEntryCount).toBe(7);
    expect(answer.Entries!.map((entry) => entry.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'ok',
    ]);
    expect(answer.Entries![1]!.ErrorMessage).toBe('Parameter Source is not valid. Reason: Source is a required argument.');
    expect(answer.Entries![2]!.ErrorMessage).toContain('DetailType is a required argument');
    expect(answer.Entries![3]!.ErrorMessage).toContain('Detail is a required argument');
    expect(answer.Entries![4]!.ErrorMessage).toBe('Detail is malformed.');
    expect(answer.Entries![7]!.ErrorMessage).toContain('no-such-bus');
    expect(answer.Entries![1]!.EventId).toBeUndefined();
    expect(events.map((event) => event.detail.appId)).toEqual(['good-1', 'good-2']);
    expect(events.map((event) => event.id)).toEqual([answer.Entries![0]!.EventId, answer.Entries![8]!.EventId]);
  });

  it('refuses more than 10 entries as a whole with ValidationException and delivers nothing', async () => {
    const entries = Array.from({ length: 11 }, (_, index) => deployed(`app-${index}`));

    const error = await client.send(new PutEventsCommand({ Entries: entries })).then(
      () => {
        throw new Error('expected PutEvents to fail');
      },
      (caught: unknown) => caught as EventBridgeServiceException,
    );
    await settle();

    expect(error).toBeInstanceOf(EventBridgeServiceException);
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10");
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(delivered.events()).toEqual([]);
  });

  it('refuses an empty Entries list with ValidationException', async () => {
    await expect(client.send(new PutEventsCommand({ Entries: [] }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses a request whose entries exceed 256 KB in total, as EventBridge does', async () => {
    const half = 'x'.repeat(140 * 1024);
    const entries = [
      { ...deployed('a'), Detail: JSON.stringify({ padding: half }) },
      { ...deployed('b'), Detail: JSON.stringify({ padding: half }) },
    ];

    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
    await settle();
    expect(delivered.events()).toEqual([]);
  });

  it('answers operations other than PutEvents with UnknownOperationException', async () => {
    await expect(client.send(new ListRulesCommand({}))).rejects.toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
  });

  it('answers without waiting for onEvents, and a failing onEvents never reaches the caller', async () => {
    // Prepare
    const errors: string[] = [];
    const logger: LocalLogger = { info() {}, warn() {}, error: (message) => errors.push(message) };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let handedOn = 0;
    const slow = await startEventBridgeServer({
      port: 0,
      logger,
      onEvents: async () => {
        handedOn += 1;
        await released;
        throw new Error('target down');
      },
    });
    const slowClient = new EventBridgeClient({ endpoint: slow.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });

    // Act
    const answer = await slowClient.send(new PutEventsCommand({ Entries: [deployed('shop')] }));
    await settle();
    const handedOnBeforeRelease = handedOn;
    const errorsBeforeRelease = errors.length;
    release();
    slowClient.destroy();
    await slow.close();

    // Assess
    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries![0]!.EventId).toEqual(expect.any(String));
    expect(handedOnBeforeRelease).toBe(1);
    expect(errorsBeforeRelease).toBe(0);
    expect(errors).toEqual(['eventbridge: onEvents failed; the events were accepted and are lost']);
  });

  it('close() waits until accepted events were handed on', async () => {
    await client.send(new PutEventsCommand({ Entries: [deployed('shop')] }));

    await bus.close();

    expect(delivered.events()).toHaveLength(1);
  });
});

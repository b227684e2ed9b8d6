/**
 * The local cloud's rules and Lambda-style asynchronous invocation: routing by the patterns the
 * stack deploys, retries with backoff, dead letters, drain, shutdown and the concurrency bound.
 * Delays are a few milliseconds so that the suite stays fast.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { deploymentEventPattern, SCHEDULED_EVENT_DETAIL_TYPE } from '../../functions/events.js';
import type { LocalLogger } from '../../local/aws/awsJsonProtocol.js';
import { startEventBridgeServer } from '../../local/aws/eventBridgeServer.js';
import { createEventRouter, type DeadLetterRecord, type EventRule, type RoutedEvent } from '../../local/aws/eventRouter.js';

let sequence = 0;
function event(detailType: string, source = 'origin-sync.deployments', detail: Record<string, unknown> = {}): RoutedEvent {
  sequence += 1;
  return {
    version: '0',
    id: `event-${sequence}`,
    'detail-type': detailType,
    source,
    account: '000000000000',
    time: '2026-12-03T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

const deployedEvent = (detail: Record<string, unknown> = {}) => event('App Deployed', 'origin-sync.deployments', detail);
const scheduledEvent = () => event(SCHEDULED_EVENT_DETAIL_TYPE, 'aws.scheduler');

const FAST = { baseDelayMs: 2 };

/** A target that records what it got and fails its first `failures` invocations. */
function flakyTarget(failures = 0) {
  const received: RoutedEvent[] = [];
  const target = async (routed: RoutedEvent) => {
    received.push(routed);
    if (received.length <= failures) throw new Error(`attempt ${received.length} failed`);
    return 'ok';
  };
  return { received, target };
}

function deadLetters() {
  const records: DeadLetterRecord[] = [];
  return { records, deadLetter: (record: DeadLetterRecord) => void records.push(record) };
}

describe('Function: createEventRouter()', () => {
  describe('routing', () => {
    it('delivers each event to the targets of the rules whose pattern matches, and only those', async () => {
      // Prepare
      const deployments = flakyTarget();
      const scans = flakyTarget();
      const letters = deadLetters();
      const router = createEventRouter({
        rules: [
          { name: 'deployments', pattern: deploymentEventPattern(), target: deployments.target },
          { name: 'scan', pattern: { 'detail-type': [SCHEDULED_EVENT_DETAIL_TYPE] }, target: scans.target },
        ],
        deadLetter: letters.deadLetter,
      });
      const deploy = deployedEvent({ appId: 'shop' });
      const remove = event('App Removed');
      const scheduled = scheduledEvent();
      const foreignSource = event('App Deployed', 'someone.else');
      const unknownType = event('App Renamed');

      // Act
      const queued = router.publish([deploy, scheduled, foreignSource, unknownType, remove]);
      await router.drain();

      // Assess
      expect(queued).toBe(3);
      expect(deployments.received.map((received) => received.id)).toEqual([deploy.id, remove.id]);
      expect(scans.received.map((received) => received.id)).toEqual([scheduled.id]);
      expect(deployments.received[0]).toEqual(deploy);
      expect(letters.records).toEqual([]);
      expect(router.stats()).toMatchObject({ delivered: 3, failedAttempts: 0, deadLettered: 0, inFlight: 0, queued: 0, waitingToRetry: 0 });
    });

    it('invokes a target asynchronously, never inside publish()', async () => {
      const target = flakyTarget();
      const router = createEventRouter({ rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: target.target }], deadLetter: () => {} });

      router.publish([deployedEvent()]);
      const duringPublish = target.received.length;
      await router.drain();

      expect(duringPublish).toBe(0);
      expect(target.received).toHaveLength(1);
    });

    it('gives every rule its own copy of the event', async () => {
      const original = deployedEvent({ origins: ['https://a.example.com'] });
      const seen: unknown[] = [];
      const mutating: EventRule = {
        name: 'mutating',
        pattern: deploymentEventPattern(),
        target: async (routed) => {
          (routed.detail as { origins: string[] }).origins.push('https://evil.example.com');
        },
      };
      const reading: EventRule = { name: 'reading', pattern: deploymentEventPattern(), target: async (routed) => void seen.push(routed.detail) };
      const router = createEventRouter({ rules: [mutating, reading], deadLetter: () => {} });

      router.publish([original]);
      await router.drain();

      expect(seen).toEqual([{ origins: ['https://a.example.com'] }]);
      expect(original.detail).toEqual({ origins: ['https://a.example.com'] });
    });

    it('refuses two rules with one name and invalid retry policies', () => {
      const rule: EventRule = { name: 'twice', pattern: deploymentEventPattern(), target: async () => undefined };

      expect(() => createEventRouter({ rules: [rule, rule], deadLetter: () => {} })).toThrow(/two rules are named "twice"/);
      expect(() => createEventRouter({ rules: [{ ...rule, retry: { maximumRetryAttempts: -1 } }], deadLetter: () => {} })).toThrow(/maximumRetryAttempts/);
      expect(() => createEventRouter({ rules: [rule], deadLetter: () => {}, maxConcurrency: 0 })).toThrow(/maxConcurrency/);
    });
  });

  describe('retries and dead letters', () => {
    it('retries a failing target and stops at the first success: 2 failures, 3 invocations, no dead letter', async () => {
      const target = flakyTarget(2);
      const letters = deadLetters();
      const router = createEventRouter({ rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: target.target, retry: FAST }], deadLetter: letters.deadLetter });

      router.publish([deployedEvent()]);
      await router.drain();

      expect(target.received).toHaveLength(3);
      expect(letters.records).toEqual([]);
      expect(router.stats()).toMatchObject({ delivered: 1, failedAttempts: 2, deadLettered: 0 });
    });

    it('dead-letters an event once the retries run out, with the attempts and the last error', async () => {
      // Prepare
      const target = flakyTarget(Number.POSITIVE_INFINITY);
      const letters = deadLetters();
      const warnings: string[] = [];
      const logger: LocalLogger = { info() {}, warn: (message) => warnings.push(message), error() {} };
      const router = createEventRouter({
        rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: target.target, retry: FAST }],
        deadLetter: letters.deadLetter,
        logger,
      });
      const published = deployedEvent({ appId: 'shop' });

      // Act
      router.publish([published]);
      await router.drain();

      // Assess
      expect(target.received).toHaveLength(3);
      expect(letters.records).toHaveLength(1);
      const [record] = letters.records;
      expect(record).toMatchObject({ rule: 'deployments', event: published, error: 'attempt 3 failed', attempts: 3, reason: 'retries-exhausted' });
      expect(Date.parse(record!.failedAt)).not.toBeNaN();
      expect(warnings).toHaveLength(2);
    });

    it('honours maximumRetryAttempts 0: one invocation, then the dead letter', async () => {
      const target = flakyTarget(Number.POSITIVE_INFINITY);
      const letters = deadLetters();
      const router = createEventRouter({
        rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: target.target, retry: { ...FAST, maximumRetryAttempts: 0 } }],
        deadLetter: letters.deadLetter,
      });

      router.publish([deployedEvent()]);
      await router.drain();

      expect(target.received).toHaveLength(1);
      expect(letters.records[0]).toMatchObject({ attempts: 1, reason: 'retries-exhausted' });
    });

    it('backs off exponentially: each wait about twice the one before', async () => {
      const times: number[] = [];
      const router = createEventRouter({
        rules: [
          {
            name: 'deployments',
            pattern: deploymentEventPattern(),
            target: async () => {
              times.push(performance.now());
              throw new Error('down');
            },
            retry: { baseDelayMs: 40 },
          },
        ],
        deadLetter: () => {},
        // The largest jitter: waits are base × 2^n exactly.
        random: () => 0.999_999,
      });

      router.publish([deployedEvent()]);
      await router.drain();

      const [first, second, third] = times;
      expect(times).toHaveLength(3);
      expect(second! - first!).toBeGreaterThanOrEqual(38);
      expect(third! - second!).toBeGreaterThanOrEqual(78);
    });

    it('dead-letters an event that would be older than maximumEventAgeSeconds at its next retry', async () => {
      const target = flakyTarget(Number.POSITIVE_INFINITY);
      const letters = deadLetters();
      const router = createEventRouter({
        rules: [
          { name: 'deployments', pattern: deploymentEventPattern(), target: target.target, retry: { baseDelayMs: 200, maximumEventAgeSeconds: 0.05 } },
        ],
        deadLetter: letters.deadLetter,
      });

      router.publish([deployedEvent()]);
      await router.drain();

      expect(target.received).toHaveLength(1);
      expect(letters.records[0]).toMatchObject({ attempts: 1, reason: 'event-too-old', error: 'attempt 1 failed' });
    });

    it('survives a dead-letter callback that throws', async () => {
      const errors: string[] = [];
      const router = createEventRouter({
        rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: flakyTarget(Number.POSITIVE_INFINITY).target, retry: { ...FAST, maximumRetryAttempts: 0 } }],
        deadLetter: () => {
          throw new Error('disk full');
        },
        logger: { info() {}, warn() {}, error: (message) => errors.push(message) },
      });

      router.publish([deployedEvent()]);
      await router.drain();

      expect(errors.some((message) => message.includes('dead-letter callback failed'))).toBe(true);
    });
  });

  describe('drain, close and concurrency', () => {
    it('drain() waits for invocations in flight and retries still to come', async () => {
      let finished = 0;
      let calls = 0;
      const router = createEventRouter({
        rules: [
          {
            name: 'deployments',
            pattern: deploymentEventPattern(),
            target: async () => {
              calls += 1;
              await new Promise((resolve) => setTimeout(resolve, 15));
              if (calls === 1) throw new Error('first try fails');
              finished += 1;
            },
            retry: { baseDelayMs: 20 },
          },
        ],
        deadLetter: () => {},
      });

      router.publish([deployedEvent()]);
      await router.drain();

      expect(calls).toBe(2);
      expect(finished).toBe(1);
    });

    it('drain() resolves at once when nothing is pending', async () => {
      const router = createEventRouter({ rules: [], deadLetter: () => {} });

      await expect(router.drain()).resolves.toBeUndefined();
    });

    it('runs at most maxConcurrency targets at once and delivers everything', async () => {
      // Prepare
      let running = 0;
      let highest = 0;
      let done = 0;
      const router = createEventRouter({
        rules: [
          {
            name: 'deployments',
            pattern: deploymentEventPattern(),
            target: async () => {
              running += 1;
              highest = Math.max(highest, running);
              await new Promise((resolve) => setTimeout(resolve, 5));
              running -= 1;
              done += 1;
            },
          },
        ],
        deadLetter: () => {},
        maxConcurrency: 3,
      });

      // Act
      router.publish(Array.from({ length: 20 }, () => deployedEvent()));
      await router.drain();

      // Assess
      expect(done).toBe(20);
      expect(highest).toBe(3);
    });

    it('bounds concurrency to 10 by default', async () => {
      let running = 0;
      let highest = 0;
      const router = createEventRouter({
        rules: [
          {
            name: 'deployments',
            pattern: deploymentEventPattern(),
            target: async () => {
              running += 1;
              highest = Math.max(highest, running);
              await new Promise((resolve) => setTimeout(resolve, 5));
              running -= 1;
            },
          },
        ],
        deadLetter: () => {},
      });

      router.publish(Array.from({ length: 30 }, () => deployedEvent()));
      await router.drain();

      expect(highest).toBe(10);
    });

    it('close() lets invocations in flight finish and dead-letters what waits, with reason "shutdown"', async () => {
      // Prepare: one event fails and waits a long time for its retry; another is still running.
      const letters = deadLetters();
      let slowFinished = false;
      const router = createEventRouter({
        rules: [
          {
            name: 'deployments',
            pattern: deploymentEventPattern(),
            target: async (routed) => {
              if ((routed.detail as { kind?: string }).kind === 'failing') throw new Error('down');
              await new Promise((resolve) => setTimeout(resolve, 30));
              slowFinished = true;
            },
            retry: { baseDelayMs: 60_000 },
          },
        ],
        deadLetter: letters.deadLetter,
      });
      const failing = deployedEvent({ kind: 'failing' });
      router.publish([failing, deployedEvent({ kind: 'slow' })]);
      await new Promise((resolve) => setTimeout(resolve, 10));

      // Act
      const started = Date.now();
      await router.close();

      // Assess
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(slowFinished).toBe(true);
      expect(letters.records).toHaveLength(1);
      expect(letters.records[0]).toMatchObject({ event: failing, reason: 'shutdown', attempts: 1, error: 'down' });
      expect(() => router.publish([deployedEvent()])).toThrow(/closed/);
    });

    it('close() dead-letters events still queued behind the concurrency bound', async () => {
      const letters = deadLetters();
      const router = createEventRouter({
        rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: () => new Promise((resolve) => setTimeout(resolve, 20)) }],
        deadLetter: letters.deadLetter,
        maxConcurrency: 1,
      });
      router.publish([deployedEvent(), deployedEvent(), deployedEvent()]);
      await new Promise((resolve) => setTimeout(resolve, 5));

      await router.close();

      expect(letters.records.map((record) => [record.reason, record.attempts])).toEqual([
        ['shutdown', 0],
        ['shutdown', 0],
      ]);
    });
  });

  describe('behind the EventBridge endpoint', () => {
    it('routes what the real SDK puts to the deployment rule', async () => {
      // Prepare
      const target = flakyTarget(1);
      const letters = deadLetters();
      const router = createEventRouter({
        rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: target.target, retry: FAST }],
        deadLetter: letters.deadLetter,
      });
      const bus = await startEventBridgeServer({ port: 0, onEvents: (events) => router.publish(events) });
      const client = new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });

      // Act
      const answer = await client.send(
        new PutEventsCommand({
          Entries: [
            { Source: 'origin-sync.deployments', DetailType: 'App Deployed', Detail: JSON.stringify({ appId: 'shop' }) },
            { Source: 'somebody.else', DetailType: 'App Deployed', Detail: '{}' },
          ],
        }),
      );
      client.destroy();
      await bus.close();
      await router.drain();

      // Assess
      expect(answer.FailedEntryCount).toBe(0);
      expect(target.received).toHaveLength(2);
      expect(target.received[1]).toMatchObject({ id: answer.Entries![0]!.EventId, source: 'origin-sync.deployments', detail: { appId: 'shop' } });
      expect(letters.records).toEqual([]);
    });
  });
});

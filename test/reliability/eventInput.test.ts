/**
 * Reliability R4, R5 and R6 (issue 7): what comes in through the door.
 * - R4: duplicate and out-of-order events end in the right state (the registry orders an app's
 *   events by their time; within one second the later arrival wins; a redelivered id is a no-op).
 * - R5: a corpus of hostile events (`test/fixtures/hostile-deployment-events.json`) is rejected
 *   with a reason each, and nothing reaches the registry's state or Qlik.
 * - R6: an origin outside the target's `allowedOrigins` is rejected, counted and audited.
 */
import { readFileSync } from 'node:fs';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TargetRef } from '../../functions/core/model.js';
import { DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED } from '../../functions/events.js';
import {
  auditItems,
  deliveredEvent,
  deployedEntry,
  itKeepsSecretsOutOfLogs,
  newTarget,
  patchesOf,
  putEvents,
  registryState,
  removedEntry,
  report,
  useLocalCloud,
  writtenBy,
  type Harness,
} from './localCloudHarness.js';

const fixture = useLocalCloud('R4-R6 event input');

/** Whole seconds (EventBridge's resolution), a minute ago: later events get later times. */
function baseTime(): number {
  return Math.floor(Date.now() / 1000) * 1000 - 60_000;
}

/** Everything a rejected event must leave as it was: registry state, Qlik, Qlik's write log. */
async function snapshot(harness: Harness) {
  return {
    registry: await registryState(harness),
    integrations: await harness.emulator.integrations(),
    writes: (await harness.emulator.writeLog()).length,
  };
}

/** Origins in every PATCH ever written to one integration. */
async function everWritten(harness: Harness, ref: TargetRef): Promise<Set<string>> {
  const patches = await patchesOf(harness.emulator, ref.webIntegrationId);
  return new Set(patches.flatMap((patch) => writtenBy(patch)));
}

/** Puts one entry and waits until the function has handled it; returns the log lines it wrote. */
async function putAndDrain(harness: Harness, entry: PutEventsRequestEntry): Promise<{ eventId: string; lines: Record<string, unknown>[] }> {
  const mark = fixture.logs.mark();
  const answer = await harness.events.send(new PutEventsCommand({ Entries: [entry] }));
  const result = answer.Entries?.[0];
  if (!result?.EventId) throw new Error(`PutEvents refused the entry: ${result?.ErrorCode} ${result?.ErrorMessage}`);
  await harness.cloud.drain();
  return { eventId: result.EventId, lines: fixture.logs.jsonLinesSince(mark) };
}

const messages = (lines: Record<string, unknown>[]) => lines.map((line) => line.message).filter((message) => typeof message === 'string');

describe('reliability: event order (R4)', () => {
  it('R4 a removal delivered before an older deploy of the same app: the origin stays absent', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r4-late-deploy', { validOrigins: ['https://intranet.example.net'] });
    const t = baseTime();

    // Act: the removal (T+10 s) arrives first, the deploy it undoes (T) afterwards.
    const removal = await putAndDrain(harness, removedEntry(ref, 'late', { time: new Date(t + 10_000) }));
    const deploy = await putAndDrain(harness, deployedEntry(ref, 'late', ['https://late.example.com'], { time: new Date(t) }));

    // Assess
    expect(messages(removal.lines)).toContain('app removed');
    expect(messages(deploy.lines)).toContain('older event ignored: a newer one for this app is recorded');
    expect(deploy.lines.some((line) => line.DeploymentEventsIgnored === 1)).toBe(true);
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual(['https://intranet.example.net']);
    expect(await everWritten(harness, ref)).not.toContain('https://late.example.com');
    const [registration] = await harness.registry.listRegistrations(ref);
    expect(registration).toMatchObject({ appId: 'late', state: 'removed', eventTime: new Date(t + 10_000).toISOString(), eventId: removal.eventId });
  });

  it('R4 deploys of one app out of order: the newer origins win, the older never reach Qlik', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r4-versions');
    const t = baseTime();

    // Act: version 2 (T+5 s) arrives before version 1 (T).
    await putAndDrain(harness, deployedEntry(ref, 'shop', ['https://v2.example.com'], { time: new Date(t + 5_000) }));
    const older = await putAndDrain(harness, deployedEntry(ref, 'shop', ['https://v1.example.com'], { time: new Date(t) }));

    // Assess
    expect(messages(older.lines)).toContain('older event ignored: a newer one for this app is recorded');
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual(['https://v2.example.com']);
    expect(await everWritten(harness, ref)).not.toContain('https://v1.example.com');
    const registrations = await harness.registry.listRegistrations(ref);
    expect(registrations).toHaveLength(1);
    expect(registrations[0]).toMatchObject({ state: 'active', origins: ['https://v2.example.com'], eventTime: new Date(t + 5_000).toISOString() });
  });

  it('R4 a deploy and a removal stamped with the same second: the later arrival wins, in either order', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r4-same-second');
    const second = new Date(baseTime());

    // Act: app "gone" deploys then is removed; app "back" is removed then deploys; all in one second.
    await putAndDrain(harness, deployedEntry(ref, 'gone', ['https://gone.example.com'], { time: second }));
    await putAndDrain(harness, removedEntry(ref, 'gone', { time: second }));
    await putAndDrain(harness, removedEntry(ref, 'back', { time: second }));
    await putAndDrain(harness, deployedEntry(ref, 'back', ['https://back.example.com'], { time: second }));

    // Assess
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual(['https://back.example.com']);
    const registrations = await harness.registry.listRegistrations(ref);
    expect(Object.fromEntries(registrations.map((registration) => [registration.appId, registration.state]))).toEqual({ gone: 'removed', back: 'active' });
  });

  it('R4 the same event delivered twice, and five times at once: one registration, one write, no double effect', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r4-duplicates');
    const t = baseTime();
    const once = deliveredEvent(DETAIL_TYPE_DEPLOYED, { tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, appId: 'twice', origins: ['https://twice.example.com'] }, { time: new Date(t) });
    const burst = deliveredEvent(DETAIL_TYPE_DEPLOYED, { tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, appId: 'burst', origins: ['https://burst.example.com'] }, { time: new Date(t) });

    // Act
    const first = await harness.invokeDeployEvents(structuredClone(once));
    const versionAfterFirst = (await harness.registry.getTarget(ref))!.desiredVersion;
    const second = await harness.invokeDeployEvents(structuredClone(once));
    const versionAfterSecond = (await harness.registry.getTarget(ref))!.desiredVersion;
    const patchesAfterTwice = (await patchesOf(harness.emulator, ref.webIntegrationId)).length;
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => harness.invokeDeployEvents(structuredClone(burst))));

    // Assess
    expect(first).toMatchObject({ status: 'applied', reconcile: { status: 'changed', writes: 1 } });
    expect(second).toMatchObject({ status: 'duplicate', reconcile: { status: 'unchanged', writes: 0 } });
    expect(versionAfterSecond).toBe(versionAfterFirst);
    expect(patchesAfterTwice).toBe(1);
    expect(concurrent.filter((outcome) => outcome.status === 'applied')).toHaveLength(1);
    expect(concurrent.filter((outcome) => outcome.status === 'duplicate')).toHaveLength(4);
    const registrations = await harness.registry.listRegistrations(ref);
    expect(registrations.map((registration) => [registration.appId, registration.eventId]).sort()).toEqual([
      ['burst', burst.id],
      ['twice', once.id],
    ]);
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual(['https://twice.example.com', 'https://burst.example.com']);
    expect((await patchesOf(harness.emulator, ref.webIntegrationId)).length).toBeLessThanOrEqual(2);
  });

  it('R4 a deploy redelivered after its app was removed changes nothing', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r4-redelivered');
    const t = baseTime();
    const deploy = deliveredEvent(DETAIL_TYPE_DEPLOYED, { tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, appId: 'old', origins: ['https://old.example.com'] }, { time: new Date(t) });
    const removal = deliveredEvent(DETAIL_TYPE_REMOVED, { tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, appId: 'old' }, { time: new Date(t + 1_000) });

    // Act
    const deployed = await harness.invokeDeployEvents(structuredClone(deploy));
    const removed = await harness.invokeDeployEvents(structuredClone(removal));
    const redelivered = await harness.invokeDeployEvents(structuredClone(deploy));

    // Assess
    expect(deployed).toMatchObject({ status: 'applied', reconcile: { status: 'changed' } });
    expect(removed).toMatchObject({ status: 'applied', reconcile: { status: 'changed', removed: ['https://old.example.com'] } });
    // The same event again: recognised by its id (a duplicate), whatever came after it.
    expect(redelivered).toMatchObject({ status: 'duplicate', reconcile: { status: 'unchanged', writes: 0 } });
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual([]);
    expect((await harness.registry.listRegistrations(ref))[0]).toMatchObject({ state: 'removed', eventId: removal.id });
  });
});

// ---------------------------------------------------------------------------------------------
// R5: the hostile corpus
// ---------------------------------------------------------------------------------------------

const corpusCase = z.discriminatedUnion('via', [
  z.strictObject({
    name: z.string().min(1),
    category: z.string().min(1),
    via: z.literal('putEvents'),
    entry: z.strictObject({ Source: z.string(), DetailType: z.string(), Detail: z.unknown() }),
    rejectedAtTheDoor: z.enum(['MalformedDetail', 'InvalidArgument', 'ValidationException']).optional(),
    reason: z.string().min(1),
  }),
  z.strictObject({ name: z.string().min(1), category: z.string().min(1), via: z.literal('handler'), event: z.unknown(), reason: z.string().min(1) }),
]);
type CorpusCase = z.infer<typeof corpusCase>;

const corpus = z
  .object({ cases: z.array(corpusCase) })
  .parse(JSON.parse(readFileSync(new URL('../fixtures/hostile-deployment-events.json', import.meta.url), 'utf8')));

/** Replaces placeholders and expands the corpus's generators (`$repeat`, `$concat`). */
function materialise(value: unknown, placeholders: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return Object.entries(placeholders).reduce((text, [name, replacement]) => text.split(name).join(replacement), value);
  }
  if (Array.isArray(value)) return value.map((item) => materialise(item, placeholders));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if ('$repeat' in record) {
      const copies = Array.from({ length: Number(record.times) }, () => materialise(record.$repeat, placeholders));
      return typeof record.join === 'string' ? copies.join(record.join) : copies;
    }
    if ('$concat' in record) return (record.$concat as unknown[]).map((part) => String(materialise(part, placeholders))).join('');
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, materialise(item, placeholders)]));
  }
  return value;
}

let placeholders: Record<string, string> | undefined;

/** `$NOT_A_TARGET` is an integration that exists in Qlik but was never configured as a target. */
async function corpusPlaceholders(harness: Harness): Promise<Record<string, string>> {
  if (!placeholders) {
    const [stranger] = await harness.emulator.seed({ integrations: [{ name: 'r5-not-a-target', validOrigins: [] }] });
    placeholders = { $NOT_A_TARGET: stranger!.id, $TENANT: harness.demo.tenant, $TARGET: harness.demo.webIntegrationId };
  }
  return placeholders;
}

/** Sends one case the way it says and returns the reason it was rejected with. */
async function rejectionOf(harness: Harness, hostile: CorpusCase, values: Record<string, string>): Promise<string> {
  if (hostile.via === 'handler') {
    const outcome = await harness.invokeDeployEvents(materialise(hostile.event, values));
    expect(outcome.status).toBe('rejected');
    return outcome.status === 'rejected' ? outcome.reason : '';
  }
  const entry = materialise(hostile.entry, values) as { Source: string; DetailType: string; Detail: unknown };
  const request: PutEventsRequestEntry = { ...entry, Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail) };
  const mark = fixture.logs.mark();
  let answer;
  try {
    answer = await harness.events.send(new PutEventsCommand({ Entries: [request] }));
  } catch (error) {
    // A whole call refused (over 256 KB): the SDK throws the service's error.
    expect((error as Error).name).toBe(hostile.rejectedAtTheDoor);
    return (error as Error).message;
  }
  const [result] = answer.Entries ?? [];
  if (hostile.rejectedAtTheDoor !== undefined) {
    expect(result?.ErrorCode).toBe(hostile.rejectedAtTheDoor);
    return result?.ErrorMessage ?? '';
  }
  expect(result?.ErrorCode, result?.ErrorMessage).toBeUndefined();
  await harness.cloud.drain();
  const lines = fixture.logs.jsonLinesSince(mark);
  expect(messages(lines)).not.toContain('app registered');
  const rejections = lines.filter((line) => line.message === 'deployment event rejected');
  expect(rejections, 'one rejection logged for the event').toHaveLength(1);
  return String(rejections[0]!.reason);
}

describe('reliability: hostile input (R5)', () => {
  it(`R5 the hostile corpus holds at least 60 cases and every kind the contract names (${corpus.cases.length} cases)`, () => {
    const categories = new Set(corpus.cases.map((hostile) => hostile.category));
    expect(corpus.cases.length).toBeGreaterThanOrEqual(60);
    for (const category of ['javascript', 'data', 'file', 'ftp', 'path', 'query', 'fragment', 'userinfo', 'wildcard', 'ip', 'idn', 'homoglyph', 'long', 'empty', 'wrong-type', 'missing', 'huge', 'unknown', 'invalid-json', 'envelope']) {
      expect(categories, category).toContain(category);
    }
    expect(new Set(corpus.cases.map((hostile) => hostile.name)).size).toBe(corpus.cases.length);
    expect(corpus.cases.filter((hostile) => hostile.via === 'handler').length).toBeGreaterThan(0);
  });

  it.for(corpus.cases)('R5 hostile input is rejected with a reason and writes nothing: $category, $name', async (hostile) => {
    // Prepare
    const { harness } = fixture;
    const values = await corpusPlaceholders(harness);
    const before = await snapshot(harness);
    const auditBefore = (await auditItems(harness)).length;

    // Act
    const reason = await rejectionOf(harness, hostile, values);

    // Assess: the reason says what is wrong; the registry's state and Qlik are as they were; what
    // was added to the audit trail (if anything) is the rejection itself.
    expect(reason).toContain(String(materialise(hostile.reason, values)));
    expect(await snapshot(harness)).toEqual(before);
    const added = (await auditItems(harness)).slice(auditBefore);
    expect(added.every((item) => item.kind === 'rejected')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// R6: the policy
// ---------------------------------------------------------------------------------------------

describe('reliability: policy (R6)', () => {
  it('R6 origins outside the target allowedOrigins are rejected, counted, audited and never written', async () => {
    // Prepare
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r6-portal', { validOrigins: ['https://intranet.example.net'] });
    const outside = ['https://shop.example.org', 'https://example.com', 'https://evil-example.com', 'https://shop.example.com.evil.org', 'https://shop.example.com:8443'];
    const entries = [
      ...outside.map((origin, index) => deployedEntry(ref, `outsider-${index}`, [origin])),
      // One good origin does not carry a bad one in: all or nothing.
      deployedEntry(ref, 'mixed', ['https://good.example.com', 'https://partner.example.org']),
    ];
    const before = await snapshot(harness);
    const mark = fixture.logs.mark();

    // Act
    const answers = await putEvents(harness.events, entries);
    await harness.cloud.drain();

    // Assess
    const lines = fixture.logs.jsonLinesSince(mark);
    const rejections = lines.filter((line) => line.message === 'deployment event rejected');
    const counted = lines.reduce((total, line) => total + (typeof line.DeploymentEventsRejected === 'number' ? line.DeploymentEventsRejected : 0), 0);
    expect(answers.every((answer) => answer.EventId !== undefined)).toBe(true);
    expect(rejections).toHaveLength(entries.length);
    expect(counted, 'DeploymentEventsRejected metric').toBe(entries.length);
    for (const rejection of rejections) expect(String(rejection.reason)).toContain('is outside the allowed origins of this target (https://*.example.com)');
    const audit = await harness.registry.listAudit(ref.tenant, { webIntegrationId: ref.webIntegrationId });
    expect(audit.map((entry) => entry.kind)).toEqual(entries.map(() => 'rejected'));
    expect(new Set(audit.map((entry) => entry.cause.id))).toEqual(new Set(answers.map((answer) => answer.EventId)));
    expect(audit.find((entry) => entry.reason?.includes('"mixed"'))?.reason).toContain('1 of 2 origin(s) of app "mixed" rejected');
    expect(await snapshot(harness)).toEqual(before);
    expect(await harness.registry.listRegistrations(ref)).toEqual([]);
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual(['https://intranet.example.net']);
    report(`R6: ${entries.length} events with origins outside the policy: ${rejections.length} rejected, ${counted} counted, ${audit.length} audited, 0 written`);
  });
});

itKeepsSecretsOutOfLogs('R4-R6 event input', fixture);

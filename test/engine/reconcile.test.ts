/**
 * reconcile() end to end, with no mocks: the registry on DynamoDB Local, the Qlik emulator, and
 * the product's Qlik client over HTTP. Covers the convergence of one change, hand-added origins,
 * a burst of 200 concurrent registrations (single-flight), a crashed lease holder, the removal
 * guard, dry runs, expiring registrations and failures on either side.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TargetRef } from '../../functions/core/model.js';
import { parsePolicy, type PolicyInput } from '../../functions/core/policy.js';
import { reconcile, type ReconcileDependencies, type ReconcileOptions, type ReconcileResult } from '../../functions/engine/reconcile.js';
import { QlikApiError, closeQlikPools, createQlikClient, resetRateLimiters } from '../../functions/qlik/index.js';
import type { QlikClientOptions, WebIntegrationsApi } from '../../functions/qlik/index.js';
import { DynamoDbRegistry } from '../../functions/registry/dynamoDbRegistry.js';
import { TargetNotFoundError } from '../../functions/registry/errors.js';
import { startTestQlikEmulator, type TestQlikEmulator } from '../helpers/qlikEmulator.js';
import { createTestRegistry, type TestRegistry } from '../helpers/registryTable.js';

const TENANT = 'acme';
const POLICY: PolicyInput = { allowedOrigins: ['https://*.example.com'] };

let emulator: TestQlikEmulator;
let table: TestRegistry;
let qlik: WebIntegrationsApi;
let ref: TargetRef;
/** Event times: strictly increasing within a test, so later calls are later events. */
let eventClock: number;

beforeAll(async () => {
  emulator = await startTestQlikEmulator();
});

afterAll(async () => {
  await closeQlikPools();
  await emulator?.close();
});

beforeEach(async () => {
  await emulator.control.reset();
  resetRateLimiters();
  eventClock = Date.parse('2026-01-01T00:00:00Z');
  table = await createTestRegistry({ tablePrefix: 'reconcile' });
  qlik = qlikClient();
  await table.registry.putTenant({ tenant: TENANT, url: emulator.url, secretId: 'qlik/acme' });
});

afterEach(async () => {
  await table?.destroy();
});

/** The real client, rate limits on (Qlik's tiers), fast back-off. */
function qlikClient(overrides: Partial<QlikClientOptions> = {}): WebIntegrationsApi {
  return createQlikClient({
    baseUrl: emulator.url,
    auth: { apiKey: emulator.apiKey },
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, maxElapsedMs: 2_000 },
    ...overrides,
  });
}

/** Seeds one integration in Qlik and configures it as a target. */
async function setUpTarget(options: { validOrigins?: string[]; policy?: PolicyInput } = {}): Promise<void> {
  const [integration] = await emulator.control.seed({ integrations: [{ name: 'shop-portal', validOrigins: options.validOrigins ?? [] }] });
  ref = { tenant: TENANT, webIntegrationId: integration!.id };
  await table.registry.putTarget(ref, parsePolicy(options.policy ?? POLICY));
}

function deps(overrides: Partial<ReconcileDependencies> = {}): ReconcileDependencies {
  return { registry: table.registry, qlik, leaseDurationMs: 30_000, ...overrides };
}

function cause(id: string = randomUUID()): ReconcileOptions {
  return { cause: { type: 'event', id } };
}

function nextEventTime(): string {
  eventClock += 1000;
  return new Date(eventClock).toISOString();
}

function originOf(appId: string): string {
  return `https://${appId}.example.com`;
}

async function register(appId: string, extra: { expiresAt?: string; eventId?: string } = {}): Promise<string> {
  const eventId = extra.eventId ?? randomUUID();
  const outcome = await table.registry.recordRegistration({
    kind: 'deploy',
    ref,
    appId,
    origins: [originOf(appId)],
    eventTime: nextEventTime(),
    eventId,
    ...(extra.expiresAt !== undefined && { expiresAt: extra.expiresAt }),
  });
  expect(outcome.status).toBe('applied');
  return eventId;
}

async function deregister(appId: string): Promise<void> {
  const outcome = await table.registry.recordRegistration({ kind: 'remove', ref, appId, eventTime: nextEventTime(), eventId: randomUUID() });
  expect(outcome.status).toBe('applied');
}

async function validOrigins(): Promise<string[]> {
  const integration = (await emulator.control.integrations()).find((candidate) => candidate.id === ref.webIntegrationId);
  if (!integration) throw new Error(`integration ${ref.webIntegrationId} missing from the emulator`);
  return integration.validOrigins;
}

async function patchCount(): Promise<number> {
  return (await emulator.control.writeLog()).filter((entry) => entry.method === 'PATCH').length;
}

async function target() {
  const state = await table.registry.getTarget(ref);
  if (!state) throw new Error('target missing');
  return state;
}

function settled(result: ReconcileResult): Exclude<ReconcileResult, { status: 'busy' }> {
  if (result.status === 'busy') throw new Error('reconcile found the lease held');
  return result;
}

describe('Function: reconcile()', () => {
  it('writes a registered origin to Qlik once, records it, audits it, and then has nothing to do', async () => {
    // Prepare
    await setUpTarget();
    const eventId = await register('shop');

    // Act
    const first = settled(await reconcile(ref, deps(), cause(eventId)));
    const second = settled(await reconcile(ref, deps(), cause()));

    // Assess
    expect(first).toMatchObject({ status: 'changed', writes: 1, before: [], after: ['https://shop.example.com'] });
    expect(await validOrigins()).toEqual(['https://shop.example.com']);
    const state = await target();
    expect(state.appliedVersion).toBe(state.desiredVersion);
    expect(state.managedOrigins).toEqual(['https://shop.example.com']);
    expect(state.lease).toBeUndefined();
    expect(state.lastError).toBeUndefined();
    const audit = await table.registry.listAudit(TENANT, { webIntegrationId: ref.webIntegrationId });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      kind: 'origins-changed',
      before: [],
      after: ['https://shop.example.com'],
      added: ['https://shop.example.com'],
      cause: { type: 'event', id: eventId },
    });
    expect(second).toMatchObject({ status: 'unchanged', writes: 0 });
    expect(await patchCount()).toBe(1);
  });

  it('never removes origins a person added by hand; removing an app removes only its origin', async () => {
    // Prepare
    await setUpTarget({ validOrigins: ['https://manual.example.com', 'https://partner.other.org'] });
    await register('shop');
    await register('blog');
    settled(await reconcile(ref, deps(), cause()));
    // someone adds one more in the Qlik console
    await emulator.control.edit(ref.webIntegrationId, { validOrigins: [...(await validOrigins()), 'https://console.example.com'] });

    // Act
    await deregister('shop');
    const afterShop = settled(await reconcile(ref, deps(), cause()));
    const originsAfterShop = await validOrigins();
    await deregister('blog');
    const afterBlog = settled(await reconcile(ref, deps(), cause()));

    // Assess
    expect(afterShop.plan.remove).toEqual(['https://shop.example.com']);
    expect(originsAfterShop).toEqual([
      'https://manual.example.com',
      'https://partner.other.org',
      'https://blog.example.com',
      'https://console.example.com',
    ]);
    expect(afterBlog.plan.remove).toEqual(['https://blog.example.com']);
    expect(await validOrigins()).toEqual(['https://manual.example.com', 'https://partner.other.org', 'https://console.example.com']);
    expect(afterBlog.plan.heldBack.filter((held) => held.reason === 'not-managed').map((held) => held.origin)).toEqual([
      'https://manual.example.com',
      'https://partner.other.org',
      'https://console.example.com',
    ]);
    expect((await target()).managedOrigins).toEqual([]);
  });

  it('CONCURRENCY: 200 concurrent register-then-reconcile calls converge with few PATCHes', async () => {
    // Prepare
    await setUpTarget();
    const apps = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    const time = nextEventTime();

    // Act
    const results = await Promise.all(
      apps.map(async (appId) => {
        const outcome = await table.registry.recordRegistration({ kind: 'deploy', ref, appId, origins: [originOf(appId)], eventTime: time, eventId: `e-${appId}` });
        expect(outcome.status).toBe('applied');
        return reconcile(ref, deps(), cause(`e-${appId}`));
      }),
    );

    // Assess
    const origins = await validOrigins();
    expect(origins).toHaveLength(200);
    expect(new Set(origins).size).toBe(200);
    expect([...origins].sort()).toEqual(apps.map(originOf).sort());
    const state = await target();
    expect(state.desiredVersion).toBe(201);
    expect(state.appliedVersion).toBe(state.desiredVersion);
    expect(state.managedOrigins).toHaveLength(200);
    expect(state.lease).toBeUndefined();
    const patches = await patchCount();
    console.log('PATCHes for 200 concurrent registrations:', patches);
    const worked = results.filter((result) => result.status !== 'busy');
    console.log(
      `${worked.length} lease holder(s) made ${worked.reduce((sum, result) => sum + result.passes, 0)} pass(es); ${results.length - worked.length} found the lease held`,
    );
    expect(patches).toBeGreaterThan(0);
    expect(patches).toBeLessThan(50);
    expect((await emulator.control.stats()).rateLimited).toEqual({ tier1: 0, tier2: 0 });
    expect(worked.length).toBeLessThan(results.length);
  });

  it('registrations that arrive while a pass waits for the write budget join its write', async () => {
    // Prepare: a budget of one write a second, already spent, so the next write waits ~1 s
    await table.destroy();
    table = await createTestRegistry({ tablePrefix: 'reconcile', registry: { writeBudget: { perMinute: 60, burst: 1 } } });
    await table.registry.putTenant({ tenant: TENANT, url: emulator.url, secretId: 'qlik/acme' });
    await setUpTarget();
    await table.registry.takeWriteToken(TENANT);
    await register('first');

    // Act: while the reconcile waits for its token, a second app registers
    const running = reconcile(ref, deps(), cause());
    await sleep(300);
    await register('second');
    const result = await running;

    // Assess: one pass, one PATCH with both origins, and the version recorded covers both
    expect(result).toMatchObject({ status: 'changed', passes: 1, writes: 1 });
    expect([...(await validOrigins())].sort()).toEqual([originOf('first'), originOf('second')]);
    expect(await patchCount()).toBe(1);
    const state = await target();
    expect(state.appliedVersion).toBe(state.desiredVersion);
  });

  it('CONCURRENCY: registrations that keep arriving while the holder works are picked up by its next passes', async () => {
    // Prepare: 60 events spread over ~1.5 s, so most land while a pass is in flight
    await setUpTarget();
    const apps = Array.from({ length: 60 }, (_, i) => `late-${i}`);

    // Act
    const results = await Promise.all(
      apps.map(async (appId, i) => {
        await sleep(i * 25);
        await register(appId);
        // The default cap of 10 passes hands a longer stream over to the scan; here the loop itself is under test.
        return reconcile(ref, deps({ maxPasses: 100 }), cause(`e-${appId}`));
      }),
    );

    // Assess
    const origins = await validOrigins();
    expect([...origins].sort()).toEqual(apps.map(originOf).sort());
    const state = await target();
    expect(state.appliedVersion).toBe(state.desiredVersion);
    expect(state.lease).toBeUndefined();
    const worked = results.filter((result) => result.status !== 'busy');
    const passes = worked.reduce((sum, result) => sum + result.passes, 0);
    const patches = await patchCount();
    console.log(`spread burst: ${patches} PATCHes, ${worked.length} lease holders, ${passes} passes for ${apps.length} registrations`);
    expect(passes).toBeGreaterThan(worked.length);
    expect(patches).toBeLessThan(apps.length);
  });

  it('CRASH: a dead holder blocks until its lease expires; then the next reconcile repairs', async () => {
    // Prepare
    await setUpTarget();
    expect(await table.registry.acquireLease(ref, 'dead-holder', 300)).toBeDefined();
    await register('shop');

    // Act
    const whileHeld = await reconcile(ref, deps(), cause());
    await sleep(350);
    const afterExpiry = await reconcile(ref, deps(), cause());

    // Assess
    expect(whileHeld.status).toBe('busy');
    expect(afterExpiry.status).toBe('changed');
    expect(await validOrigins()).toEqual(['https://shop.example.com']);
    const state = await target();
    expect(state.appliedVersion).toBe(state.desiredVersion);
    expect(state.lease).toBeUndefined();
  });

  it('GUARD: holds back removals beyond maxRemovalsPerRun until an operator confirms them', async () => {
    // Prepare
    await setUpTarget({ policy: { ...POLICY, maxRemovalsPerRun: 3 } });
    const apps = Array.from({ length: 8 }, (_, i) => `guarded-${i}`);
    for (const appId of apps) await register(appId);
    settled(await reconcile(ref, deps(), cause()));
    expect(await validOrigins()).toHaveLength(8);
    for (const appId of apps) await deregister(appId);

    // Act
    const guarded = settled(await reconcile(ref, deps(), cause()));
    const originsAfterGuard = await validOrigins();
    const stateAfterGuard = await target();

    // Assess: at most 3 removed, the rest held back (planner today removes 3; a stricter one removes none)
    const removed = guarded.plan.remove;
    const heldBack = guarded.plan.heldBack.filter((held) => held.reason === 'removal-guard').map((held) => held.origin);
    expect(removed.length).toBeLessThanOrEqual(3);
    expect(removed.length + heldBack.length).toBe(8);
    expect([...removed, ...heldBack].sort()).toEqual(apps.map(originOf).sort());
    expect(guarded.guardTripped).toBe(true);
    for (const origin of heldBack) expect(originsAfterGuard).toContain(origin);
    for (const origin of removed) expect(originsAfterGuard).not.toContain(origin);
    expect(stateAfterGuard.lastError).toMatch(/removal guard/);
    expect(stateAfterGuard.managedOrigins.sort()).toEqual([...heldBack].sort());
    expect(stateAfterGuard.lease).toBeUndefined();

    // Act: an operator confirms
    const confirmed = settled(await reconcile(ref, deps(), { ...cause(), allowRemovals: 8 }));

    // Assess
    expect(confirmed.guardTripped).toBe(false);
    expect(await validOrigins()).toEqual([]);
    const state = await target();
    expect(state.managedOrigins).toEqual([]);
    expect(state.lastError).toBeUndefined();
  });

  it('a dry run returns the plan and writes nothing', async () => {
    // Prepare
    await setUpTarget();
    await register('shop');
    const before = await target();

    // Act
    const result = settled(await reconcile(ref, deps(), { ...cause(), dryRun: true }));

    // Assess
    expect(result).toMatchObject({ status: 'dry-run', writes: 0, before: [], after: ['https://shop.example.com'] });
    expect(result.plan.add).toEqual(['https://shop.example.com']);
    expect(result.plan.hasChanges).toBe(true);
    expect(await emulator.control.writeLog()).toEqual([]);
    expect(await validOrigins()).toEqual([]);
    const after = await target();
    expect(after.appliedVersion).toBe(before.appliedVersion);
    expect(after.managedOrigins).toEqual([]);
    expect(after.lease).toBeUndefined();
    expect(await table.registry.listAudit(TENANT)).toEqual([]);
  });

  it('removes the origin of a registration once it expired', async () => {
    // Prepare
    await setUpTarget();
    const expiresAt = new Date(Date.now() + 1000).toISOString();
    await register('preview', { expiresAt });
    await register('shop');
    settled(await reconcile(ref, deps(), cause()));
    expect(await validOrigins()).toEqual(['https://preview.example.com', 'https://shop.example.com']);
    expect((await target()).nextExpiryAt).toBe(expiresAt);

    // Act
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 50);
    const result = settled(await reconcile(ref, deps(), { cause: { type: 'scan', id: 'scan-1' } }));

    // Assess
    expect(result.status).toBe('changed');
    expect(result.plan.remove).toEqual(['https://preview.example.com']);
    expect(await validOrigins()).toEqual(['https://shop.example.com']);
    const state = await target();
    expect(state.managedOrigins).toEqual(['https://shop.example.com']);
    expect(state.nextExpiryAt).toBeUndefined();
  });

  it('a Qlik failure throws a retryable error, records lastError, releases the lease and does not mark the target applied', async () => {
    // Prepare
    await setUpTarget();
    await register('shop');
    await emulator.control.setFaults({ PATCH: { error503: 1 } });
    qlik = qlikClient({ retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 1_000 } });

    // Act
    const failure = await reconcile(ref, deps(), cause()).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(QlikApiError);
    expect(failure).toMatchObject({ status: 503, retryable: true, attempts: 2, method: 'PATCH' });
    const state = await target();
    expect(state.lastError).toMatch(/503/);
    expect(state.lease).toBeUndefined();
    expect(state.appliedVersion).toBeLessThan(state.desiredVersion);
    // Ownership is recorded before the PATCH (intent), so a write that did land is never orphaned.
    expect(state.managedOrigins).toEqual(['https://shop.example.com']);
    expect(await validOrigins()).toEqual([]);

    // Act: Qlik recovers; the next reconcile is not kept out by a stale lease
    await emulator.control.setFaults({});
    const retried = await reconcile(ref, deps(), cause());

    // Assess
    expect(retried.status).toBe('changed');
    expect(await validOrigins()).toEqual(['https://shop.example.com']);
    const repaired = await target();
    expect(repaired.appliedVersion).toBe(repaired.desiredVersion);
    expect(repaired.lastError).toBeUndefined();
    expect(repaired.managedOrigins).toEqual(['https://shop.example.com']);
  });

  // BUG (reported, not fixed here): ownership is recorded only after a pass finishes, so an origin
  // this system wrote in a pass that failed after its PATCH is later taken for one a person added.
  it('an origin written by a pass that failed after its PATCH stays managed and is removed with its app', async () => {
    // Prepare: the verify GET after the PATCH fails (Qlik has the origin, the registry was not told)
    await setUpTarget();
    await register('shop');
    const real = qlikClient({ retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 1_000 } });
    const failingAfterWrite: WebIntegrationsApi = {
      list: (query, opts) => real.list(query, opts),
      listPage: (request, opts) => real.listPage(request, opts),
      get: (id, opts) => real.get(id, opts),
      create: (input, opts) => real.create(input, opts),
      update: (id, operations, opts) => real.update(id, operations, opts),
      delete: (id, opts) => real.delete(id, opts),
      replaceOrigins: async (id, origins, opts) => {
        await real.replaceOrigins(id, origins, opts);
        await emulator.control.setFaults({ GET: { error503: 1 } });
      },
    };
    await expect(reconcile(ref, deps({ qlik: failingAfterWrite }), cause())).rejects.toBeInstanceOf(QlikApiError);
    expect(await validOrigins()).toEqual(['https://shop.example.com']);
    await emulator.control.setFaults({});

    // Act: the next run completes, then the app goes away
    settled(await reconcile(ref, deps(), cause()));
    const managedAfterRepair = (await target()).managedOrigins;
    await deregister('shop');
    const afterRemoval = settled(await reconcile(ref, deps(), cause()));

    // Assess
    expect(managedAfterRepair).toEqual(['https://shop.example.com']);
    expect(afterRemoval.plan.heldBack).toEqual([]);
    expect(await validOrigins()).toEqual([]);
  });

  it('a registry failure throws before anything is written to Qlik', async () => {
    // Prepare
    await setUpTarget();
    await register('shop');
    const broken = new DynamoDbRegistry({ client: table.documentClient, tableName: `missing-${randomUUID()}` });

    // Act
    const attempt = reconcile(ref, deps({ registry: broken }), cause());

    // Assess
    await expect(attempt).rejects.toThrow();
    expect(await emulator.control.writeLog()).toEqual([]);
    expect(await validOrigins()).toEqual([]);
  });

  it('refuses a target that is not configured, without calling Qlik', async () => {
    // Prepare
    await setUpTarget();

    // Act
    const attempt = reconcile({ tenant: TENANT, webIntegrationId: 'not-configured' }, deps(), cause());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TargetNotFoundError);
    expect(await emulator.control.writeLog()).toEqual([]);
  });
});

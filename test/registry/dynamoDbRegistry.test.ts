/**
 * DynamoDbRegistry against DynamoDB Local (no mocks): tenants, targets, registrations and their
 * ordering rules, the lease, finishing a pass, the audit trail, the tenant-wide write budget and
 * the validation of items read back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, RegistrationChange, TargetRef } from '../../functions/core/model.js';
import { parsePolicy } from '../../functions/core/policy.js';
import { keys } from '../../functions/registry/keys.js';
import { LeaseLostError, RegistryError, TargetNotFoundError, TenantNotFoundError } from '../../functions/registry/errors.js';
import { createTestRegistry, type TestRegistry } from '../helpers/registryTable.js';

const REF: TargetRef = { tenant: 'acme', webIntegrationId: 'wi-1' };
const POLICY = parsePolicy({ allowedOrigins: ['https://*.example.com'] });

let table: TestRegistry;

beforeEach(async () => {
  table = await createTestRegistry();
});

afterEach(async () => {
  await table?.destroy();
});

async function withTarget(ref: TargetRef = REF): Promise<void> {
  await table.registry.putTenant({ tenant: ref.tenant, url: 'https://acme.eu.qlikcloud.com', secretId: `qlik/${ref.tenant}` });
  await table.registry.putTarget(ref, POLICY);
}

function deploy(appId: string, eventTime: string, eventId: string, origins = [`https://${appId}.example.com`]): RegistrationChange {
  return { kind: 'deploy', ref: REF, appId, origins, eventTime, eventId };
}

function remove(appId: string, eventTime: string, eventId: string): RegistrationChange {
  return { kind: 'remove', ref: REF, appId, eventTime, eventId };
}

async function desiredVersion(ref: TargetRef = REF): Promise<number> {
  const target = await table.registry.getTarget(ref);
  if (!target) throw new Error(`target ${ref.tenant}/${ref.webIntegrationId} missing`);
  return target.desiredVersion;
}

describe('Function: tenants', () => {
  it('puts, gets and lists tenants', async () => {
    // Prepare
    const acme = { tenant: 'acme', url: 'https://acme.eu.qlikcloud.com', secretId: 'qlik/acme' };
    const globex = { tenant: 'globex', url: 'https://globex.us.qlikcloud.com', secretId: 'qlik/globex' };

    // Act
    await table.registry.putTenant(acme);
    await table.registry.putTenant(globex);

    // Assess
    expect(await table.registry.getTenant('acme')).toEqual(acme);
    expect(await table.registry.getTenant('nobody')).toBeUndefined();
    expect((await table.registry.listTenants()).sort((a, b) => a.tenant.localeCompare(b.tenant))).toEqual([acme, globex]);
  });
});

describe('Function: putTarget()', () => {
  it('requires the tenant', async () => {
    await expect(table.registry.putTarget(REF, POLICY)).rejects.toBeInstanceOf(TenantNotFoundError);
    expect(await table.registry.getTarget(REF)).toBeUndefined();
  });

  it('creates a target at desiredVersion 1 and lists it', async () => {
    // Act
    await withTarget();

    // Assess
    const target = await table.registry.getTarget(REF);
    expect(target).toMatchObject({ ref: REF, policy: POLICY, desiredVersion: 1, appliedVersion: 0, managedOrigins: [] });
    expect(target?.lease).toBeUndefined();
    expect((await table.registry.listTargets('acme')).map((t) => t.ref)).toEqual([REF]);
    expect(await table.registry.listTargets('globex')).toEqual([]);
  });

  it('bumps desiredVersion on a policy change and keeps appliedVersion and managed origins', async () => {
    // Prepare
    await withTarget();
    const lease = await table.registry.acquireLease(REF, 'worker', 60_000);
    await table.registry.finishPass(
      REF,
      'worker',
      { appliedVersion: lease!.desiredVersion, managedOrigins: ['https://shop.example.com'], lastReconcileAt: new Date().toISOString() },
      60_000,
    );
    const narrower = parsePolicy({ allowedOrigins: ['https://*.apps.example.com'], maxRemovalsPerRun: 2 });

    // Act
    await table.registry.putTarget(REF, narrower);

    // Assess
    const target = await table.registry.getTarget(REF);
    expect(target).toMatchObject({ policy: narrower, desiredVersion: 2, appliedVersion: 1, managedOrigins: ['https://shop.example.com'] });
  });
});

describe('Function: recordRegistration()', () => {
  beforeEach(async () => {
    await withTarget();
  });

  it('writes the registration and bumps desiredVersion by exactly one', async () => {
    // Prepare
    const before = await desiredVersion();

    // Act
    const outcome = await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-1'));

    // Assess
    expect(outcome).toEqual({ status: 'applied' });
    expect(await desiredVersion()).toBe(before + 1);
    expect(await table.registry.listRegistrations(REF)).toEqual([
      {
        ref: REF,
        appId: 'shop',
        origins: ['https://shop.example.com'],
        state: 'active',
        eventTime: '2026-01-01T10:00:00.000Z',
        eventId: 'e-1',
      },
    ]);
  });

  it('treats a redelivered event (same id and time) as a duplicate and does not bump', async () => {
    // Prepare
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-1'));
    const before = await desiredVersion();

    // Act
    const outcome = await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00.000Z', 'e-1'));

    // Assess
    expect(outcome).toEqual({ status: 'duplicate' });
    expect(await desiredVersion()).toBe(before);
  });

  it('applies a second event of the same second with another id: EventBridge times are whole seconds, the later arrival wins', async () => {
    // Prepare
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-b', ['https://v1.example.com']));
    const before = await desiredVersion();

    // Act: an id that sorts lower must not make the later event look older
    const outcome = await table.registry.recordRegistration(remove('shop', '2026-01-01T10:00:00Z', 'e-a'));

    // Assess
    expect(outcome).toEqual({ status: 'applied' });
    expect(await desiredVersion()).toBe(before + 1);
    expect((await table.registry.listRegistrations(REF))[0]).toMatchObject({ appId: 'shop', state: 'removed', eventId: 'e-a' });
  });

  it('treats a redelivered event as a duplicate even after a newer event of the same second replaced it', async () => {
    // Prepare: a deploy and a removal in the same second; the removal arrived last and won
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-deploy'));
    await table.registry.recordRegistration(remove('shop', '2026-01-01T10:00:00Z', 'e-remove'));
    const before = await desiredVersion();

    // Act: EventBridge delivers the deploy again (at-least-once delivery, or Lambda's retry)
    const outcome = await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-deploy'));

    // Assess: the app stays removed
    expect(outcome).toEqual({ status: 'duplicate' });
    expect(await desiredVersion()).toBe(before);
    expect((await table.registry.listRegistrations(REF))[0]).toMatchObject({ state: 'removed', eventId: 'e-remove' });
  });

  it('ignores an older event as stale, without a bump, and applies a newer one', async () => {
    // Prepare
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-2', ['https://v2.example.com']));
    const before = await desiredVersion();

    // Act
    const older = await table.registry.recordRegistration(deploy('shop', '2026-01-01T09:00:00Z', 'e-1', ['https://v1.example.com']));
    const afterOlder = await desiredVersion();
    const newer = await table.registry.recordRegistration(deploy('shop', '2026-01-01T11:00:00Z', 'e-3', ['https://v3.example.com']));

    // Assess
    expect(older).toEqual({ status: 'stale', storedEventTime: '2026-01-01T10:00:00.000Z' });
    expect(afterOlder).toBe(before);
    expect(newer).toEqual({ status: 'applied' });
    expect(await desiredVersion()).toBe(before + 1);
    const [registration] = await table.registry.listRegistrations(REF);
    expect(registration).toMatchObject({ origins: ['https://v3.example.com'], eventId: 'e-3' });
  });

  it('keeps a removal as a tombstone: a late, older deploy is stale', async () => {
    // Prepare
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-1'));

    // Act
    const removed = await table.registry.recordRegistration(remove('shop', '2026-01-01T12:00:00Z', 'e-3'));
    const before = await desiredVersion();
    const lateDeploy = await table.registry.recordRegistration(deploy('shop', '2026-01-01T11:00:00Z', 'e-2'));

    // Assess
    expect(removed).toEqual({ status: 'applied' });
    expect(lateDeploy).toEqual({ status: 'stale', storedEventTime: '2026-01-01T12:00:00.000Z' });
    expect(await desiredVersion()).toBe(before);
    const [registration] = await table.registry.listRegistrations(REF);
    expect(registration).toMatchObject({ state: 'removed', origins: [], eventId: 'e-3' });
    const { Item } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: keys.registration(REF, 'shop'), ConsistentRead: true }),
    );
    expect(typeof Item?.ttl).toBe('number');
  });

  it('refuses an unknown target and writes nothing (the transaction is all-or-nothing)', async () => {
    // Prepare
    const unknown: TargetRef = { tenant: 'acme', webIntegrationId: 'wi-unknown' };

    // Act
    const attempt = table.registry.recordRegistration({ ...deploy('shop', '2026-01-01T10:00:00Z', 'e-1'), ref: unknown });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(TargetNotFoundError);
    const { Item } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: keys.registration(unknown, 'shop'), ConsistentRead: true }),
    );
    expect(Item).toBeUndefined();
    expect(await table.registry.getTarget(unknown)).toBeUndefined();
  });

  it('applies 50 concurrent registrations of different apps on one target: desiredVersion goes up by 50', async () => {
    // Prepare
    const before = await desiredVersion();
    const time = new Date().toISOString();

    // Act
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => table.registry.recordRegistration(deploy(`app-${i}`, time, `e-${i}`))),
    );

    // Assess
    expect(outcomes.filter((outcome) => outcome.status === 'applied')).toHaveLength(50);
    expect(await desiredVersion()).toBe(before + 50);
    expect(await table.registry.listRegistrations(REF)).toHaveLength(50);
  });
});

describe('Function: acquireLease()', () => {
  beforeEach(async () => {
    await withTarget();
  });

  it('gives the lease to one owner at a time, and to another once it expired', async () => {
    // Act
    const first = await table.registry.acquireLease(REF, 'owner-a', 200);
    const whileHeld = await table.registry.acquireLease(REF, 'owner-b', 200);
    await sleep(260);
    const afterExpiry = await table.registry.acquireLease(REF, 'owner-b', 60_000);

    // Assess
    expect(first?.lease?.owner).toBe('owner-a');
    expect(first?.desiredVersion).toBe(1);
    expect(whileHeld).toBeUndefined();
    expect(afterExpiry?.lease?.owner).toBe('owner-b');
    expect((await table.registry.getTarget(REF))?.lease?.owner).toBe('owner-b');
  });

  it('refuses an unknown target', async () => {
    await expect(table.registry.acquireLease({ tenant: 'acme', webIntegrationId: 'nope' }, 'owner-a', 1000)).rejects.toBeInstanceOf(
      TargetNotFoundError,
    );
  });
});

describe('Function: finishPass() and abandonLease()', () => {
  beforeEach(async () => {
    await withTarget();
  });

  const record = (appliedVersion: number) => ({
    appliedVersion,
    managedOrigins: ['https://shop.example.com'],
    lastReconcileAt: new Date().toISOString(),
  });

  it('records the pass and releases the lease when desiredVersion did not move', async () => {
    // Prepare
    const held = await table.registry.acquireLease(REF, 'owner-a', 60_000);

    // Act
    const outcome = await table.registry.finishPass(REF, 'owner-a', record(held!.desiredVersion), 60_000);

    // Assess
    expect(outcome.released).toBe(true);
    expect(outcome.target).toMatchObject({ appliedVersion: held!.desiredVersion, managedOrigins: ['https://shop.example.com'] });
    expect(outcome.target.lease).toBeUndefined();
    expect(await table.registry.acquireLease(REF, 'owner-b', 1000)).toBeDefined();
  });

  it('keeps (and extends) the lease when a registration arrived meanwhile', async () => {
    // Prepare
    const held = await table.registry.acquireLease(REF, 'owner-a', 5_000);
    await table.registry.recordRegistration(deploy('shop', '2026-01-01T10:00:00Z', 'e-1'));

    // Act
    const outcome = await table.registry.finishPass(REF, 'owner-a', record(held!.desiredVersion), 60_000);

    // Assess
    expect(outcome.released).toBe(false);
    expect(outcome.target).toMatchObject({ appliedVersion: held!.desiredVersion, desiredVersion: held!.desiredVersion + 1 });
    expect(outcome.target.lease?.owner).toBe('owner-a');
    expect(outcome.target.lease!.expiresAt).toBeGreaterThan(Date.now() + 30_000);
    expect(await table.registry.acquireLease(REF, 'owner-b', 1000)).toBeUndefined();
  });

  it('throws LeaseLostError when another owner took over the expired lease, and records nothing', async () => {
    // Prepare
    const held = await table.registry.acquireLease(REF, 'owner-a', 200);
    await sleep(260);
    expect(await table.registry.acquireLease(REF, 'owner-b', 60_000)).toBeDefined();

    // Act
    const finishing = table.registry.finishPass(REF, 'owner-a', record(held!.desiredVersion), 60_000);

    // Assess
    await expect(finishing).rejects.toBeInstanceOf(LeaseLostError);
    const target = await table.registry.getTarget(REF);
    expect(target).toMatchObject({ appliedVersion: 0, managedOrigins: [] });
    expect(target?.lease?.owner).toBe('owner-b');
  });

  it('abandonLease records lastError and releases the lease', async () => {
    // Prepare
    await table.registry.acquireLease(REF, 'owner-a', 60_000);

    // Act
    await table.registry.abandonLease(REF, 'owner-a', 'Qlik answered 503');

    // Assess
    const target = await table.registry.getTarget(REF);
    expect(target?.lastError).toBe('Qlik answered 503');
    expect(target?.lease).toBeUndefined();
    expect(await table.registry.acquireLease(REF, 'owner-b', 1000)).toBeDefined();
  });

  it('abandonLease by an owner that lost the lease changes nothing', async () => {
    // Prepare
    await table.registry.acquireLease(REF, 'owner-a', 60_000);

    // Act
    await table.registry.abandonLease(REF, 'owner-x', 'not mine');

    // Assess
    const target = await table.registry.getTarget(REF);
    expect(target?.lastError).toBeUndefined();
    expect(target?.lease?.owner).toBe('owner-a');
  });
});

describe('Function: appendAudit() and listAudit()', () => {
  const entry = (webIntegrationId: string, time: string, id: string): AuditEntry => ({
    ref: { tenant: 'acme', webIntegrationId },
    time,
    kind: 'origins-changed',
    cause: { type: 'event', id },
    before: [],
    after: ['https://shop.example.com'],
    added: ['https://shop.example.com'],
    removed: [],
    heldBack: [],
  });

  it('lists entries oldest first, since a time, optionally for one integration', async () => {
    // Prepare
    await table.registry.appendAudit(entry('wi-2', '2026-01-01T12:00:00.000Z', 'e-3'));
    await table.registry.appendAudit(entry('wi-1', '2026-01-01T10:00:00.000Z', 'e-1'));
    await table.registry.appendAudit(entry('wi-1', '2026-01-01T11:00:00.000Z', 'e-2'));
    await table.registry.appendAudit({ ...entry('wi-1', '2026-01-01T10:00:00.000Z', 'e-x'), ref: { tenant: 'globex', webIntegrationId: 'wi-1' } });

    // Act
    const all = await table.registry.listAudit('acme');
    const since = await table.registry.listAudit('acme', { since: new Date('2026-01-01T10:30:00Z') });
    const oneIntegration = await table.registry.listAudit('acme', { webIntegrationId: 'wi-1' });
    const both = await table.registry.listAudit('acme', { webIntegrationId: 'wi-1', since: new Date('2026-01-01T10:30:00Z') });

    // Assess
    expect(all.map((e) => e.cause.id)).toEqual(['e-1', 'e-2', 'e-3']);
    expect(all[0]).toEqual(entry('wi-1', '2026-01-01T10:00:00.000Z', 'e-1'));
    expect(since.map((e) => e.cause.id)).toEqual(['e-2', 'e-3']);
    expect(oneIntegration.map((e) => e.cause.id)).toEqual(['e-1', 'e-2']);
    expect(both.map((e) => e.cause.id)).toEqual(['e-2']);
  });
});

describe('Function: takeWriteToken()', () => {
  it('lets a burst through, then paces writes across concurrent callers', async () => {
    // Prepare: 2 at once, then 10 a second
    const paced = await createTestRegistry({ registry: { writeBudget: { perMinute: 600, burst: 2 } } });
    try {
      const started = performance.now();

      // Act: 4 callers take 2 tokens each
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          await paced.registry.takeWriteToken('acme');
          await paced.registry.takeWriteToken('acme');
        }),
      );
      const elapsedMs = performance.now() - started;

      // Assess: 2 from the burst, 6 more at 100 ms each
      expect(elapsedMs).toBeGreaterThanOrEqual(550);
    } finally {
      await paced.destroy();
    }
  });

  it('keeps one budget per tenant', async () => {
    // Prepare
    const paced = await createTestRegistry({ registry: { writeBudget: { perMinute: 60, burst: 1 } } });
    try {
      await paced.registry.takeWriteToken('acme');
      const started = performance.now();

      // Act: another tenant's budget is untouched
      await paced.registry.takeWriteToken('globex');

      // Assess
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      await paced.destroy();
    }
  });
});

describe('Function: item validation', () => {
  it('getTarget names the item when its policy is malformed', async () => {
    // Prepare
    await withTarget();
    await table.documentClient.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...keys.target({ tenant: 'acme', webIntegrationId: 'wi-bad' }),
          kind: 'target',
          tenant: 'acme',
          webIntegrationId: 'wi-bad',
          policy: { mode: 'bogus' },
          desiredVersion: 1,
          appliedVersion: 0,
          managedOrigins: [],
        },
      }),
    );

    // Act
    const reading = table.registry.getTarget({ tenant: 'acme', webIntegrationId: 'wi-bad' });

    // Assess
    await expect(reading).rejects.toBeInstanceOf(RegistryError);
    await expect(reading).rejects.toThrow(/TARGETS#acme \/ wi-bad/);
    await expect(reading).rejects.toThrow(/mode/);
  });
});

/**
 * Reliability R10 and R7 (issue 7): the safeguards.
 * - R10: when a target's registry is emptied, at most `maxRemovalsPerRun` origins are removed; the
 *   rest are held back and reported until an operator confirms.
 * - R7: a tenant whose secret is missing, malformed or holds a revoked key gets a clear error
 *   naming the problem, and nothing is written to Qlik.
 *
 * R7 runs last: its broken tenants make every later scan report them as failed.
 */
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TargetRef } from '../../functions/core/model.js';
import { reconcile } from '../../functions/engine/reconcile.js';
import { DETAIL_TYPE_DEPLOYED } from '../../functions/events.js';
import { createQlikClient } from '../../functions/qlik/index.js';
import { DEMO_POLICY } from '../../local/cloud.js';
import {
  deliveredEvent,
  deployedEntry,
  itKeepsSecretsOutOfLogs,
  newTarget,
  patchesOf,
  putEvents,
  removedEntry,
  report,
  useLocalCloud,
  type Harness,
} from './localCloudHarness.js';

const fixture = useLocalCloud('R7-R10 safeguards');

const HAND_ADDED = 'https://intranet.example.net';
const MAX_REMOVALS = 3;
const APPS = 8;
const appOrigin = (prefix: string, app: number) => `https://${prefix}-${app}.example.com`;

/** A target guarded at 3 removals a run, with 8 apps registered and live in Qlik. */
async function targetWithLiveApps(harness: Harness, prefix: string): Promise<{ ref: TargetRef; origins: string[] }> {
  const ref = await newTarget(harness, `${prefix}-portal`, { validOrigins: [HAND_ADDED], policy: { ...DEMO_POLICY, maxRemovalsPerRun: MAX_REMOVALS } });
  const origins = Array.from({ length: APPS }, (_, app) => appOrigin(prefix, app));
  const answers = await putEvents(
    harness.events,
    origins.map((origin, app) => deployedEntry(ref, `${prefix}-${app}`, [origin], { time: new Date(Date.now() - 60_000) })),
  );
  expect(answers.every((answer) => answer.EventId !== undefined)).toBe(true);
  await harness.cloud.drain();
  expect([...(await harness.emulator.originsOf(ref.webIntegrationId))].sort()).toEqual([HAND_ADDED, ...origins].sort());
  return { ref, origins };
}

describe('reliability: removal guard (R10)', () => {
  it('R10 all 8 apps of a target removed by events at once: at most maxRemovalsPerRun (3) removed, the rest held back and reported', async () => {
    // Prepare
    const { harness } = fixture;
    const { ref, origins } = await targetWithLiveApps(harness, 'r10-events');

    // Act: App Removed for every app, in one PutEvents call; then the scheduled scan.
    const answers = await putEvents(harness.events, origins.map((_, app) => removedEntry(ref, `r10-events-${app}`)));
    await harness.cloud.drain();
    const afterEvents = await harness.emulator.originsOf(ref.webIntegrationId);
    const scan = await harness.scanNow();
    const afterScan = await harness.emulator.originsOf(ref.webIntegrationId);

    // Assess
    expect(answers.every((answer) => answer.EventId !== undefined)).toBe(true);
    const kept = origins.filter((origin) => afterEvents.includes(origin));
    const removed = origins.length - kept.length;
    report(`R10 (events): ${removed} of ${APPS} app origins removed, ${kept.length} held back by the guard (limit ${MAX_REMOVALS})`);
    expect(removed).toBeGreaterThanOrEqual(0);
    expect(removed).toBeLessThanOrEqual(MAX_REMOVALS);
    expect(afterEvents).toContain(HAND_ADDED);
    // Reported: the target says why, and the audit trail lists exactly what is held back.
    const state = await harness.registry.getTarget(ref);
    expect(state?.lastError).toContain('removal guard');
    const heldBackEntries = (await harness.registry.listAudit(ref.tenant, { webIntegrationId: ref.webIntegrationId })).filter((entry) => entry.kind === 'held-back');
    expect(heldBackEntries.length).toBeGreaterThan(0);
    const latest = heldBackEntries.at(-1)!;
    expect(latest.heldBack?.filter((held) => held.reason === 'removal-guard').map((held) => held.origin).sort()).toEqual([...kept].sort());
    expect(latest.reason).toContain('removal guard');
    // The scan keeps holding them back rather than removing a few at a time.
    const finding = scan.findings.find((one) => one.target === `${ref.tenant}/${ref.webIntegrationId}`);
    expect(finding).toMatchObject({ outcome: 'held-back' });
    expect(finding?.reasons).toContain('guard');
    expect(afterScan).toEqual(afterEvents);
  });

  it('R10 registry emptied behind the scan: the scan removes none of 8, holds them back, reports; an operator confirms', async () => {
    // Prepare: 8 apps live; then their registrations are all removed at once, directly in the
    // registry (a bulk deregistration, or a source that is briefly empty: external-dns #414).
    const { harness } = fixture;
    const { ref, origins } = await targetWithLiveApps(harness, 'r10-scan');
    for (let app = 0; app < APPS; app += 1) {
      const outcome = await harness.registry.recordRegistration({ kind: 'remove', ref, appId: `r10-scan-${app}`, eventTime: new Date().toISOString(), eventId: `r10-bulk-${app}` });
      expect(outcome.status).toBe('applied');
    }
    const patchesBefore = (await patchesOf(harness.emulator, ref.webIntegrationId)).length;

    // Act 1: the scheduled scan.
    const scan = await harness.scanNow();

    // Assess 1: nothing removed, everything held back and reported.
    const finding = scan.findings.find((one) => one.target === `${ref.tenant}/${ref.webIntegrationId}`);
    expect(finding).toMatchObject({ outcome: 'held-back' });
    expect(finding?.reasons).toEqual(expect.arrayContaining(['behind', 'guard']));
    expect(scan.heldBack).toBeGreaterThanOrEqual(1);
    expect((await patchesOf(harness.emulator, ref.webIntegrationId)).length).toBe(patchesBefore);
    expect([...(await harness.emulator.originsOf(ref.webIntegrationId))].sort()).toEqual([HAND_ADDED, ...origins].sort());
    const state = await harness.registry.getTarget(ref);
    expect(state?.lastError).toContain(`removal guard: ${APPS} removal(s) held back`);
    const latest = (await harness.registry.listAudit(ref.tenant, { webIntegrationId: ref.webIntegrationId })).filter((entry) => entry.kind === 'held-back').at(-1);
    expect(latest?.heldBack?.filter((held) => held.reason === 'removal-guard').map((held) => held.origin).sort()).toEqual([...origins].sort());

    // Act 2: an operator confirms the 8 removals (what `origin-sync apply --allow-removals 8` does).
    const qlik = createQlikClient({ baseUrl: harness.cloud.ready.endpoints.qlik, auth: { apiKey: harness.cloud.ready.apiKey } });
    const confirmed = await reconcile(ref, { registry: harness.registry, qlik }, { cause: { type: 'cli', id: 'r10-operator' }, allowRemovals: APPS });

    // Assess 2: removed in one write; the hand-added origin stays; the report is cleared.
    expect(confirmed).toMatchObject({ status: 'changed', writes: 1 });
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual([HAND_ADDED]);
    expect((await harness.registry.getTarget(ref))?.lastError).toBeUndefined();
    report(`R10 (scan): 0 of ${APPS} removed by the scan, ${APPS} held back; the operator's confirmation removed ${APPS} in 1 PATCH`);
  });
});

describe('reliability: tenant credentials (R7)', () => {
  it('R7 tenant secret missing, malformed or holding a revoked key: a clear error naming it, nothing written to Qlik', async () => {
    // Prepare: one tenant per broken secret (each secret is cached on its own id), each with a target.
    const { harness } = fixture;
    const random = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`;
    const rawKey = random('raw-api-key');
    const wrongFieldValue = random('misnamed-key');
    const revokedKey = random('revoked-key');
    const revokedClientSecret = random('revoked-client-secret');
    // Also as they would look in a Basic authorization header, should one ever be logged.
    fixture.secrets.push(rawKey, wrongFieldValue, revokedKey, revokedClientSecret, Buffer.from(`r7-client:${revokedClientSecret}`).toString('base64'));
    const cases = [
      { tenant: 'r7-missing', secret: undefined, error: 'tenant secret "origin-sync/r7-missing" does not exist' },
      { tenant: 'r7-not-json', secret: rawKey, error: 'tenant secret "origin-sync/r7-not-json" is not JSON' },
      { tenant: 'r7-wrong-field', secret: JSON.stringify({ api_key: wrongFieldValue }), error: 'tenant secret "origin-sync/r7-wrong-field" has 1 other field(s)' },
      { tenant: 'r7-empty-key', secret: JSON.stringify({ apiKey: '' }), error: 'tenant secret "origin-sync/r7-empty-key" has "apiKey"; it must hold JSON' },
      { tenant: 'r7-revoked-key', secret: JSON.stringify({ apiKey: revokedKey }), error: '401' },
      { tenant: 'r7-revoked-client', secret: JSON.stringify({ clientId: 'r7-client', clientSecret: revokedClientSecret }), error: '401' },
    ];
    const refs = new Map<string, TargetRef>();
    for (const broken of cases) {
      const secretId = `origin-sync/${broken.tenant}`;
      if (broken.secret !== undefined) await harness.secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: broken.secret }));
      await harness.registry.putTenant({ tenant: broken.tenant, url: harness.cloud.ready.endpoints.qlik, secretId });
      refs.set(broken.tenant, await newTarget(harness, `${broken.tenant}-portal`, { tenant: broken.tenant, validOrigins: [HAND_ADDED] }));
    }
    const writesBefore = (await harness.emulator.writeLog()).length;

    // Act: a deployment event for each target, straight to the function.
    const outcomes = new Map<string, Awaited<ReturnType<Harness['invokeDeployEvents']>>>();
    for (const broken of cases) {
      const ref = refs.get(broken.tenant)!;
      const event = deliveredEvent(DETAIL_TYPE_DEPLOYED, { tenant: ref.tenant, webIntegrationId: ref.webIntegrationId, appId: 'shop', origins: ['https://shop.example.com'] });
      outcomes.set(broken.tenant, await harness.invokeDeployEvents(event));
    }
    const scan = await harness.scanNow();

    // Assess: each outcome names what is wrong; the registration is kept for the scan to retry;
    // Qlik saw no write at all.
    for (const broken of cases) {
      const outcome = outcomes.get(broken.tenant)!;
      expect(outcome, broken.tenant).toMatchObject({ status: 'applied', reconcile: { status: 'failed' } });
      const error = outcome.status === 'applied' && outcome.reconcile.status === 'failed' ? outcome.reconcile.error : '';
      expect(error, broken.tenant).toContain(broken.error);
      const failedScan = scan.tenantsFailed.find((failed) => failed.tenant === broken.tenant);
      expect(failedScan?.error, `scan of ${broken.tenant}`).toContain(broken.error);
      expect(await harness.emulator.originsOf(refs.get(broken.tenant)!.webIntegrationId)).toEqual([HAND_ADDED]);
      expect(await harness.registry.listRegistrations(refs.get(broken.tenant)!)).toHaveLength(1);
    }
    // The revoked key reached Qlik and was refused: the target records why.
    expect((await harness.registry.getTarget(refs.get('r7-revoked-key')!))?.lastError).toContain('401');
    expect((await harness.emulator.writeLog()).length).toBe(writesBefore);

    // Act 2: an operator stores a working key in the missing secret; the next scan applies the
    // registration that was kept.
    await harness.secrets.send(new CreateSecretCommand({ Name: 'origin-sync/r7-missing', SecretString: JSON.stringify({ apiKey: harness.cloud.ready.apiKey }) }));
    await harness.secrets.send(new PutSecretValueCommand({ SecretId: 'origin-sync/r7-not-json', SecretString: JSON.stringify({ apiKey: harness.cloud.ready.apiKey }) }));
    const repairScan = await harness.scanNow();

    // Assess 2
    expect(repairScan.tenantsFailed.map((failed) => failed.tenant)).not.toContain('r7-missing');
    expect(await harness.emulator.originsOf(refs.get('r7-missing')!.webIntegrationId)).toEqual([HAND_ADDED, 'https://shop.example.com']);
    expect(await harness.emulator.originsOf(refs.get('r7-not-json')!.webIntegrationId)).toEqual([HAND_ADDED, 'https://shop.example.com']);
    report(`R7: ${cases.length} broken tenant secrets: ${cases.length} clear errors, 0 writes to Qlik; fixed secrets applied by the next scan`);
  });
});

itKeepsSecretsOutOfLogs('R7-R10 safeguards', fixture);

/**
 * Reliability R2 (issue 7): Qlik misbehaves (5xx, 429 with Retry-After, dropped connections,
 * latency spikes) while 30 deployment events arrive for three targets and a person edits one of
 * them by hand. The client's retries, Lambda's retries of the event and the drift scan together
 * converge; nothing is lost, and no origin a person added is ever removed, not even for a moment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TargetRef } from '../../functions/core/model.js';
import { describe, expect, it } from 'vitest';
import {
  deployedEntry,
  itKeepsSecretsOutOfLogs,
  newTarget,
  occurrences,
  patchesOf,
  putEvents,
  removedEntry,
  report,
  settlesWithin,
  useLocalCloud,
  writtenBy,
} from './localCloudHarness.js';

const fixture = useLocalCloud('R2 faults');

const TARGETS = 3;
/** Per target: 8 apps deployed, the first 2 of them removed again: 10 events a target. */
const DEPLOYED_APPS = 8;
const REMOVED_APPS = 2;
/** Put there by people before the synchronizer arrived, in their own spelling. */
const HAND_ADDED = ['https://intranet.example.net', 'https://hand.example.com', 'HTTPS://Partner.Example.COM'];
/** Added by a person to the first target while the faults are on. */
const LATE_HAND_ADDED = 'https://late-hand.example.com';
const TEST_BUDGET_MS = 60_000;
const MIN_SCANS_WITH_FAULTS = 3;
const MAX_SCANS_WITH_FAULTS = 6;

/** Every API call: 10 % 500, 10 % 503, 10 % 429 (Retry-After 1 s), 5 % dropped connections, jitter; PATCHes get latency spikes. */
const FAULTS = {
  '*': { error500: 0.1, error503: 0.1, error429: 0.1, retryAfterSeconds: 1, drop: 0.05, latencyMs: 0, latencyJitterMs: 200 },
  PATCH: { error500: 0.1, error503: 0.1, error429: 0.1, retryAfterSeconds: 1, drop: 0.05, latencyMs: 50, latencyJitterMs: 1_500 },
};

const appId = (target: number, app: number) => `fault-${target}-${app}`;
const appOrigin = (target: number, app: number) => `https://fault-${app}.t${target}.example.com`;
const sorted = (list: readonly string[]) => [...list].sort();

describe('reliability: faults', () => {
  it('R2 under injected 5xx, 429, dropped connections and latency spikes: converges, nothing lost, no hand-added origin removed', async () => {
    // Prepare: three targets carrying origins people added by hand; 30 events, deploys and
    // removals mixed in every call, so some removals arrive before the deploy they undo.
    const { harness } = fixture;
    const targets: TargetRef[] = [];
    for (let target = 0; target < TARGETS; target += 1) targets.push(await newTarget(harness, `r2-portal-${target}`, { validOrigins: HAND_ADDED }));
    const deployedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);
    const removedAt = new Date(deployedAt.getTime() + 60_000);
    const entries = targets
      .flatMap((ref, target) => [
        ...Array.from({ length: DEPLOYED_APPS }, (_, app) => deployedEntry(ref, appId(target, app), [appOrigin(target, app)], { time: deployedAt })),
        ...Array.from({ length: REMOVED_APPS }, (_, app) => removedEntry(ref, appId(target, app), { time: removedAt })),
      ])
      .sort((a, b) => (a.Detail!.length % 7) - (b.Detail!.length % 7) || (a.Detail! < b.Detail! ? -1 : 1));
    expect(entries).toHaveLength(30);
    const appOrigins = (target: number) => Array.from({ length: DEPLOYED_APPS - REMOVED_APPS }, (_, index) => appOrigin(target, index + REMOVED_APPS));
    const expectedByEvents = targets.map((_, target) => sorted([...HAND_ADDED, ...appOrigins(target)]));
    const expected = targets.map((_, target) => sorted([...HAND_ADDED, ...(target === 0 ? [LATE_HAND_ADDED] : []), ...appOrigins(target)]));
    const matches = async (wanted: string[][]) => {
      const live = await harness.emulator.integrations();
      return targets.every((ref, target) => JSON.stringify(sorted(live.find((one) => one.id === ref.webIntegrationId)?.validOrigins ?? [])) === JSON.stringify(wanted[target]));
    };
    await harness.emulator.setFaults(FAULTS);

    // Act 1: the events in ten waves a few hundred milliseconds apart, so that many reconciles meet
    // the faults; Lambda's retries of a failed invocation are the router's.
    const started = Date.now();
    const answers = [];
    for (let wave = 0; wave < 10; wave += 1) {
      answers.push(...(await putEvents(harness.events, entries.slice(wave * 3, wave * 3 + 3))));
      await sleep(300);
    }
    const drained = await settlesWithin(harness.cloud.drain(), 40_000);
    const drainedAfterMs = Date.now() - started;
    const deadLetters = harness.cloud.deadLetters().length;
    const convergedByEvents = await matches(expectedByEvents);

    // Act 2: a person removes two of our origins from the first target by mistake and adds one of
    // their own; the scans repair with the faults still on. Should Qlik still be failing after a
    // few scans, the faults end and one more scan runs.
    const first = targets[0]!;
    const lostByHand = [appOrigin(0, DEPLOYED_APPS - 1), appOrigin(0, DEPLOYED_APPS - 2)];
    const live = await harness.emulator.originsOf(first.webIntegrationId);
    await harness.emulator.edit(first.webIntegrationId, { validOrigins: [...live.filter((origin) => !lostByHand.includes(origin)), LATE_HAND_ADDED] });
    let scans = 0;
    let scansFailed = 0;
    while (scans < MIN_SCANS_WITH_FAULTS || (!(await matches(expected)) && scans < MAX_SCANS_WITH_FAULTS && Date.now() - started < TEST_BUDGET_MS - 15_000)) {
      const summary = await harness.scanNow();
      scans += 1;
      scansFailed += summary.tenantsFailed.length + summary.failed;
    }
    const convergedUnderFaults = await matches(expected);
    const stats = await harness.emulator.stats();
    await harness.emulator.setFaults({});
    if (!convergedUnderFaults) {
      await harness.scanNow();
      scans += 1;
    }
    const elapsedMs = Date.now() - started;
    const patches = await patchesOf(harness.emulator);

    // Assess
    report(
      `R2: faults ${JSON.stringify(stats.faults)} over API calls ${JSON.stringify(stats.requests)}; events drained in ${drainedAfterMs} ms, ` +
        `${deadLetters} dead letter(s), converged by the events alone: ${convergedByEvents}; ${scans} scan(s) (${scansFailed} failed tenant/target scans), ` +
        `converged under faults: ${convergedUnderFaults}; ${patches.length} PATCHes; ${elapsedMs} ms in all`,
    );
    expect(answers.filter((answer) => answer.ErrorCode !== undefined)).toEqual([]);
    expect(drained).toBe(true);
    expect(stats.faults.error500 + stats.faults.error503 + stats.faults.error429 + stats.faults.drop, 'faults were injected').toBeGreaterThan(0);
    const integrations = await harness.emulator.integrations();
    for (const [target, ref] of targets.entries()) {
      const validOrigins = integrations.find((one) => one.id === ref.webIntegrationId)?.validOrigins ?? [];
      expect(sorted(validOrigins), `origins of target ${target}`).toEqual(expected[target]);
      expect([...occurrences(validOrigins)].filter(([, count]) => count > 1)).toEqual([]);
      // Nothing lost: every event is in the registry, dead-lettered ones included (the scan applied them).
      const registrations = await harness.registry.listRegistrations(ref);
      expect(registrations).toHaveLength(DEPLOYED_APPS);
      for (const registration of registrations) {
        const app = Number(registration.appId.split('-').at(-1));
        expect(registration.state, registration.appId).toBe(app < REMOVED_APPS ? 'removed' : 'active');
      }
      const state = await harness.registry.getTarget(ref);
      expect(state?.appliedVersion).toBe(state?.desiredVersion);
      expect(state?.lease).toBeUndefined();
    }
    // The hand-added origins were in every list ever written, in their own spelling; the one added
    // during the faults too, once it was there.
    for (const patch of patches) {
      const written = writtenBy(patch);
      expect(written).toEqual(expect.arrayContaining(HAND_ADDED));
    }
    const repairs = patches.filter((patch) => writtenBy(patch).includes(LATE_HAND_ADDED));
    expect(repairs.length, 'the scan repaired the origins removed by hand').toBeGreaterThan(0);
    expect(elapsedMs).toBeLessThan(TEST_BUDGET_MS);
  }, 90_000);
});

itKeepsSecretsOutOfLogs('R2 faults', fixture);

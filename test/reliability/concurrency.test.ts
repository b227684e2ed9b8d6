/**
 * Reliability R1 (issue 7): a burst of 200 deployment events over 20 targets, put at once through
 * the real EventBridge client, loses nothing and writes every origin exactly once.
 */
import type { TargetRef } from '../../functions/core/model.js';
import { parsePolicy } from '../../functions/core/policy.js';
import { DEMO_POLICY } from '../../local/cloud.js';
import { describe, expect, it } from 'vitest';
import { deployedEntry, itKeepsSecretsOutOfLogs, occurrences, patchesOf, putEvents, report, settlesWithin, useLocalCloud } from './localCloudHarness.js';

const TARGETS = 20;
const APPS_PER_TARGET = 10;
/** Lambda would have delivered the burst long before; the whole suite must stay near 2 minutes. */
const DRAIN_BUDGET_MS = 45_000;

const fixture = useLocalCloud('R1 concurrency');

/** Every third app announces a second origin, so registrations are not all alike. */
function originsOf(target: number, app: number): string[] {
  const base = `https://app-${app}.t${String(target).padStart(2, '0')}.example.com`;
  return app % 3 === 0 ? [base, `https://www.app-${app}.t${String(target).padStart(2, '0')}.example.com`] : [base];
}

/** A fixed shuffle, so a failure can be replayed. */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let index = out.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const other = state % (index + 1);
    [out[index], out[other]] = [out[other]!, out[index]!];
  }
  return out;
}

describe('reliability: concurrency', () => {
  it('R1 200 deployment events over 20 targets at once: every origin present exactly once, 0 lost', async () => {
    // Prepare: 20 integrations in Qlik, each a target of the demo tenant with the demo policy.
    const { harness } = fixture;
    const integrations = await harness.emulator.seed({
      integrations: Array.from({ length: TARGETS }, (_, index) => ({ name: `r1-portal-${String(index).padStart(2, '0')}`, validOrigins: [] })),
    });
    const targets: TargetRef[] = integrations.map((integration) => ({ tenant: harness.demo.tenant, webIntegrationId: integration.id }));
    for (const ref of targets) await harness.registry.putTarget(ref, parsePolicy(DEMO_POLICY));
    const expected = new Map(
      targets.map((ref, target) => [ref.webIntegrationId, Array.from({ length: APPS_PER_TARGET }, (_, app) => originsOf(target, app)).flat().sort()]),
    );
    const entries = shuffled(
      targets.flatMap((ref, target) => Array.from({ length: APPS_PER_TARGET }, (_, app) => deployedEntry(ref, `app-${app}`, originsOf(target, app)))),
    );
    expect(entries).toHaveLength(200);
    const isConverged = async (): Promise<Set<string>> => {
      const live = await harness.emulator.integrations();
      return new Set(
        targets
          .filter((ref) => {
            const validOrigins = live.find((integration) => integration.id === ref.webIntegrationId)?.validOrigins ?? [];
            return JSON.stringify([...validOrigins].sort()) === JSON.stringify(expected.get(ref.webIntegrationId));
          })
          .map((ref) => ref.webIntegrationId),
      );
    };

    // Act: 20 PutEvents calls of 10 entries, all at once; then wait until every delivery ended.
    const started = Date.now();
    const answers = await putEvents(harness.events, entries);
    const drained = await settlesWithin(harness.cloud.drain(), DRAIN_BUDGET_MS);
    const drainedAfterMs = Date.now() - started;
    if (!drained) {
      report(`R1: the burst did not drain within ${DRAIN_BUDGET_MS} ms; ${(await patchesOf(harness.emulator)).length} PATCHes so far`);
    }
    expect(drained, `the burst of 200 events did not drain within ${DRAIN_BUDGET_MS} ms`).toBe(true);
    const deadLettersBeforeScan = harness.cloud.deadLetters().length;
    const convergedBeforeScan = await isConverged();
    const patchesBeforeScan = (await patchesOf(harness.emulator)).length;
    const registrations = (await Promise.all(targets.map((ref) => harness.registry.listRegistrations(ref)))).flat();
    const scan = await harness.scanNow();
    const convergedAfterMs = Date.now() - started;

    // Assess: accepted at the door, delivered, recorded, and written to Qlik exactly once each.
    expect(answers.filter((answer) => answer.ErrorCode !== undefined)).toEqual([]);
    expect(answers).toHaveLength(200);
    expect(deadLettersBeforeScan).toBe(0);
    expect(registrations).toHaveLength(200);
    expect(registrations.every((registration) => registration.state === 'active')).toBe(true);
    expect(scan.tenantsFailed).toEqual([]);
    expect(scan.failed).toBe(0);
    const live = await harness.emulator.integrations();
    for (const ref of targets) {
      const validOrigins = live.find((integration) => integration.id === ref.webIntegrationId)?.validOrigins ?? [];
      const duplicated = [...occurrences(validOrigins)].filter(([, count]) => count > 1).map(([origin]) => origin);
      expect(duplicated, `duplicated on ${ref.webIntegrationId}`).toEqual([]);
      expect([...validOrigins].sort(), `origins of ${ref.webIntegrationId}`).toEqual(expected.get(ref.webIntegrationId));
      const state = await harness.registry.getTarget(ref);
      expect(state?.appliedVersion).toBe(state?.desiredVersion);
      expect(state?.lease).toBeUndefined();
      expect([...(state?.managedOrigins ?? [])].sort()).toEqual(expected.get(ref.webIntegrationId));
    }
    const patches = await patchesOf(harness.emulator);
    const stats = await harness.emulator.stats();
    report(
      `R1: 200 events / 20 targets: drained in ${drainedAfterMs} ms, ${convergedBeforeScan.size}/20 targets converged before the scan, ` +
        `0 dead letters; PATCHes ${patchesBeforeScan} before the scan, ${patches.length} in all; scan repaired ${scan.repaired}; ` +
        `converged in ${convergedAfterMs} ms; Qlik 429s ${stats.rateLimited.tier1 + stats.rateLimited.tier2}`,
    );
    // Single-flight per target: a burst costs a handful of writes per target (README: 200
    // registrations to one target cost 1 PATCH), never about one per event; and never a 429.
    expect(patches.length).toBeGreaterThanOrEqual(TARGETS);
    expect(patches.length, 'PATCHes for 200 events over 20 targets').toBeLessThanOrEqual(3 * TARGETS);
    expect(stats.rateLimited.tier2).toBe(0);
  }, 90_000);
});

itKeepsSecretsOutOfLogs('R1 concurrency', fixture);

/**
 * P3: 1,000 targets that each need a write, Qlik's rate limits on, the emulator's clock running
 * `timeScale` times faster. How much of the Tier 2 budget (100 writes per minute) the
 * synchronizer uses, how many 429s it provokes, and how long it takes against the ideal of
 * 1,000 / 100 = 10 minutes. Run at two scales: at 20 the pacing is what is measured; at 60 the
 * budget (100 writes a real second) is more than this machine can process, and it shows.
 */
import { randomUUID } from 'node:crypto';
import { parsePolicy } from '../functions/core/policy.js';
import { scanTenant } from '../functions/engine/scan.js';
import { createQlikClient } from '../functions/qlik/client.js';
import { EmulatorControlClient } from '../local/qlik-emulator/controlClient.js';
import { startQlikEmulator } from '../local/qlik-emulator/server.js';
import { freshRegistry, mapLimit, progress } from './support.js';

export interface P3Result {
  targets: number;
  timeScale: number;
  writes: number;
  patchAttempts: number;
  rateLimited429: number;
  share429: number;
  emulatedMinutes: number;
  idealMinutes: number;
  tier2BudgetUsed: number;
  converged: number;
  concurrency: number;
}

const TARGETS = 1000;
const TIER2_PER_MINUTE = 100;

export async function runP3(TIME_SCALE = 60, concurrency = 12): Promise<P3Result> {
  const apiKey = `bench-${randomUUID()}`;
  const emulator = await startQlikEmulator({ apiKey, rateLimits: true, timeScale: TIME_SCALE });
  try {
    const qlik = new EmulatorControlClient(emulator.url);
    progress(`P3: seeding ${TARGETS} integrations, targets and registrations`);
    const seeded = await qlik.seed({ count: TARGETS, namePrefix: 'p3' });
    // The tenant-wide budget and the client's limiter scaled like the emulator's clock.
    const registry = await freshRegistry(`bench-p3-${Date.now()}`, { writeBudget: { perMinute: 95 * TIME_SCALE, burst: 5 } });
    const tenant = { tenant: 'p3', url: emulator.url, secretId: 'unused' };
    await registry.putTenant(tenant);
    const policy = parsePolicy({ allowedOrigins: ['https://*.example.com'] });
    await mapLimit(seeded, 16, async (integration, index) => {
      const ref = { tenant: 'p3', webIntegrationId: integration.id };
      await registry.putTarget(ref, policy);
      await registry.recordRegistration({ kind: 'deploy', ref, appId: `app-${index}`, origins: [`https://p3-${index}.example.com`], eventId: `e-${index}`, eventTime: new Date().toISOString() });
    });
    const client = createQlikClient({
      baseUrl: emulator.url,
      auth: { apiKey },
      rateLimits: {
        tier1: { limit: 1000 * TIME_SCALE, intervalMs: 60_000 },
        tier2: { limit: TIER2_PER_MINUTE * TIME_SCALE, intervalMs: 60_000, burst: 5 },
      },
    });

    progress(`P3: scan reconciling ${TARGETS} targets (concurrency ${concurrency}, time scale ${TIME_SCALE})`);
    const before = await qlik.stats();
    const started = Date.now();
    await scanTenant(tenant, { registry, qlik: client }, { scanId: randomUUID(), concurrency });
    const elapsedMs = Date.now() - started;
    const after = await qlik.stats();
    const writes = await qlik.patchCount();
    const live = (await qlik.integrations()).filter((integration) => integration.validOrigins.length === 1).length;
    const emulatedMinutes = (elapsedMs / 60_000) * TIME_SCALE;
    const patchAttempts = after.requests.PATCH - before.requests.PATCH;
    const rateLimited429 = after.rateLimited.tier2 - before.rateLimited.tier2;
    return {
      targets: TARGETS,
      timeScale: TIME_SCALE,
      writes,
      patchAttempts,
      rateLimited429,
      share429: patchAttempts === 0 ? 0 : rateLimited429 / patchAttempts,
      emulatedMinutes,
      idealMinutes: TARGETS / TIER2_PER_MINUTE,
      tier2BudgetUsed: writes / (TIER2_PER_MINUTE * emulatedMinutes),
      converged: live,
      concurrency,
    };
  } finally {
    await emulator.close();
  }
}

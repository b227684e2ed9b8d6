/**
 * P2: one drift scan of a tenant with 2,000 web integrations, each a target in the registry and in
 * sync. Counts Qlik read calls (the goal is one list page per 100 integrations, no GET per
 * integration) and wall time. Rate limits on, as in Qlik.
 */
import { randomUUID } from 'node:crypto';
import { parsePolicy } from '../functions/core/policy.js';
import { scanTenant } from '../functions/engine/scan.js';
import { createQlikClient } from '../functions/qlik/client.js';
import { EmulatorControlClient } from '../local/qlik-emulator/controlClient.js';
import { startQlikEmulator } from '../local/qlik-emulator/server.js';
import { freshRegistry, mapLimit, progress } from './support.js';

export interface P2Result {
  integrations: number;
  qlikReadCalls: number;
  goalReadCalls: number;
  wallMs: number;
  targetsInSync: number;
  catchUpScanMs: number;
}

const INTEGRATIONS = 2000;

export async function runP2(): Promise<P2Result> {
  const apiKey = `bench-${randomUUID()}`;
  // Setting up 2,000 targets costs reads of its own; limits go on for the measured scan only.
  const emulator = await startQlikEmulator({ apiKey, rateLimits: false });
  try {
    const qlik = new EmulatorControlClient(emulator.url);
    progress(`P2: seeding ${INTEGRATIONS} integrations and targets`);
    const seeded = await qlik.seed({ count: INTEGRATIONS, namePrefix: 'p2' });
    const registry = await freshRegistry(`bench-p2-${Date.now()}`);
    const tenant = { tenant: 'p2', url: emulator.url, secretId: 'unused' };
    await registry.putTenant(tenant);
    const policy = parsePolicy({ allowedOrigins: ['https://*.example.com'] });
    await mapLimit(seeded, 16, (integration) => registry.putTarget({ tenant: 'p2', webIntegrationId: integration.id }, policy));
    const client = createQlikClient({ baseUrl: emulator.url, auth: { apiKey } });

    // Setup, not measured: every new target is behind once. Qlik's limits are off for it, on the
    // client too (with them, 2,000 GETs at Tier 1 take two minutes).
    progress('P2: catch-up scan (setup)');
    let started = Date.now();
    const unthrottled = createQlikClient({ baseUrl: emulator.url, auth: { apiKey }, rateLimits: false });
    await scanTenant(tenant, { registry, qlik: unthrottled }, { scanId: randomUUID(), concurrency: 8 });
    const catchUpScanMs = Date.now() - started;

    progress('P2: measured scan');
    await qlik.configure({ rateLimits: true });
    const before = await qlik.stats();
    started = Date.now();
    const scan = await scanTenant(tenant, { registry, qlik: client }, { scanId: randomUUID() });
    const wallMs = Date.now() - started;
    const after = await qlik.stats();
    return {
      integrations: scan.integrations,
      qlikReadCalls: after.requests.GET - before.requests.GET,
      goalReadCalls: Math.ceil(INTEGRATIONS / 100),
      wallMs,
      targetsInSync: scan.findings.filter((finding) => finding.outcome === 'in-sync').length,
      catchUpScanMs,
    };
  } finally {
    await emulator.close();
  }
}

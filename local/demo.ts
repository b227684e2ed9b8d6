/**
 * The scripted story of `npm start -- --demo`: what a new user should see the synchronizer do.
 * Every step talks to the local cloud only through its public surfaces (PutEvents, the Qlik
 * emulator, the registry) and waits for the outcome; the run passes only if every step converged.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEPLOYMENT_EVENT_SOURCE, DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED } from '../functions/events.js';
import { DynamoDbRegistry } from '../functions/registry/dynamoDbRegistry.js';
import { DEMO_HAND_ADDED_ORIGIN, type LocalCloud } from './cloud.js';
import { EmulatorControlClient } from './qlik-emulator/controlClient.js';

interface StepResult {
  step: string;
  ok: boolean;
  detail: string;
  seconds: number;
}

const STEP_TIMEOUT_MS = 30_000;

export async function runDemo(cloud: LocalCloud, out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<boolean> {
  const { endpoints, tenant, webIntegrationId } = cloud.ready;
  const events = new EventBridgeClient({ endpoint: endpoints.eventbridge, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const registry = new DynamoDbRegistry({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: endpoints.dynamodb })),
    tableName: cloud.tableName,
  });
  const emulator = new EmulatorControlClient(endpoints.qlik);
  const qlik = {
    origins: () => emulator.originsOf(webIntegrationId),
    patches: () => emulator.patchCount(webIntegrationId),
    editByHand: (validOrigins: string[]) => emulator.edit(webIntegrationId, { validOrigins }),
  };
  const put = async (entries: PutEventsRequestEntry[]) => {
    const answer = await events.send(new PutEventsCommand({ Entries: entries }));
    if (answer.FailedEntryCount) throw new Error(`PutEvents refused ${answer.FailedEntryCount} entr(ies)`);
  };
  const deployed = (appId: string, origins: unknown[]): PutEventsRequestEntry => ({
    Source: DEPLOYMENT_EVENT_SOURCE,
    DetailType: DETAIL_TYPE_DEPLOYED,
    Detail: JSON.stringify({ appId, tenant, webIntegrationId, origins, deploymentId: `d-${appId}` }),
  });
  const removed = (appId: string): PutEventsRequestEntry => ({
    Source: DEPLOYMENT_EVENT_SOURCE,
    DetailType: DETAIL_TYPE_REMOVED,
    Detail: JSON.stringify({ appId, tenant, webIntegrationId }),
  });
  const waitFor = async (condition: () => Promise<boolean>): Promise<boolean> => {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await condition()) return true;
      await sleep(100);
    }
    return false;
  };

  const results: StepResult[] = [];
  const step = async (name: string, run: () => Promise<{ ok: boolean; detail: string }>) => {
    out(`\n== ${name}`);
    const started = Date.now();
    let result: { ok: boolean; detail: string };
    try {
      result = await run();
    } catch (error) {
      result = { ok: false, detail: `failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    results.push({ step: name, ...result, seconds: (Date.now() - started) / 1000 });
  };

  await step('1. deploy an app', async () => {
    await put([deployed('shop', ['https://shop.example.com'])]);
    const ok = await waitFor(async () => (await qlik.origins()).includes('https://shop.example.com'));
    return { ok, detail: ok ? 'https://shop.example.com is live in Qlik' : 'origin never appeared' };
  });

  const burst = Array.from({ length: 30 }, (_, index) => `preview-${String(index + 1).padStart(2, '0')}`);
  await step('2. a concurrent burst of 30 deployments', async () => {
    const before = await qlik.patches();
    await Promise.all([0, 10, 20].map((offset) => put(burst.slice(offset, offset + 10).map((app) => deployed(app, [`https://${app}.example.com`])))));
    const ok = await waitFor(async () => {
      const origins = await qlik.origins();
      return burst.every((app) => origins.includes(`https://${app}.example.com`));
    });
    await cloud.drain();
    const origins = await qlik.origins();
    const duplicates = origins.length - new Set(origins).size;
    return { ok: ok && duplicates === 0, detail: `30 origins live, ${duplicates} duplicates, ${(await qlik.patches()) - before} PATCHes for 30 events` };
  });

  await step('3. a person deletes origins by mistake; the scan repairs', async () => {
    const current = await qlik.origins();
    await qlik.editByHand(current.filter((origin) => origin !== 'https://shop.example.com' && origin !== 'https://preview-01.example.com'));
    await cloud.scanNow();
    const origins = await qlik.origins();
    const ok = origins.includes('https://shop.example.com') && origins.includes('https://preview-01.example.com') && origins.includes(DEMO_HAND_ADDED_ORIGIN);
    return { ok, detail: ok ? `2 origins restored by the scan; ${DEMO_HAND_ADDED_ORIGIN} (added by a person) untouched` : `after the scan: ${origins.join(', ')}` };
  });

  await step('4. an app is removed', async () => {
    await put([removed('preview-30')]);
    const ok = await waitFor(async () => !(await qlik.origins()).includes('https://preview-30.example.com'));
    const kept = (await qlik.origins()).includes(DEMO_HAND_ADDED_ORIGIN);
    return { ok: ok && kept, detail: ok ? `https://preview-30.example.com removed; ${kept ? 'hand-added origin kept' : 'hand-added origin LOST'}` : 'origin still present' };
  });

  await step('5. a hostile event is rejected', async () => {
    const patchesBefore = await qlik.patches();
    await put([deployed('evil', ['javascript:alert(1)', 'https://evil.example.org'])]);
    await cloud.drain();
    const origins = await qlik.origins();
    const registered = (await registry.listRegistrations({ tenant, webIntegrationId })).some((registration) => registration.appId === 'evil');
    const ok = !registered && (await qlik.patches()) === patchesBefore && !origins.some((origin) => origin.includes('evil'));
    return { ok, detail: ok ? 'rejected with reasons (see the log), nothing written to the registry or to Qlik' : 'something was written' };
  });

  out('\n' + table(results));
  const converged = results.every((result) => result.ok);
  out(converged ? '\nEvery step converged.' : '\nSome steps did not converge.');
  events.destroy();
  return converged;
}

function table(results: StepResult[]): string {
  const rows = [['step', 'result', 'seconds', 'detail'], ...results.map((r) => [r.step, r.ok ? 'ok' : 'FAILED', r.seconds.toFixed(1), r.detail])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ')).join('\n');
}

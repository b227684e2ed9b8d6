/**
 * P4: deployment events at 50 per second for 20 seconds, each with a new origin on one target,
 * through PutEvents on the local cloud with Qlik's rate limits on: how long from PutEvents to the
 * origin being live in Qlik (p50, p99). Writes are the bottleneck by design: Tier 2 allows fewer
 * than two per second, so each PATCH carries every origin that arrived since the last.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePolicy } from '../functions/core/policy.js';
import { DEPLOYMENT_EVENT_SOURCE, DETAIL_TYPE_DEPLOYED } from '../functions/events.js';
import type { DynamoDbRegistry } from '../functions/registry/dynamoDbRegistry.js';
import { EmulatorControlClient } from '../local/qlik-emulator/controlClient.js';
import { DEMO_POLICY, DEMO_TENANT, type LocalCloud } from '../local/cloud.js';
import { percentile, progress } from './support.js';

export interface P4Result {
  eventsPerSecond: number;
  seconds: number;
  events: number;
  live: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  patches: number;
}

const RATE = 50;
const SECONDS = 20;
const SETTLE_MS = 30_000;

export async function runP4(cloud: LocalCloud, registry: DynamoDbRegistry): Promise<P4Result> {
  const qlik = new EmulatorControlClient(cloud.ready.endpoints.qlik);
  const [integration] = await qlik.seed({ integrations: [{ name: 'p4-latency' }] });
  await registry.putTarget({ tenant: DEMO_TENANT, webIntegrationId: integration!.id }, parsePolicy(DEMO_POLICY));
  const events = new EventBridgeClient({ endpoint: cloud.ready.endpoints.eventbridge, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  const sentAt = new Map<string, number>();
  const liveAt = new Map<string, number>();

  let sending = true;
  let settleUntil = Number.POSITIVE_INFINITY;
  const pollDeadline = () => settleUntil;
  const poller = (async () => {
    while (sending || (liveAt.size < sentAt.size && Date.now() < pollDeadline())) {
      const origins = await qlik.originsOf(integration!.id);
      const now = Date.now();
      for (const origin of origins) if (!liveAt.has(origin)) liveAt.set(origin, now);
      await sleep(10);
    }
  })();

  progress(`P4: ${RATE} events/s for ${SECONDS} s to one target (Qlik rate limits on)`);
  const total = RATE * SECONDS;
  const started = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = started + (index * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const origin = `https://p4-${index}.example.com`;
    sentAt.set(origin, Date.now());
    sends.push(
      events.send(
        new PutEventsCommand({
          Entries: [{ Source: DEPLOYMENT_EVENT_SOURCE, DetailType: DETAIL_TYPE_DEPLOYED, Detail: JSON.stringify({ appId: `p4-${index}`, tenant: DEMO_TENANT, webIntegrationId: integration!.id, origins: [origin] }) }],
        }),
      ),
    );
    if (index % RATE === 0) progress(`P4: ${index}/${total} events sent`);
  }
  await Promise.all(sends);
  settleUntil = Date.now() + SETTLE_MS;
  sending = false;
  await poller;
  await cloud.drain();
  events.destroy();

  const latencies = [...sentAt].filter(([origin]) => liveAt.has(origin)).map(([origin, sent]) => liveAt.get(origin)! - sent);
  const patches = await qlik.patchCount(integration!.id);
  return {
    eventsPerSecond: RATE,
    seconds: SECONDS,
    events: total,
    live: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    patches,
  };
}

/**
 * P1: 500 concurrent deployment events to one target, through PutEvents and the deploy-events
 * handler, against a naive per-event read-modify-write of the same 500 origins on the same
 * emulator. Both run with the emulator's rate limits off, so the naive run is not merely
 * throttled: what it loses, it loses to lost updates.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parsePolicy } from '../functions/core/policy.js';
import { DEPLOYMENT_EVENT_SOURCE, DETAIL_TYPE_DEPLOYED } from '../functions/events.js';
import type { DynamoDbRegistry } from '../functions/registry/dynamoDbRegistry.js';
import { EmulatorControlClient } from '../local/qlik-emulator/controlClient.js';
import { DEMO_POLICY, DEMO_TENANT, type LocalCloud } from '../local/cloud.js';
import { progress, waitUntil } from './support.js';

export interface P1Result {
  events: number;
  synchronizer: { patches: number; convergeMs: number; lost: number; duplicates: number; deadLettered: number };
  naive: { patches: number; failedPatches: number; lost: number; durationMs: number };
}

const EVENTS = 500;
const TIMEOUT_MS = 90_000;

export async function runP1(cloud: LocalCloud, registry: DynamoDbRegistry): Promise<P1Result> {
  const qlik = new EmulatorControlClient(cloud.ready.endpoints.qlik);
  await qlik.configure({ rateLimits: false });
  try {
    const [target, naiveTarget] = await qlik.seed({ integrations: [{ name: 'p1-synchronizer' }, { name: 'p1-naive' }] });
    await registry.putTarget({ tenant: DEMO_TENANT, webIntegrationId: target!.id }, parsePolicy(DEMO_POLICY));
    const origin = (index: number) => `https://p1-app-${index}.example.com`;
        
    progress(`P1: ${EVENTS} concurrent deployment events to one target`);
    const events = new EventBridgeClient({ endpoint: cloud.ready.endpoints.eventbridge, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
    const deadLettersBefore = cloud.deadLetters().length;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: EVENTS / 10 }, (_, batch) =>
        events.send(
          new PutEventsCommand({
            Entries: Array.from({ length: 10 }, (_, offset) => ({
              Source: DEPLOYMENT_EVENT_SOURCE,
              DetailType: DETAIL_TYPE_DEPLOYED,
              Detail: JSON.stringify({ appId: `p1-app-${batch * 10 + offset}`, tenant: DEMO_TENANT, webIntegrationId: target!.id, origins: [origin(batch * 10 + offset)] }),
            })),
          }),
        ),
      ),
    );
    await waitUntil(async () => (await qlik.originsOf(target!.id)).length >= EVENTS, TIMEOUT_MS, 20);
    const convergeMs = Date.now() - started;
    await cloud.drain();
    const present = await qlik.originsOf(target!.id);
    events.destroy();

    progress(`P1: naive read-modify-write of ${EVENTS} origins, all at once`);
    const naiveStarted = Date.now();
    const headers = { authorization: `Bearer ${cloud.ready.apiKey}`, 'content-type': 'application/json' };
    const url = `${cloud.ready.endpoints.qlik}/api/v1/web-integrations/${naiveTarget!.id}`;
    const answers = await Promise.all(
      Array.from({ length: EVENTS }, async (_, index) => {
        const current = (await (await fetch(url, { headers })).json()) as { validOrigins: string[] };
        const response = await fetch(url, {
          method: 'PATCH',
          headers,
          body: JSON.stringify([{ op: 'replace', path: '/validOrigins', value: [...current.validOrigins, origin(index)] }]),
        });
        return response.status;
      }),
    );
    const naivePresent = await qlik.originsOf(naiveTarget!.id);
    return {
      events: EVENTS,
      synchronizer: {
        patches: await qlik.patchCount(target!.id),
        convergeMs,
        lost: EVENTS - new Set(present).size,
        duplicates: present.length - new Set(present).size,
        deadLettered: cloud.deadLetters().length - deadLettersBefore,
      },
      naive: {
        patches: await qlik.patchCount(naiveTarget!.id),
        failedPatches: answers.filter((status) => status !== 204).length,
        lost: EVENTS - new Set(naivePresent).size,
        durationMs: Date.now() - naiveStarted,
      },
    };
  } finally {
    await qlik.configure({ rateLimits: true });
  }
}

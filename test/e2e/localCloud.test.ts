/**
 * End to end on the local cloud, through the contract of DESIGN §4 only: events in through the
 * real EventBridge client (PutEvents), secrets through the real Secrets Manager client, results
 * read from the Qlik emulator. Also: no log line ever carries the tenant's API key.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let cloud: LocalCloud;
let events: EventBridgeClient;
let secrets: SecretsManagerClient;
const captured: string[] = [];
const restoreStreams: (() => void)[] = [];

/** Keeps a copy of everything the functions log, to search it for secrets afterwards. */
function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restoreStreams.push(() => {
    stream.write = original;
  });
}

beforeAll(async () => {
  capture(process.stdout);
  capture(process.stderr);
  const { startLocalCloud } = await import('../../local/cloud.js');
  cloud = await startLocalCloud({ scanIntervalSeconds: 0 });
  events = new EventBridgeClient({ endpoint: cloud.ready.endpoints.eventbridge, region: 'us-east-1', credentials });
  secrets = new SecretsManagerClient({ endpoint: cloud.ready.endpoints.secretsmanager, region: 'us-east-1', credentials });
}, 120_000);

afterAll(async () => {
  events?.destroy();
  secrets?.destroy();
  await cloud?.stop();
  for (const restore of restoreStreams) restore();
});

async function origins(): Promise<string[]> {
  const response = await fetch(`${cloud.ready.endpoints.qlik}/__emulator/integrations`);
  const { data } = (await response.json()) as { data: { id: string; validOrigins: string[] }[] };
  return data.find((integration) => integration.id === cloud.ready.webIntegrationId)?.validOrigins ?? [];
}

async function eventually(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return false;
}

function deployed(appId: string, originList: unknown[], extra: Record<string, unknown> = {}): PutEventsRequestEntry {
  return {
    Source: 'origin-sync.deployments',
    DetailType: 'App Deployed',
    Detail: JSON.stringify({ appId, tenant: cloud.ready.tenant, webIntegrationId: cloud.ready.webIntegrationId, origins: originList, ...extra }),
  };
}

describe('the local cloud, end to end', () => {
  it('prints the contract: ready, four endpoints, the demo tenant and its policy', () => {
    expect(cloud.ready).toMatchObject({ ready: true, tenant: 'demo', allowedOrigins: ['https://*.example.com'] });
    for (const url of Object.values(cloud.ready.endpoints)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the tenant secret to the real Secrets Manager client', async () => {
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: 'origin-sync/demo' }));
    expect(JSON.parse(secret.SecretString ?? '{}')).toEqual({ apiKey: cloud.ready.apiKey });
  });

  it('an App Deployed event put with the real EventBridge client makes the origin live in Qlik', async () => {
    const answer = await events.send(new PutEventsCommand({ Entries: [deployed('shop', ['https://Shop.Example.com:443'])] }));
    expect(answer.FailedEntryCount).toBe(0);
    expect(await eventually(async () => (await origins()).includes('https://shop.example.com'))).toBe(true);
  });

  it('a hostile event is rejected and changes nothing in Qlik', async () => {
    const before = await origins();
    await events.send(new PutEventsCommand({ Entries: [deployed('evil', ['javascript:alert(1)', 'https://evil.example.org', 'https://ok.example.com'])] }));
    await cloud.drain();
    expect(await origins()).toEqual(before);
  });

  it('the drift scan repairs an origin a person removed by mistake, and leaves hand-added origins alone', async () => {
    const current = await origins();
    await fetch(`${cloud.ready.endpoints.qlik}/__emulator/integrations/${cloud.ready.webIntegrationId}`, {
      method: 'PUT',
      body: JSON.stringify({ validOrigins: current.filter((origin) => origin !== 'https://shop.example.com') }),
    });
    const summary = (await cloud.scanNow()) as { repaired: number };
    expect(summary.repaired).toBe(1);
    expect(await origins()).toEqual(expect.arrayContaining(['https://shop.example.com', 'https://intranet.example.net']));
  });

  it('an App Removed event removes the app origin', async () => {
    await events.send(
      new PutEventsCommand({
        Entries: [{ Source: 'origin-sync.deployments', DetailType: 'App Removed', Detail: JSON.stringify({ appId: 'shop', tenant: 'demo', webIntegrationId: cloud.ready.webIntegrationId }) }],
      }),
    );
    expect(await eventually(async () => !(await origins()).includes('https://shop.example.com'))).toBe(true);
    expect(await origins()).toContain('https://intranet.example.net');
  });

  it('after the secret is rotated to a revoked key, events still register but Qlik is not touched', async () => {
    await secrets.send(new PutSecretValueCommand({ SecretId: 'origin-sync/demo', SecretString: JSON.stringify({ apiKey: 'revoked-key-0000' }) }));
    // middy caches secrets for 5 minutes; a new container (cold start) would read the new value.
    // Here the cached key still works, which is what Lambda does until the cache expires.
    await events.send(new PutEventsCommand({ Entries: [deployed('cached', ['https://cached.example.com'])] }));
    expect(await eventually(async () => (await origins()).includes('https://cached.example.com'))).toBe(true);
  });

  it('runs the scripted demo story to convergence', async () => {
    const { runDemo } = await import('../../local/demo.js');
    const lines: string[] = [];
    expect(await runDemo(cloud, (line) => lines.push(line))).toBe(true);
    expect(lines.join('\n')).toContain('Every step converged.');
  }, 120_000);

  it('never wrote the API key to any log line', () => {
    const logged = captured.join('');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).toContain('deployment event rejected');
    expect(logged).not.toContain(cloud.ready.apiKey);
  });
});

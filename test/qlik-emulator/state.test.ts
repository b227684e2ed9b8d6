// Conformance: statePath keeps integrations across restarts (atomic writes).
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import { client, http, mapLimit, sleep, WI } from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'state-suite-key';
const TENANT = 'stateSuiteTenant00000000000001';

let dir: string;
const running: Emulator[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qlik-emu-state-'));
});
afterEach(async () => {
  for (const e of running.splice(0)) await e.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function start(statePath: string): Promise<Emulator> {
  const e = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: TENANT, statePath, rateLimits: false });
  running.push(e);
  return e;
}
async function stop(e: Emulator): Promise<void> {
  running.splice(running.indexOf(e), 1);
  const closed = e.close().then(() => 'closed' as const);
  const winner = await Promise.race([closed, sleep(3000).then(() => 'timeout' as const)]);
  expect(winner, 'close() should resolve promptly even with keep-alive clients').toBe('closed');
}
const dumpOf = async (e: Emulator) => ((await http('GET', `${e.url}/__emulator/integrations`)).body.data as any[])
  .sort((a, b) => (a.id < b.id ? -1 : 1));

describe('statePath', () => {
  it('integrations survive a restart; the file is valid JSON', async () => {
    const path = join(dir, 'state.json');
    const e1 = await start(path);
    const api1 = client(e1.url, API_KEY);
    const a = await api1.post(WI, { name: 'alpha', validOrigins: ['https://a.example.com'] });
    const b = await api1.post(WI, { name: 'bravo' });
    const c = await api1.post(WI, { name: 'charlie' });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    expect((await api1.patch(`${WI}/${b.body.id}`, [{ op: 'replace', path: '/validOrigins', value: ['https://b.example.com'] }])).status).toBe(204);
    expect((await api1.del(`${WI}/${c.body.id}`)).status).toBe(204);
    const seeded = await http('POST', `${e1.url}/__emulator/seed`, { json: { integrations: [{ name: 'seeded' }] } });
    expect(seeded.status).toBe(201);
    const before = await dumpOf(e1);
    expect(before).toHaveLength(3);
    await stop(e1);

    expect(existsSync(path)).toBe(true);
    expect(() => JSON.parse(readFileSync(path, 'utf8'))).not.toThrow();

    const e2 = await start(path);
    const after = await dumpOf(e2);
    expect(after).toEqual(before);
    const api2 = client(e2.url, API_KEY);
    const got = await api2.get(`${WI}/${b.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.validOrigins).toEqual(['https://b.example.com']);
    expect((await api2.get(`${WI}/${c.body.id}`)).status).toBe(404);
    // and the restarted emulator keeps writing to the same file
    expect((await api2.post(WI, { name: 'delta' })).status).toBe(201);
    await stop(e2);
    const e3 = await start(path);
    expect(await dumpOf(e3)).toHaveLength(4);
  });

  it('writes reach the file without waiting for close(), and every read of it is valid JSON', async () => {
    const path = join(dir, 'state.json');
    const e = await start(path);
    const api = client(e.url, API_KEY);
    let reads = 0;
    let stopReading = false;
    const reader = (async () => {
      while (!stopReading) {
        if (existsSync(path)) {
          const text = await readFile(path, 'utf8').catch(() => null);
          if (text !== null) {
            JSON.parse(text); // a torn write would throw here
            reads++;
          }
        }
        await sleep(2);
      }
    })();
    const created = await mapLimit(Array.from({ length: 40 }, (_, i) => i), 8, (i) => api.post(WI, { name: `n${i}`, validOrigins: [`https://n${i}.example.com`] }));
    expect(created.every((r) => r.status === 201)).toBe(true);
    const lastId = created[39]!.body.id as string;
    // the file should catch up shortly (no close needed)
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      if (existsSync(path) && (await readFile(path, 'utf8')).includes(lastId)) break;
      await sleep(20);
    }
    stopReading = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(await readFile(path, 'utf8')).toContain(lastId);
  });

  it('restarting on the same file with another tenantId never mixes tenants (README: "tenantId of every integration")', async () => {
    const path = join(dir, 'state.json');
    const e1 = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: 'tenantOne', statePath: path });
    running.push(e1);
    expect((await client(e1.url, API_KEY).post(WI, { name: 'old' })).status).toBe(201);
    await stop(e1);
    let e2: Emulator;
    try {
      e2 = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: 'tenantTwo', statePath: path });
    } catch {
      return; // refusing a state file of another tenant is a fine answer too
    }
    running.push(e2);
    expect((await client(e2.url, API_KEY).post(WI, { name: 'new' })).status).toBe(201);
    const tenants = new Set((await dumpOf(e2)).map((i) => i.tenantId));
    expect([...tenants]).toEqual(['tenantTwo']);
  });

  it('a missing state file starts empty', async () => {
    const e = await start(join(dir, 'does-not-exist-yet.json'));
    expect(await dumpOf(e)).toEqual([]);
  });

  it('leaves no temporary files behind after close', async () => {
    const path = join(dir, 'state.json');
    const e = await start(path);
    const api = client(e.url, API_KEY);
    await mapLimit(Array.from({ length: 10 }, (_, i) => i), 5, (i) => api.post(WI, { name: `t${i}` }));
    await stop(e);
    expect(await readdir(dir)).toEqual(['state.json']);
  });
});

// Conformance: Qlik rate-limit tiers (per user, per tier, sliding one-minute window).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  client, expectQlikError, http, mapLimit, resetEmulator, sleep, WI, type Client, type HttpResult,
} from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'rl-suite-key';
const CLIENT_ID = 'rl-suite-client';
const CLIENT_SECRET = 'rl-suite-secret';

let emu: Emulator;
let api: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, rateLimits: true, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
  const cfg = await http('PUT', `${emu.url}/__emulator/config`, { json: { rateLimits: true, timeScale: 1 } });
  expect(cfg.status, cfg.text).toBe(200);
});

async function seedOne(): Promise<string> {
  const res = await http('POST', `${emu.url}/__emulator/seed`, { json: { integrations: [{ name: 'target' }] } });
  expect(res.status, res.text).toBe(201);
  return res.body.data[0].id;
}
const rename = (c: Client, id: string, name: string) => c.patch(`${WI}/${id}`, [{ op: 'replace', path: '/name', value: name }]);
async function renameN(c: Client, id: string, n: number, prefix = 'n'): Promise<number[]> {
  const res = await mapLimit(Array.from({ length: n }, (_, i) => i), 10, (i) => rename(c, id, `${prefix}${i}`));
  return res.map((r) => r.status);
}
const stats = async () => (await http('GET', `${emu.url}/__emulator/stats`)).body;

/** The exact 429 of the README; returns N (the seconds in Retry-After and the detail). */
function expect429(res: HttpResult): number {
  expectQlikError(res, 429, 'HTTP-429', { traceId: false });
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter, 'Retry-After header').toMatch(/^\d+$/);
  const n = Number(retryAfter);
  expect(n).toBeGreaterThanOrEqual(1);
  expect(res.body.errors).toEqual([
    {
      code: 'HTTP-429',
      title: 'API rate limit reached.',
      detail: `You need to wait ${n} seconds until limit is lifted.`,
      status: '429',
    },
  ]);
  return n;
}

async function oauthClient(): Promise<Client> {
  const t = await http('POST', `${emu.url}/oauth/token`, {
    json: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
  });
  expect(t.status, t.text).toBe(200);
  return client(emu.url, t.body.access_token);
}

describe('tier 2 (POST, PATCH, DELETE: 100/min per user)', () => {
  it('100 writes pass, the 101st is 429 with Retry-After and the exact body; nothing applied', async () => {
    const id = await seedOne();
    const statuses = await renameN(api, id, 100);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    const before = (await api.get(`${WI}/${id}`)).body.name;
    const res = await rename(api, id, 'limited');
    const n = expect429(res);
    expect(n).toBeLessThanOrEqual(60);
    expect((await api.get(`${WI}/${id}`)).body.name).toBe(before);
    const log = (await http('GET', `${emu.url}/__emulator/write-log`)).body.entries;
    expect(log).toHaveLength(100);
    const s = await stats();
    expect(s.rateLimited).toEqual({ tier1: 0, tier2: 1 });
    expect(s.requests.PATCH).toBe(101);
  });

  it('POST, PATCH and DELETE share the tier', async () => {
    const created = await mapLimit(Array.from({ length: 40 }, (_, i) => i), 10, (i) => api.post(WI, { name: `c${i}` }));
    expect(created.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const ids = created.map((r) => r.body.id as string);
    const patched = await mapLimit(ids, 10, (id) => rename(api, id, 'p'));
    expect(patched.map((r) => r.status).filter((s) => s !== 204)).toEqual([]);
    const deleted = await mapLimit(ids.slice(0, 20), 10, (id) => api.del(`${WI}/${id}`));
    expect(deleted.map((r) => r.status).filter((s) => s !== 204)).toEqual([]);
    expect429(await api.post(WI, { name: 'one too many' }));
    expect429(await rename(api, ids[30]!, 'x'));
    expect429(await api.del(`${WI}/${ids[31]}`));
    expect((await api.get(`${WI}/${ids[31]}`)).status).toBe(200);
    expect((await stats()).rateLimited.tier2).toBe(3);
  });

  it('stays limited while the window has not moved (timeScale 1)', async () => {
    const id = await seedOne();
    await renameN(api, id, 100);
    expect429(await rename(api, id, 'a'));
    await sleep(300);
    expect429(await rename(api, id, 'b'));
  });

  it('tier 1 is independent: reads still work when writes are limited', async () => {
    const id = await seedOne();
    await renameN(api, id, 100);
    expect429(await rename(api, id, 'x'));
    expect((await api.get(WI)).status).toBe(200);
    expect((await api.get(`${WI}/${id}`)).status).toBe(200);
  });

  it('is per user: an OAuth client is not limited by the API key’s usage', async () => {
    const id = await seedOne();
    const oauth = await oauthClient();
    await renameN(api, id, 100);
    expect429(await rename(api, id, 'key'));
    const oauthStatuses = await renameN(oauth, id, 20, 'o');
    expect(oauthStatuses.filter((s) => s !== 204)).toEqual([]);
    expect((await api.get(`${WI}/${id}`)).body.name).toMatch(/^o\d+$/);
    // and the key is still limited
    expect429(await rename(api, id, 'key2'));
  });

  it('POST /__emulator/reset clears the windows', async () => {
    const id = await seedOne();
    await renameN(api, id, 100);
    expect429(await rename(api, id, 'x'));
    await resetEmulator(emu.url);
    const id2 = await seedOne();
    expect((await rename(api, id2, 'fresh')).status).toBe(204);
  });

  it('with timeScale 60 the window clears after ~1 s of real time', async () => {
    const cfg = await http('PUT', `${emu.url}/__emulator/config`, { json: { timeScale: 60 } });
    expect(cfg.status).toBe(200);
    const id = await seedOne();
    const statuses = await renameN(api, id, 100);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    // Retry-After stays in real seconds: at 60x the one-minute window is one real second
    expect(expect429(await rename(api, id, 'over'))).toBe(1);
    await sleep(1150);
    const again = await renameN(api, id, 50, 'again');
    expect(again.filter((s) => s !== 204)).toEqual([]);
  });
});

describe('tier 1 (GET: 1000/min per user)', () => {
  it('1000 reads pass, the 1001st is 429, while writes (tier 2) still work', async () => {
    const id = await seedOne();
    const statuses = await mapLimit(Array.from({ length: 1000 }, (_, i) => i), 25, (i) =>
      (i % 2 ? api.get(WI) : api.get(`${WI}/${id}`)).then((r) => r.status));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect429(await api.get(WI));
    expect429(await api.get(`${WI}/${id}`));
    expect((await rename(api, id, 'still-writable')).status).toBe(204);
    const s = await stats();
    expect(s.rateLimited).toEqual({ tier1: 2, tier2: 0 });
    expect(s.requests.GET).toBe(1002);
  });
});

describe('rate limits off', () => {
  it('startQlikEmulator({rateLimits:false}) never answers 429', async () => {
    const off = await startQlikEmulator({ apiKey: API_KEY, port: 0, rateLimits: false });
    try {
      const c = client(off.url, API_KEY);
      const created = await c.post(WI, { name: 'x' });
      expect(created.status).toBe(201);
      const statuses = await renameN(c, created.body.id, 150);
      expect(statuses.filter((s) => s !== 204)).toEqual([]);
      const s = (await http('GET', `${off.url}/__emulator/stats`)).body;
      expect(s.rateLimited).toEqual({ tier1: 0, tier2: 0 });
    } finally {
      await off.close();
    }
  });

  it('PUT /__emulator/config {rateLimits:false} switches them off at run time', async () => {
    const cfg = await http('PUT', `${emu.url}/__emulator/config`, { json: { rateLimits: false } });
    expect(cfg.status).toBe(200);
    expect(cfg.body.rateLimits).toBe(false);
    const id = await seedOne();
    const statuses = await renameN(api, id, 130);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    expect((await stats()).rateLimited.tier2).toBe(0);
  });
});

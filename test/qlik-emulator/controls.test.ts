// Conformance: the /__emulator/* test controls (health, reset, seed, dump, direct edit,
// write log, stats, faults, config).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  client, expectIntegration, expectIsoDate, expectQlikError, http, resetEmulator, WI, type Client,
} from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'controls-suite-key';
const CLIENT_ID = 'controls-client';
const CLIENT_SECRET = 'controls-secret';
const TENANT = 'controlsTenant0000000000000001';

let emu: Emulator;
let api: Client;
let ctl: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: TENANT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  api = client(emu.url, API_KEY);
  ctl = client(emu.url);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
  const cfg = await ctl.put('/__emulator/config', { rateLimits: true, timeScale: 1 });
  expect(cfg.status, cfg.text).toBe(200);
});

const dump = async () => (await ctl.get('/__emulator/integrations')).body.data as any[];
const writeLog = async () => (await ctl.get('/__emulator/write-log')).body.entries as any[];
const stats = async () => (await ctl.get('/__emulator/stats')).body;
const setFaults = async (f: unknown) => {
  const res = await ctl.put('/__emulator/faults', f);
  expect(res.status, res.text).toBe(200);
  return res;
};
const rename = (id: string, name: string) => api.patch(`${WI}/${id}`, [{ op: 'replace', path: '/name', value: name }]);
async function seedOne(name = 'target'): Promise<any> {
  const res = await ctl.post('/__emulator/seed', { integrations: [{ name }] });
  expect(res.status, res.text).toBe(201);
  return res.body.data[0];
}

describe('startQlikEmulator', () => {
  it('answers url http://127.0.0.1:<port> with the port it picked', () => {
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
  });
});

describe('health and reset', () => {
  it('GET /__emulator/health → {"ok":true}', async () => {
    const res = await ctl.get('/__emulator/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it('controls need no credentials', async () => {
    expect((await ctl.get('/__emulator/integrations')).status).toBe(200);
    expect((await ctl.get('/__emulator/stats')).status).toBe(200);
  });

  it('reset removes integrations, write log, faults and counters', async () => {
    const c = await api.post(WI, { name: 'x' });
    expect(c.status).toBe(201);
    await setFaults({ GET: { latencyMs: 1 } });
    const res = await ctl.post('/__emulator/reset');
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await dump()).toEqual([]);
    expect(await writeLog()).toEqual([]);
    const f = await ctl.get('/__emulator/faults');
    expect(f.status).toBe(200);
    expect(f.body).toEqual({});
    const s = await stats();
    expect(s.requests).toEqual({ GET: 0, POST: 0, PATCH: 0, DELETE: 0 });
  });
});

describe('seed and dump', () => {
  it('seed {count} creates N integrations; dump lists all of them unpaginated', async () => {
    const res = await ctl.post('/__emulator/seed', { count: 150, namePrefix: 'bulk-', validOrigins: ['https://seed.example.com'] });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toHaveLength(150);
    for (const i of res.body.data) {
      expectIntegration(i);
      expect(i.name.startsWith('bulk-')).toBe(true);
      expect(i.validOrigins).toEqual(['https://seed.example.com']);
      expect(i.tenantId).toBe(TENANT);
    }
    const d = await dump();
    expect(d).toHaveLength(150);
    expect(new Set(d.map((i) => i.id)).size).toBe(150);
    // and the API sees them too
    const list = await api.get(WI, { query: { limit: 100 } });
    expect(list.body.data).toHaveLength(100);
    expect(list.body.links.next).toBeDefined();
  });

  it('seed {integrations} keeps given names, origins and ids', async () => {
    const res = await ctl.post('/__emulator/seed', {
      integrations: [
        { name: 'one', id: 'seededId00000000000000000000001', validOrigins: ['https://one.example.com'] },
        { name: 'two' },
      ],
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toHaveLength(2);
    expect(res.body.data[0]).toMatchObject({ id: 'seededId00000000000000000000001', name: 'one', validOrigins: ['https://one.example.com'] });
    expect(res.body.data[1].name).toBe('two');
    expect(res.body.data[1].validOrigins).toEqual([]);
    const got = await api.get(`${WI}/seededId00000000000000000000001`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body.data[0]);
  });

  it('seeding is not a write: no write-log entries, no API counters, no rate-limit usage', async () => {
    await ctl.post('/__emulator/seed', { count: 120 });
    await ctl.get('/__emulator/integrations');
    expect(await writeLog()).toEqual([]);
    const s = await stats();
    expect(s.requests).toEqual({ GET: 0, POST: 0, PATCH: 0, DELETE: 0 });
    const id = (await dump())[0].id;
    expect((await rename(id, 'first real write')).status).toBe(204);
  });
});

describe('direct edit PUT /__emulator/integrations/{id}', () => {
  it('changes name and origins, answers 200 with the integration, and is not logged', async () => {
    const c = (await api.post(WI, { name: 'before', validOrigins: ['https://a.example.com'] })).body;
    const res = await ctl.put(`/__emulator/integrations/${c.id}`, { name: 'console edit', validOrigins: ['https://b.example.com'] });
    expect(res.status, res.text).toBe(200);
    expectIntegration(res.body);
    expect(res.body).toMatchObject({ id: c.id, name: 'console edit', validOrigins: ['https://b.example.com'] });
    const got = await api.get(`${WI}/${c.id}`);
    expect(got.body.name).toBe('console edit');
    expect(got.body.validOrigins).toEqual(['https://b.example.com']);
    const log = await writeLog();
    expect(log.map((e) => e.method)).toEqual(['POST']);
    expect((await stats()).requests.PATCH).toBe(0);
  });

  it('partial edit keeps the other field', async () => {
    const c = await seedOne('keep');
    const res = await ctl.put(`/__emulator/integrations/${c.id}`, { validOrigins: ['https://only.example.com'] });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('keep');
  });

  it('unknown id → 404', async () => {
    const res = await ctl.put('/__emulator/integrations/nope0000000000000000000000000', { name: 'x' });
    expect(res.status).toBe(404);
  });
});

describe('write log', () => {
  it('records accepted POST, PATCH, DELETE in order with seq, time, method, path, id, status, body, user', async () => {
    const created = await api.post(WI, { name: 'logged', validOrigins: ['https://l.example.com'] });
    const id = created.body.id;
    await api.get(WI);
    await api.get(`${WI}/${id}`);
    const ops = [{ op: 'replace', path: '/name', value: 'renamed' }];
    expect((await api.patch(`${WI}/${id}`, ops)).status).toBe(204);
    expect((await api.del(`${WI}/${id}`)).status).toBe(204);
    const res = await ctl.get('/__emulator/write-log');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['entries']);
    const log = res.body.entries as any[];
    expect(log).toHaveLength(3);
    for (const e of log) {
      expect(Object.keys(e).sort()).toEqual(['body', 'id', 'method', 'path', 'seq', 'status', 'time', 'user']);
      expect(typeof e.seq).toBe('number');
      expect(typeof e.user).toBe('string');
      expect(e.user.length).toBeGreaterThan(0);
      expectIsoDate(e.time);
    }
    expect(log[0].seq).toBeLessThan(log[1].seq);
    expect(log[1].seq).toBeLessThan(log[2].seq);
    expect(log.map((e) => [e.method, e.path, e.id, e.status])).toEqual([
      ['POST', WI, id, 201],
      ['PATCH', `${WI}/${id}`, id, 204],
      ['DELETE', `${WI}/${id}`, id, 204],
    ]);
    const parse = (b: unknown) => (typeof b === 'string' ? JSON.parse(b) : b);
    expect(parse(log[0].body)).toEqual({ name: 'logged', validOrigins: ['https://l.example.com'] });
    expect(parse(log[1].body)).toEqual(ops);
    expect(new Set(log.map((e) => e.user)).size).toBe(1);
  });

  it('does not record rejected writes (400, 401, 404, 405)', async () => {
    const c = await api.post(WI, { name: 'ok' });
    await api.post(WI, { name: '' });
    await api.post(WI, {}, { token: 'wrong' });
    await api.patch(`${WI}/${c.body.id}`, [{ op: 'add', path: '/name', value: 'x' }]);
    await api.patch(`${WI}/missing00000000000000000000000`, [{ op: 'replace', path: '/name', value: 'x' }]);
    await api.del(`${WI}/missing00000000000000000000000`);
    await api.put(`${WI}/${c.body.id}`, { name: 'x' });
    const log = await writeLog();
    expect(log).toHaveLength(1);
    expect(log[0].status).toBe(201);
  });

  it('names the OAuth client as a different user than the API key', async () => {
    const t = await http('POST', `${emu.url}/oauth/token`, {
      json: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
    });
    expect(t.status).toBe(200);
    await api.post(WI, { name: 'by key' });
    await client(emu.url, t.body.access_token).post(WI, { name: 'by client' });
    const log = await writeLog();
    expect(log).toHaveLength(2);
    expect(log[0].user).not.toBe(log[1].user);
  });

  it('DELETE /__emulator/write-log clears it (204)', async () => {
    await api.post(WI, { name: 'x' });
    const res = await ctl.del('/__emulator/write-log');
    expect(res.status).toBe(204);
    expect(await writeLog()).toEqual([]);
    await api.post(WI, { name: 'y' });
    expect(await writeLog()).toHaveLength(1);
  });
});

describe('stats', () => {
  it('counts API calls per method and has the documented shape', async () => {
    const c = await api.post(WI, { name: 'x' });
    await api.get(WI);
    await api.get(`${WI}/${c.body.id}`);
    await rename(c.body.id, 'y');
    await api.del(`${WI}/${c.body.id}`);
    await ctl.get('/__emulator/health');
    const res = await ctl.get('/__emulator/stats');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      requests: { GET: 2, POST: 1, PATCH: 1, DELETE: 1 },
      rateLimited: { tier1: 0, tier2: 0 },
      faults: { latency: 0, error500: 0, error503: 0, error429: 0, drop: 0 },
    });
  });
});

describe('faults', () => {
  it('PATCH error503 times:2 → exactly two 503 (nothing applied), then OK', async () => {
    const c = await seedOne('orig');
    const set = await setFaults({ PATCH: { error503: 1, times: 2 } });
    expect(set.body).toHaveProperty('PATCH');
    const r1 = await rename(c.id, 'first');
    expectQlikError(r1, 503, 'HTTP-503');
    expect((await api.get(`${WI}/${c.id}`)).body.name).toBe('orig');
    expectQlikError(await rename(c.id, 'second'), 503, 'HTTP-503');
    expect((await rename(c.id, 'third')).status).toBe(204);
    expect((await rename(c.id, 'fourth')).status).toBe(204);
    expect((await api.get(`${WI}/${c.id}`)).body.name).toBe('fourth');
    // other methods are untouched
    expect((await api.post(WI, { name: 'n' })).status).toBe(201);
    const log = await writeLog();
    expect(log.map((e) => [e.method, e.status])).toEqual([['PATCH', 204], ['PATCH', 204], ['POST', 201]]);
    expect((await stats()).faults.error503).toBe(2);
  });

  it('GET/DELETE /__emulator/faults read and clear the set', async () => {
    await setFaults({ GET: { latencyMs: 5 }, '*': { error500: 0 } });
    const got = await ctl.get('/__emulator/faults');
    expect(got.status).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(['*', 'GET']);
    expect(got.body.GET.latencyMs).toBe(5);
    const del = await ctl.del('/__emulator/faults');
    expect([200, 204]).toContain(del.status);
    expect((await ctl.get('/__emulator/faults')).body).toEqual({});
  });

  it('PUT replaces the previous set', async () => {
    await setFaults({ GET: { error503: 1 } });
    await setFaults({ POST: { error503: 1 } });
    expect((await api.get(WI)).status).toBe(200);
    expectQlikError(await api.post(WI, { name: 'x' }), 503, 'HTTP-503');
  });

  it('"*" error500 times:1 → one 500 HTTP-500, then OK', async () => {
    await setFaults({ '*': { error500: 1, times: 1 } });
    expectQlikError(await api.get(WI), 500, 'HTTP-500');
    expect((await api.get(WI)).status).toBe(200);
    expect((await stats()).faults.error500).toBe(1);
  });

  it('drop → the client sees a connection error, the next call works', async () => {
    await setFaults({ GET: { drop: 1, times: 1 } });
    await expect(api.get(WI)).rejects.toThrow();
    expect((await api.get(WI)).status).toBe(200);
    expect((await stats()).faults.drop).toBe(1);
  });

  it('drop on POST applies nothing', async () => {
    await setFaults({ POST: { drop: 1, times: 1 } });
    await expect(api.post(WI, { name: 'dropped' })).rejects.toThrow();
    expect(await dump()).toEqual([]);
    expect(await writeLog()).toEqual([]);
  });

  it('latencyMs delays the call by at least that much, other methods are not delayed', async () => {
    await setFaults({ GET: { latencyMs: 400 } });
    const slow = await api.get(WI);
    expect(slow.status).toBe(200);
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(390);
    const fast = await api.post(WI, { name: 'quick' });
    expect(fast.status).toBe(201);
    expect(fast.elapsedMs).toBeLessThan(300);
    expect((await stats()).faults.latency).toBeGreaterThanOrEqual(1);
  });

  it('a method’s own entry wins over "*"', async () => {
    await setFaults({ '*': { error503: 1 }, GET: { latencyMs: 0 }, PATCH: { error500: 1 } });
    expect((await api.get(WI)).status).toBe(200);
    const c = await seedOne();
    expectQlikError(await rename(c.id, 'x'), 500, 'HTTP-500');
    expectQlikError(await api.post(WI, { name: 'x' }), 503, 'HTTP-503');
    expectQlikError(await api.del(`${WI}/${c.id}`), 503, 'HTTP-503');
  });

  it('error429 answers 429 with Retry-After = retryAfterSeconds', async () => {
    await setFaults({ GET: { error429: 1, retryAfterSeconds: 7, times: 1 } });
    const res = await api.get(WI);
    expectQlikError(res, 429, 'HTTP-429', { traceId: false });
    expect(res.headers.get('retry-after')).toBe('7');
    expect((await api.get(WI)).status).toBe(200);
    expect((await stats()).faults.error429).toBe(1);
  });

  it('faults apply to POST /oauth/token too', async () => {
    await setFaults({ POST: { error503: 1, times: 1 } });
    const res = await http('POST', `${emu.url}/oauth/token`, {
      json: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
    });
    expectQlikError(res, 503, 'HTTP-503');
  });

  it('faults do not apply to the controls', async () => {
    await setFaults({ '*': { error503: 1 } });
    expect((await ctl.get('/__emulator/health')).status).toBe(200);
    expect((await ctl.get('/__emulator/integrations')).status).toBe(200);
    expect((await ctl.post('/__emulator/seed', { count: 1 })).status).toBe(201);
  });

  it('POST /__emulator/reset clears the faults', async () => {
    await setFaults({ '*': { error503: 1 } });
    expectQlikError(await api.get(WI), 503, 'HTTP-503');
    await resetEmulator(emu.url);
    expect((await api.get(WI)).status).toBe(200);
  });
});

describe('config', () => {
  it('PUT /__emulator/config toggles rate limits at run time and answers the config', async () => {
    const c = await seedOne();
    const off = await ctl.put('/__emulator/config', { rateLimits: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ rateLimits: false, timeScale: 1 });
    for (let i = 0; i < 110; i++) {
      const r = await rename(c.id, `n${i}`);
      if (r.status !== 204) throw new Error(`write ${i} answered ${r.status} with rate limits off`);
    }
    const on = await ctl.put('/__emulator/config', { rateLimits: true });
    expect(on.body).toMatchObject({ rateLimits: true });
    await resetEmulator(emu.url);
    const c2 = await seedOne();
    for (let i = 0; i < 100; i++) {
      const r = await rename(c2.id, `m${i}`);
      if (r.status !== 204) throw new Error(`write ${i} answered ${r.status}`);
    }
    expect((await rename(c2.id, 'over')).status).toBe(429);
  });
});

// Conformance: routing errors and the error envelope.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import { client, expectQlikError, http, resetEmulator, WI, type Client, type HttpResult } from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'errors-suite-key';
const RO_KEY = 'errors-suite-ro';

let emu: Emulator;
let api: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, readOnlyApiKeys: [RO_KEY] });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
});

function allowSet(res: HttpResult): string[] {
  const allow = res.headers.get('allow');
  expect(allow, 'Allow header').toBeTruthy();
  return allow!.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean).sort();
}

describe('unknown routes', () => {
  it.each(['/api/v1/nope', '/api/v2/web-integrations', '/nope', `${WI}/a/b`])('GET %s → 404 HTTP-404', async (path) => {
    expectQlikError(await api.get(path), 404, 'HTTP-404');
  });
});

describe('odd ids', () => {
  // 500 is for injected faults only (README): a bad path must be a 4xx in Qlik's envelope.
  it.each(['%E0%A4%A', '%ZZ', '%'])('a malformed percent-encoded id (%s) is a 4xx, never a 500', async (raw) => {
    for (const method of ['GET', 'DELETE']) {
      const res = await http(method, `${emu.url}${WI}/${raw}`, { token: API_KEY });
      expect(res.status, `${method} ${WI}/${raw} → ${res.status} ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${WI}/${raw} → ${res.status} ${res.text}`).toBeLessThan(500);
      expectQlikError(res, res.status);
    }
  });

  it('a percent-encoded id that exists is found', async () => {
    const seeded = await http('POST', `${emu.url}/__emulator/seed`, { json: { integrations: [{ name: 'enc', id: 'abc-123_x' }] } });
    expect(seeded.status).toBe(201);
    expect((await api.get(`${WI}/abc%2D123_x`)).status).toBe(200);
  });
});

describe('method not allowed', () => {
  it('PUT on /api/v1/web-integrations/{id} → 405 HTTP-405 with Allow', async () => {
    const c = await api.post(WI, { name: 'x' });
    const res = await api.put(`${WI}/${c.body.id}`, { name: 'y' });
    expectQlikError(res, 405, 'HTTP-405');
    const allow = allowSet(res);
    for (const m of ['GET', 'PATCH', 'DELETE']) expect(allow).toContain(m);
    expect(allow).not.toContain('PUT');
    expect(allow).not.toContain('POST');
    expect((await api.get(`${WI}/${c.body.id}`)).body.name).toBe('x');
  });

  it('POST on /api/v1/web-integrations/{id} → 405 with Allow', async () => {
    const res = await api.post(`${WI}/someId00000000000000000000000000`, { name: 'y' });
    expectQlikError(res, 405, 'HTTP-405');
    expect(allowSet(res)).not.toContain('POST');
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('%s on the collection → 405 with Allow listing GET and POST', async (method) => {
    const res = await api.request(method, WI, { json: method === 'PATCH' ? [] : {} });
    expectQlikError(res, 405, 'HTTP-405');
    const allow = allowSet(res);
    expect(allow).toContain('GET');
    expect(allow).toContain('POST');
    expect(allow).not.toContain(method);
  });
});

describe('bodies', () => {
  it('POST with invalid JSON → 400 HTTP-400, nothing created', async () => {
    const res = await api.request('POST', WI, { body: '{"name": "x",', headers: { 'content-type': 'application/json' } });
    expectQlikError(res, 400, 'HTTP-400');
    const dump = await http('GET', `${emu.url}/__emulator/integrations`);
    expect(dump.body.data).toEqual([]);
  });

  it('POST with an empty body → 400', async () => {
    const res = await api.request('POST', WI, { body: '', headers: { 'content-type': 'application/json' } });
    expectQlikError(res, 400);
  });

  it('a body over 1 MiB → 413 HTTP-413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 100) });
    const res = await api.request('POST', WI, { body: big, headers: { 'content-type': 'application/json' } });
    expectQlikError(res, 413, 'HTTP-413');
  });

  it('a body just under 1 MiB is not a 413', async () => {
    const res = await api.post(WI, { name: 'y'.repeat(1024 * 1024 - 100) });
    expect(res.status).not.toBe(413);
  });
});

describe('the envelope', () => {
  it('every kind of error answers {errors:[{code,title,status(string),...}],traceId}', async () => {
    const c = await api.post(WI, { name: 'x' });
    const cases: [Promise<HttpResult>, number, string][] = [
      [http('GET', `${emu.url}${WI}`), 401, 'HTTP-401'],
      [client(emu.url, RO_KEY).post(WI, { name: 'r' }), 403, 'HTTP-403'],
      [api.get(`${WI}/missing000000000000000000000000`), 404, 'WEBINTEGRATIONS_NOT_FOUND'],
      [api.get('/api/v1/unknown'), 404, 'HTTP-404'],
      [api.put(`${WI}/${c.body.id}`, {}), 405, 'HTTP-405'],
      [api.get(WI, { query: { limit: 'x' } }), 400, 'HTTP-400'],
      [api.post(WI, {}), 400, 'WEBINTEGRATIONS-5'],
      [api.post(WI, { name: 'n', validOrigins: ['ftp://x.example.com'] }), 400, 'WEBINTEGRATIONS-6'],
      [api.patch(`${WI}/${c.body.id}`, [{ op: 'add', path: '/name', value: 'v' }]), 400, 'WEBINTEGRATIONS-4'],
    ];
    const traceIds: string[] = [];
    for (const [p, status, code] of cases) {
      const res = await p;
      expectQlikError(res, status, code);
      traceIds.push(res.body.traceId);
    }
    // a trace id identifies one request
    expect(new Set(traceIds).size).toBe(traceIds.length);
  });
});

// Conformance: create, read, update, delete of single web integrations; read-only keys.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  client, expectIntegration, expectQlikError, http, INTEGRATION_FIELDS, resetEmulator, sleep, WI, type Client,
} from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'crud-suite-key';
const RO_KEY = 'crud-suite-read-only';
const TENANT = 'crudSuiteTenant000000000000001';
const UNKNOWN_ID = 'unknownId0000000000000000000000';

let emu: Emulator;
let api: Client;
let ro: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: TENANT, readOnlyApiKeys: [RO_KEY] });
  api = client(emu.url, API_KEY);
  ro = client(emu.url, RO_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
});

async function create(name = 'My Web Integration', validOrigins: string[] = ['https://thirdpartyapp.example.com']) {
  const res = await api.post(WI, { name, validOrigins });
  expect(res.status, res.text).toBe(201);
  return res.body as Record<string, any>;
}
async function writeLog() {
  const res = await http('GET', `${emu.url}/__emulator/write-log`);
  expect(res.status).toBe(200);
  return res.body.entries as Record<string, any>[];
}
async function dump() {
  return (await http('GET', `${emu.url}/__emulator/integrations`)).body.data as Record<string, any>[];
}

describe('POST /api/v1/web-integrations', () => {
  it('201 with exactly the integration fields plus links.self.href', async () => {
    const before = Date.now();
    const res = await api.post(WI, { name: 'My Web Integration', validOrigins: ['https://thirdpartyapp.example.com'] });
    const after = Date.now();
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
    expect(Object.keys(res.body).sort()).toEqual([...INTEGRATION_FIELDS, 'links'].sort());
    expect(Object.keys(res.body.links)).toEqual(['self']);
    expect(Object.keys(res.body.links.self)).toEqual(['href']);
    const { links, ...integration } = res.body;
    expectIntegration(integration);
    expect(integration.name).toBe('My Web Integration');
    expect(integration.validOrigins).toEqual(['https://thirdpartyapp.example.com']);
    expect(integration.tenantId).toBe(TENANT);
    expect(integration.createdBy.length).toBeGreaterThan(0);
    for (const t of [integration.created, integration.lastUpdated]) {
      const ms = Date.parse(t);
      // second-resolution timestamps are allowed, hence the 1 s slack
      expect(ms).toBeGreaterThanOrEqual(before - 1000);
      expect(ms).toBeLessThanOrEqual(after + 1000);
    }
    expect(Date.parse(integration.lastUpdated)).toBeGreaterThanOrEqual(Date.parse(integration.created));
    // links.self.href is absolute and GETs the same integration
    const href = links.self.href as string;
    expect(new URL(href).toString().startsWith(emu.url)).toBe(true);
    expect(new URL(href).pathname).toBe(`${WI}/${integration.id}`);
    const got = await http('GET', href, { token: API_KEY });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(integration);
  });

  it('also answers a Location header naming the new integration', async () => {
    const res = await api.post(WI, { name: 'located' });
    expect(res.status).toBe(201);
    const loc = res.headers.get('location');
    expect(loc).toBeTruthy();
    expect(new URL(loc!, emu.url).pathname).toBe(`${WI}/${res.body.id}`);
  });

  it('validOrigins is optional and defaults to []', async () => {
    const res = await api.post(WI, { name: 'no origins' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.validOrigins).toEqual([]);
    expect((await api.get(`${WI}/${res.body.id}`)).body.validOrigins).toEqual([]);
  });

  it('server-owned fields in the body are ignored (id, tenantId, createdBy, created, lastUpdated)', async () => {
    const res = await api.post(WI, {
      name: 'sneaky', id: 'clientChosenId00000000000000001', tenantId: 'otherTenant', createdBy: 'mallory',
      created: '2000-01-01T00:00:00Z', lastUpdated: '2000-01-01T00:00:00Z',
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.id).not.toBe('clientChosenId00000000000000001');
    expect(res.body.tenantId).toBe(TENANT);
    expect(res.body.createdBy).not.toBe('mallory');
    expect(res.body.created).not.toBe('2000-01-01T00:00:00Z');
    expect(Object.keys(res.body).sort()).toEqual([...INTEGRATION_FIELDS, 'links'].sort());
  });

  it('createdBy names the caller: the same for two writes with one key', async () => {
    const a = await create('a');
    const b = await create('b');
    expect(a.createdBy).toBe(b.createdBy);
    expect(a.createdBy).not.toContain(API_KEY);
  });

  it('ids are unique', async () => {
    const a = await create('a');
    const b = await create('a');
    expect(a.id).not.toBe(b.id);
  });

  it('a created integration appears in the list and the dump, and one write-log entry is recorded', async () => {
    const c = await create('listed');
    const list = await api.get(WI);
    expect(list.body.data.map((i: any) => i.id)).toEqual([c.id]);
    expect((await dump()).map((i) => i.id)).toEqual([c.id]);
    const log = await writeLog();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ method: 'POST', path: WI, id: c.id, status: 201 });
  });

  it('name missing → 400 WEBINTEGRATIONS-5 pointer /name; nothing created', async () => {
    const err = expectQlikError(await api.post(WI, { validOrigins: [] }), 400, 'WEBINTEGRATIONS-5');
    expect(err.source?.pointer).toBe('/name');
    expect(await dump()).toEqual([]);
    expect(await writeLog()).toEqual([]);
  });

  it.each([
    ['empty name', { name: '' }, '/name'],
    ['numeric name', { name: 42 }, '/name'],
    ['validOrigins not an array', { name: 'x', validOrigins: 'https://a.example.com' }, '/validOrigins'],
  ])('%s → 400 WEBINTEGRATIONS-6 with the pointer', async (_l, body, pointer) => {
    const err = expectQlikError(await api.post(WI, body), 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe(pointer);
    expect(await dump()).toEqual([]);
  });

  it.each([
    ['an array', []],
    ['a string', 'hello'],
    ['null', null],
  ])('body that is %s → 400', async (_l, body) => {
    const res = await api.post(WI, body);
    expectQlikError(res, 400);
    expect(await dump()).toEqual([]);
  });
});

describe('GET /api/v1/web-integrations/{id}', () => {
  it('200 with exactly the seven fields', async () => {
    const c = await create();
    const res = await api.get(`${WI}/${c.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
    expectIntegration(res.body);
    const { links: _links, ...expected } = c;
    expect(res.body).toEqual(expected);
  });

  it('unknown id → 404 WEBINTEGRATIONS_NOT_FOUND', async () => {
    expectQlikError(await api.get(`${WI}/${UNKNOWN_ID}`), 404, 'WEBINTEGRATIONS_NOT_FOUND');
  });
});

describe('PATCH /api/v1/web-integrations/{id}', () => {
  it('204 with an empty body; changes are visible; lastUpdated moves, created does not', async () => {
    const c = await create('before');
    await sleep(1100); // allow for second-resolution timestamps
    const res = await api.patch(`${WI}/${c.id}`, [{ op: 'replace', path: '/name', value: 'after' }]);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe('');
    const got = await api.get(`${WI}/${c.id}`);
    expect(got.body.name).toBe('after');
    expect(got.body.created).toBe(c.created);
    expect(Date.parse(got.body.lastUpdated)).toBeGreaterThan(Date.parse(c.lastUpdated));
    expect(got.body.id).toBe(c.id);
    expect(got.body.tenantId).toBe(TENANT);
    expect(got.body.createdBy).toBe(c.createdBy);
  });

  it('unknown id → 404 WEBINTEGRATIONS_NOT_FOUND, nothing logged', async () => {
    const res = await api.patch(`${WI}/${UNKNOWN_ID}`, [{ op: 'replace', path: '/name', value: 'x' }]);
    expectQlikError(res, 404, 'WEBINTEGRATIONS_NOT_FOUND');
    expect(await writeLog()).toEqual([]);
  });
});

describe('DELETE /api/v1/web-integrations/{id}', () => {
  it('204 with an empty body, then GET 404 WEBINTEGRATIONS_NOT_FOUND and a second DELETE 404', async () => {
    const c = await create();
    const res = await api.del(`${WI}/${c.id}`);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe('');
    expectQlikError(await api.get(`${WI}/${c.id}`), 404, 'WEBINTEGRATIONS_NOT_FOUND');
    expectQlikError(await api.del(`${WI}/${c.id}`), 404, 'WEBINTEGRATIONS_NOT_FOUND');
    expectQlikError(await api.patch(`${WI}/${c.id}`, [{ op: 'replace', path: '/name', value: 'x' }]), 404, 'WEBINTEGRATIONS_NOT_FOUND');
    expect((await api.get(WI)).body.data).toEqual([]);
    const log = await writeLog();
    expect(log.map((e) => [e.method, e.status])).toEqual([['POST', 201], ['DELETE', 204]]);
  });

  it('unknown id → 404 WEBINTEGRATIONS_NOT_FOUND', async () => {
    expectQlikError(await api.del(`${WI}/${UNKNOWN_ID}`), 404, 'WEBINTEGRATIONS_NOT_FOUND');
  });
});

describe('read-only API key', () => {
  it('may GET the list and an integration (200)', async () => {
    const c = await create();
    expect((await ro.get(WI)).status).toBe(200);
    const one = await ro.get(`${WI}/${c.id}`);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(c.id);
  });

  it('POST, PATCH and DELETE → 403 HTTP-403 and nothing changes', async () => {
    const c = await create('original');
    const logBefore = await writeLog();
    expectQlikError(await ro.post(WI, { name: 'nope' }), 403, 'HTTP-403');
    expectQlikError(await ro.patch(`${WI}/${c.id}`, [{ op: 'replace', path: '/name', value: 'nope' }]), 403, 'HTTP-403');
    expectQlikError(await ro.del(`${WI}/${c.id}`), 403, 'HTTP-403');
    const after = await dump();
    expect(after).toHaveLength(1);
    expect(after[0]!.name).toBe('original');
    expect(await writeLog()).toEqual(logBefore);
  });
});

// Conformance: PATCH documents — ops, paths, value forms, atomicity.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import { client, expectQlikError, http, resetEmulator, WI, type Client } from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'patch-suite-key';
const TENANT = 'patchSuiteTenant00000000000001';

let emu: Emulator;
let api: Client;
let id: string;
let original: Record<string, any>;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: TENANT });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
  const res = await api.post(WI, { name: 'original', validOrigins: ['https://orig.example.com'] });
  expect(res.status, res.text).toBe(201);
  id = res.body.id;
  const got = await api.get(`${WI}/${id}`);
  original = got.body;
});

const patch = (body: unknown) => api.patch(`${WI}/${id}`, body);
const current = async () => (await api.get(`${WI}/${id}`)).body;
const writeLog = async () => (await http('GET', `${emu.url}/__emulator/write-log`)).body.entries as any[];

async function expectUnchanged() {
  expect(await current()).toEqual(original);
  // only the POST from beforeEach
  const log = await writeLog();
  expect(log.map((e) => e.method)).toEqual(['POST']);
}

describe('valid documents', () => {
  it('replace /name → 204 empty body', async () => {
    const res = await patch([{ op: 'replace', path: '/name', value: 'renamed' }]);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe('');
    expect((await current()).name).toBe('renamed');
  });

  it('replace /validOrigins with an array of strings', async () => {
    const origins = ['https://a.example.com', 'http://localhost:3000'];
    const res = await patch([{ op: 'replace', path: '/validOrigins', value: origins }]);
    expect(res.status, res.text).toBe(204);
    expect((await current()).validOrigins).toEqual(origins);
  });

  it('replace /validOrigins with a string holding a JSON array', async () => {
    const origins = ['https://b.example.com', 'https://c.example.com:8443'];
    const res = await patch([{ op: 'replace', path: '/validOrigins', value: JSON.stringify(origins) }]);
    expect(res.status, res.text).toBe(204);
    expect((await current()).validOrigins).toEqual(origins);
  });

  it('replace /validOrigins with an empty array clears them', async () => {
    const res = await patch([{ op: 'replace', path: '/validOrigins', value: [] }]);
    expect(res.status, res.text).toBe(204);
    expect((await current()).validOrigins).toEqual([]);
  });

  it('several operations are all applied', async () => {
    const res = await patch([
      { op: 'replace', path: '/name', value: 'both' },
      { op: 'replace', path: '/validOrigins', value: ['https://both.example.com'] },
    ]);
    expect(res.status, res.text).toBe(204);
    const now = await current();
    expect(now.name).toBe('both');
    expect(now.validOrigins).toEqual(['https://both.example.com']);
  });

  it('an accepted PATCH is written to the write log with its body', async () => {
    const ops = [{ op: 'replace', path: '/name', value: 'logged' }];
    expect((await patch(ops)).status).toBe(204);
    const log = await writeLog();
    expect(log).toHaveLength(2);
    const e = log[1];
    expect(e).toMatchObject({ method: 'PATCH', path: `${WI}/${id}`, id, status: 204 });
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    expect(body).toEqual(ops);
  });
});

describe('invalid documents → 400, nothing applied', () => {
  it.each([
    ['an object instead of an array', { op: 'replace', path: '/name', value: 'x' }],
    ['a string', 'replace'],
    ['an empty array', []],
    ['an array holding a non-object', ['x']],
    ['an array holding null', [null]],
  ])('body is %s → 400 WEBINTEGRATIONS-4', async (_l, body) => {
    expectQlikError(await patch(body), 400, 'WEBINTEGRATIONS-4');
    await expectUnchanged();
  });

  it.each(['add', 'remove', 'move', 'copy', 'test', 'REPLACE', ''])('op %j → 400 WEBINTEGRATIONS-4', async (op) => {
    expectQlikError(await patch([{ op, path: '/name', value: 'x' }]), 400, 'WEBINTEGRATIONS-4');
    await expectUnchanged();
  });

  it('missing op → 400 WEBINTEGRATIONS-4', async () => {
    expectQlikError(await patch([{ path: '/name', value: 'x' }]), 400, 'WEBINTEGRATIONS-4');
    await expectUnchanged();
  });

  it.each(['/id', '/tenantId', '/created', '/lastUpdated', '/createdBy', '/foo', 'name', '/name/0', '/validOrigins/0', ''])(
    'path %j → 400 WEBINTEGRATIONS-4',
    async (path) => {
      expectQlikError(await patch([{ op: 'replace', path, value: 'x' }]), 400, 'WEBINTEGRATIONS-4');
      await expectUnchanged();
    },
  );

  it('missing path → 400 WEBINTEGRATIONS-4', async () => {
    expectQlikError(await patch([{ op: 'replace', value: 'x' }]), 400, 'WEBINTEGRATIONS-4');
    await expectUnchanged();
  });

  it('missing value → 400', async () => {
    expectQlikError(await patch([{ op: 'replace', path: '/name' }]), 400);
    await expectUnchanged();
  });

  it('empty name → 400 WEBINTEGRATIONS-6', async () => {
    expectQlikError(await patch([{ op: 'replace', path: '/name', value: '' }]), 400, 'WEBINTEGRATIONS-6');
    await expectUnchanged();
  });

  it('non-string name → 400 WEBINTEGRATIONS-6', async () => {
    expectQlikError(await patch([{ op: 'replace', path: '/name', value: 42 }]), 400, 'WEBINTEGRATIONS-6');
    await expectUnchanged();
  });

  it.each([
    ['a plain string that is not JSON', 'https://a.example.com'],
    ['a JSON string holding an object', '{"a":1}'],
    ['a number', 7],
    ['an object', { a: 1 }],
  ])('/validOrigins value %s → 400', async (_l, value) => {
    const err = expectQlikError(await patch([{ op: 'replace', path: '/validOrigins', value }]), 400);
    expect(['WEBINTEGRATIONS-4', 'WEBINTEGRATIONS-6']).toContain(err.code);
    await expectUnchanged();
  });

  it('one invalid op among valid ones → 400 and NOTHING applied (bad op last)', async () => {
    const res = await patch([
      { op: 'replace', path: '/name', value: 'should-not-stick' },
      { op: 'replace', path: '/validOrigins', value: ['https://new.example.com'] },
      { op: 'add', path: '/name', value: 'x' },
    ]);
    expectQlikError(res, 400, 'WEBINTEGRATIONS-4');
    await expectUnchanged();
  });

  it('one invalid origin in the second op → 400 pointer /1/value/<i>, nothing applied', async () => {
    const res = await patch([
      { op: 'replace', path: '/name', value: 'should-not-stick' },
      { op: 'replace', path: '/validOrigins', value: ['https://ok.example.com', 'https://ok2.example.com', 'https://*.example.com'] },
    ]);
    const err = expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/1/value/2');
    await expectUnchanged();
  });

  it('empty name in a later op after a valid op → nothing applied', async () => {
    const res = await patch([
      { op: 'replace', path: '/validOrigins', value: ['https://new.example.com'] },
      { op: 'replace', path: '/name', value: '' },
    ]);
    expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    await expectUnchanged();
  });

  it('a body that is not JSON → 400 HTTP-400', async () => {
    const res = await api.request('PATCH', `${WI}/${id}`, {
      body: '[{"op":"replace",',
      headers: { 'content-type': 'application/json' },
    });
    expectQlikError(res, 400, 'HTTP-400');
    await expectUnchanged();
  });
});

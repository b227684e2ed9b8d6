// Conformance: validOrigins rules on POST and PATCH.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import { client, expectQlikError, http, resetEmulator, WI, type Client } from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'origins-suite-key';

let emu: Emulator;
let api: Client;

beforeAll(async () => {
  // Many writes per test: keep the limiter out of the way here (rate-limits.test.ts covers it).
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, rateLimits: false });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
});

const ACCEPTED = [
  'https://a.example.com',
  'http://localhost:3000',
  'https://a.example.com:8443',
  'http://127.0.0.1:8080',
  'https://[::1]:8443',
  'https://xn--bcher-kva.example',
  'https://a.example.com:1',
  'https://a.example.com:65535',
  'http://localhost',
];

const REJECTED: [string, unknown][] = [
  ['wildcard host', 'https://*.example.com'],
  ['trailing slash', 'https://a.example.com/'],
  ['path', 'https://a.example.com/path'],
  ['query', 'https://a.example.com?q=1'],
  ['fragment', 'https://a.example.com#f'],
  ['user info', 'https://user:pw@a.example.com'],
  ['ftp scheme', 'ftp://a.example.com'],
  ['javascript scheme', 'javascript:alert(1)'],
  ['no scheme', 'a.example.com'],
  ['empty string', ''],
  ['non-string 42', 42],
  ['null', null],
  ['port 0', 'https://a.example.com:0'],
  ['port 70000', 'https://a.example.com:70000'],
  ['port with a leading zero', 'https://a.example.com:080'],
  ['non-ASCII host', 'https://bücher.example'],
  ['scheme without host', 'https://'],
  ['space in host', 'https://a example.com'],
  // not IPv4 literals, and not host names a browser would ever send as an Origin
  ['IPv4 octet over 255', 'https://256.1.1.1'],
  ['five-part dotted number', 'https://1.2.3.4.5'],
  ['IPv6 with a zone id', 'https://[fe80::1%25eth0]'],
];

const dump = async () => (await http('GET', `${emu.url}/__emulator/integrations`)).body.data as any[];
const logLen = async () => ((await http('GET', `${emu.url}/__emulator/write-log`)).body.entries as any[]).length;

describe('accepted origins', () => {
  it('POST accepts every allowed form and stores them as given', async () => {
    const res = await api.post(WI, { name: 'ok', validOrigins: ACCEPTED });
    expect(res.status, res.text).toBe(201);
    expect(res.body.validOrigins).toEqual(ACCEPTED);
    expect((await api.get(`${WI}/${res.body.id}`)).body.validOrigins).toEqual(ACCEPTED);
  });

  it.each(ACCEPTED)('POST accepts %s on its own', async (origin) => {
    const res = await api.post(WI, { name: 'one', validOrigins: [origin] });
    expect(res.status, res.text).toBe(201);
    expect(res.body.validOrigins).toEqual([origin]);
  });

  it('PATCH accepts every allowed form (array and JSON-string value)', async () => {
    const c = await api.post(WI, { name: 'p' });
    const a = await api.patch(`${WI}/${c.body.id}`, [{ op: 'replace', path: '/validOrigins', value: ACCEPTED }]);
    expect(a.status, a.text).toBe(204);
    expect((await api.get(`${WI}/${c.body.id}`)).body.validOrigins).toEqual(ACCEPTED);
    const rev = [...ACCEPTED].reverse();
    const b = await api.patch(`${WI}/${c.body.id}`, [{ op: 'replace', path: '/validOrigins', value: JSON.stringify(rev) }]);
    expect(b.status, b.text).toBe(204);
    expect((await api.get(`${WI}/${c.body.id}`)).body.validOrigins).toEqual(rev);
  });

  it('case is preserved', async () => {
    const mixed = ['https://App.Example.COM', 'http://LocalHost:3000'];
    const res = await api.post(WI, { name: 'case', validOrigins: mixed });
    expect(res.status, res.text).toBe(201);
    expect((await api.get(`${WI}/${res.body.id}`)).body.validOrigins).toEqual(mixed);
  });
});

describe('rejected origins → 400 WEBINTEGRATIONS-6 naming the entry', () => {
  it.each(REJECTED)('POST: %s → pointer /validOrigins/1', async (_l, bad) => {
    const res = await api.post(WI, { name: 'bad', validOrigins: ['https://fine.example.com', bad] });
    const err = expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/validOrigins/1');
    expect(await dump()).toEqual([]);
    expect(await logLen()).toBe(0);
  });

  it.each(REJECTED)('PATCH (array value): %s → pointer /0/value/2', async (_l, bad) => {
    const c = await api.post(WI, { name: 'p', validOrigins: ['https://keep.example.com'] });
    expect(c.status).toBe(201);
    const res = await api.patch(`${WI}/${c.body.id}`, [
      { op: 'replace', path: '/validOrigins', value: ['https://fine.example.com', 'https://fine2.example.com', bad] },
    ]);
    const err = expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/0/value/2');
    expect((await api.get(`${WI}/${c.body.id}`)).body.validOrigins).toEqual(['https://keep.example.com']);
    expect(await logLen()).toBe(1);
  });

  it.each(REJECTED)('PATCH (JSON-string value): %s → pointer /0/value/0', async (_l, bad) => {
    const c = await api.post(WI, { name: 'p', validOrigins: ['https://keep.example.com'] });
    const res = await api.patch(`${WI}/${c.body.id}`, [
      { op: 'replace', path: '/validOrigins', value: JSON.stringify([bad]) },
    ]);
    const err = expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/0/value/0');
    expect((await api.get(`${WI}/${c.body.id}`)).body.validOrigins).toEqual(['https://keep.example.com']);
  });

  it('the pointer names the first bad entry', async () => {
    const res = await api.post(WI, {
      name: 'bad',
      validOrigins: ['https://a.example.com', 'https://b.example.com', 'https://c.example.com/', 'ftp://d.example.com'],
    });
    const err = expectQlikError(res, 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/validOrigins/2');
  });
});

describe('name', () => {
  it('missing → 400 WEBINTEGRATIONS-5 pointer /name', async () => {
    const err = expectQlikError(await api.post(WI, { validOrigins: ['https://a.example.com'] }), 400, 'WEBINTEGRATIONS-5');
    expect(err.source?.pointer).toBe('/name');
    expect(await dump()).toEqual([]);
  });

  it('only spaces is still a non-empty string (README: "a non-empty string") → 201, stored as given', async () => {
    const res = await api.post(WI, { name: '   ' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.name).toBe('   ');
  });

  it('empty → 400 WEBINTEGRATIONS-6 pointer /name', async () => {
    const err = expectQlikError(await api.post(WI, { name: '', validOrigins: [] }), 400, 'WEBINTEGRATIONS-6');
    expect(err.source?.pointer).toBe('/name');
  });
});

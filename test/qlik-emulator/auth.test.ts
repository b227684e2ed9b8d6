// Conformance: authentication (API key, OAuth2 client credentials, expiry, revocation).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import { client, expectQlikError, http, resetEmulator, sleep, WI, type Client } from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;

const API_KEY = 'auth-suite-key';
const CLIENT_ID = 'auth-suite-client';
const CLIENT_SECRET = 'auth-suite-secret';
const TENANT = 'authSuiteTenant0000000000000001';

let emu: Emulator;
let api: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({
    apiKey: API_KEY,
    port: 0,
    tenantId: TENANT,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
});

function tokenJson(base: string, body: Record<string, string>) {
  return http('POST', `${base}/oauth/token`, { json: body });
}
function tokenForm(base: string, body: Record<string, string>) {
  return http('POST', `${base}/oauth/token`, {
    body: new URLSearchParams(body).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}
const creds = { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET };

function expectTokenResponse(res: Awaited<ReturnType<typeof http>>) {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  const b = res.body as Record<string, unknown>;
  expect(Object.keys(b).sort()).toEqual(expect.arrayContaining(['access_token', 'expires_at', 'expires_in', 'scope', 'token_type']));
  expect(typeof b.access_token).toBe('string');
  expect((b.access_token as string).length).toBeGreaterThan(0);
  expect(b.token_type).toBe('bearer');
  expect(typeof b.expires_in).toBe('number');
  expect(b.expires_in as number).toBeGreaterThan(0);
  expect(b.expires_at).toBeDefined();
  if (typeof b.expires_at === 'string') {
    expect(Number.isNaN(Date.parse(b.expires_at))).toBe(false);
  } else {
    expect(typeof b.expires_at).toBe('number');
  }
  expect(typeof b.scope).toBe('string');
  return b as { access_token: string; expires_in: number; expires_at: string | number; scope: string };
}

describe('API key', () => {
  it('no Authorization header → 401 HTTP-401 envelope with traceId', async () => {
    const res = await http('GET', `${emu.url}${WI}`);
    const err = expectQlikError(res, 401, 'HTTP-401');
    expect(err.status).toBe('401');
    expect(typeof res.body.traceId).toBe('string');
  });

  it('wrong key → 401 on every method', async () => {
    const bad = client(emu.url, 'not-the-key');
    expectQlikError(await bad.get(WI), 401, 'HTTP-401');
    expectQlikError(await bad.get(`${WI}/whatever`), 401, 'HTTP-401');
    expectQlikError(await bad.post(WI, { name: 'x' }), 401, 'HTTP-401');
    expectQlikError(await bad.patch(`${WI}/whatever`, [{ op: 'replace', path: '/name', value: 'y' }]), 401, 'HTTP-401');
    expectQlikError(await bad.del(`${WI}/whatever`), 401, 'HTTP-401');
    const dump = await http('GET', `${emu.url}/__emulator/integrations`);
    expect(dump.body.data).toEqual([]);
  });

  it.each([
    ['Basic scheme', `Basic ${API_KEY}`],
    ['no scheme', API_KEY],
    ['scheme only', 'Bearer'],
    ['other scheme', `Token ${API_KEY}`],
    ['empty', ''],
    ['key with suffix', `Bearer ${API_KEY}x`],
    ['key prefix', `Bearer ${API_KEY.slice(0, -1)}`],
  ])('malformed header (%s) → 401', async (_label, header) => {
    const res = await http('GET', `${emu.url}${WI}`, { headers: { authorization: header } });
    expectQlikError(res, 401, 'HTTP-401');
  });

  it('valid API key works', async () => {
    const res = await api.get(WI);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual([]);
  });
});

describe('OAuth2 client credentials', () => {
  it('JSON body → token response', async () => {
    const t = expectTokenResponse(await tokenJson(emu.url, creds));
    expect(t.expires_in).toBe(3600);
  });

  it('form-urlencoded body → token response', async () => {
    expectTokenResponse(await tokenForm(emu.url, creds));
  });

  it('token works as a Bearer for reads and writes', async () => {
    const t = expectTokenResponse(await tokenJson(emu.url, creds));
    const oauth = client(emu.url, t.access_token);
    expect((await oauth.get(WI)).status).toBe(200);
    const created = await oauth.post(WI, { name: 'via-oauth' });
    expect(created.status, created.text).toBe(201);
    const form = expectTokenResponse(await tokenForm(emu.url, creds));
    expect((await client(emu.url, form.access_token).get(`${WI}/${created.body.id}`)).status).toBe(200);
  });

  it('wrong secret → 401', async () => {
    expectQlikError(await tokenJson(emu.url, { ...creds, client_secret: 'wrong' }), 401);
    expectQlikError(await tokenForm(emu.url, { ...creds, client_secret: 'wrong' }), 401);
  });

  it('unknown client id → 401', async () => {
    expectQlikError(await tokenJson(emu.url, { ...creds, client_id: 'someone-else' }), 401);
  });

  it('unsupported grant_type → 400', async () => {
    expectQlikError(await tokenJson(emu.url, { ...creds, grant_type: 'password' }), 400);
    expectQlikError(await tokenForm(emu.url, { ...creds, grant_type: 'authorization_code' }), 400);
  });

  it('the API key is not a client secret and a client secret is not an API key', async () => {
    expectQlikError(await api.get(WI, { token: CLIENT_SECRET }), 401, 'HTTP-401');
    expectQlikError(await tokenJson(emu.url, { ...creds, client_secret: API_KEY }), 401);
  });

  it('POST /__emulator/tokens/revoke → issued tokens get 401, the API key still works, new tokens work', async () => {
    const t = expectTokenResponse(await tokenJson(emu.url, creds));
    expect((await client(emu.url, t.access_token).get(WI)).status).toBe(200);
    const rv = await http('POST', `${emu.url}/__emulator/tokens/revoke`);
    expect(rv.status).toBe(204);
    expectQlikError(await client(emu.url, t.access_token).get(WI), 401, 'HTTP-401');
    expect((await api.get(WI)).status).toBe(200);
    const t2 = expectTokenResponse(await tokenJson(emu.url, creds));
    expect((await client(emu.url, t2.access_token).get(WI)).status).toBe(200);
  });

  it('POST /__emulator/reset drops issued tokens', async () => {
    const t = expectTokenResponse(await tokenJson(emu.url, creds));
    await resetEmulator(emu.url);
    expectQlikError(await client(emu.url, t.access_token).get(WI), 401, 'HTTP-401');
  });
});

// Each test starts its own emulator, so they can wait out their clocks side by side.
describe.concurrent('token expiry', () => {
  it('tokenTtlSeconds 1 → token works at once, then 401 after it expires', async () => {
    const short = await startQlikEmulator({ apiKey: API_KEY, port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenTtlSeconds: 1 });
    try {
      const t = expectTokenResponse(await tokenJson(short.url, creds));
      expect(t.expires_in).toBe(1);
      expect((await client(short.url, t.access_token).get(WI)).status).toBe(200);
      await sleep(1300);
      expectQlikError(await client(short.url, t.access_token).get(WI), 401, 'HTTP-401');
      expect((await client(short.url, API_KEY).get(WI)).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('token ttl is in real seconds: a high timeScale (limiter clock only) does not expire tokens early', async () => {
    const fast = await startQlikEmulator({
      apiKey: API_KEY, port: 0, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenTtlSeconds: 600, timeScale: 1000,
    });
    try {
      const t = expectTokenResponse(await tokenJson(fast.url, creds));
      expect(t.expires_in).toBe(600);
      expect((await client(fast.url, t.access_token).get(WI)).status).toBe(200);
      await sleep(900); // 900 s at 1000x if the token clock were scaled
      expect((await client(fast.url, t.access_token).get(WI)).status).toBe(200);
    } finally {
      await fast.close();
    }
  });

  it('without OAuth configured, /oauth/token rejects any client', async () => {
    const plain = await startQlikEmulator({ apiKey: API_KEY, port: 0 });
    try {
      const res = await tokenJson(plain.url, creds);
      expect(res.status).toBe(401);
    } finally {
      await plain.close();
    }
  });
});

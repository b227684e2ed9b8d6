// Conformance: GET /api/v1/web-integrations — limit, sort, cursors, tenant filter, links.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startQlikEmulator } from '../../local/qlik-emulator/server.js';
import {
  client, expectIntegration, expectQlikError, http, resetEmulator, WI, type Client, type HttpResult,
} from '../helpers/http.js';

type Emulator = Awaited<ReturnType<typeof startQlikEmulator>>;
interface Item { id: string; name: string; [k: string]: unknown }

const API_KEY = 'list-suite-key';
const TENANT = 'listSuiteTenant000000000000001';
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

let emu: Emulator;
let api: Client;

beforeAll(async () => {
  emu = await startQlikEmulator({ apiKey: API_KEY, port: 0, tenantId: TENANT, rateLimits: false });
  api = client(emu.url, API_KEY);
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(async () => {
  await resetEmulator(emu.url);
});

/** Seeds `n` integrations with many name ties and ids not in insertion order; returns them. */
async function seed(n: number): Promise<Item[]> {
  const integrations = Array.from({ length: n }, (_, i) => ({
    // 32-char alphanumeric ids, like Qlik's; insertion order differs from id order.
    id: `WI${String((i * 7) % n).padStart(2, '0')}${'A'.repeat(28)}`,
    name: WORDS[(i * 3) % WORDS.length] as string,
    validOrigins: [`https://app${i}.example.com`],
  }));
  const res = await http('POST', `${emu.url}/__emulator/seed`, { json: { integrations } });
  expect(res.status, res.text).toBe(201);
  const dump = await http('GET', `${emu.url}/__emulator/integrations`);
  expect(dump.body.data).toHaveLength(n);
  return dump.body.data as Item[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byNameAsc = (a: Item, b: Item) => cmp(a.name, b.name) || cmp(a.id, b.id);
const ids = (items: Item[]) => items.map((i) => i.id);

async function list(query: Record<string, string | number | undefined>): Promise<HttpResult> {
  const res = await api.get(WI, { query });
  return res;
}

async function follow(href: string): Promise<HttpResult> {
  // Hrefs must be absolute and usable as they are.
  expect(() => new URL(href)).not.toThrow();
  expect(href.startsWith(emu.url), `href ${href} should point at ${emu.url}`).toBe(true);
  const res = await http('GET', href, { token: API_KEY });
  expect(res.status, `${href} → ${res.status} ${res.text}`).toBe(200);
  return res;
}

/** Follows links.next from a first page until absent; returns every page. */
async function walkNext(first: HttpResult): Promise<HttpResult[]> {
  const pages = [first];
  let cur = first;
  while (cur.body.links?.next) {
    if (pages.length > 60) throw new Error('links.next never ends');
    cur = await follow(cur.body.links.next.href);
    pages.push(cur);
  }
  return pages;
}
async function walkPrev(last: HttpResult): Promise<HttpResult[]> {
  const pages = [last];
  let cur = last;
  while (cur.body.links?.prev) {
    if (pages.length > 60) throw new Error('links.prev never ends');
    cur = await follow(cur.body.links.prev.href);
    pages.push(cur);
  }
  return pages;
}

function expectPage(res: HttpResult) {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('content-type') ?? '').toMatch(/application\/json/);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'links']);
  expect(Array.isArray(res.body.data)).toBe(true);
  for (const it of res.body.data) expectIntegration(it);
  expect(typeof res.body.links.self?.href).toBe('string');
  for (const k of Object.keys(res.body.links)) expect(['self', 'next', 'prev']).toContain(k);
  for (const k of ['next', 'prev'] as const) {
    if (res.body.links[k] !== undefined) expect(typeof res.body.links[k].href).toBe('string');
  }
}

describe('limit', () => {
  it('defaults to 10 with links.next and no links.prev on the first page', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({});
    expectPage(res);
    expect(ids(res.body.data)).toEqual(ids(all.slice(0, 10)));
    expect(res.body.links.next).toBeDefined();
    expect(res.body.links.prev).toBeUndefined();
  });

  it.each([0, 1, 10, 25, 99, 100])('limit=%i is accepted', async (limit) => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ limit });
    expectPage(res);
    expect(ids(res.body.data)).toEqual(ids(all.slice(0, limit)));
    expect(res.body.links.prev).toBeUndefined();
    if (limit >= 25) expect(res.body.links.next).toBeUndefined();
    if (limit > 0 && limit < 25) expect(res.body.links.next).toBeDefined();
  });

  it.each(['-1', '101', 'abc', '1.5'])('limit=%j → 400 HTTP-400 with source.parameter "limit"', async (limit) => {
    await seed(3);
    const res = await list({ limit });
    const err = expectQlikError(res, 400, 'HTTP-400');
    expect(err.source?.parameter).toBe('limit');
  });

  it('no next link when the page ends exactly at the last item', async () => {
    await seed(20);
    const p1 = await list({ limit: 10 });
    expect(p1.body.links.next).toBeDefined();
    const p2 = await follow(p1.body.links.next.href);
    expectPage(p2);
    expect(p2.body.data).toHaveLength(10);
    expect(p2.body.links.next).toBeUndefined();
    expect(p2.body.links.prev).toBeDefined();
  });

  it('empty tenant: data [] and only links.self', async () => {
    const res = await list({});
    expectPage(res);
    expect(res.body.data).toEqual([]);
    expect(Object.keys(res.body.links)).toEqual(['self']);
  });
});

describe('sort', () => {
  it('default, name and +name sort ascending by name, ties by id', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    for (const sort of [undefined, 'name', '+name']) {
      const res = await list({ sort, limit: 100 });
      expectPage(res);
      expect(ids(res.body.data), `sort=${sort}`).toEqual(ids(all));
    }
  });

  it('-name sorts descending by name, ties by id (consistently)', async () => {
    const all = await seed(25);
    const res = await list({ sort: '-name', limit: 100 });
    expectPage(res);
    const got = ids(res.body.data);
    const desc1 = ids([...all].sort((a, b) => cmp(b.name, a.name) || cmp(a.id, b.id)));
    const desc2 = ids([...all].sort((a, b) => cmp(b.name, a.name) || cmp(b.id, a.id)));
    expect([desc1, desc2]).toContainEqual(got);
  });

  it.each(['id', 'created', '-created', 'NAME', 'name,id', '++name', 'foo'])('sort=%j → 400 with source.parameter "sort"', async (sort) => {
    await seed(3);
    const err = expectQlikError(await list({ sort }), 400, 'HTTP-400');
    expect(err.source?.parameter).toBe('sort');
  });
});

describe('cursors', () => {
  it('startingAfter is exclusive and returns the following items', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ startingAfter: all[9]!.id, limit: 5 });
    expectPage(res);
    expect(ids(res.body.data)).toEqual(ids(all.slice(10, 15)));
    expect(res.body.links.next).toBeDefined();
    expect(res.body.links.prev).toBeDefined();
  });

  it('endingBefore is exclusive and returns the preceding items in sort order', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ endingBefore: all[10]!.id, limit: 5 });
    expectPage(res);
    expect(ids(res.body.data)).toEqual(ids(all.slice(5, 10)));
    expect(res.body.links.next).toBeDefined();
    expect(res.body.links.prev).toBeDefined();
  });

  it('endingBefore near the start returns only what precedes, with no links.prev', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ endingBefore: all[3]!.id, limit: 10 });
    expectPage(res);
    expect(ids(res.body.data)).toEqual(ids(all.slice(0, 3)));
    expect(res.body.links.prev).toBeUndefined();
    expect(res.body.links.next).toBeDefined();
  });

  it('startingAfter the last item → empty page without links.next', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ startingAfter: all[24]!.id });
    expectPage(res);
    expect(res.body.data).toEqual([]);
    expect(res.body.links.next).toBeUndefined();
  });

  it('endingBefore the first item → empty page without links.prev', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const res = await list({ endingBefore: all[0]!.id });
    expectPage(res);
    expect(res.body.data).toEqual([]);
    expect(res.body.links.prev).toBeUndefined();
  });

  it('startingAfter works inside a group of equal names (ties by id)', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    // all[0..2] share the first name (25 items over 10 names → 2 or 3 each)
    expect(all[0]!.name).toBe(all[1]!.name);
    const res = await list({ startingAfter: all[0]!.id, limit: 3 });
    expect(ids(res.body.data)).toEqual(ids(all.slice(1, 4)));
  });

  it('both startingAfter and endingBefore → 400', async () => {
    const all = (await seed(5)).sort(byNameAsc);
    const err = expectQlikError(await list({ startingAfter: all[0]!.id, endingBefore: all[4]!.id }), 400, 'HTTP-400');
    expect(['startingAfter', 'endingBefore']).toContain(err.source?.parameter);
  });

  it.each(['startingAfter', 'endingBefore'])('unknown %s id → 400 naming the parameter', async (param) => {
    await seed(5);
    const err = expectQlikError(await list({ [param]: 'doesNotExist0000000000000000000' }), 400, 'HTTP-400');
    expect(err.source?.parameter).toBe(param);
  });

  it('a deleted id is an unknown cursor', async () => {
    const all = (await seed(5)).sort(byNameAsc);
    expect((await api.del(`${WI}/${all[2]!.id}`)).status).toBe(204);
    const err = expectQlikError(await list({ startingAfter: all[2]!.id }), 400, 'HTTP-400');
    expect(err.source?.parameter).toBe('startingAfter');
  });
});

describe('walking pages through links', () => {
  it('forward via links.next (limit 7): every item exactly once, in order, no overlap', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const first = await list({ limit: 7 });
    const pages = await walkNext(first);
    pages.forEach(expectPage);
    expect(pages.map((p) => p.body.data.length)).toEqual([7, 7, 7, 4]);
    expect(pages.flatMap((p) => ids(p.body.data))).toEqual(ids(all));
    expect(pages[0]!.body.links.prev).toBeUndefined();
    for (const p of pages.slice(1)) expect(p.body.links.prev).toBeDefined();
    for (const p of pages.slice(0, -1)) expect(p.body.links.next).toBeDefined();
  });

  it('backward via links.prev from the last page: every item exactly once, no overlap', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const last = await list({ startingAfter: all[19]!.id, limit: 7 });
    expectPage(last);
    expect(ids(last.body.data)).toEqual(ids(all.slice(20)));
    expect(last.body.links.next).toBeUndefined();
    const pages = await walkPrev(last);
    pages.forEach(expectPage);
    const collected = pages.reverse().flatMap((p) => ids(p.body.data));
    expect(collected).toEqual(ids(all));
    expect(new Set(collected).size).toBe(25);
  });

  it('prev of the second page gives back exactly the first page', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const p1 = await list({ limit: 10 });
    const p2 = await follow(p1.body.links.next.href);
    expect(ids(p2.body.data)).toEqual(ids(all.slice(10, 20)));
    const back = await follow(p2.body.links.prev.href);
    expect(ids(back.body.data)).toEqual(ids(p1.body.data));
    expect(back.body.links.prev).toBeUndefined();
  });

  it('links keep sort=-name and the limit', async () => {
    await seed(25);
    const full = await list({ sort: '-name', limit: 100 });
    const pages = await walkNext(await list({ sort: '-name', limit: 4 }));
    expect(pages).toHaveLength(7);
    for (const p of pages.slice(0, -1)) expect(p.body.data).toHaveLength(4);
    expect(pages.flatMap((p) => ids(p.body.data))).toEqual(ids(full.body.data));
  });

  it('links.self is absolute and answers the same page', async () => {
    const all = (await seed(25)).sort(byNameAsc);
    const p = await list({ startingAfter: all[4]!.id, limit: 6, sort: 'name' });
    const again = await follow(p.body.links.self.href);
    expect(again.body.data).toEqual(p.body.data);
  });

  it('links keep the tenantId filter', async () => {
    await seed(25);
    const pages = await walkNext(await list({ tenantId: TENANT, limit: 10 }));
    expect(pages.flatMap((p) => ids(p.body.data))).toHaveLength(25);
    for (const p of pages) expect(new URL(p.body.links.self.href).searchParams.get('tenantId')).toBe(TENANT);
  });
});

describe('tenantId filter', () => {
  it('own tenant id → all items, all carrying that tenantId', async () => {
    await seed(25);
    const res = await list({ tenantId: TENANT, limit: 100 });
    expectPage(res);
    expect(res.body.data).toHaveLength(25);
    for (const it of res.body.data) expect(it.tenantId).toBe(TENANT);
  });

  it('another tenant id → empty data, no next/prev', async () => {
    await seed(25);
    const res = await list({ tenantId: 'someOtherTenant00000000000000001' });
    expectPage(res);
    expect(res.body.data).toEqual([]);
    expect(res.body.links.next).toBeUndefined();
    expect(res.body.links.prev).toBeUndefined();
  });
});

// Conformance: the command line (local/qlik-emulator/main.ts, `npm run qlik-emulator`).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { client, http, WI } from '../helpers/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join('local', 'qlik-emulator', 'main.ts');

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Run[] = [];
afterAll(() => {
  // Kill the whole group (spawned detached), so a test that failed before its SIGTERM leaves no
  // server behind.
  for (const r of children.splice(0)) {
    if (r.child.pid === undefined) continue;
    try {
      process.kill(-r.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function run(args: string[]): Run {
  // As `npm run qlik-emulator` runs it: one node process with tsx's loader.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })));
  const r = { child, stdout: () => out, stderr: () => err, exited };
  children.push(r);
  return r;
}

async function readyLine(r: Run, timeoutMs = 15_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = r.stdout();
    const nl = out.indexOf('\n');
    if (nl >= 0) return JSON.parse(out.slice(0, nl));
    if (r.child.exitCode !== null) throw new Error(`exited ${r.child.exitCode} before ready; stderr: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no ready line within ${timeoutMs} ms; stdout: ${r.stdout()} stderr: ${r.stderr()}`);
}

async function exitWithin(r: Run, ms: number) {
  return Promise.race([
    r.exited,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`did not exit within ${ms} ms`)), ms)),
  ]);
}

// Every test spawns its own process on its own port, so they run side by side.
describe.concurrent('qlik-emulator CLI', () => {
  it('prints exactly one ready JSON line, serves, and exits on SIGTERM', async () => {
    const r = run(['--port', '0', '--api-key', 'cli-key', '--tenant-id', 'cliTenant000000000000000000001']);
    const ready = await readyLine(r);
    expect(Object.keys(ready).sort()).toEqual(['ready', 'service', 'tenantId', 'url']);
    expect(ready.ready).toBe(true);
    expect(ready.service).toBe('qlik-emulator');
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(ready.url).port)).toBeGreaterThan(0);
    expect(ready.tenantId).toBe('cliTenant000000000000000000001');

    const api = client(ready.url, 'cli-key');
    const created = await api.post(WI, { name: 'from cli test' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.tenantId).toBe('cliTenant000000000000000000001');
    expect((await http('GET', `${ready.url}${WI}`)).status).toBe(401);

    r.child.kill('SIGTERM');
    const exit = await exitWithin(r, 5000);
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    // and the server itself is gone, not just the wrapper
    await expect(http('GET', `${ready.url}/__emulator/health`)).rejects.toThrow();
    // exactly one line on stdout over the whole run
    expect(r.stdout().trimEnd().split('\n')).toHaveLength(1);
  });

  it('honours --read-only-api-key, --client-id/--client-secret and --rate-limits off', async () => {
    const r = run([
      '--port', '0', '--api-key', 'main', '--read-only-api-key', 'ro1', '--read-only-api-key', 'ro2',
      '--client-id', 'cid', '--client-secret', 'csecret', '--rate-limits', 'off',
    ]);
    const ready = await readyLine(r);
    expect(typeof ready.tenantId).toBe('string');
    expect(ready.tenantId.length).toBeGreaterThan(0);
    for (const ro of ['ro1', 'ro2']) {
      expect((await client(ready.url, ro).get(WI)).status).toBe(200);
      expect((await client(ready.url, ro).post(WI, { name: 'x' })).status).toBe(403);
    }
    const t = await http('POST', `${ready.url}/oauth/token`, {
      json: { grant_type: 'client_credentials', client_id: 'cid', client_secret: 'csecret' },
    });
    expect(t.status, t.text).toBe(200);
    const oauth = client(ready.url, t.body.access_token);
    const c = await oauth.post(WI, { name: 'n' });
    expect(c.status).toBe(201);
    for (let i = 0; i < 105; i++) {
      const res = await oauth.patch(`${WI}/${c.body.id}`, [{ op: 'replace', path: '/name', value: `n${i}` }]);
      if (res.status !== 204) throw new Error(`write ${i} → ${res.status} with --rate-limits off`);
    }
    r.child.kill('SIGTERM');
    await exitWithin(r, 5000);
  });

  it('--state keeps integrations across a SIGTERM and a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qlik-emu-cli-'));
    try {
      const file = join(dir, 'state.json');
      const args = ['--port', '0', '--api-key', 'k', '--tenant-id', 'cliStateTenant', '--state', file];
      const r1 = run(args);
      const ready1 = await readyLine(r1);
      const created = await client(ready1.url, 'k').post(WI, { name: 'persisted', validOrigins: ['https://p.example.com'] });
      expect(created.status).toBe(201);
      r1.child.kill('SIGTERM');
      await exitWithin(r1, 5000);
      const r2 = run(args);
      const ready2 = await readyLine(r2);
      const got = await client(ready2.url, 'k').get(`${WI}/${created.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body.validOrigins).toEqual(['https://p.example.com']);
      r2.child.kill('SIGTERM');
      await exitWithin(r2, 5000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a bad flag value → non-zero exit with a message naming the flag', async () => {
    const r = run(['--port', '0', '--api-key', 'k', '--rate-limits', 'maybe']);
    const exit = await exitWithin(r, 15_000);
    expect(exit.code).not.toBe(0);
    expect(r.stderr()).toMatch(/rate-limits/);
    expect(r.stdout()).not.toMatch(/"ready"/);
  });

  it('missing --api-key → non-zero exit and a clear message on stderr, no ready line', async () => {
    const r = run(['--port', '0']);
    const exit = await exitWithin(r, 15_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(r.stderr()).toMatch(/api-key/i);
    expect(r.stdout()).not.toMatch(/"ready"/);
  });
});

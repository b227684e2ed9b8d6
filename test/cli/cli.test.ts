/**
 * The operator CLI end to end: `node bin/origin-sync.js` as a child process against the local
 * cloud (DynamoDB Local, the Qlik emulator, the Secrets Manager endpoint), started once in this
 * process. Each test checks what a person sees (human output), what a script reads (`--json`)
 * and the exit code. The tests build on each other, in order, like an operator's session.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud.js';
import { runCli, type CliRun, type RunOptions } from './runCli.js';

let cloud: LocalCloud;
let directory: string;
let stateFile: string;
/** The demo target (`demo/<id>`, policy `https://*.example.com`, sync, managed, max 10). */
let demo: string;
let demoId: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'origin-sync-cli-'));
  stateFile = join(directory, 'local.json');
  const { startLocalCloud } = await import('../../local/cloud.js');
  cloud = await startLocalCloud({ scanIntervalSeconds: 0, stateFile });
  demoId = cloud.ready.webIntegrationId;
  demo = `demo/${demoId}`;
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** The CLI pointed at this file's local cloud. */
function cli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return runCli([...args, '--state-file', stateFile], options);
}

async function originsOf(id: string): Promise<string[]> {
  const response = await fetch(`${cloud.ready.endpoints.qlik}/__emulator/integrations`);
  const { data } = (await response.json()) as { data: { id: string; validOrigins: string[] }[] };
  const integration = data.find((entry) => entry.id === id);
  if (!integration) throw new Error(`no integration ${id} in the emulator`);
  return integration.validOrigins;
}

/** Edits an integration as a person in the Qlik console would (no write log, no rate limit). */
async function editInQlik(id: string, validOrigins: string[]): Promise<void> {
  const response = await fetch(`${cloud.ready.endpoints.qlik}/__emulator/integrations/${id}`, { method: 'PUT', body: JSON.stringify({ validOrigins }) });
  expect(response.status).toBe(200);
}

async function seedIntegration(name: string): Promise<string> {
  const response = await fetch(`${cloud.ready.endpoints.qlik}/__emulator/seed`, { method: 'POST', body: JSON.stringify({ integrations: [{ name }] }) });
  return ((await response.json()) as { data: { id: string }[] }).data[0]!.id;
}

/** Exactly one line on stderr, and no stack trace. */
function expectOneLineError(run: CliRun): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^origin-sync: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('origin-sync against the local cloud', () => {
  it('status: a table for people and stable JSON for scripts', async () => {
    const [human, json] = await Promise.all([cli(['status']), cli(['status', '--json'])]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^TARGET\s+INTEGRATION\s+POLICY\s+APPLIED\/DESIRED\s+IN QLIK\s+MANAGED\s+LAST RECONCILE\s+LEASE/);
    expect(human.stdout).toContain(demo);
    expect(human.stdout).toContain('demo-portal');
    expect(human.stdout).toContain('sync/managed/max 10');
    expect(human.stdout).not.toContain('\u001b['); // NO_COLOR

    expect(json.code, json.stderr).toBe(0);
    const { targets } = json.json<{ targets: Record<string, unknown>[] }>();
    expect(targets).toHaveLength(1);
    expect(Object.keys(targets[0]!)).toEqual([
      'target', 'tenant', 'webIntegrationId', 'integrationName', 'policy', 'desiredVersion', 'appliedVersion', 'behind',
      'originsInQlik', 'managedOrigins', 'managedCount', 'lastReconcileAt', 'lastError', 'lease', 'qlikError',
    ]);
    expect(targets[0]).toMatchObject({
      target: demo,
      tenant: 'demo',
      webIntegrationId: demoId,
      integrationName: 'demo-portal',
      policy: { allowedOrigins: ['https://*.example.com'], mode: 'sync', ownership: 'managed', maxRemovalsPerRun: 10 },
      originsInQlik: ['https://intranet.example.net'],
      managedOrigins: [],
      managedCount: 0,
      lease: null,
      qlikError: null,
    });
  });

  it('plan: exit 0 while the target is in sync; hand-added origins are reported, not touched', async () => {
    const run = await cli(['plan']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${demo}: in sync (1 origin, 1 not ours)`);
    expect(run.stdout).toContain('No drift');
  });

  it('register: the origin is normalised, checked against the policy and appears in Qlik', async () => {
    const run = await cli(['register', '--app', 'shop', '--target', demo, '--origin', 'https://Shop.Example.com:443']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Registered app shop on ${demo}: https://shop.example.com.`);
    expect(run.stdout).toContain('+ https://shop.example.com');
    expect(await originsOf(demoId)).toEqual(['https://intranet.example.net', 'https://shop.example.com']);
  });

  it('register: an origin outside the policy is refused with one line and exit 1, and nothing is written', async () => {
    const [human, json] = await Promise.all([
      cli(['register', '--app', 'evil', '--target', demo, '--origin', 'https://evil.example.org']),
      cli(['register', '--app', 'evil', '--target', demo, '--origin', 'javascript:alert(1)', '--json']),
    ]);
    expectOneLineError(human);
    expect(human.stderr).toContain('origin "https://evil.example.org" is outside the allowed origins of this target (https://*.example.com)');
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({ error: { code: 'invalid-input', message: expect.stringContaining('rejected') } });
    expect(await originsOf(demoId)).toEqual(['https://intranet.example.net', 'https://shop.example.com']);
  });

  it('plan: exit 2 after a manual edit in Qlik, with the drift shown; apply fixes it; plan: exit 0 again', async () => {
    await editInQlik(demoId, ['https://intranet.example.net']);
    const [human, json] = await Promise.all([cli(['plan']), cli(['plan', '--json', '--target', demo])]);
    expect(human.code, human.stderr).toBe(2);
    expect(human.stdout).toContain(`${demo}: 1 to add, 0 to remove`);
    expect(human.stdout).toContain('  + https://shop.example.com');
    expect(human.stdout).toContain('"origin-sync apply" fixes it');
    expect(json.code).toBe(2);
    expect(json.json()).toMatchObject({
      drift: true,
      targets: [{ target: demo, drift: true, hasChanges: true, guardTripped: false, add: ['https://shop.example.com'], remove: [], before: ['https://intranet.example.net'], after: ['https://intranet.example.net', 'https://shop.example.com'], allowRemovalsNeeded: null, error: null }],
    });
    expect(await originsOf(demoId)).toEqual(['https://intranet.example.net']); // plan wrote nothing

    const apply = await cli(['apply', '--json']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.json()).toMatchObject({ targets: [{ target: demo, status: 'changed', writes: 1, added: ['https://shop.example.com'], removed: [], error: null }] });
    expect(await originsOf(demoId)).toEqual(['https://intranet.example.net', 'https://shop.example.com']);

    const again = await cli(['plan']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  describe('the removal guard', () => {
    let guarded: string;
    let guardedId: string;

    it('targets add: validates the policy per field, checks the integration with Qlik, and records the target', async () => {
      guardedId = await seedIntegration('guarded');
      guarded = `demo/${guardedId}`;
      const [invalid, missing] = await Promise.all([
        cli(['targets', 'add', '--target', guarded, '--allowed-origin', 'https://*.com', 'ftp://files.example.com', '--max-removals', '1']),
        cli(['targets', 'add', '--target', 'demo/NoSuchIntegration', '--allowed-origin', 'https://*.example.com']),
      ]);
      expect(invalid.code).toBe(1);
      expect(invalid.stderr.split('\n')[0]).toBe('origin-sync: invalid policy');
      expect(invalid.stderr).toContain('--allowed-origin #1: "*" must be followed by at least 2 labels');
      expect(invalid.stderr).toContain('--allowed-origin #2: scheme "ftp" is not allowed');
      expectOneLineError(missing);
      expect(missing.stderr).toContain('the web integration NoSuchIntegration does not exist in Qlik');

      const add = await cli(['targets', 'add', '--target', guarded, '--allowed-origin', 'https://*.Example.com', '--max-removals', '1']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toContain(`Added target ${guarded} (web integration "guarded").`);
      expect(add.stdout).toContain('allowed origins: https://*.example.com');
      expect(add.stdout).toContain('at most 1 removal per run');

      const twice = await cli(['targets', 'add', '--target', guarded, '--allowed-origin', 'https://*.example.com']);
      expectOneLineError(twice);
      expect(twice.stderr).toContain('already exists: change its policy with "origin-sync targets set-policy');
    });

    it('deregistering two managed origins trips the guard: Qlik keeps them and the CLI says how to confirm', async () => {
      const register = await cli(['register', '--app', 'multi', '--target', guarded, '--origin', 'https://a1.example.com', '--origin', 'https://a2.example.com']);
      expect(register.code, register.stderr).toBe(0);
      expect(await originsOf(guardedId)).toEqual(['https://a1.example.com', 'https://a2.example.com']);

      const deregister = await cli(['deregister', '--app', 'multi', '--target', guarded, '--json']);
      expect(deregister.code, deregister.stderr).toBe(0);
      expect(deregister.json()).toMatchObject({ action: 'deregister', status: 'applied', appId: 'multi', origins: [], reconcile: { status: 'held-back', removed: [] } });
      expect(deregister.stderr).toContain(`the removal guard held back 2 removals on ${guarded}`);
      expect(await originsOf(guardedId)).toEqual(['https://a1.example.com', 'https://a2.example.com']);
    });

    it('plan exits 2; apply refuses without --allow-removals, and without --yes when stdin is not a terminal', async () => {
      const [plan, refused, unconfirmed] = await Promise.all([
        cli(['plan', '--target', guarded]),
        cli(['apply', '--target', guarded]),
        cli(['apply', '--target', guarded, '--allow-removals', '2']),
      ]);
      expect(plan.code).toBe(2);
      expect(plan.stdout).toContain('removals held back by the guard');
      expect(plan.stdout).toContain('! https://a1.example.com');
      expect(plan.stdout).toContain(`origin-sync apply --target ${guarded} --allow-removals 2`);

      expectOneLineError(refused);
      expect(refused.stderr).toContain('the plan removes 2 origins, more than the 1 per run the removal guard allows; nothing was changed');
      expect(refused.stderr).toContain(`"origin-sync apply --target ${guarded} --allow-removals 2"`);

      expectOneLineError(unconfirmed);
      expect(unconfirmed.stderr).toContain('stdin is not a terminal; nothing was changed: add --yes');
      expect(await originsOf(guardedId)).toEqual(['https://a1.example.com', 'https://a2.example.com']);
    });

    it('apply --allow-removals 2 --yes removes them; the target is in sync afterwards', async () => {
      const apply = await cli(['apply', '--target', guarded, '--allow-removals', '2', '--yes']);
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stdout).toContain(`${guarded}: changed (0 added, 2 removed, 1 write)`);
      expect(await originsOf(guardedId)).toEqual([]);
      const plan = await cli(['plan', '--target', guarded, '--json']);
      expect(plan.code).toBe(0);
      expect(plan.json()).toMatchObject({ drift: false });
    });

    it('targets set-policy changes only the fields given; targets list shows them; the scan applies the policy', async () => {
      const set = await cli(['targets', 'set-policy', '--target', guarded, '--mode', 'upsert-only', '--static-origin', 'https://fixed.example.com']);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain('mode: sync -> upsert-only');
      expect(set.stdout).toContain('staticOrigins: [] -> [https://fixed.example.com]');

      const [unchanged, list, table] = await Promise.all([
        cli(['targets', 'set-policy', '--target', guarded, '--mode', 'upsert-only', '--json']),
        cli(['targets', 'list', '--json']),
        cli(['targets', 'list']),
      ]);
      expect(unchanged.json()).toMatchObject({ target: guarded, changed: [] });
      const targets = list.json<{ targets: { target: string; policy: Record<string, unknown> }[] }>().targets;
      expect(targets.map((target) => target.target).sort()).toEqual([demo, guarded].sort());
      expect(targets.find((target) => target.target === guarded)?.policy).toEqual({
        allowedOrigins: ['https://*.example.com'],
        allowHttpLocalhost: false,
        mode: 'upsert-only',
        ownership: 'managed',
        maxRemovalsPerRun: 1,
        staticOrigins: ['https://fixed.example.com'],
      });
      expect(table.stdout).toMatch(/^TARGET\s+MODE\s+OWNERSHIP\s+MAX REMOVALS\s+ALLOWED ORIGINS\s+STATIC ORIGINS/);
      expect(table.stdout).toMatch(new RegExp(`${guarded}\\s+upsert-only\\s+managed\\s+1\\s+https://\\*\\.example\\.com\\s+https://fixed\\.example\\.com`));

      // The policy change is behind in Qlik until a reconcile: the scan repairs it.
      const scan = await cli(['scan', '--json']);
      expect(scan.code, scan.stderr).toBe(0);
      const summary = scan.json<Record<string, unknown>>();
      expect(Object.keys(summary)).toEqual(['scanId', 'tenants', 'tenantsFailed', 'targetsScanned', 'drifted', 'repaired', 'heldBack', 'busy', 'failed', 'missingIntegrations', 'findings', 'durationMs']);
      expect(summary).toMatchObject({ tenants: 1, tenantsFailed: [], targetsScanned: 2, drifted: 1, repaired: 1, failed: 0, findings: [{ target: guarded, reasons: ['drifted', 'behind'], outcome: 'repaired', error: null }] });
      expect(summary.scanId).toMatch(/^cli-/);
      expect(await originsOf(guardedId)).toEqual(['https://fixed.example.com']);
    });
  });

  it('deregister: the app origin leaves Qlik; an unknown app is refused', async () => {
    const [run, unknown] = await Promise.all([
      cli(['deregister', '--app', 'shop', '--target', demo]),
      cli(['deregister', '--app', 'nope', '--target', demo]),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Deregistered app shop from ${demo}.`);
    expect(run.stdout).toContain('- https://shop.example.com');
    expect(await originsOf(demoId)).toEqual(['https://intranet.example.net']);
    expectOneLineError(unknown);
    expect(unknown.stderr).toContain(`app "nope" is not registered on ${demo}`);
  });

  it('audit: what changed, before and after, and the cause of each change', async () => {
    const [human, json] = await Promise.all([cli(['audit', '--since', '1h']), cli(['audit', '--json', '--target', demo])]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^TIME\s+TARGET\s+WHAT\s+CAUSE\s+CHANGES\s+ORIGINS/);
    expect(human.stdout).toMatch(/rejected\s+cli cli-/);
    expect(human.stdout).toMatch(/held back\s+cli cli-/);
    expect(human.stdout).toMatch(/changed\s+scan cli-/);

    const { entries } = json.json<{ since: string; entries: Record<string, any>[] }>();
    expect(Object.keys(entries[0]!)).toEqual(['time', 'target', 'tenant', 'webIntegrationId', 'kind', 'cause', 'before', 'after', 'added', 'removed', 'heldBack', 'reason']);
    const changes = entries.filter((entry) => entry.kind === 'origins-changed');
    // register shop, apply after the manual edit, deregister shop: oldest first.
    expect(changes.map((entry) => [entry.added, entry.removed])).toEqual([
      [['https://shop.example.com'], []],
      [['https://shop.example.com'], []],
      [[], ['https://shop.example.com']],
    ]);
    expect(changes[1]).toMatchObject({ before: ['https://intranet.example.net'], after: ['https://intranet.example.net', 'https://shop.example.com'] });
    for (const entry of changes) expect(entry.cause).toEqual({ type: 'cli', id: expect.stringMatching(/^cli-[0-9a-f-]{36}$/) });
    const rejections = entries.filter((entry) => entry.kind === 'rejected');
    expect(rejections).toHaveLength(2);
    expect(rejections.map((entry) => entry.reason).join('\n')).toContain('"https://evil.example.org" is outside the allowed origins');
    expect(rejections.map((entry) => entry.reason).join('\n')).toContain('scheme "javascript" is not allowed');
  });

  it('tenants add: the API key goes to Secrets Manager and never to the output; tenants list shows the tenant', async () => {
    const apiKey = cloud.ready.apiKey;
    const [fromStdin, fromEnvironment, refused] = await Promise.all([
      cli(['tenants', 'add', '--tenant', 'acme', '--url', cloud.ready.endpoints.qlik, '--api-key-stdin'], { input: `${apiKey}\n` }),
      cli(['tenants', 'add', '--tenant', 'globex', '--url', cloud.ready.endpoints.qlik, '--secret-id', 'qlik/globex', '--json'], { env: { ORIGIN_SYNC_API_KEY: apiKey } }),
      cli(['tenants', 'add', '--tenant', 'initech', '--url', cloud.ready.endpoints.qlik], { env: { ORIGIN_SYNC_API_KEY: 'revoked-key-123456' } }),
    ]);
    for (const run of [fromStdin, fromEnvironment, refused]) {
      expect(run.stdout).not.toContain(apiKey);
      expect(run.stderr).not.toContain(apiKey);
      expect(run.stdout + run.stderr).not.toContain('revoked-key-123456');
    }
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toContain('Added tenant acme');
    expect(fromStdin.stdout).toContain('credentials stored in the new secret origin-sync/acme; Qlik accepted them');
    expect(fromEnvironment.code, fromEnvironment.stderr).toBe(0);
    expect(fromEnvironment.json()).toEqual({ tenant: 'globex', url: cloud.ready.endpoints.qlik, secretId: 'qlik/globex', secret: 'created', credentialType: 'apiKey', verified: true });
    expectOneLineError(refused);
    expect(refused.stderr).toContain('did not accept the credentials');
    expect(refused.stderr).toContain('nothing was stored');

    const secrets = new SecretsManagerClient({ endpoint: cloud.ready.endpoints.secretsmanager, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      const stored = await secrets.send(new GetSecretValueCommand({ SecretId: 'origin-sync/acme' }));
      expect(JSON.parse(stored.SecretString ?? '{}')).toEqual({ apiKey });
    } finally {
      secrets.destroy();
    }

    const [list, json] = await Promise.all([cli(['tenants', 'list']), cli(['tenants', 'list', '--json'])]);
    expect(list.stdout).toMatch(/^TENANT\s+URL\s+SECRET\s+TARGETS/);
    expect(list.stdout).toMatch(/acme\s+http:\/\/127\.0\.0\.1:\d+\s+origin-sync\/acme\s+0/);
    expect(list.stdout).toMatch(/demo\s+http:\/\/127\.0\.0\.1:\d+\s+origin-sync\/demo\s+2/);
    expect(json.json<{ tenants: unknown[] }>().tenants).toEqual([
      { tenant: 'acme', url: cloud.ready.endpoints.qlik, secretId: 'origin-sync/acme', targets: 0 },
      { tenant: 'demo', url: cloud.ready.endpoints.qlik, secretId: 'origin-sync/demo', targets: 2 },
      { tenant: 'globex', url: cloud.ready.endpoints.qlik, secretId: 'qlik/globex', targets: 0 },
    ]);
  });

  it('colours only when asked: FORCE_COLOR paints, NO_COLOR and --no-color win', async () => {
    const [forced, noColor, flag] = await Promise.all([
      cli(['targets', 'list'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } }),
      cli(['targets', 'list'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } }),
      cli(['targets', 'list', '--no-color'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } }),
    ]);
    expect(forced.stdout).toContain('\u001b[1mTARGET');
    expect(noColor.stdout).not.toContain('\u001b[');
    expect(flag.stdout).not.toContain('\u001b[');
  });
});

/**
 * The CLI without a cloud: help on every level, usage errors and the "not running" error, each as
 * one line with a non-zero exit code and no stack trace unless `--debug`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from './runCli.js';

let directory: string;
let missing: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'origin-sync-usage-'));
  missing = join(directory, 'local.json');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function expectOneLineError(run: CliRun): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('origin-sync help', () => {
  it('--help lists every command, the connection options, exit codes and examples', async () => {
    const [root, plan, targetsAdd] = await Promise.all([runCli(['--help']), runCli(['plan', '--help']), runCli(['targets', 'add', '--help'])]);
    expect(root.code).toBe(0);
    for (const command of ['status', 'plan', 'apply', 'register', 'deregister', 'targets', 'tenants', 'audit', 'scan']) {
      expect(root.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    for (const option of ['--json', '--no-color', '--debug', '--state-file', '--region', '--profile', '--stack']) expect(root.stdout).toContain(option);
    expect(root.stdout).toContain('Exit codes: 0 done, 1 error, 2 drift found (plan).');
    expect(root.stdout).toContain('Examples:');

    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Usage: origin-sync plan [options]');
    expect(plan.stdout).toContain('--allow-removals <n>');
    expect(plan.stdout).toContain('Global Options:');
    expect(plan.stdout).toContain('$ npx origin-sync plan --target demo/Abc123');

    expect(targetsAdd.code).toBe(0);
    for (const option of ['--target <tenant/id>', '--allowed-origin <pattern...>', '--mode <mode>', '--ownership <ownership>', '--max-removals <n>', '--static-origin <url...>']) {
      expect(targetsAdd.stdout).toContain(option);
    }
    expect(targetsAdd.stdout).toContain('Examples:');
  });
});

describe('origin-sync errors', () => {
  it('without the local cloud: one line telling to start it, exit 1; --json adds a JSON error; --debug adds the stack', async () => {
    const [plain, json, debug] = await Promise.all([
      runCli(['status', '--state-file', missing]),
      runCli(['plan', '--json', '--state-file', missing]),
      runCli(['status', '--debug', '--state-file', missing]),
    ]);
    expectOneLineError(plain);
    expect(plain.stderr).toBe(`origin-sync: the local cloud is not running (no state file at ${missing}): start it with npm start (or pass --region/--stack for AWS)\n`);
    expect(plain.stdout).toBe('');

    expect(json.code).toBe(1);
    expect(json.json()).toEqual({
      error: { code: 'not-running', message: `the local cloud is not running (no state file at ${missing})`, hint: 'start it with npm start (or pass --region/--stack for AWS)', details: [] },
    });

    expect(debug.code).toBe(1);
    expect(debug.stderr.split('\n')[0]).toContain('start it with npm start');
    expect(debug.stderr).toMatch(/\n\s+at readLocalState \(/);
  });

  it('a state file left by a local cloud that has exited, or from ORIGIN_SYNC_STATE_FILE, is refused the same way', async () => {
    const stale = join(directory, 'stale.json');
    const endpoint = 'http://127.0.0.1:9';
    await writeFile(stale, JSON.stringify({ endpoints: { qlik: endpoint, dynamodb: endpoint, secretsmanager: endpoint, eventbridge: endpoint }, region: 'us-east-1', tableName: 't', pid: 2 ** 22 + 7 }));
    const run = await runCli(['targets', 'list'], { env: { ORIGIN_SYNC_STATE_FILE: stale } });
    expectOneLineError(run);
    expect(run.stderr).toContain(`the local cloud is not running (the state file ${stale} is left from process ${2 ** 22 + 7}, which has exited)`);
  });

  it('usage errors: one line, exit 1, before anything is contacted', async () => {
    const runs = await Promise.all([
      runCli(['frobnicate']),
      runCli(['register', '--app', 'shop', '--target', 'demo/Abc123']),
      runCli(['plan', '--target', 'not-a-target', '--state-file', missing]),
      runCli(['register', '--app', 'shop', '--target', 'demo/Abc123', '--origin', 'https://a.example.com', '--expires-in', 'soon', '--state-file', missing]),
      runCli(['apply', '--allow-removals', 'many', '--state-file', missing]),
      runCli(['status', '--region', 'eu-west-1', '--state-file', missing]),
    ]);
    const [unknown, required, target, expiry, count, mixed] = runs;
    expect(unknown!.code).toBe(1);
    expect(unknown!.stderr).toContain("origin-sync: unknown command 'frobnicate'");
    expect(required!.code).toBe(1);
    expect(required!.stderr).toContain("required option '--origin <url...>' not specified");
    expectOneLineError(target!);
    expect(target!.stderr).toContain('--target takes tenant/webIntegrationId (e.g. demo/Abc123), got "not-a-target"');
    expectOneLineError(expiry!);
    expect(expiry!.stderr).toContain('--expires-in takes a duration such as 30m, 12h or 7d, got "soon"');
    expectOneLineError(count!);
    expect(count!.stderr).toContain('--allow-removals takes a whole number');
    expectOneLineError(mixed!);
    expect(mixed!.stderr).toContain('--state-file points at the local cloud and cannot be combined with --region');
  });
});

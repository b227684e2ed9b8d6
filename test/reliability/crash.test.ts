/**
 * Reliability R3 (issue 7): a reconcile dies (SIGKILL) while it holds the target's lease, in the
 * middle of its PATCH. Nobody else touches the target while the lease is live; once it expires the
 * next drift scan takes over and repairs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../../functions/engine/reconcile.js';
import { createQlikClient } from '../../functions/qlik/index.js';
import { eventually, itKeepsSecretsOutOfLogs, newTarget, report, useLocalCloud } from './localCloudHarness.js';

const fixture = useLocalCloud('R3 crash');

const CHILD_SCRIPT = fileURLToPath(new URL('./fixtures/reconcileInChild.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Short, so the test need not wait 5 minutes; long enough to kill the child and look while it lasts. */
const CHILD_LEASE_MS = 5_000;
const HAND_ADDED = 'https://intranet.example.net';
const CRASH_ORIGIN = 'https://crash.example.com';

let child: ChildProcess | undefined;

/** Whether a process with this id still exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  // Whatever happened in the test, the child does not outlive it.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  await fixture.harness?.emulator.setFaults({});
});

describe('reliability: crash', () => {
  it('R3 a reconcile killed with SIGKILL while holding the lease: others stay out until it expires, then the scan repairs', async () => {
    // Prepare: an app registered (as the CLI's register would), and Qlik slow to answer the next
    // PATCH, so the child is mid-write when it dies.
    const { harness } = fixture;
    const ref = await newTarget(harness, 'r3-portal', { validOrigins: [HAND_ADDED] });
    const recorded = await harness.registry.recordRegistration({
      kind: 'deploy',
      ref,
      appId: 'crash-app',
      origins: [CRASH_ORIGIN],
      eventTime: new Date().toISOString(),
      eventId: randomUUID(),
    });
    expect(recorded.status).toBe('applied');
    await harness.emulator.setFaults({ PATCH: { latencyMs: 20_000, times: 1 } });
    const qlik = createQlikClient({ baseUrl: harness.cloud.ready.endpoints.qlik, auth: { apiKey: harness.cloud.ready.apiKey } });
    const childOutput: string[] = [];

    // Act 1: the child reconciles; once it holds the lease and its PATCH hangs in Qlik, SIGKILL.
    const spawnedAt = Date.now();
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CHILD_SCRIPT,
        '--dynamodb-endpoint',
        harness.cloud.ready.endpoints.dynamodb,
        '--table',
        harness.cloud.tableName,
        '--qlik-url',
        harness.cloud.ready.endpoints.qlik,
        '--tenant',
        ref.tenant,
        '--web-integration-id',
        ref.webIntegrationId,
        '--lease-ms',
        String(CHILD_LEASE_MS),
      ],
      { cwd: REPOSITORY_ROOT, env: { ...process.env, QLIK_API_KEY: harness.cloud.ready.apiKey }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => childOutput.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => childOutput.push(chunk.toString('utf8')));
    const pid = child.pid!;
    const midWrite = await eventually(async () => {
      const state = await harness.registry.getTarget(ref);
      return state?.lease !== undefined && (await harness.emulator.stats()).faults.latency >= 1;
    }, 20_000);
    expect(midWrite, `the child never held the lease with its PATCH in flight; its output: ${childOutput.join('')}`).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    const [exitCode, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    const killedAfterMs = Date.now() - spawnedAt;

    // Assess 1: the dead holder's lease is still live: a reconcile right now stays out, and so does
    // a scan; the origin it meant to write is already recorded as ours (ownership before the write).
    const leased = await harness.registry.getTarget(ref);
    expect(signal).toBe('SIGKILL');
    expect(exitCode).toBeNull();
    expect(leased?.lease?.owner).toMatch(/^cli:reliability-r3-child:/);
    expect(leased!.lease!.expiresAt).toBeGreaterThan(Date.now());
    expect(leased?.managedOrigins).toEqual([CRASH_ORIGIN]);
    expect(leased!.appliedVersion).toBeLessThan(leased!.desiredVersion);
    // Killed well within the lease, so what follows sees it live (each step takes milliseconds).
    expect(leased!.lease!.expiresAt - Date.now()).toBeGreaterThan(1_000);
    const meanwhile = await reconcile(ref, { registry: harness.registry, qlik }, { cause: { type: 'cli', id: 'reliability-r3-meanwhile' } });
    expect(meanwhile.status).toBe('busy');
    const scanWhileLeased = await harness.scanNow();
    const findingWhileLeased = scanWhileLeased.findings.find((finding) => finding.target === `${ref.tenant}/${ref.webIntegrationId}`);
    expect(findingWhileLeased).toMatchObject({ outcome: 'busy', reasons: expect.arrayContaining(['behind']) });
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual([HAND_ADDED]);

    // Act 2: the lease expires; the next scheduled scan runs.
    await sleep(Math.max(0, leased!.lease!.expiresAt - Date.now()) + 50);
    const repairStartedAt = Date.now();
    const scan = await harness.scanNow();
    const repairedAfterMs = Date.now() - repairStartedAt;

    // Assess 2: repaired, the lease gone, the versions caught up, the hand-added origin kept.
    const finding = scan.findings.find((one) => one.target === `${ref.tenant}/${ref.webIntegrationId}`);
    expect(finding).toMatchObject({ outcome: 'repaired' });
    expect(finding?.reasons).toEqual(expect.arrayContaining(['behind', 'lease-expired']));
    expect(await harness.emulator.originsOf(ref.webIntegrationId)).toEqual([HAND_ADDED, CRASH_ORIGIN]);
    const state = await harness.registry.getTarget(ref);
    expect(state?.lease).toBeUndefined();
    expect(state?.appliedVersion).toBe(state?.desiredVersion);
    expect(state?.lastError).toBeUndefined();
    expect(isAlive(pid), 'the killed child is gone').toBe(false);
    expect(childOutput.join('')).toContain('"started":true');
    expect(childOutput.join('').includes(harness.cloud.ready.apiKey), 'the child printed the API key').toBe(false);
    report(`R3: child killed ${killedAfterMs} ms after spawn, mid-PATCH with the lease held; lease ${CHILD_LEASE_MS} ms; the scan after expiry repaired in ${repairedAfterMs} ms`);
  }, 60_000);
});

itKeepsSecretsOutOfLogs('R3 crash', fixture);

/**
 * `npm start` as a person meets it: its help, a bad flag, and a machine without Java. The
 * local cloud itself is covered by localCloud.test.ts; these run the command as npm does.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function start(args: string[], environment: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // As the "start" script runs it: one node process with tsx's loader.
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], { cwd: ROOT, env: { ...process.env, ...environment } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start, the command', () => {
  it('explains itself with --help', async () => {
    const run = await start(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--port-base N');
    expect(run.stdout).toContain('--demo');
  });

  it('refuses a bad flag value in one line, naming the flag', async () => {
    const run = await start(['--scan-interval', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--scan-interval takes seconds');
    expect(run.stdout).toBe('');
  });

  it('without Java says how to install it, exits 3, prints no ready line and no stack trace', async () => {
    const run = await start(['--scan-interval', '0'], { JAVA_HOME: '/nonexistent-java-home-for-test' });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('apt-get install openjdk-17-jre-headless');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).not.toContain('"ready"');
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Raised when there is no Java runtime to run AWS's DynamoDB Local jar. */
export class JavaMissingError extends Error {
  public constructor() {
    super(
      'DynamoDB Local needs a Java runtime (17 or later) and none was found (JAVA_HOME, then PATH). ' +
        'Install one, e.g. "sudo apt-get install openjdk-17-jre-headless" (or set JAVA_HOME), then run the command again.',
    );
    this.name = 'JavaMissingError';
  }
}

export interface DynamoDbLocalOptions {
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Keep data in this folder instead of memory. */
  dbPath?: string;
  /** How long to wait for the first answer (default 60 s: a cold JVM on a busy 2-core machine is slow). */
  startTimeoutMs?: number;
}

export interface RunningDynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts AWS's DynamoDB Local, the jar shipped in the npm package `amplify-dynamodb-simulator`,
 * directly with `java` (the package's own `launch()` wants a link in the home folder).
 * `DDB_LOCAL_TELEMETRY=0` keeps it from making any outside connection.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  assertJava();
  const emulatorDir = join(dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  // 0 means "any free port", as for the other local servers.
  const port = options.port || (await freePort());
  const storage = options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory'];
  const child = spawn(
    javaCommand(),
    [
      '-XX:-UsePerfData',
      `-Djava.library.path=${join(emulatorDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(emulatorDir, 'DynamoDBLocal.jar'),
      ...storage,
      '-sharedDb',
      '-port',
      String(port),
    ],
    { cwd: emulatorDir, env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Whatever way this process ends, even while the JVM is still starting, it must not outlive us.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const output: string[] = [];
  const remember = (chunk: Buffer) => output.push(chunk.toString());
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilAnswering(endpoint, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    process.off('exit', killOnExit);
    child.kill('SIGKILL');
    throw new Error(`DynamoDB Local did not start on port ${port}: ${(error as Error).message}\n${output.join('').slice(-2000)}`);
  }
  child.stdout?.off('data', remember);
  child.stderr?.off('data', remember);
  child.stdout?.resume();
  child.stderr?.resume();

  return {
    endpoint,
    port,
    pid: child.pid!,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopProcess(child);
    },
  };
}

/** The Java launcher: `$JAVA_HOME/bin/java` when JAVA_HOME is set (the usual convention), else `java` on PATH. */
function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function assertJava(): void {
  const probe = spawnSync(javaCommand(), ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `java exited (${signal ?? code})`));
  while (Date.now() < deadline) {
    if (exited) throw new Error(exited);
    try {
      // Any HTTP answer means the server is up; an unsigned call gets a 400, which is fine.
      await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(150);
    }
  }
  throw new Error(`no answer within ${timeoutMs} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

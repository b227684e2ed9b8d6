/**
 * `npm run qlik-emulator -- --port P --api-key K [...]`: serves the emulator until SIGINT/SIGTERM.
 * Prints exactly one JSON line to stdout when it listens; everything else goes to stderr.
 */
import { parseArgs } from 'node:util';
import { startQlikEmulator, type QlikEmulatorOptions } from './server.js';

const USAGE = `Usage: npm run qlik-emulator -- --api-key KEY [options]

Options:
  --port P                  port on 127.0.0.1 (0 = any free port)           [0]
  --host H                  address to listen on                            [127.0.0.1]
  --api-key K               API key accepted as "Authorization: Bearer K"   (required)
  --read-only-api-key K     a key that may read but not write (repeatable)
  --client-id C             OAuth2 client id for POST /oauth/token
  --client-secret S         OAuth2 client secret
  --tenant-id T             tenantId of every integration                   [random]
  --rate-limits on|off      enforce Tier 1 (1000/min) and Tier 2 (100/min)  [on]
  --time-scale X            run the rate limiter's clock X times faster     [1]
  --token-ttl S             OAuth token lifetime in seconds                 [3600]
  --state FILE              keep integrations in FILE across restarts
  -h, --help                show this help

Example:
  npm run qlik-emulator -- --port 8090 --api-key dev-key --client-id app --client-secret s3cret
`;

class UsageError extends Error {}

function parseOptions(argv: string[]): QlikEmulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      'read-only-api-key': { type: 'string', multiple: true },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'tenant-id': { type: 'string' },
      'rate-limits': { type: 'string', default: 'on' },
      'time-scale': { type: 'string', default: '1' },
      'token-ttl': { type: 'string', default: '3600' },
      state: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (!values['api-key']) throw new UsageError('--api-key is required: the key clients send as "Authorization: Bearer KEY".');
  if ((values['client-id'] === undefined) !== (values['client-secret'] === undefined)) {
    throw new UsageError('--client-id and --client-secret go together.');
  }
  if (values['rate-limits'] !== 'on' && values['rate-limits'] !== 'off') {
    throw new UsageError(`--rate-limits takes "on" or "off", got "${values['rate-limits']}".`);
  }
  return {
    apiKey: values['api-key'],
    port: integer('--port', values.port, 0, 65_535),
    host: values.host,
    rateLimits: values['rate-limits'] === 'on',
    timeScale: positive('--time-scale', values['time-scale']),
    tokenTtlSeconds: integer('--token-ttl', values['token-ttl'], 1, 31_536_000),
    ...(values['read-only-api-key'] && { readOnlyApiKeys: values['read-only-api-key'] }),
    ...(values['client-id'] !== undefined && { clientId: values['client-id'] }),
    ...(values['client-secret'] !== undefined && { clientSecret: values['client-secret'] }),
    ...(values['tenant-id'] !== undefined && { tenantId: values['tenant-id'] }),
    ...(values.state !== undefined && { statePath: values.state }),
  };
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, got "${raw}".`);
  return value;
}

function positive(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} takes a positive number, got "${raw}".`);
  return value;
}

async function main(): Promise<void> {
  let options: QlikEmulatorOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`qlik-emulator: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const emulator = await startQlikEmulator(options);
  process.stdout.write(`${JSON.stringify({ ready: true, service: 'qlik-emulator', url: emulator.url, tenantId: emulator.tenantId })}\n`);
  process.stderr.write(`qlik-emulator: serving ${emulator.url}/api/v1/web-integrations (controls under /__emulator); Ctrl-C stops\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`qlik-emulator: ${signal}, stopping\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`qlik-emulator: could not save state: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const message = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${(error as Error).message}: pick another --port` : String(error);
  process.stderr.write(`qlik-emulator: ${message}\n`);
  process.exit(1);
});

/**
 * `npm start`: the synchronizer on a local cloud. Prints the ready line (DESIGN §4, a contract)
 * on stdout, then readable logs of every event, reconcile and scan; Ctrl-C stops everything.
 * `npm start -- --demo` runs the scripted story instead and exits 0 only if every step converged.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installHumanLogs } from './humanLogs.js';

const USAGE = `Usage: npm start -- [options]

Runs qlik-origin-sync on a local cloud: DynamoDB Local, a Qlik emulator, Secrets Manager and
EventBridge endpoints, with the deploy-events and drift-scan handlers wired as in AWS.

Options:
  --port-base N        endpoints on N (Qlik), N+1 (EventBridge), N+2 (Secrets Manager), N+3 (DynamoDB)
                       [free ports]
  --scan-interval S    seconds between drift scans (0: off)                       [30]
  --demo               run the scripted story, print a summary, exit 0 if it all converged
  -h, --help           show this help

Then send a deployment event, e.g. with the AWS CLI:
  aws --endpoint-url <eventbridge> events put-events --entries '[{"Source":"origin-sync.deployments",
    "DetailType":"App Deployed","Detail":"{\\"appId\\":\\"shop\\",\\"tenant\\":\\"demo\\",
    \\"webIntegrationId\\":\\"<id>\\",\\"origins\\":[\\"https://shop.example.com\\"]}"}]'
`;

const STATE_DIR = '.origin-sync';

// The local cloud runs on Node 20 by choice (Lambda runs 22); the SDK's notice about future
// releases needing Node 22 is known and would only clutter the terminal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'port-base': { type: 'string' },
        'scan-interval': { type: 'string', default: '30' },
        demo: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`origin-sync: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const portBase = values['port-base'] === undefined ? undefined : Number(values['port-base']);
  const scanInterval = Number(values['scan-interval']);
  if (portBase !== undefined && (!Number.isInteger(portBase) || portBase < 1 || portBase > 65_532)) {
    process.stderr.write(`origin-sync: --port-base takes a port from 1 to 65532, got "${values['port-base']}"\n`);
    return 2;
  }
  if (!Number.isFinite(scanInterval) || scanInterval < 0) {
    process.stderr.write(`origin-sync: --scan-interval takes seconds (0 or more), got "${values['scan-interval']}"\n`);
    return 2;
  }

  // A signal while starting ends the process at once; exit handlers stop DynamoDB Local's JVM.
  const abortStart = (code: number) => () => process.exit(code);
  const startSignals = { SIGINT: abortStart(130), SIGTERM: abortStart(143), SIGHUP: abortStart(129) } as const;
  for (const [signal, handler] of Object.entries(startSignals)) process.once(signal, handler);

  const started = Date.now();
  // Loaded after the environment above is set: the SDK reads it when its modules load.
  const { startLocalCloud } = await import('./cloud.js');
  const cloud = await startLocalCloud({
    ...(portBase !== undefined && { portBase }),
    scanIntervalSeconds: values.demo ? 0 : scanInterval,
    stateFile: join(STATE_DIR, 'local.json'),
    deadLetterFile: join(STATE_DIR, 'dead-letters.jsonl'),
    onProgress: (message) => process.stderr.write(`origin-sync: ${message}\n`),
  });
  for (const [signal, handler] of Object.entries(startSignals)) process.off(signal, handler);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= cloud.stop());
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  process.once('SIGHUP', () => void stop().then(() => process.exit(129)));
  // If whoever started us dies without a signal reaching us (npm killed hard), we are reparented:
  // stop then too, so no DynamoDB Local or server outlives the session.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop().then(() => process.exit(1));
  }, 1000).unref();

  process.stdout.write(`${JSON.stringify(cloud.ready)}\n`);
  process.stderr.write(`origin-sync: ready in ${((Date.now() - started) / 1000).toFixed(1)} s; state in ${STATE_DIR}/local.json; Ctrl-C stops\n`);
  installHumanLogs(process.stdout);
  installHumanLogs(process.stderr);

  if (values.demo) {
    const { runDemo } = await import('./demo.js');
    try {
      return (await runDemo(cloud)) ? 0 : 1;
    } finally {
      await stop();
    }
  }
  return new Promise<number>(() => undefined); // serve until a signal
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof Error && error.name === 'JavaMissingError') {
      process.stderr.write(`origin-sync: ${error.message}\n`);
      process.exit(3);
    }
    process.stderr.write(`origin-sync: could not start the local cloud: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);

/**
 * `npm run bench`: measures what the product promises (issue 7) and prints one JSON object on
 * stdout; progress goes to stderr. `--write` also rewrites BENCHMARKS.md with the results.
 * Everything runs on this machine's loopback, and every part stops by itself.
 *
 *   npm run bench                 # all parts, JSON on stdout
 *   npm run bench -- --write      # and update BENCHMARKS.md
 *   npm run bench -- --only P1,P5
 */
import { cpus, totalmem, type as osType, release } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The functions' own logs and EMF metrics would bury the one JSON object this prints.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const PARTS = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
type Part = (typeof PARTS)[number];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, write: { type: 'boolean', default: false } } });
  const selected = new Set<Part>(values.only ? (values.only.split(',').map((part) => part.trim().toUpperCase()) as Part[]) : PARTS);
  for (const part of selected) if (!PARTS.includes(part)) throw new Error(`unknown part ${part}; choose from ${PARTS.join(', ')}`);

  const { progress } = await import('./support.js');
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      os: `${osType()} ${release()}`,
    },
  };

  // Parts that go through the handlers share one local cloud (P1, P4); P2 and P3 drive the engine
  // directly against their own emulator and table on the same DynamoDB Local.
  const { startLocalCloud } = await import('../local/cloud.js');
  progress('starting the local cloud');
  const cloud = await startLocalCloud({ scanIntervalSeconds: 0 });
  try {
    // The handlers read targets from the local cloud's own table: bench targets go there.
    const { DynamoDbRegistry } = await import('../functions/registry/dynamoDbRegistry.js');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
    const cloudRegistry = new DynamoDbRegistry({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: cloud.tableName });

    if (selected.has('P1')) results.P1 = await (await import('./p1Burst.js')).runP1(cloud, cloudRegistry);
    if (selected.has('P2')) results.P2 = await (await import('./p2Scan.js')).runP2();
    if (selected.has('P3')) {
      const { runP3 } = await import('./p3RateLimits.js');
      results.P3 = [await runP3(20, 12), await runP3(60, 12)];
    }
    if (selected.has('P4')) results.P4 = await (await import('./p4Latency.js')).runP4(cloud, cloudRegistry);
  } finally {
    await cloud.stop();
  }
  if (selected.has('P5')) {
    progress('P5: bundling each function and timing its import (5 fresh processes each)');
    results.P5 = await (await import('../infra/bundleMetrics.js')).measureBundles(5);
  }

  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (values.write) {
    const { renderBenchmarks } = await import('./benchmarksMarkdown.js');
    const previous = await readFile('BENCHMARKS.md', 'utf8').catch(() => '');
    await writeFile('BENCHMARKS.md', renderBenchmarks(results as Parameters<typeof renderBenchmarks>[0], previous));
    progress('BENCHMARKS.md updated');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

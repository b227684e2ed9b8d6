/**
 * Measures each function's bundle with the AWS SDK bundled and taken from the runtime, using the
 * esbuild options the stack bundles with (`BUNDLING`), and times a cold `import()` of each bundle
 * in a fresh Node process, a local stand-in for the module-loading part of a Lambda cold start.
 * Used by `infra/bundleSizes.ts` (the README table) and by the benchmark (P5).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLING, type HandlerName } from './constructs/originSyncFunction.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HANDLERS: HandlerName[] = ['deployEvents', 'driftScan'];
export const VARIANTS = [
  { name: 'SDK bundled (chosen)', external: [] },
  // Marking `@smithy/*` external as well changes nothing: Smithy is only reached through the SDK.
  { name: 'SDK from the runtime (`@aws-sdk/*` external)', external: ['@aws-sdk/*'] },
] as const;
export const IMPORT_RUNS = 5;

export async function bundle(handler: HandlerName, external: readonly string[]): Promise<{ code: Uint8Array; map: Uint8Array }> {
  const result = await build({
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [path.join('functions', 'handlers', `${handler}.ts`)],
    outfile: 'index.mjs',
    bundle: true,
    write: false,
    platform: 'node',
    target: BUNDLING.target,
    format: 'esm',
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    external: [...external],
    logLevel: 'error',
  });
  const file = (suffix: string) => result.outputFiles.find((output) => output.path.endsWith(suffix))!.contents;
  return { code: file('index.mjs'), map: file('index.mjs.map') };
}

/** Median wall time of importing the bundle in a fresh Node process (module loading and init). */
export function importMilliseconds(code: Uint8Array, runs = IMPORT_RUNS): number {
  // Inside the project (cdk.out is git-ignored), so an external `@aws-sdk/*` resolves from
  // node_modules as it would from the runtime.
  mkdirSync(path.join(PROJECT_ROOT, 'cdk.out'), { recursive: true });
  const directory = mkdtempSync(path.join(PROJECT_ROOT, 'cdk.out', 'bundle-size-'));
  try {
    const file = path.join(directory, 'index.mjs');
    writeFileSync(file, code);
    const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
    const times: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      // A clean environment: a caller running the local cloud has set Lambda-runtime variables
      // (AWS_LAMBDA_MAX_CONCURRENCY, endpoints) that a fresh function container would not have.
      const { AWS_LAMBDA_MAX_CONCURRENCY: _concurrency, AWS_ENDPOINT_URL_DYNAMODB: _dynamodb, AWS_ENDPOINT_URL_SECRETS_MANAGER: _secrets, ...environment } = process.env;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...environment, REGISTRY_TABLE_NAME: 'bundle-size', TENANTS: '[]', AWS_REGION: 'eu-west-1' },
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`importing the ${file} bundle failed: ${child.stderr.slice(-2000)}`);
      times.push(Number(child.stdout.trim()));
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export interface BundleMeasurement {
  handler: HandlerName;
  variant: (typeof VARIANTS)[number]['name'];
  codeBytes: number;
  mapBytes: number;
  zippedBytes: number;
  importMsMedian: number;
}

export async function measureBundles(runs = IMPORT_RUNS): Promise<BundleMeasurement[]> {
  const measurements: BundleMeasurement[] = [];
  for (const handler of HANDLERS) {
    for (const variant of VARIANTS) {
      const { code, map } = await bundle(handler, variant.external);
      measurements.push({
        handler,
        variant: variant.name,
        codeBytes: code.length,
        mapBytes: map.length,
        zippedBytes: deflateRawSync(code, { level: 9 }).length + deflateRawSync(map, { level: 9 }).length,
        importMsMedian: importMilliseconds(code, runs),
      });
    }
  }
  return measurements;
}

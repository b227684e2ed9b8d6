/**
 * Measures each function's bundle with the AWS SDK bundled and taken from the runtime, using the
 * esbuild options the stack bundles with (`BUNDLING`), and prints a Markdown table (the one in
 * the README, "Deploy to AWS"). Also times a cold `import()` of each bundle in a fresh Node process, a local
 * stand-in for the module-loading part of a Lambda cold start.
 *
 * @example
 * ```sh
 * npx tsx infra/bundleSizes.ts
 * ```
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLING, type HandlerName } from './constructs/originSyncFunction.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const HANDLERS: HandlerName[] = ['deployEvents', 'driftScan'];
const VARIANTS = [
  { name: 'SDK bundled (chosen)', external: [] },
  // Marking `@smithy/*` external as well changes nothing: Smithy is only reached through the SDK.
  { name: 'SDK from the runtime (`@aws-sdk/*` external)', external: ['@aws-sdk/*'] },
] as const;
const IMPORT_RUNS = 5;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function bundle(handler: HandlerName, external: readonly string[]): Promise<{ code: Uint8Array; map: Uint8Array }> {
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
function importMilliseconds(code: Uint8Array): number {
  // Inside the project (cdk.out is git-ignored), so an external `@aws-sdk/*` resolves from
  // node_modules as it would from the runtime.
  mkdirSync(path.join(PROJECT_ROOT, 'cdk.out'), { recursive: true });
  const directory = mkdtempSync(path.join(PROJECT_ROOT, 'cdk.out', 'bundle-size-'));
  try {
    const file = path.join(directory, 'index.mjs');
    writeFileSync(file, code);
    const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
    const times: number[] = [];
    for (let run = 0; run < IMPORT_RUNS; run += 1) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, REGISTRY_TABLE_NAME: 'bundle-size', TENANTS: '[]', AWS_REGION: 'eu-west-1' },
        encoding: 'utf8',
      });
      if (child.status !== 0) throw new Error(`importing the ${file} bundle failed: ${child.stderr}`);
      times.push(Number(child.stdout.trim()));
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const rows: string[] = [];
for (const handler of HANDLERS) {
  for (const variant of VARIANTS) {
    const { code, map } = await bundle(handler, variant.external);
    const zipped = deflateRawSync(code, { level: 9 }).length + deflateRawSync(map, { level: 9 }).length;
    rows.push(`| ${handler} | ${variant.name} | ${kib(code.length)} | ${kib(map.length)} | ${kib(zipped)} | ${importMilliseconds(code).toFixed(0)} ms |`);
  }
}
console.log(`Measured on ${new Date().toISOString().slice(0, 10)}, esbuild ${(await import('esbuild')).version}, Node ${process.version} (import time is local, not Lambda's):\n`);
console.log('| function | AWS SDK | index.mjs | source map | zipped (code + map) | import time (median of 5) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
console.log(rows.join('\n'));

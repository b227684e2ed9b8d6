/**
 * Prints the bundle-size table of the README ("Deploy to AWS"): each function with the AWS SDK
 * bundled and taken from the runtime, and the median cold import time.
 *
 * @example
 * ```sh
 * npx tsx infra/bundleSizes.ts
 * ```
 */
import { IMPORT_RUNS, measureBundles } from './bundleMetrics.js';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const rows = (await measureBundles()).map(
  (m) => `| ${m.handler} | ${m.variant} | ${kib(m.codeBytes)} | ${kib(m.mapBytes)} | ${kib(m.zippedBytes)} | ${m.importMsMedian.toFixed(0)} ms |`,
);
console.log(`Measured on ${new Date().toISOString().slice(0, 10)}, esbuild ${(await import('esbuild')).version}, Node ${process.version} (import time is local, not Lambda's):\n`);
console.log(`| function | AWS SDK | index.mjs | source map | zipped (code + map) | import time (median of ${IMPORT_RUNS}) |`);
console.log('| --- | --- | ---: | ---: | ---: | ---: |');
console.log(rows.join('\n'));

#!/usr/bin/env node
// The `origin-sync` command (package.json "bin"). The CLI is TypeScript (cli/main.ts); this shim
// runs it through tsx, a devDependency that `npm ci` installs, so there is no build step.
import { fileURLToPath } from 'node:url';

// Node 20 is supported on purpose (Lambda runs 22); the SDK's notice about it would only clutter
// every command's output. Set before any SDK module loads.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { register } = await import('tsx/esm/api');
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

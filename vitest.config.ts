import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites talk to real servers on loopback; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One setup per run for servers every suite shares (DynamoDB Local joins here later).
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest/results.json' },
  },
});

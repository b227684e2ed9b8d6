import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config.js';
import { OriginSyncStack } from './originSyncStack.js';

export interface OriginSyncApp {
  readonly app: App;
  readonly stack: OriginSyncStack;
}

/**
 * The CDK app: the configuration read from context, the one stack, and cdk-nag's AWS Solutions
 * checks as a validation plugin (a finding fails the synth unless it is acknowledged, with its
 * reason, where it occurs; the reasons are also written into the template's metadata).
 *
 * Tests build the same app with their own context and `builtinCloudFormationValidation: false`.
 *
 * @example
 * ```ts
 * const { app, stack } = createOriginSyncApp({ context: { scanIntervalMinutes: 10 } });
 * ```
 */
export function createOriginSyncApp(props: AppProps = {}): OriginSyncApp {
  const app = new App(props);
  const config = readConfig(app.node);
  const stack = new OriginSyncStack(app, config.stackName, {
    config,
    // Deploy-time account and region from the CLI's credentials; without any, the template is
    // environment-agnostic (synth needs no AWS access).
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}

import { createRequire } from 'node:module';
import path from 'node:path';
import { Validations, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS } from '../../functions/runtime/settings.js';
import { DeadLetterQueue } from './deadLetterQueue.js';

/** The handlers, one a file in `functions/handlers/`, each exporting `handler`. */
export type HandlerName = 'deployEvents' | 'driftScan';

/**
 * esbuild options every function is bundled with, also used to measure the bundle sizes written
 * down in the README ("Deploy to AWS"). ESM for Node 22, minified, with source maps (without the sources
 * themselves: stack traces only need the mappings). The banner gives CommonJS dependencies the
 * `require` that ESM output lacks.
 */
export const BUNDLING = {
  target: 'node22',
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  /**
   * The AWS SDK is bundled, not taken from the runtime: the code runs with the SDK versions the
   * lock file pins and the tests ran against, not whatever the runtime ships that month, and the
   * minified, tree-shaken bundle is small enough (sizes in the README, "Deploy to AWS").
   */
  bundleAwsSDK: true,
} as const;

export interface OriginSyncFunctionProps {
  /** File name (without `.ts`) in `functions/handlers/`. */
  readonly handler: HandlerName;
  readonly description: string;
  /** Must stay below the lease duration, so a reconcile never outlives its lease. */
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly environment: Record<string, string>;
  readonly logRetention: RetentionDays;
  /** Repository root: the bundling input and where `package-lock.json` lives. */
  readonly projectRoot: string;
  /** Asynchronous invocations: retries after a failed run (0–2). */
  readonly retryAttempts: number;
  /** Asynchronous invocations: how long an event may wait before it goes to the DLQ (1 min–6 h). */
  readonly maxEventAge: Duration;
}

/**
 * One function with the defaults every function of the stack shares, like the construct of the
 * Powertools sample app: Node 22 on arm64, an esbuild bundle made with the local esbuild (never
 * Docker), its own log group with retention, a role that may write only to that log group (no
 * managed policy: grants are added by the stack, naming actions and resources), Powertools
 * service name and metrics namespace, and a dead-letter queue for events it could not process.
 *
 * The same queue serves as the dead-letter queue of the function's trigger (the deployment rule
 * or the scan schedule), so everything not processed for one function waits in one place.
 */
export class OriginSyncFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;
  public readonly deadLetterQueue: DeadLetterQueue;

  public constructor(scope: Construct, id: string, props: OriginSyncFunctionProps) {
    super(scope, id);
    requireLocalEsbuild(props.projectRoot);

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.handler} function of qlik-origin-sync`,
    });
    this.logGroup.grantWrite(this.role);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', {
      purpose: `events the ${props.handler} function could not process, or its trigger could not deliver`,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(props.projectRoot, 'functions', 'handlers', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: METRICS.service,
        POWERTOOLS_METRICS_NAMESPACE: METRICS.namespace,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: { ...BUNDLING, mainFields: [...BUNDLING.mainFields], forceDockerBundling: false },
    });
    Validations.of(this.function.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this project targets and tests (bundles are built for node22); it is a supported runtime. Moving to a newer one is a deliberate change, not an automatic one.',
    });
  }
}

/**
 * NodejsFunction falls back to bundling in Docker when it cannot find esbuild; this stack never
 * does (synth must work offline, without Docker), so a missing esbuild is an error with its fix.
 */
function requireLocalEsbuild(projectRoot: string): void {
  try {
    createRequire(path.join(projectRoot, 'package.json')).resolve('esbuild/package.json');
  } catch {
    throw new Error('esbuild is not installed in this project; run `npm ci` (the stack bundles with the local esbuild, never with Docker)');
  }
}

/**
 * Where the CLI points: the local cloud that `npm start` runs (the default: endpoints read from
 * the state file it writes), or a deployed stack in AWS (`--region`, `--profile`, `--stack`; the
 * registry table's name read from the stack's outputs).
 *
 * Either way the CLI gets the same three things the functions use: the registry, Secrets Manager
 * and a Qlik client per tenant; only endpoints and credentials differ.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Tenant } from '../functions/core/model.js';
import { SecretsManagerCredentials, type CredentialsSource } from '../functions/credentials/secretsManagerCredentials.js';
import { closeQlikPools, createQlikClient, type QlikCredentials, type WebIntegrationsApi } from '../functions/qlik/index.js';
import { DynamoDbRegistry } from '../functions/registry/dynamoDbRegistry.js';
import type { Registry } from '../functions/registry/registry.js';
import { CliError, type ExplainContext } from './errors.js';

/** Where `npm start` writes its state, relative to the repository root (git-ignored). */
export const LOCAL_STATE_FILE = '.origin-sync/local.json';
/** Overrides the state file's location (like `--state-file`). */
export const STATE_FILE_VARIABLE = 'ORIGIN_SYNC_STATE_FILE';
/** The stack name `npx cdk deploy` uses unless configured otherwise (infra/config.ts). */
export const DEFAULT_STACK_NAME = 'QlikOriginSync';
/** The stack output holding the registry table's name (`STACK_OUTPUTS.tableName` in infra/originSyncStack.ts). */
export const TABLE_NAME_OUTPUT = 'RegistryTableName';

const NOT_RUNNING = 'the local cloud is not running';
const START_IT = 'start it with npm start (or pass --region/--stack for AWS)';

export interface ConnectionOptions {
  stateFile?: string;
  region?: string;
  profile?: string;
  stack?: string;
  table?: string;
}

export interface Connection {
  kind: 'local' | 'aws';
  /** For people: "local cloud (.origin-sync/local.json)", "stack QlikOriginSync in eu-west-1". */
  description: string;
  registry: Registry;
  secrets: SecretsManagerClient;
  credentials: CredentialsSource;
  /** A Qlik client for the tenant, with its credentials from Secrets Manager. */
  qlikFor(tenant: Tenant, signal?: AbortSignal): Promise<WebIntegrationsApi>;
  /** Wording for failures to reach the endpoints. */
  explainContext: ExplainContext;
  close(): Promise<void>;
}

/** What the CLI reads from the state file: the ready line plus region, table and process. */
const stateFileSchema = z.object({
  endpoints: z.object({ dynamodb: z.url(), secretsmanager: z.url(), qlik: z.url() }),
  region: z.string().min(1),
  tableName: z.string().min(1),
  pid: z.number().int().positive().optional(),
});

export type LocalState = z.infer<typeof stateFileSchema>;

/** Local by default; AWS as soon as any of `--region`, `--profile`, `--stack`, `--table` is given. */
export function isAwsMode(options: ConnectionOptions): boolean {
  return [options.region, options.profile, options.stack, options.table].some((value) => value !== undefined);
}

export async function connect(options: ConnectionOptions, env: NodeJS.ProcessEnv, cwd: string): Promise<Connection> {
  if (isAwsMode(options)) {
    if (options.stateFile !== undefined) {
      throw new CliError('--state-file points at the local cloud and cannot be combined with --region, --profile, --stack or --table', {
        code: 'usage',
        hint: 'drop one of them',
      });
    }
    return connectAws(options, env);
  }
  return connectLocal(resolveStateFile(options.stateFile, env, cwd), cwd);
}

/** `--state-file`, else `ORIGIN_SYNC_STATE_FILE`, else `.origin-sync/local.json` of this repository (or of the working directory). */
export function resolveStateFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const given = flag ?? (env[STATE_FILE_VARIABLE] || undefined);
  if (given !== undefined) return resolve(cwd, given);
  const inRepository = fileURLToPath(new URL(`../${LOCAL_STATE_FILE}`, import.meta.url));
  const inWorkingDirectory = resolve(cwd, LOCAL_STATE_FILE);
  return existsSync(inRepository) || !existsSync(inWorkingDirectory) ? inRepository : inWorkingDirectory;
}

/** Reads and checks the state file; a missing, broken or stale one means the local cloud is not running. */
export function readLocalState(path: string, cwd: string): LocalState {
  const shown = displayPath(path, cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`${NOT_RUNNING} (no state file at ${shown})`, { code: 'not-running', hint: START_IT, cause: error });
    }
    throw new CliError(`cannot read the state file ${shown}: ${(error as Error).message}`, { code: 'not-running', hint: START_IT, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`the state file ${shown} is not JSON`, { code: 'not-running', hint: `restart the local cloud with npm start`, cause: error });
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new CliError(`the state file ${shown} is not one npm start wrote (${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')})`, {
      code: 'not-running',
      hint: 'restart the local cloud with npm start',
    });
  }
  const { pid } = parsed.data;
  if (pid !== undefined && !isProcessAlive(pid)) {
    throw new CliError(`${NOT_RUNNING} (the state file ${shown} is left from process ${pid}, which has exited)`, { code: 'not-running', hint: START_IT });
  }
  return parsed.data;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function displayPath(path: string, cwd: string): string {
  const shown = relative(cwd, path);
  return shown === '' || shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

async function connectLocal(stateFile: string, cwd: string): Promise<Connection> {
  const state = readLocalState(stateFile, cwd);
  // DynamoDB Local and the local Secrets Manager accept any credentials; these match the local cloud's.
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const dynamodb = new DynamoDBClient({ endpoint: state.endpoints.dynamodb, region: state.region, credentials, maxAttempts: 2 });
  const secrets = new SecretsManagerClient({ endpoint: state.endpoints.secretsmanager, region: state.region, credentials, maxAttempts: 2 });
  return assemble({
    kind: 'local',
    description: `local cloud (${displayPath(stateFile, cwd)})`,
    dynamodb,
    secrets,
    tableName: state.tableName,
    explainContext: { unreachable: { message: `${NOT_RUNNING} (nothing answers at ${state.endpoints.dynamodb})`, hint: START_IT } },
  });
}

async function connectAws(options: ConnectionOptions, env: NodeJS.ProcessEnv): Promise<Connection> {
  const profile = options.profile;
  const credentials: AwsClientConfig['credentials'] =
    profile === undefined ? undefined : (await import('@aws-sdk/credential-providers')).fromIni({ profile });
  const common = {
    ...(options.region !== undefined && { region: options.region }),
    ...(profile !== undefined && { profile }),
    ...(credentials !== undefined && { credentials }),
  };
  const stack = options.stack ?? DEFAULT_STACK_NAME;
  const tableName = options.table ?? (await tableNameFromStack(stack, common, options.region !== undefined || Boolean(env.AWS_REGION)));
  const dynamodb = new DynamoDBClient(common);
  const secrets = new SecretsManagerClient(common);
  const region = await dynamodb.config.region();
  return assemble({
    kind: 'aws',
    description: options.table !== undefined ? `table ${tableName} in ${region}` : `stack ${stack} in ${region}`,
    dynamodb,
    secrets,
    tableName,
    explainContext: {},
  });
}

type AwsClientConfig = Pick<DynamoDBClientConfig, 'region' | 'profile' | 'credentials'>;

/** The registry table's name from the stack's outputs (DescribeStacks). */
async function tableNameFromStack(stack: string, config: AwsClientConfig, regionGiven: boolean): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cloudFormation = new CloudFormationClient(config);
  try {
    const answer = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    const outputs = answer.Stacks?.[0]?.Outputs ?? [];
    const table = outputs.find((output) => output.OutputKey === TABLE_NAME_OUTPUT)?.OutputValue;
    if (table === undefined || table === '') {
      throw new CliError(`stack ${stack} has no output ${TABLE_NAME_OUTPUT} (is it a qlik-origin-sync stack?)`, {
        code: 'not-found',
        hint: 'pass the right --stack, or the table itself with --table NAME',
      });
    }
    return table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/i.test(error.message)) {
      const region = await cloudFormation.config.region().catch(() => 'the default region');
      throw new CliError(`stack ${stack} does not exist in ${region}`, {
        code: 'not-found',
        hint: `pass --stack NAME${regionGiven ? '' : ' and --region'} (the name your deployment used; default ${DEFAULT_STACK_NAME})`,
        cause: error,
      });
    }
    throw error;
  } finally {
    cloudFormation.destroy();
  }
}

interface Parts {
  kind: Connection['kind'];
  description: string;
  dynamodb: DynamoDBClient;
  secrets: SecretsManagerClient;
  tableName: string;
  explainContext: ExplainContext;
}

function assemble(parts: Parts): Connection {
  const documents = DynamoDBDocumentClient.from(parts.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const registry = new DynamoDbRegistry({ client: documents, tableName: parts.tableName });
  // Each secret is read once per run (the cache outlives any command).
  const credentials = new SecretsManagerCredentials(parts.secrets);
  return {
    kind: parts.kind,
    description: parts.description,
    registry,
    secrets: parts.secrets,
    credentials,
    explainContext: parts.explainContext,
    async qlikFor(tenant, signal) {
      const auth: QlikCredentials = await credentials.credentialsFor(tenant, signal);
      return createQlikClient({ baseUrl: tenant.url, auth });
    },
    async close() {
      parts.dynamodb.destroy();
      parts.secrets.destroy();
      await closeQlikPools();
    },
  };
}

/**
 * `origin-sync tenants add|list`: the Qlik Cloud tenants and where their credentials live.
 *
 * `tenants add` takes the API key (or OAuth client secret) from stdin or the environment, never
 * from an argument (arguments end up in shell history and `ps`), checks it with Qlik, writes it
 * to Secrets Manager and records the tenant. The secret is never printed, logged or put in an
 * error message.
 */
import type { Command } from 'commander';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import type { Tenant } from '../../functions/core/model.js';
import { parseTenantSecret } from '../../functions/credentials/tenantSecret.js';
import { createQlikClient, type QlikCredentials } from '../../functions/qlik/index.js';
import { parseTenantName } from '../arguments.js';
import type { Connection } from '../connection.js';
import { EXIT_OK, type CliContext, type Runner } from '../context.js';
import { CliError, explain } from '../errors.js';
import { readSecret } from '../prompt.js';

/** Environment variables `tenants add` reads credentials from. */
export const CREDENTIAL_VARIABLES = {
  apiKey: 'ORIGIN_SYNC_API_KEY',
  clientId: 'ORIGIN_SYNC_CLIENT_ID',
  clientSecret: 'ORIGIN_SYNC_CLIENT_SECRET',
} as const;

/** `tenants add --json` (stable keys; never the secret). */
export interface TenantAdded {
  tenant: string;
  url: string;
  secretId: string;
  /** `created`/`updated`: the credentials were written; `kept`: the existing secret is used as it is. */
  secret: 'created' | 'updated' | 'kept';
  credentialType: 'apiKey' | 'oauthClient';
  /** Whether Qlik accepted the credentials (false with `--no-verify`). */
  verified: boolean;
}

interface AddOptions {
  tenant: string;
  url: string;
  secretId?: string;
  apiKeyStdin?: boolean;
  clientId?: string;
  clientSecretStdin?: boolean;
  verify: boolean;
}

const SECRET_NAME = /^[\w/+=.@-]{1,512}$/;

const ADD_EXAMPLES = `
Credentials never go on the command line. Give them on stdin or in the environment:
  --api-key-stdin                              an API key, piped in or typed at a hidden prompt
  --client-id ID --client-secret-stdin         an OAuth2 client (client credentials)
  ${CREDENTIAL_VARIABLES.apiKey}                          an API key
  ${CREDENTIAL_VARIABLES.clientId} + ${CREDENTIAL_VARIABLES.clientSecret}  an OAuth2 client
With none of these, the secret --secret-id must already exist and is used as it is.

Examples:
  $ pass show qlik/acme | npx origin-sync tenants add --tenant acme --url https://acme.eu.qlikcloud.com --api-key-stdin
  $ ${CREDENTIAL_VARIABLES.clientId}=... ${CREDENTIAL_VARIABLES.clientSecret}=... npx origin-sync tenants add --tenant acme --url https://acme.eu.qlikcloud.com
  $ npx origin-sync tenants add --tenant acme --url https://acme.eu.qlikcloud.com --secret-id origin-sync/acme   # existing secret`;

export function registerTenantsCommand(program: Command, run: Runner): void {
  const tenants = program
    .command('tenants')
    .description('the Qlik Cloud tenants and their credentials: add, list')
    .addHelpText('after', '\nExamples:\n  $ npx origin-sync tenants list\n  $ npx origin-sync tenants add --help');
  tenants
    .command('add')
    .description('add a tenant (or replace its URL and credentials): credentials go to Secrets Manager, never to the output')
    .requiredOption('--tenant <name>', 'short name used in targets and events (a-z, 0-9, -)')
    .requiredOption('--url <url>', 'the tenant URL, e.g. https://acme.eu.qlikcloud.com')
    .option('--secret-id <id>', 'Secrets Manager secret for the credentials (default origin-sync/<tenant>)')
    .option('--api-key-stdin', 'read an API key from stdin')
    .option('--client-id <id>', 'OAuth2 client id (the secret from --client-secret-stdin or the environment)')
    .option('--client-secret-stdin', 'read the OAuth2 client secret from stdin')
    .option('--no-verify', 'do not check the credentials with Qlik first')
    .addHelpText('after', ADD_EXAMPLES)
    .action(run(addTenant));
  tenants
    .command('list')
    .description('list the tenants, their URLs, secrets and number of targets')
    .addHelpText('after', '\nExamples:\n  $ npx origin-sync tenants list --json')
    .action(run(listTenants));
}

async function addTenant(context: CliContext, options: AddOptions): Promise<number> {
  const name = parseTenantName(options.tenant);
  const url = parseTenantUrl(options.url);
  const secretId = options.secretId ?? `origin-sync/${name}`;
  if (!SECRET_NAME.test(secretId)) {
    throw new CliError(`--secret-id takes a Secrets Manager secret name (letters, digits and /_+=.@-), got "${secretId}"`, { code: 'usage' });
  }
  const given = await credentialsFromInput(context, options);
  const connection = await context.connection();
  const credentials = given ?? (await existingSecret(connection, secretId));
  if (options.verify) await verifyWithQlik(connection, url, credentials);

  let secret: TenantAdded['secret'] = 'kept';
  if (given) secret = await writeSecret(connection, secretId, name, given);
  const tenant: Tenant = { tenant: name, url, secretId };
  const existed = (await connection.registry.getTenant(name)) !== undefined;
  await connection.registry.putTenant(tenant);

  const result: TenantAdded = { ...tenant, secret, credentialType: 'apiKey' in credentials ? 'apiKey' : 'oauthClient', verified: options.verify };
  if (context.out.json) {
    context.out.data(result);
  } else {
    const what = secret === 'kept' ? `using the existing secret ${secretId}` : `credentials ${secret === 'created' ? 'stored in the new' : 'updated in the'} secret ${secretId}`;
    context.out.line(`${existed ? 'Updated' : 'Added'} tenant ${context.out.style.bold(name)} (${url}): ${what}${options.verify ? '; Qlik accepted them' : ''}.`);
    context.out.note(`Next: "origin-sync targets add --target ${name}/WEB_INTEGRATION_ID --allowed-origin PATTERN".`);
  }
  if (connection.kind === 'aws') {
    context.out.warn(
      `the functions may read only the secrets of tenants configured with the stack; add {"name":"${name}","url":"${url}","secretName":"${secretId}"} to its "tenants" and deploy (infra/DEPLOY.md)`,
    );
  }
  return EXIT_OK;
}

/** An origin: https (http only for a tenant on this machine, such as the Qlik emulator). */
function parseTenantUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const loopback = url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (
    url === undefined ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw new CliError(`--url takes the tenant's https origin without a path, e.g. https://acme.eu.qlikcloud.com, got "${text}"`, { code: 'usage' });
  }
  return url.origin;
}

/** Credentials from stdin or the environment; `undefined` when none are given. */
async function credentialsFromInput(context: CliContext, options: AddOptions): Promise<QlikCredentials | undefined> {
  const env = context.io.env;
  if (options.apiKeyStdin && (options.clientId !== undefined || options.clientSecretStdin)) {
    throw new CliError('give either an API key or an OAuth2 client, not both', { code: 'usage' });
  }
  if (options.apiKeyStdin) return { apiKey: await readSecret(context.io, 'API key') };
  const clientId = options.clientId ?? (env[CREDENTIAL_VARIABLES.clientId] || undefined);
  if (options.clientSecretStdin || clientId !== undefined) {
    if (clientId === undefined) throw new CliError(`--client-secret-stdin needs --client-id (or ${CREDENTIAL_VARIABLES.clientId})`, { code: 'usage' });
    const clientSecret = options.clientSecretStdin ? await readSecret(context.io, 'client secret') : env[CREDENTIAL_VARIABLES.clientSecret];
    if (!clientSecret) {
      throw new CliError('an OAuth2 client needs its secret', { code: 'usage', hint: `pass --client-secret-stdin or set ${CREDENTIAL_VARIABLES.clientSecret}` });
    }
    return { clientId, clientSecret };
  }
  const apiKey = env[CREDENTIAL_VARIABLES.apiKey];
  return apiKey ? { apiKey: apiKey.trim() } : undefined;
}

/** With no credentials given, the secret must exist already and hold a valid shape. */
async function existingSecret(connection: Connection, secretId: string): Promise<QlikCredentials> {
  try {
    const answer = await connection.secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    return parseTenantSecret(secretId, answer.SecretString);
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new CliError(`no credentials given, and the secret ${secretId} does not exist`, {
        code: 'usage',
        hint: `pass --api-key-stdin (or set ${CREDENTIAL_VARIABLES.apiKey}), or --client-id with --client-secret-stdin`,
        cause: error,
      });
    }
    throw error;
  }
}

async function verifyWithQlik(connection: Connection, url: string, credentials: QlikCredentials): Promise<void> {
  try {
    await createQlikClient({ baseUrl: url, auth: credentials, retry: { maxAttempts: 2 } }).listPage({ limit: 1 });
  } catch (error) {
    const explained = explain(error, connection.explainContext);
    throw new CliError(`Qlik at ${url} did not accept the credentials: ${explained.message}; nothing was stored`, {
      code: explained.code,
      hint: 'check the URL and the credentials, or add --no-verify to store them unchecked',
      cause: error,
    });
  }
}

async function writeSecret(connection: Connection, secretId: string, tenant: string, credentials: QlikCredentials): Promise<'created' | 'updated'> {
  const SecretString = JSON.stringify(credentials);
  try {
    await connection.secrets.send(new CreateSecretCommand({ Name: secretId, SecretString, Description: `Qlik Cloud credentials of tenant ${tenant} (qlik-origin-sync)` }));
    return 'created';
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
  await connection.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
  return 'updated';
}

async function listTenants(context: CliContext): Promise<number> {
  const { registry } = await context.connection();
  const tenants = (await registry.listTenants()).sort((a, b) => a.tenant.localeCompare(b.tenant));
  const rows = [];
  for (const tenant of tenants) rows.push({ ...tenant, targets: (await registry.listTargets(tenant.tenant)).length });
  if (context.out.json) {
    context.out.data({ tenants: rows });
  } else if (rows.length === 0) {
    context.out.line('No tenants yet: add one with "origin-sync tenants add --tenant NAME --url URL --api-key-stdin".');
  } else {
    context.out.table(['TENANT', 'URL', 'SECRET', 'TARGETS'], rows.map((row) => [row.tenant, row.url, row.secretId, String(row.targets)]));
  }
  return EXIT_OK;
}

/**
 * The CLI pointed at AWS (`--region`, `--stack`): the table name comes from the stack's outputs
 * (DescribeStacks), credentials and endpoints from the SDK's usual sources. Here the endpoints are
 * stand-ins on loopback, found through the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables: a
 * CloudFormation that answers DescribeStacks, the DynamoDB Local of the test run and the local
 * Secrets Manager endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parsePolicy } from '../../functions/core/policy.js';
import { startSecretsManagerServer, type RunningSecretsManager } from '../../local/aws/secretsManagerServer.js';
import { STACK_OUTPUTS } from '../../infra/originSyncStack.js';
import { DEFAULT_STACK_NAME, TABLE_NAME_OUTPUT } from '../../cli/connection.js';
import { createTestRegistry, type TestRegistry } from '../helpers/registryTable.js';
import { runCli, type RunOptions } from './runCli.js';

let table: TestRegistry;
let cloudFormation: Server;
let cloudFormationUrl: string;
let secretsManager: RunningSecretsManager;
const requests: string[] = [];

/** DescribeStacks over the AWS query protocol: the stack "QlikOriginSync" with its outputs, "Bare" without. */
function describeStacks(body: URLSearchParams): { status: number; xml: string } {
  const name = body.get('StackName') ?? '';
  if (name !== DEFAULT_STACK_NAME && name !== 'Bare') {
    return {
      status: 400,
      xml: `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
    };
  }
  const outputs = name === 'Bare' ? '' : `<Outputs><member><OutputKey>DeployEventsFunctionName</OutputKey><OutputValue>fn</OutputValue></member><member><OutputKey>${TABLE_NAME_OUTPUT}</OutputKey><OutputValue>${table.tableName}</OutputValue></member></Outputs>`;
  return {
    status: 200,
    xml: `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${name}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>${outputs}</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}

beforeAll(async () => {
  table = await createTestRegistry({ tablePrefix: 'cli-aws' });
  await table.registry.putTenant({ tenant: 'acme', url: 'https://acme.eu.qlikcloud.com', secretId: 'origin-sync/acme' });
  await table.registry.putTarget({ tenant: 'acme', webIntegrationId: 'Web1' }, parsePolicy({ allowedOrigins: ['https://*.acme.com'], maxRemovalsPerRun: 3 }));
  cloudFormation = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      requests.push(`${form.get('Action')} ${form.get('StackName')} ${request.headers.authorization?.includes('Credential=AKIDCLI/') ? 'signed' : 'unsigned'}`);
      const answer = describeStacks(form);
      response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.xml);
    });
  });
  await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
  cloudFormationUrl = `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`;
  secretsManager = await startSecretsManagerServer({ port: 0 });
});

afterAll(async () => {
  await new Promise((resolve) => cloudFormation?.close(resolve));
  await secretsManager?.close();
  await table?.destroy();
});

function aws(args: readonly string[], options: RunOptions = {}) {
  return runCli(args, {
    ...options,
    env: {
      AWS_ACCESS_KEY_ID: 'AKIDCLI',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormationUrl,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      ...options.env,
    },
  });
}

describe('origin-sync against a stack in AWS', () => {
  it('reads the table from the stack output the infrastructure declares', () => {
    expect(TABLE_NAME_OUTPUT).toBe(STACK_OUTPUTS.tableName);
  });

  it('--region and --stack: the registry table from DescribeStacks, credentials from the environment', async () => {
    const [targets, tenants] = await Promise.all([
      aws(['targets', 'list', '--json', '--region', 'us-east-1', '--stack', DEFAULT_STACK_NAME]),
      aws(['tenants', 'list', '--region', 'us-east-1']), // the default stack name
    ]);
    expect(targets.code, targets.stderr).toBe(0);
    expect(targets.json()).toMatchObject({ targets: [{ target: 'acme/Web1', policy: { allowedOrigins: ['https://*.acme.com'], maxRemovalsPerRun: 3 } }] });
    expect(tenants.code, tenants.stderr).toBe(0);
    expect(tenants.stdout).toMatch(/acme\s+https:\/\/acme\.eu\.qlikcloud\.com\s+origin-sync\/acme\s+1/);
    expect(requests).toEqual([`DescribeStacks ${DEFAULT_STACK_NAME} signed`, `DescribeStacks ${DEFAULT_STACK_NAME} signed`]);
  });

  it('an unknown stack, or one without the output, is one line saying what to pass', async () => {
    const [unknown, bare] = await Promise.all([
      aws(['status', '--region', 'us-east-1', '--stack', 'Nope']),
      aws(['status', '--region', 'us-east-1', '--stack', 'Bare']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`origin-sync: stack Nope does not exist in us-east-1: pass --stack NAME (the name your deployment used; default ${DEFAULT_STACK_NAME})\n`);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe(`origin-sync: stack Bare has no output ${TABLE_NAME_OUTPUT} (is it a qlik-origin-sync stack?): pass the right --stack, or the table itself with --table NAME\n`);
  });

  it('tenants add writes the secret and warns that the stack must list the tenant for the functions to read it', async () => {
    const run = await aws(['tenants', 'add', '--tenant', 'globex', '--url', 'https://globex.us.qlikcloud.com', '--no-verify', '--region', 'us-east-1', '--table', table.tableName], {
      env: { ORIGIN_SYNC_CLIENT_ID: 'client-1', ORIGIN_SYNC_CLIENT_SECRET: 'very-secret-value' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Added tenant globex (https://globex.us.qlikcloud.com): credentials stored in the new secret origin-sync/globex.');
    expect(run.stderr).toContain('the functions may read only the secrets of tenants configured with the stack');
    expect(run.stdout + run.stderr).not.toContain('very-secret-value');
    expect(await table.registry.getTenant('globex')).toEqual({ tenant: 'globex', url: 'https://globex.us.qlikcloud.com', secretId: 'origin-sync/globex' });
  });
});

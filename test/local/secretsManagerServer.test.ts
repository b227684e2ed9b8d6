/**
 * The local Secrets Manager endpoint, driven by the real SDK v3 client: what the synchronizer and
 * `@middy/secrets-manager` rely on (values by name or ARN, staging labels, the SDK's exception
 * classes, dates as Dates), plus the wire format itself and the optional state file.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSecretsManagerServer, type RunningSecretsManager } from '../../local/aws/secretsManagerServer.js';

const SECRET_VALUE = '{"apiKey":"SUPER-SECRET-123"}';
const NEWER_VALUE = '{"apiKey":"EVEN-MORE-SECRET-456"}';
const ARN_PATTERN = /^arn:aws:secretsmanager:us-east-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$/;

function clientFor(server: RunningSecretsManager): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SecretsManagerServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as SecretsManagerServiceException;
  }
  throw new Error('expected the call to fail');
}

let server: RunningSecretsManager;
let client: SecretsManagerClient;
let nameCounter = 0;
/** A fresh secret name per test: the server is shared by the whole file. */
const uniqueName = (prefix = 'qlik/tenant') => `${prefix}-${(nameCounter += 1)}`;

beforeAll(async () => {
  server = await startSecretsManagerServer({ port: 0 });
  client = clientFor(server);
});
afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('Function: startSecretsManagerServer()', () => {
  describe('CreateSecret and GetSecretValue', () => {
    it('creates a secret and reads it back by name, full ARN and partial ARN', async () => {
      // Prepare
      const name = uniqueName();

      // Act
      const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE, Description: 'demo tenant' }));
      const byName = await client.send(new GetSecretValueCommand({ SecretId: name }));
      const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      const byPartialArn = await client.send(new GetSecretValueCommand({ SecretId: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}` }));

      // Assess
      expect(created.Name).toBe(name);
      expect(created.ARN).toMatch(ARN_PATTERN);
      expect(ARN_PATTERN.exec(created.ARN!)?.[1]).toBe(name);
      expect(created.VersionId).toEqual(expect.any(String));
      for (const read of [byName, byArn, byPartialArn]) {
        expect(read).toMatchObject({ ARN: created.ARN, Name: name, VersionId: created.VersionId, SecretString: SECRET_VALUE, VersionStages: ['AWSCURRENT'] });
        expect(read.CreatedDate).toBeInstanceOf(Date);
        expect(Math.abs(read.CreatedDate!.getTime() - Date.now())).toBeLessThan(60_000);
      }
    });

    it('keeps binary secrets as bytes', async () => {
      const name = uniqueName('binary');
      const bytes = new Uint8Array([0, 1, 2, 250, 255, 128]);

      await client.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
      const read = await client.send(new GetSecretValueCommand({ SecretId: name }));

      expect(read.SecretString).toBeUndefined();
      expect([...read.SecretBinary!]).toEqual([...bytes]);
    });

    it('uses ClientRequestToken as the version id', async () => {
      const token = 'a'.repeat(32);

      const created = await client.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: SECRET_VALUE, ClientRequestToken: token }));

      expect(created.VersionId).toBe(token);
    });

    it('answers a retried create (same token, same value) with the same secret', async () => {
      const name = uniqueName();
      const token = 'b'.repeat(36);

      const first = await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE, ClientRequestToken: token }));
      const retried = await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE, ClientRequestToken: token }));

      expect(retried).toMatchObject({ ARN: first.ARN, Name: name, VersionId: token });
    });

    it('refuses a second secret of the same name with ResourceExistsException', async () => {
      const name = uniqueName();
      await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      const error = await rejection(client.send(new CreateSecretCommand({ Name: name, SecretString: NEWER_VALUE })));

      expect(error).toBeInstanceOf(ResourceExistsException);
      expect(error.message).toBe(`The operation failed because the secret ${name} already exists.`);
      expect(error.$metadata.httpStatusCode).toBe(400);
    });

    it('answers an unknown secret with ResourceNotFoundException', async () => {
      const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })));

      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.name).toBe('ResourceNotFoundException');
      expect(error.message).toBe("Secrets Manager can't find the specified secret.");
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.$metadata.requestId).toEqual(expect.any(String));
    });

    it('answers an ARN of another account or an unknown suffix with ResourceNotFoundException', async () => {
      const name = uniqueName();
      const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      const otherAccount = created.ARN!.replace(':000000000000:', ':111111111111:');
      const otherSuffix = created.ARN!.replace(/-[A-Za-z0-9]{6}$/, '-zzzzzz');

      expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: otherAccount })))).toBeInstanceOf(ResourceNotFoundException);
      expect(await rejection(client.send(new GetSecretValueCommand({ SecretId: otherSuffix })))).toBeInstanceOf(ResourceNotFoundException);
    });

    it('answers a secret without a value with ResourceNotFoundException naming the label', async () => {
      const name = uniqueName();
      const created = await client.send(new CreateSecretCommand({ Name: name }));

      const error = await rejection(client.send(new GetSecretValueCommand({ SecretId: name })));

      expect(created.VersionId).toBeUndefined();
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toContain('staging label: AWSCURRENT');
    });

    it('refuses a string and a binary value together with InvalidParameterException', async () => {
      const error = await rejection(
        client.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: SECRET_VALUE, SecretBinary: new Uint8Array([1]) })),
      );

      expect(error).toBeInstanceOf(InvalidParameterException);
    });

    it('refuses a name AWS would refuse with ValidationException', async () => {
      const error = await rejection(client.send(new CreateSecretCommand({ Name: 'spaces are not allowed', SecretString: SECRET_VALUE })));

      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain("'name'");
    });

    it('never quotes a secret value in an error', async () => {
      const huge = `SUPER-SECRET-${'x'.repeat(70_000)}`;

      const error = await rejection(client.send(new CreateSecretCommand({ Name: uniqueName(), SecretString: huge })));

      expect(error.name).toBe('ValidationException');
      expect(JSON.stringify({ message: error.message, error })).not.toContain('SUPER-SECRET');
    });
  });

  describe('PutSecretValue and staging labels', () => {
    it('makes the new value AWSCURRENT and the one it replaces AWSPREVIOUS', async () => {
      // Prepare
      const name = uniqueName();
      const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      // Act
      const put = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: NEWER_VALUE }));
      const current = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      const previous = await client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
      const byVersionId = await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: created.VersionId }));
      const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

      // Assess
      expect(put).toMatchObject({ ARN: created.ARN, Name: name, VersionStages: ['AWSCURRENT'] });
      expect(put.VersionId).not.toBe(created.VersionId);
      expect(current).toMatchObject({ VersionId: put.VersionId, SecretString: NEWER_VALUE, VersionStages: ['AWSCURRENT'] });
      expect(previous).toMatchObject({ VersionId: created.VersionId, SecretString: SECRET_VALUE, VersionStages: ['AWSPREVIOUS'] });
      expect(byVersionId.SecretString).toBe(SECRET_VALUE);
      expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'] });
    });

    it('drops the label from the oldest version after a third value', async () => {
      const name = uniqueName();
      const first = await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
      const second = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
      const third = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3' }));

      const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

      expect(described.VersionIdsToStages).toEqual({ [second.VersionId!]: ['AWSPREVIOUS'], [third.VersionId!]: ['AWSCURRENT'] });
      // A version without labels is deprecated but still readable by id.
      expect((await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: first.VersionId }))).SecretString).toBe('v1');
    });

    it('is idempotent per ClientRequestToken and refuses to change an existing version', async () => {
      const name = uniqueName();
      await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));
      const token = 'c'.repeat(40);

      const first = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: NEWER_VALUE, ClientRequestToken: token }));
      const again = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: NEWER_VALUE, ClientRequestToken: token }));
      const conflict = await rejection(client.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'changed', ClientRequestToken: token })));
      const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

      expect(again.VersionId).toBe(first.VersionId);
      expect(Object.keys(described.VersionIdsToStages!)).toHaveLength(2);
      expect(conflict).toBeInstanceOf(ResourceExistsException);
      expect(conflict.message).not.toContain('changed');
    });

    it('puts a value on a secret created without one', async () => {
      const name = uniqueName();
      await client.send(new CreateSecretCommand({ Name: name }));

      await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: SECRET_VALUE }));

      expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(SECRET_VALUE);
    });

    it('answers a put to an unknown secret with ResourceNotFoundException', async () => {
      const error = await rejection(client.send(new PutSecretValueCommand({ SecretId: 'no/such/secret', SecretString: SECRET_VALUE })));

      expect(error).toBeInstanceOf(ResourceNotFoundException);
    });

    it('UpdateSecret changes the description and, given a value, adds a version', async () => {
      const name = uniqueName();
      await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE, Description: 'old' }));

      const updated = await client.send(new UpdateSecretCommand({ SecretId: name, Description: 'new', SecretString: NEWER_VALUE }));
      const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

      expect(described.Description).toBe('new');
      expect(described.VersionIdsToStages?.[updated.VersionId!]).toEqual(['AWSCURRENT']);
      expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(NEWER_VALUE);
    });
  });

  describe('DescribeSecret and ListSecrets', () => {
    let listServer: RunningSecretsManager;
    let listClient: SecretsManagerClient;

    beforeEach(async () => {
      listServer = await startSecretsManagerServer({ port: 0 });
      listClient = clientFor(listServer);
    });
    afterEach(async () => {
      listClient.destroy();
      await listServer.close();
    });

    it('describes a secret with its dates as Dates and its tags', async () => {
      const created = await listClient.send(
        new CreateSecretCommand({ Name: 'qlik/acme', SecretString: SECRET_VALUE, Description: 'acme tenant', Tags: [{ Key: 'tenant', Value: 'acme' }] }),
      );

      const described = await listClient.send(new DescribeSecretCommand({ SecretId: created.ARN }));

      expect(described).toMatchObject({ ARN: created.ARN, Name: 'qlik/acme', Description: 'acme tenant', Tags: [{ Key: 'tenant', Value: 'acme' }] });
      expect(described.CreatedDate).toBeInstanceOf(Date);
      expect(described.LastChangedDate).toBeInstanceOf(Date);
      expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSCURRENT'] });
      expect(JSON.stringify(described)).not.toContain('SUPER-SECRET');
    });

    it('lists every secret once across pages of MaxResults 1', async () => {
      // Prepare
      const names = ['qlik/a', 'qlik/b', 'qlik/c', 'other/d'];
      for (const name of names) await listClient.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      // Act
      const pages: string[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await listClient.send(new ListSecretsCommand({ MaxResults: 1, ...(nextToken && { NextToken: nextToken }) }));
        pages.push(page.SecretList!.map((secret) => secret.Name!));
        nextToken = page.NextToken;
      } while (nextToken);

      // Assess
      expect(pages).toEqual(names.map((name) => [name]));
      const [entry] = (await listClient.send(new ListSecretsCommand({ MaxResults: 1 }))).SecretList!;
      expect(entry!.CreatedDate).toBeInstanceOf(Date);
      expect(entry!.LastChangedDate).toBeInstanceOf(Date);
      expect(Object.values(entry!.SecretVersionsToStages!)).toEqual([['AWSCURRENT']]);
    });

    it('filters by name prefix, with ! to negate', async () => {
      for (const name of ['qlik/a', 'qlik/b', 'other/c']) await listClient.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      const qlik = await listClient.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['qlik/'] }] }));
      const notQlik = await listClient.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!qlik/'] }] }));

      expect(qlik.SecretList!.map((secret) => secret.Name)).toEqual(['qlik/a', 'qlik/b']);
      expect(notQlik.SecretList!.map((secret) => secret.Name)).toEqual(['other/c']);
    });

    it('refuses a NextToken it did not issue and MaxResults out of range', async () => {
      const badToken = await rejection(listClient.send(new ListSecretsCommand({ NextToken: 'not-a-token' })));
      const badMax = await rejection(listClient.send(new ListSecretsCommand({ MaxResults: 101 })));

      expect(badToken).toBeInstanceOf(InvalidNextTokenException);
      expect(badMax.name).toBe('ValidationException');
    });

    it('DeleteSecret schedules deletion; RestoreSecret undoes it; forced deletion frees the name', async () => {
      const name = 'qlik/deleted';
      await listClient.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      const scheduled = await listClient.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      const whileDeleted = await rejection(listClient.send(new GetSecretValueCommand({ SecretId: name })));
      const recreate = await rejection(listClient.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE })));
      const listed = await listClient.send(new ListSecretsCommand({}));
      const listedWithPlanned = await listClient.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));

      expect(scheduled.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6 * 86_400_000);
      expect(whileDeleted).toBeInstanceOf(InvalidRequestException);
      expect(recreate).toBeInstanceOf(InvalidRequestException);
      expect(listed.SecretList).toEqual([]);
      expect(listedWithPlanned.SecretList![0]!.DeletedDate).toBeInstanceOf(Date);

      await listClient.send(new RestoreSecretCommand({ SecretId: name }));
      expect((await listClient.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(SECRET_VALUE);

      await listClient.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      expect(await rejection(listClient.send(new GetSecretValueCommand({ SecretId: name })))).toBeInstanceOf(ResourceNotFoundException);
      await listClient.send(new CreateSecretCommand({ Name: name, SecretString: NEWER_VALUE }));
      expect((await listClient.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(NEWER_VALUE);
    });
  });

  describe('the AWS JSON 1.1 wire format', () => {
    const post = (target: string | undefined, body: string) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', ...(target !== undefined && { 'x-amz-target': target }) },
        body,
      });

    it('answers with the JSON 1.1 content type and a request id', async () => {
      const name = uniqueName();
      await client.send(new CreateSecretCommand({ Name: name, SecretString: SECRET_VALUE }));

      const response = await post('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: name }));
      const body = (await response.json()) as Record<string, unknown>;

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
      expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      // Timestamps are epoch seconds on the wire.
      expect(typeof body.CreatedDate).toBe('number');
      expect(Math.abs((body.CreatedDate as number) - Date.now() / 1000)).toBeLessThan(60);
    });

    it('answers errors with __type, message and x-amzn-errortype', async () => {
      const response = await post('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: 'no/such/secret' }));

      expect(response.status).toBe(400);
      expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
      expect(await response.json()).toEqual({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    });

    it.each([
      ['an unknown operation', 'secretsmanager.RotateTheMoon', '{}', 'UnknownOperationException'],
      ['another service', 'AWSEvents.PutEvents', '{}', 'UnknownOperationException'],
      ['no X-Amz-Target', undefined, '{}', 'UnknownOperationException'],
      ['a body that is not JSON', 'secretsmanager.GetSecretValue', '{nope', 'SerializationException'],
      ['a body that is not an object', 'secretsmanager.GetSecretValue', '[1]', 'SerializationException'],
      ['a missing required member', 'secretsmanager.GetSecretValue', '{}', 'ValidationException'],
    ])('answers %s with 400 %s', async (_case, target, body, code) => {
      const response = await post(target, body);

      expect(response.status).toBe(400);
      expect(((await response.json()) as { __type: string }).__type).toBe(code);
      expect(response.headers.get('x-amzn-errortype')).toBe(code);
    });

    it('says which member is missing as AWS does', async () => {
      const response = await post('secretsmanager.GetSecretValue', '{}');

      expect(((await response.json()) as { message: string }).message).toBe(
        "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must not be null",
      );
    });

    it('answers anything but POST / with 404', async () => {
      const response = await fetch(`${server.url}/health`);

      expect(response.status).toBe(404);
      expect(((await response.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    });
  });

  describe('statePath', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'secrets-state-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('keeps secrets, versions and ARNs across restarts in a file only its owner can read', async () => {
      // Prepare
      const statePath = join(dir, 'nested', 'secrets.json');
      const first = await startSecretsManagerServer({ port: 0, statePath });
      const firstClient = clientFor(first);
      const created = await firstClient.send(new CreateSecretCommand({ Name: 'qlik/demo', SecretString: SECRET_VALUE }));
      await firstClient.send(new PutSecretValueCommand({ SecretId: 'qlik/demo', SecretString: NEWER_VALUE }));
      firstClient.destroy();
      await first.close();

      // Act
      const second = await startSecretsManagerServer({ port: 0, statePath });
      const secondClient = clientFor(second);
      const current = await secondClient.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      const previous = await secondClient.send(new GetSecretValueCommand({ SecretId: 'qlik/demo', VersionStage: 'AWSPREVIOUS' }));
      secondClient.destroy();
      await second.close();

      // Assess
      expect(current.SecretString).toBe(NEWER_VALUE);
      expect(previous.SecretString).toBe(SECRET_VALUE);
      expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({ version: 1, region: 'us-east-1', accountId: '000000000000' });
      expect((await stat(statePath)).mode & 0o777).toBe(0o600);
    });

    it('refuses a state file of another region', async () => {
      const statePath = join(dir, 'secrets.json');
      const first = await startSecretsManagerServer({ port: 0, statePath, region: 'eu-west-1' });
      const firstClient = new SecretsManagerClient({ endpoint: first.url, region: 'eu-west-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
      await firstClient.send(new CreateSecretCommand({ Name: 'qlik/demo', SecretString: SECRET_VALUE }));
      firstClient.destroy();
      await first.close();

      await expect(startSecretsManagerServer({ port: 0, statePath })).rejects.toThrow(/eu-west-1/);
    });
  });
});

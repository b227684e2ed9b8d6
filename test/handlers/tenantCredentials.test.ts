/**
 * Tenant credentials in the functions: `@middy/secrets-manager` against the local Secrets Manager
 * endpoint (AWS JSON 1.1, the real SDK), and how failures to read a secret are classified.
 */
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clearCache } from '@middy/util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tenant } from '../../functions/core/model.js';
import { SecretsManagerCredentials } from '../../functions/credentials/secretsManagerCredentials.js';
import { CredentialsError } from '../../functions/credentials/tenantSecret.js';
import { isTerminal } from '../../functions/handlers/outcomes.js';
import { tenantCredentials, type CredentialsContext } from '../../functions/handlers/tenantCredentials.js';
import { startSecretsManagerServer } from '../../local/aws/secretsManagerServer.js';

let server: Awaited<ReturnType<typeof startSecretsManagerServer>>;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  server = await startSecretsManagerServer({ port: 0 });
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  secrets = new SecretsManagerClient({});
});

afterAll(async () => {
  secrets?.destroy();
  await server?.close();
});

beforeEach(() => {
  clearCache();
});

let secretCounter = 0;
async function tenantWithSecret(name: string, value: unknown): Promise<Tenant> {
  secretCounter += 1;
  const secretId = `origin-sync/test-${secretCounter}`;
  await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(value) }));
  return { tenant: name, url: 'https://tenant.example.com', secretId };
}

async function credentialsOf(middleware: ReturnType<typeof tenantCredentials>, tenant: Tenant): Promise<unknown> {
  const request = { event: {}, context: {} as CredentialsContext, response: undefined, error: undefined, internal: {} };
  await middleware.before!(request as never);
  return request.context.credentialsFor(tenant);
}

describe('Middleware: tenantCredentials()', () => {
  it('reads a configured tenant secret, whatever characters its name holds', async () => {
    const tenant = await tenantWithSecret('a--b', { apiKey: 'key-of-a--b' });
    expect(await credentialsOf(tenantCredentials({ tenants: [tenant] }), tenant)).toEqual({ apiKey: 'key-of-a--b' });
  });

  it('keeps one tenant working when another tenant secret is missing', async () => {
    const good = await tenantWithSecret('good', { apiKey: 'good-key' });
    const missing: Tenant = { tenant: 'missing', url: 'https://missing.example.com', secretId: 'origin-sync/does-not-exist' };
    const middleware = tenantCredentials({ tenants: [good, missing] });

    expect(await credentialsOf(middleware, good)).toEqual({ apiKey: 'good-key' });
    const failure = await credentialsOf(middleware, missing).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CredentialsError);
    expect((failure as Error).message).toBe('tenant secret "origin-sync/does-not-exist" does not exist');
    expect(isTerminal(failure)).toBe(true);
  });

  it('sees a rotated secret once its cache expired, and a failure in between is never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const tenant = await tenantWithSecret('rotating', { apiKey: 'first-key' });
      const middleware = tenantCredentials({ tenants: [tenant], cacheExpiryMs: 200 });
      expect(await credentialsOf(middleware, tenant)).toEqual({ apiKey: 'first-key' });

      await secrets.send(new DeleteSecretCommand({ SecretId: tenant.secretId, ForceDeleteWithoutRecovery: true }));
      await sleep(400);
      expect(unhandled).toEqual([]);
      await expect(credentialsOf(middleware, tenant)).rejects.toThrow(/does not exist/);

      await secrets.send(new CreateSecretCommand({ Name: tenant.secretId, SecretString: JSON.stringify({ apiKey: 'second-key' }) }));
      await sleep(250);
      expect(await credentialsOf(middleware, tenant)).toEqual({ apiKey: 'second-key' });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});

describe('Function: credentialsErrorFor() through SecretsManagerCredentials', () => {
  const tenant: Tenant = { tenant: 'acme', url: 'https://acme.example.com', secretId: 'origin-sync/acme' };
  /** An SDK client that fails the way AWS does for the given error name. */
  const failingClient = (name: string) => ({ send: async () => Promise.reject(Object.assign(new Error(`${name} happened`), { name })) }) as unknown as SecretsManagerClient;

  it.each(['ThrottlingException', 'InternalServiceError', 'TimeoutError', 'ECONNRESET'])('treats %s as transient, so Lambda retries the event', async (name) => {
    const failure = await new SecretsManagerCredentials(failingClient(name)).credentialsFor(tenant).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CredentialsError);
    expect(isTerminal(failure)).toBe(false);
  });

  it.each(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure'])('treats %s as terminal', async (name) => {
    const failure = await new SecretsManagerCredentials(failingClient(name)).credentialsFor(tenant).catch((error: unknown) => error);
    expect(isTerminal(failure)).toBe(true);
    expect((failure as Error).message).toContain('origin-sync/acme');
  });
});

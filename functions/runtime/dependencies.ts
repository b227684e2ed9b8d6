import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Tenant } from '../core/model.js';
import { SecretsManagerCredentials } from '../credentials/secretsManagerCredentials.js';
import { DynamoDbRegistry } from '../registry/dynamoDbRegistry.js';
import type { Registry } from '../registry/registry.js';
import { readSettings, type Settings } from './settings.js';

/** Tenants: those configured with the deployment first, then those added to the registry. */
export class TenantDirectory {
  readonly #configured: Map<string, Tenant>;
  readonly #registry: Registry;

  public constructor(configured: readonly Tenant[], registry: Registry) {
    this.#configured = new Map(configured.map((tenant) => [tenant.tenant, tenant]));
    this.#registry = registry;
  }

  public isConfigured(tenant: string): boolean {
    return this.#configured.has(tenant);
  }

  public async find(tenant: string): Promise<Tenant | undefined> {
    return this.#configured.get(tenant) ?? (await this.#registry.getTenant(tenant));
  }

  public async all(): Promise<Tenant[]> {
    const merged = new Map((await this.#registry.listTenants()).map((tenant) => [tenant.tenant, tenant]));
    for (const [name, tenant] of this.#configured) merged.set(name, tenant);
    return [...merged.values()].sort((a, b) => a.tenant.localeCompare(b.tenant));
  }
}

/** What the handlers share within one container, built on first use (cold start). */
export interface FunctionDependencies {
  settings: Settings;
  registry: Registry;
  tenants: TenantDirectory;
  /** For tenants outside the deployment's configuration (their secrets are not prefetched). */
  fallbackCredentials: SecretsManagerCredentials;
}

let dependencies: FunctionDependencies | undefined;

/**
 * The container's dependencies. Clients are created once and reused across invocations; the
 * AWS SDK picks endpoints from `AWS_ENDPOINT_URL_<SERVICE>` when set (the local cloud).
 */
export function functionDependencies(): FunctionDependencies {
  if (dependencies) return dependencies;
  const settings = readSettings();
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const registry = new DynamoDbRegistry({
    client: documentClient,
    tableName: settings.tableName,
    auditRetentionDays: settings.auditRetentionDays,
    writeBudget: { perMinute: settings.writesPerMinute },
  });
  dependencies = {
    settings,
    registry,
    tenants: new TenantDirectory(settings.tenants, registry),
    fallbackCredentials: new SecretsManagerCredentials(new SecretsManagerClient({})),
  };
  return dependencies;
}

/** Forgets the container's dependencies (tests, and the local cloud when it restarts). */
export function resetFunctionDependencies(): void {
  dependencies = undefined;
}

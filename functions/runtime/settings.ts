import { z } from 'zod';

/**
 * Settings the functions read from their environment. The stack sets them; the local cloud sets
 * the same ones. Endpoints are not here: the AWS SDK reads `AWS_ENDPOINT_URL_<SERVICE>` itself,
 * so the same code talks to AWS or to the local cloud.
 */
export const ENVIRONMENT = {
  tableName: 'REGISTRY_TABLE_NAME',
  tenants: 'TENANTS',
  leaseSeconds: 'LEASE_DURATION_SECONDS',
  writesPerMinute: 'QLIK_WRITES_PER_MINUTE',
  auditRetentionDays: 'AUDIT_RETENTION_DAYS',
} as const;

/** Namespace and names of the custom metrics (the stack's alarms read these). */
export const METRICS = {
  namespace: 'OriginSync',
  service: 'origin-sync',
  eventsAccepted: 'DeploymentEventsAccepted',
  eventsRejected: 'DeploymentEventsRejected',
  eventsIgnored: 'DeploymentEventsIgnored',
  reconciles: 'Reconciles',
  originsWritten: 'QlikWrites',
  targetsScanned: 'TargetsScanned',
  targetsDrifted: 'TargetsDrifted',
  targetsRepaired: 'TargetsRepaired',
  targetsHeldBack: 'TargetsHeldBack',
  targetsFailed: 'TargetsFailed',
  integrationsMissing: 'IntegrationsMissing',
  /** 1 per scan that completed; the "no successful scan" alarm fires when it is missing. */
  scansSucceeded: 'ScansSucceeded',
} as const;

const settingsSchema = z.object({
  tableName: z.string().min(1, `${ENVIRONMENT.tableName} must name the registry table`),
  /**
   * Tenants configured with the deployment (`[{tenant, url, secretId}]`): their secrets are the
   * ones the functions may read, prefetched and cached by middy. Tenants added later with the CLI
   * live in the registry.
   */
  tenants: z.array(z.strictObject({ tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), url: z.url({ protocol: /^https?$/ }), secretId: z.string().min(1) })),
  leaseDurationMs: z.number().int().positive(),
  // With the bucket's burst of 5, more than 95 a minute could exceed Qlik's Tier 2 (100 in any minute).
  writesPerMinute: z.number().positive().max(95, `${ENVIRONMENT.writesPerMinute} may be at most 95: with a burst of 5 that stays within Qlik's 100 writes a minute`),
  auditRetentionDays: z.number().int().positive(),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Reads and checks the settings; a missing or malformed one fails at cold start, with its name. */
export function readSettings(environment: NodeJS.ProcessEnv = process.env): Settings {
  const number = (name: string, fallback: number): number => {
    const raw = environment[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
    return value;
  };
  let tenants: unknown = [];
  const rawTenants = environment[ENVIRONMENT.tenants];
  if (rawTenants) {
    try {
      tenants = JSON.parse(rawTenants);
    } catch {
      throw new Error(`${ENVIRONMENT.tenants} must be a JSON array of {"tenant","url","secretId"}`);
    }
  }
  const parsed = settingsSchema.safeParse({
    tableName: environment[ENVIRONMENT.tableName] ?? '',
    tenants,
    leaseDurationMs: number(ENVIRONMENT.leaseSeconds, 300) * 1000,
    writesPerMinute: number(ENVIRONMENT.writesPerMinute, 95),
    auditRetentionDays: number(ENVIRONMENT.auditRetentionDays, 90),
  });
  if (!parsed.success) throw new Error(`invalid function settings: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * A local Secrets Manager endpoint: the operations the synchronizer and its tooling use, over AWS
 * JSON 1.1, so the real `SecretsManagerClient` (and `@middy/secrets-manager`, and
 * `aws secretsmanager --endpoint-url`) work against it unchanged.
 *
 * Operations: CreateSecret, GetSecretValue, PutSecretValue, UpdateSecret, DescribeSecret,
 * ListSecrets, DeleteSecret, RestoreSecret. Staging labels behave as in AWS: a new value becomes
 * `AWSCURRENT` and the version it replaces `AWSPREVIOUS`; `ClientRequestToken` (which the SDK
 * fills in by itself) is the version id and makes retries idempotent. Secrets are looked up by
 * name, full ARN or partial ARN (the ARN without its random suffix).
 *
 * Secret values are never logged and never quoted in error messages. With `statePath` they are
 * kept, in plain text, in a local JSON file (mode 0600): this is a development stand-in, not a vault.
 *
 * @example
 * ```ts
 * const secrets = await startSecretsManagerServer({ port: 0 });
 * const client = new SecretsManagerClient({ endpoint: secrets.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * await client.send(new CreateSecretCommand({ Name: 'qlik/demo', SecretString: '{"apiKey":"k"}' }));
 * ```
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { JsonStateFile } from '../jsonStateFile.js';
import {
  AwsServiceError,
  parseAwsInput,
  startAwsJsonServer,
  toEpochSeconds,
  type AwsJsonOperation,
  type LocalLogger,
} from './awsJsonProtocol.js';

export interface SecretsManagerServerOptions {
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Region in the ARNs (default `us-east-1`). */
  region?: string;
  /** Account in the ARNs (default `000000000000`, as local stand-ins use). */
  accountId?: string;
  /** Keep secrets in this JSON file across restarts (atomic writes; plain text, mode 0600). */
  statePath?: string;
  logger?: LocalLogger;
}

export interface RunningSecretsManager {
  /** The endpoint for SDK clients and `aws --endpoint-url`. */
  url: string;
  port: number;
  region: string;
  accountId: string;
  /** Stops serving and waits until every change is on disk. */
  close(): Promise<void>;
}

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** Starts the endpoint and resolves once it listens. */
export async function startSecretsManagerServer(options: SecretsManagerServerOptions = {}): Promise<RunningSecretsManager> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const store = await SecretStore.open({ region, accountId, ...(options.statePath !== undefined && { statePath: options.statePath }) });
  const server = await startAwsJsonServer(
    {
      name: 'secretsmanager',
      targetPrefix: 'secretsmanager',
      operations: secretsManagerOperations(store),
      internalErrorCode: 'InternalServiceError',
      ...(options.logger && { logger: options.logger }),
    },
    { ...(options.port !== undefined && { port: options.port }), ...(options.host !== undefined && { host: options.host }) },
  );
  return {
    url: server.url,
    port: server.port,
    region,
    accountId,
    async close() {
      await server.close();
      await store.flush();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// State

interface StoredVersion {
  versionId: string;
  secretString?: string;
  /** Base64, as the wire carries it. */
  secretBinary?: string;
  /** Epoch seconds, like every date here. */
  createdDate: number;
  stages: string[];
}

interface StoredSecret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdDate: number;
  lastChangedDate: number;
  /** Day granularity, as AWS records it. */
  lastAccessedDate?: number;
  /** When DeleteSecret was called; the secret is unusable until restored or purged. */
  deletedDate?: number;
  /** When a secret scheduled for deletion is purged. */
  deletionDate?: number;
  /** Oldest first. */
  versions: StoredVersion[];
}

type SecretValue = { secretString: string } | { secretBinary: string };

interface StateFile {
  version: 1;
  region: string;
  accountId: string;
  secrets: StoredSecret[];
}

/** AWS keeps about 100 versions a secret; older versions without a staging label go first. */
const MAX_VERSIONS = 100;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The secrets, in memory, optionally mirrored to a JSON file. Saves are coalesced and atomic
 * (written beside the file and renamed over it), as in the Qlik emulator's store.
 */
class SecretStore {
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #stateFile: JsonStateFile<StateFile> | undefined;
  readonly region: string;
  readonly accountId: string;

  private constructor(region: string, accountId: string, statePath: string | undefined) {
    this.region = region;
    this.accountId = accountId;
    // The file holds secret values in plain text: readable by its owner only.
    this.#stateFile =
      statePath === undefined
        ? undefined
        : new JsonStateFile(statePath, () => ({ version: 1, region: this.region, accountId: this.accountId, secrets: [...this.#secrets.values()] }), 0o600);
  }

  public static async open(options: { region: string; accountId: string; statePath?: string }): Promise<SecretStore> {
    const saved = options.statePath
      ? await JsonStateFile.read(options.statePath, isStateFile, 'a Secrets Manager state file ({"version":1,"region","accountId","secrets":[]})')
      : undefined;
    if (saved && (saved.region !== options.region || saved.accountId !== options.accountId)) {
      // The ARNs in the file name its region and account: serving them under others would break lookups by ARN.
      throw new Error(
        `${options.statePath} holds secrets of ${saved.region}/${saved.accountId}, not ${options.region}/${options.accountId}: use another state file`,
      );
    }
    const store = new SecretStore(options.region, options.accountId, options.statePath);
    for (const secret of saved?.secrets ?? []) store.#secrets.set(secret.name, secret);
    return store;
  }

  /** The secret `secretId` names (name, full ARN or partial ARN), deleted ones included. */
  public find(secretId: string): StoredSecret | undefined {
    this.#purgeExpired();
    if (!secretId.startsWith('arn:')) return this.#secrets.get(secretId);
    for (const secret of this.#secrets.values()) if (secret.arn === secretId) return secret;
    const prefix = this.arnPrefix();
    return secretId.startsWith(prefix) ? this.#secrets.get(secretId.slice(prefix.length)) : undefined;
  }

  public all(): StoredSecret[] {
    this.#purgeExpired();
    return [...this.#secrets.values()];
  }

  public arnPrefix(): string {
    return `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:`;
  }

  public newArn(name: string): string {
    const suffix = [...randomBytes(6)].map((byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join('');
    return `${this.arnPrefix()}${name}-${suffix}`;
  }

  public add(secret: StoredSecret): void {
    this.#secrets.set(secret.name, secret);
    this.changed();
  }

  public remove(secret: StoredSecret): void {
    this.#secrets.delete(secret.name);
    this.changed();
  }

  /** Call after mutating a secret in place. */
  public changed(): void {
    this.#stateFile?.changed();
  }

  /** Resolves once every change made so far is on disk. */
  public async flush(): Promise<void> {
    await this.#stateFile?.flush();
  }

  #purgeExpired(): void {
    const now = nowSeconds();
    for (const secret of this.#secrets.values()) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= now) this.remove(secret);
    }
  }
}

function isStateFile(value: unknown): value is StateFile {
  const state = value as Partial<StateFile> | null;
  return state?.version === 1 && typeof state.region === 'string' && typeof state.accountId === 'string' && Array.isArray(state.secrets);
}

function nowSeconds(): number {
  return toEpochSeconds(new Date());
}

// ---------------------------------------------------------------------------------------------
// Errors, in Secrets Manager's words

const smErrors = {
  secretNotFound: () => new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
  valueNotFound: (what: string) => new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}.`),
  secretExists: (name: string) => new AwsServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`),
  versionExists: () => new AwsServiceError('ResourceExistsException', "You can't modify an existing version, you can only create a new version."),
  invalidParameter: (message: string) => new AwsServiceError('InvalidParameterException', message),
  markedForDeletion: () =>
    new AwsServiceError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion."),
  nameScheduledForDeletion: () =>
    new AwsServiceError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion."),
  invalidNextToken: () => new AwsServiceError('InvalidNextTokenException', 'The NextToken value is invalid.'),
};

// ---------------------------------------------------------------------------------------------
// Inputs (unknown members are ignored, as AWS does)

const MAX_SECRET_BYTES = 65_536;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const secretId = z.string().min(1).max(2048);
const secretName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9/_+=.@-]+$/, { message: 'must satisfy regular expression pattern: [A-Za-z0-9/_+=.@-]+' });
const clientRequestToken = z.string().min(32).max(64);
const secretString = z.string().refine((value) => Buffer.byteLength(value) <= MAX_SECRET_BYTES, {
  message: `must have length less than or equal to ${MAX_SECRET_BYTES} bytes`,
});
const secretBinary = z
  .string()
  .regex(BASE64, { message: 'must be base64' })
  .refine((value) => Buffer.from(value, 'base64').length <= MAX_SECRET_BYTES, {
    message: `must have length less than or equal to ${MAX_SECRET_BYTES} bytes`,
  });
const stage = z.string().min(1).max(256);
const description = z.string().max(2048);
const kmsKeyId = z.string().max(2048);
const tags = z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).max(50);

const createSecretInput = z.object({
  Name: secretName,
  ClientRequestToken: clientRequestToken.optional(),
  Description: description.optional(),
  KmsKeyId: kmsKeyId.optional(),
  SecretString: secretString.optional(),
  SecretBinary: secretBinary.optional(),
  Tags: tags.optional(),
});

const getSecretValueInput = z.object({
  SecretId: secretId,
  VersionId: clientRequestToken.optional(),
  VersionStage: stage.optional(),
});

const putSecretValueInput = z.object({
  SecretId: secretId,
  ClientRequestToken: clientRequestToken.optional(),
  SecretString: secretString.optional(),
  SecretBinary: secretBinary.optional(),
  VersionStages: z.array(stage).min(1).max(20).optional(),
});

const updateSecretInput = z.object({
  SecretId: secretId,
  ClientRequestToken: clientRequestToken.optional(),
  Description: description.optional(),
  KmsKeyId: kmsKeyId.optional(),
  SecretString: secretString.optional(),
  SecretBinary: secretBinary.optional(),
});

const secretIdInput = z.object({ SecretId: secretId });

const deleteSecretInput = z.object({
  SecretId: secretId,
  RecoveryWindowInDays: z.number().int().min(7).max(30).optional(),
  ForceDeleteWithoutRecovery: z.boolean().optional(),
});

const FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'] as const;

const listSecretsInput = z.object({
  MaxResults: z.number().int().min(1).max(100).optional(),
  NextToken: z.string().min(1).max(4096).optional(),
  IncludePlannedDeletion: z.boolean().optional(),
  Filters: z
    .array(z.object({ Key: z.enum(FILTER_KEYS), Values: z.array(z.string().min(1).max(512)).min(1).max(10) }))
    .max(10)
    .optional(),
  SortOrder: z.enum(['asc', 'desc']).optional(),
  SortBy: z.enum(['created-date', 'last-accessed-date', 'last-changed-date', 'name']).optional(),
});

// ---------------------------------------------------------------------------------------------
// Operations

function secretsManagerOperations(store: SecretStore): Record<string, AwsJsonOperation> {
  /** The secret `id` names, refusing one that is scheduled for deletion. */
  const usable = (id: string): StoredSecret => {
    const secret = store.find(id);
    if (!secret) throw smErrors.secretNotFound();
    if (secret.deletedDate !== undefined) throw smErrors.markedForDeletion();
    return secret;
  };

  return {
    CreateSecret(raw) {
      const input = parseAwsInput(createSecretInput, raw);
      const value = secretValueOf(input);
      const versionId = input.ClientRequestToken ?? randomUUID();
      const existing = store.find(input.Name);
      if (existing) {
        if (existing.deletedDate !== undefined) throw smErrors.nameScheduledForDeletion();
        // A retried create (same token, same value) succeeds again without creating anything.
        const version = existing.versions.find((candidate) => candidate.versionId === versionId);
        if (input.ClientRequestToken !== undefined && version && value && sameValue(version, value)) {
          return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
        }
        throw smErrors.secretExists(input.Name);
      }
      const now = nowSeconds();
      const secret: StoredSecret = {
        arn: store.newArn(input.Name),
        name: input.Name,
        ...(input.Description !== undefined && { description: input.Description }),
        ...(input.KmsKeyId !== undefined && { kmsKeyId: input.KmsKeyId }),
        tags: input.Tags ?? [],
        createdDate: now,
        lastChangedDate: now,
        versions: [],
      };
      if (value) addVersion(secret, { versionId, value, stages: [AWSCURRENT], now });
      store.add(secret);
      return { ARN: secret.arn, Name: secret.name, ...(value && { VersionId: versionId }) };
    },

    GetSecretValue(raw) {
      const input = parseAwsInput(getSecretValueInput, raw);
      const secret = usable(input.SecretId);
      let version: StoredVersion | undefined;
      if (input.VersionId !== undefined) {
        version = secret.versions.find((candidate) => candidate.versionId === input.VersionId);
        if (!version || (input.VersionStage !== undefined && !version.stages.includes(input.VersionStage))) {
          throw smErrors.valueNotFound(`VersionId: ${input.VersionId}`);
        }
      } else {
        const label = input.VersionStage ?? AWSCURRENT;
        version = secret.versions.find((candidate) => candidate.stages.includes(label));
        if (!version) throw smErrors.valueNotFound(`staging label: ${label}`);
      }
      const today = Math.floor(nowSeconds() / 86_400) * 86_400;
      if (secret.lastAccessedDate !== today) {
        secret.lastAccessedDate = today;
        store.changed();
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        ...(version.secretString !== undefined && { SecretString: version.secretString }),
        ...(version.secretBinary !== undefined && { SecretBinary: version.secretBinary }),
        VersionStages: [...version.stages],
        CreatedDate: version.createdDate,
      };
    },

    PutSecretValue(raw) {
      const input = parseAwsInput(putSecretValueInput, raw);
      const value = secretValueOf(input);
      if (!value) throw smErrors.invalidParameter('You must provide either SecretString or SecretBinary.');
      const secret = usable(input.SecretId);
      const versionId = input.ClientRequestToken ?? randomUUID();
      const existing = secret.versions.find((candidate) => candidate.versionId === versionId);
      if (existing) {
        if (!sameValue(existing, value)) throw smErrors.versionExists();
        return { ARN: secret.arn, Name: secret.name, VersionId: existing.versionId, VersionStages: [...existing.stages] };
      }
      const version = addVersion(secret, { versionId, value, stages: input.VersionStages ?? [AWSCURRENT], now: nowSeconds() });
      store.changed();
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
    },

    UpdateSecret(raw) {
      const input = parseAwsInput(updateSecretInput, raw);
      const value = secretValueOf(input);
      const secret = usable(input.SecretId);
      const now = nowSeconds();
      if (input.Description !== undefined) secret.description = input.Description;
      if (input.KmsKeyId !== undefined) secret.kmsKeyId = input.KmsKeyId;
      secret.lastChangedDate = now;
      let versionId: string | undefined;
      if (value) {
        versionId = input.ClientRequestToken ?? randomUUID();
        const existing = secret.versions.find((candidate) => candidate.versionId === versionId);
        if (existing && !sameValue(existing, value)) throw smErrors.versionExists();
        if (!existing) addVersion(secret, { versionId, value, stages: [AWSCURRENT], now });
      }
      store.changed();
      return { ARN: secret.arn, Name: secret.name, ...(versionId !== undefined && { VersionId: versionId }) };
    },

    DescribeSecret(raw) {
      const input = parseAwsInput(secretIdInput, raw);
      const secret = store.find(input.SecretId);
      if (!secret) throw smErrors.secretNotFound();
      const { SecretVersionsToStages, ...listed } = listEntry(secret);
      return { ...listed, ...(SecretVersionsToStages && { VersionIdsToStages: SecretVersionsToStages }) };
    },

    ListSecrets(raw) {
      const input = parseAwsInput(listSecretsInput, raw);
      const offset = input.NextToken === undefined ? 0 : decodeNextToken(input.NextToken);
      const pageSize = input.MaxResults ?? 100;
      const matching = store
        .all()
        .filter((secret) => (input.IncludePlannedDeletion ?? false) || secret.deletedDate === undefined)
        .filter((secret) => (input.Filters ?? []).every((filter) => matchesFilter(secret, filter.Key, filter.Values, store.region)))
        .sort(comparator(input.SortBy ?? 'created-date', input.SortOrder ?? 'asc'));
      if (offset > matching.length) throw smErrors.invalidNextToken();
      const page = matching.slice(offset, offset + pageSize);
      const next = offset + page.length;
      return { SecretList: page.map(listEntry), ...(next < matching.length && { NextToken: encodeNextToken(next) }) };
    },

    DeleteSecret(raw) {
      const input = parseAwsInput(deleteSecretInput, raw);
      if (input.ForceDeleteWithoutRecovery === true && input.RecoveryWindowInDays !== undefined) {
        throw smErrors.invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      }
      const secret = store.find(input.SecretId);
      if (!secret) throw smErrors.secretNotFound();
      const now = nowSeconds();
      if (input.ForceDeleteWithoutRecovery === true) {
        store.remove(secret);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
      }
      secret.deletedDate ??= now;
      secret.deletionDate ??= now + (input.RecoveryWindowInDays ?? 30) * 86_400;
      store.changed();
      return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletionDate };
    },

    RestoreSecret(raw) {
      const input = parseAwsInput(secretIdInput, raw);
      const secret = store.find(input.SecretId);
      if (!secret) throw smErrors.secretNotFound();
      delete secret.deletedDate;
      delete secret.deletionDate;
      store.changed();
      return { ARN: secret.arn, Name: secret.name };
    },
  };
}

/** The value an input carries, if any; both kinds at once is refused, as AWS does. */
function secretValueOf(input: { SecretString?: string | undefined; SecretBinary?: string | undefined }): SecretValue | undefined {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw smErrors.invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (input.SecretString !== undefined) return { secretString: input.SecretString };
  if (input.SecretBinary !== undefined) return { secretBinary: input.SecretBinary };
  return undefined;
}

function sameValue(version: StoredVersion, value: SecretValue): boolean {
  return 'secretString' in value ? version.secretString === value.secretString : version.secretBinary === value.secretBinary;
}

/**
 * Adds a version holding `stages`, moving each label from the version that held it. The version
 * that loses `AWSCURRENT` gets `AWSPREVIOUS`, as in AWS; versions left without a label are
 * deprecated (still readable by id, no longer listed) and the oldest are dropped past the quota.
 */
function addVersion(secret: StoredSecret, spec: { versionId: string; value: SecretValue; stages: string[]; now: number }): StoredVersion {
  const version: StoredVersion = {
    versionId: spec.versionId,
    ...('secretString' in spec.value ? { secretString: spec.value.secretString } : { secretBinary: spec.value.secretBinary }),
    createdDate: spec.now,
    stages: [],
  };
  secret.versions.push(version);
  for (const label of new Set(spec.stages)) {
    const holder = secret.versions.find((candidate) => candidate !== version && candidate.stages.includes(label));
    if (holder) holder.stages = holder.stages.filter((held) => held !== label);
    if (label === AWSCURRENT && holder) {
      for (const candidate of secret.versions) candidate.stages = candidate.stages.filter((held) => held !== AWSPREVIOUS);
      holder.stages.push(AWSPREVIOUS);
    }
    version.stages.push(label);
  }
  secret.lastChangedDate = spec.now;
  while (secret.versions.length > MAX_VERSIONS) {
    const deprecated = secret.versions.findIndex((candidate) => candidate.stages.length === 0);
    if (deprecated === -1) break;
    secret.versions.splice(deprecated, 1);
  }
  return version;
}

/** A secret as ListSecrets lists it (DescribeSecret renames the versions map). */
function listEntry(secret: StoredSecret) {
  const labelled = secret.versions.filter((version) => version.stages.length > 0);
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined && { Description: secret.description }),
    ...(secret.kmsKeyId !== undefined && { KmsKeyId: secret.kmsKeyId }),
    LastChangedDate: secret.lastChangedDate,
    ...(secret.lastAccessedDate !== undefined && { LastAccessedDate: secret.lastAccessedDate }),
    ...(secret.deletedDate !== undefined && { DeletedDate: secret.deletedDate }),
    ...(secret.tags.length > 0 && { Tags: secret.tags.map((tag) => ({ ...tag })) }),
    ...(labelled.length > 0 && {
      SecretVersionsToStages: Object.fromEntries(labelled.map((version) => [version.versionId, [...version.stages]])),
    }),
    CreatedDate: secret.createdDate,
  };
}

/**
 * ListSecrets' filters: each value is a prefix (`!` in front negates it); a secret passes a filter
 * when some positive value matches (or there is none) and no negated value does; filters are ANDed.
 */
function matchesFilter(secret: StoredSecret, key: (typeof FILTER_KEYS)[number], values: string[], region: string): boolean {
  const fields = ((): string[] => {
    switch (key) {
      case 'name':
        return [secret.name];
      case 'description':
        return secret.description === undefined ? [] : [secret.description];
      case 'tag-key':
        return secret.tags.map((tag) => tag.Key);
      case 'tag-value':
        return secret.tags.map((tag) => tag.Value);
      case 'primary-region':
        return [region];
      case 'owning-service':
        return [];
      case 'all':
        return [secret.name, ...(secret.description === undefined ? [] : [secret.description]), ...secret.tags.flatMap((tag) => [tag.Key, tag.Value])];
    }
  })();
  const matches = (prefix: string) => fields.some((field) => field.startsWith(prefix));
  const positive = values.filter((value) => !value.startsWith('!'));
  const negated = values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
  return (positive.length === 0 || positive.some(matches)) && !negated.some(matches);
}

function comparator(sortBy: 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name', order: 'asc' | 'desc') {
  const key = (secret: StoredSecret): number | string =>
    sortBy === 'name' ? secret.name : sortBy === 'last-accessed-date' ? (secret.lastAccessedDate ?? 0) : sortBy === 'last-changed-date' ? secret.lastChangedDate : secret.createdDate;
  const direction = order === 'desc' ? -1 : 1;
  // Ties keep the store's order (creation order; the sort is stable), so pages never overlap or skip.
  return (a: StoredSecret, b: StoredSecret) => {
    const [x, y] = [key(a), key(b)];
    return direction * (x < y ? -1 : x > y ? 1 : 0);
  };
}

/** Opaque to clients: the offset of the next page. */
function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function decodeNextToken(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // falls through to the error below
  }
  throw smErrors.invalidNextToken();
}

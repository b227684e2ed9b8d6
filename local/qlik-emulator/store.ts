import { randomBytes } from 'node:crypto';
import { JsonStateFile } from '../jsonStateFile.js';

/** A web integration exactly as Qlik returns it. */
export interface WebIntegration {
  id: string;
  name: string;
  created: string;
  lastUpdated: string;
  tenantId: string;
  createdBy: string;
  validOrigins: string[];
}

export type SortOrder = 'name' | '+name' | '-name';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 characters of [A-Za-z0-9], the shape of Qlik's ids. */
export function newQlikId(): string {
  return [...randomBytes(32)].map((byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

interface StateFile {
  version: 1;
  tenantId: string;
  integrations: WebIntegration[];
}

/**
 * The emulator's integrations, in memory, optionally mirrored to a JSON file (`JsonStateFile`:
 * coalesced, atomic saves).
 */
export class IntegrationStore {
  readonly #integrations = new Map<string, WebIntegration>();
  readonly #stateFile: JsonStateFile<StateFile> | undefined;
  #tenantId: string;

  private constructor(tenantId: string, statePath: string | undefined) {
    this.#tenantId = tenantId;
    this.#stateFile = statePath === undefined ? undefined : new JsonStateFile(statePath, () => ({ version: 1, tenantId: this.#tenantId, integrations: this.all() }));
  }

  /** Opens a store, loading `statePath` when it exists. */
  public static async open(options: { tenantId?: string; statePath?: string }): Promise<IntegrationStore> {
    const saved = options.statePath ? await JsonStateFile.read(options.statePath, isStateFile, 'an emulator state file ({"version":1,"tenantId","integrations":[]})') : undefined;
    if (saved && options.tenantId !== undefined && saved.tenantId !== options.tenantId) {
      // One file is one tenant: loading it under another id would mix tenants in one list.
      throw new Error(
        `${options.statePath} holds tenant "${saved.tenantId}", not "${options.tenantId}": use another --state file or drop --tenant-id`,
      );
    }
    const store = new IntegrationStore(options.tenantId ?? saved?.tenantId ?? newQlikId(), options.statePath);
    for (const integration of saved?.integrations ?? []) store.#integrations.set(integration.id, integration);
    return store;
  }

  public get tenantId(): string {
    return this.#tenantId;
  }

  public get(id: string): WebIntegration | undefined {
    return this.#integrations.get(id);
  }

  public all(): WebIntegration[] {
    return [...this.#integrations.values()];
  }

  /** Every integration in the order a list call with `sort` returns them (ties broken by id). */
  public sorted(sort: SortOrder): WebIntegration[] {
    const direction = sort === '-name' ? -1 : 1;
    return this.all().sort((a, b) => direction * (compare(a.name, b.name) || compare(a.id, b.id)));
  }

  public create(input: { name: string; validOrigins: string[]; createdBy: string; id?: string }): WebIntegration {
    const now = new Date().toISOString();
    const integration: WebIntegration = {
      id: input.id ?? newQlikId(),
      name: input.name,
      created: now,
      lastUpdated: now,
      tenantId: this.#tenantId,
      createdBy: input.createdBy,
      validOrigins: [...input.validOrigins],
    };
    this.#integrations.set(integration.id, integration);
    this.#changed();
    return integration;
  }

  public update(id: string, changes: { name?: string; validOrigins?: string[] }): WebIntegration | undefined {
    const current = this.#integrations.get(id);
    if (!current) return undefined;
    const next: WebIntegration = {
      ...current,
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.validOrigins !== undefined && { validOrigins: [...changes.validOrigins] }),
      lastUpdated: new Date().toISOString(),
    };
    this.#integrations.set(id, next);
    this.#changed();
    return next;
  }

  public delete(id: string): boolean {
    const deleted = this.#integrations.delete(id);
    if (deleted) this.#changed();
    return deleted;
  }

  public clear(): void {
    this.#integrations.clear();
    this.#changed();
  }

  /** Resolves once every change made so far is on disk. */
  public async flush(): Promise<void> {
    await this.#stateFile?.flush();
  }

  #changed(): void {
    this.#stateFile?.changed();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isStateFile(value: unknown): value is StateFile {
  const state = value as Partial<StateFile> | null;
  return state?.version === 1 && typeof state.tenantId === 'string' && Array.isArray(state.integrations);
}

import type { z } from 'zod';
import type { EmulatorStats } from './emulatorState.js';
import type { faultSetSchema } from './faults.js';
import type { WebIntegration } from './store.js';
import type { WriteLogEntry } from './writeLog.js';

export type { EmulatorStats, WebIntegration, WriteLogEntry };

/** A fault set as `PUT /__emulator/faults` takes it (every field of a fault optional). */
export type FaultSetInput = z.input<typeof faultSetSchema>;

export type SeedRequest =
  | { count: number; namePrefix?: string; validOrigins?: string[] }
  | { integrations: { name: string; validOrigins?: string[]; id?: string }[] };

/**
 * A typed client for the emulator's test controls (`/__emulator/*`, see README.md), for tests,
 * the benchmark and the demo. Plain `fetch`, apart from the product's Qlik client and its pools.
 */
export class EmulatorControlClient {
  public readonly url: string;

  public constructor(url: string) {
    this.url = url;
  }

  public async reset(): Promise<void> {
    await this.#call('POST', '/reset');
  }

  public async seed(request: SeedRequest): Promise<WebIntegration[]> {
    return ((await this.#call('POST', '/seed', request)) as { data: WebIntegration[] }).data;
  }

  public async integrations(): Promise<WebIntegration[]> {
    return ((await this.#call('GET', '/integrations')) as { data: WebIntegration[] }).data;
  }

  /** The `validOrigins` of one integration (empty when it does not exist). */
  public async originsOf(id: string): Promise<string[]> {
    return (await this.integrations()).find((integration) => integration.id === id)?.validOrigins ?? [];
  }

  /** Edits an integration directly, as a person in the Qlik console would (not in the write log). */
  public async edit(id: string, changes: { name?: string; validOrigins?: string[] }): Promise<WebIntegration> {
    return (await this.#call('PUT', `/integrations/${encodeURIComponent(id)}`, changes)) as WebIntegration;
  }

  /** Every accepted write (POST, PATCH, DELETE), in order. */
  public async writeLog(): Promise<WriteLogEntry[]> {
    return ((await this.#call('GET', '/write-log')) as { entries: WriteLogEntry[] }).entries;
  }

  /** PATCHes accepted so far, optionally for one integration. */
  public async patchCount(id?: string): Promise<number> {
    return (await this.writeLog()).filter((entry) => entry.method === 'PATCH' && (id === undefined || entry.id === id)).length;
  }

  public async clearWriteLog(): Promise<void> {
    await this.#call('DELETE', '/write-log');
  }

  public async stats(): Promise<EmulatorStats> {
    return (await this.#call('GET', '/stats')) as EmulatorStats;
  }

  /** Replaces the fault set, e.g. `{ PATCH: { error503: 1, times: 2 } }`; `{}` clears it. */
  public async setFaults(faults: FaultSetInput): Promise<void> {
    await this.#call('PUT', '/faults', faults);
  }

  public async configure(config: { rateLimits?: boolean; timeScale?: number }): Promise<{ rateLimits: boolean; timeScale: number }> {
    return (await this.#call('PUT', '/config', config)) as { rateLimits: boolean; timeScale: number };
  }

  public async revokeTokens(): Promise<void> {
    await this.#call('POST', '/tokens/revoke');
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/__emulator${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator control ${method} ${path} answered ${response.status}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}

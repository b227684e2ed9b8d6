/**
 * The Qlik emulator (`local/qlik-emulator`) on a free loopback port, with its `/__emulator/*`
 * test controls reached by plain fetch, apart from the product's Qlik client and its pools.
 */
import { startQlikEmulator, type QlikEmulatorOptions } from '../../local/qlik-emulator/server.js';

export interface EmulatedIntegration {
  id: string;
  name: string;
  validOrigins: string[];
  lastUpdated?: string;
}

export interface WriteLogEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  id: string;
  status: number;
  body: unknown;
  user: string;
}

export type SeedBody =
  | { count: number; namePrefix?: string; validOrigins?: string[] }
  | { integrations: { name: string; validOrigins?: string[]; id?: string }[] };

export interface EmulatorFault {
  latencyMs?: number;
  latencyJitterMs?: number;
  error500?: number;
  error503?: number;
  error429?: number;
  retryAfterSeconds?: number;
  drop?: number;
  times?: number | null;
}

export interface EmulatorStats {
  requests: Record<'GET' | 'POST' | 'PATCH' | 'DELETE', number>;
  rateLimited: { tier1: number; tier2: number };
  faults: Record<'latency' | 'error500' | 'error503' | 'error429' | 'drop', number>;
}

export interface EmulatorControl {
  /** Removes every integration, the write log, faults and rate-limit windows. */
  reset(): Promise<void>;
  seed(body: SeedBody): Promise<EmulatedIntegration[]>;
  /** Every accepted write (POST, PATCH, DELETE), in order. */
  writeLog(): Promise<WriteLogEntry[]>;
  integrations(): Promise<EmulatedIntegration[]>;
  /** Edits an integration directly, as a person in the Qlik console would. */
  edit(id: string, body: { name?: string; validOrigins?: string[] }): Promise<EmulatedIntegration>;
  /** Replaces the fault set, e.g. `{ PATCH: { error503: 1 } }`; `{}` clears it. */
  setFaults(body: Partial<Record<'*' | 'GET' | 'POST' | 'PATCH' | 'DELETE', EmulatorFault>>): Promise<void>;
  /** API calls, 429s and injected faults counted since start or reset. */
  stats(): Promise<EmulatorStats>;
}

export interface TestQlikEmulator {
  url: string;
  apiKey: string;
  control: EmulatorControl;
  close(): Promise<void>;
}

/** Starts the emulator on port 0 with a random-looking API key. */
export async function startTestQlikEmulator(options: Partial<QlikEmulatorOptions> = {}): Promise<TestQlikEmulator> {
  const apiKey = options.apiKey ?? 'test-api-key-0123456789';
  const emulator = await startQlikEmulator({ ...options, apiKey, port: 0 });

  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${emulator.url}/__emulator${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator control ${method} ${path} answered ${response.status}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };

  const control: EmulatorControl = {
    async reset() {
      await call('POST', '/reset');
    },
    async seed(body) {
      return ((await call('POST', '/seed', body)) as { data: EmulatedIntegration[] }).data;
    },
    async writeLog() {
      return ((await call('GET', '/write-log')) as { entries: WriteLogEntry[] }).entries;
    },
    async integrations() {
      return ((await call('GET', '/integrations')) as { data: EmulatedIntegration[] }).data;
    },
    async edit(id, body) {
      return (await call('PUT', `/integrations/${encodeURIComponent(id)}`, body)) as EmulatedIntegration;
    },
    async setFaults(body) {
      await call('PUT', '/faults', body);
    },
    async stats() {
      return (await call('GET', '/stats')) as EmulatorStats;
    },
  };

  return { url: emulator.url, apiKey, control, close: () => emulator.close() };
}

/**
 * Test helpers for the Qlik emulator's `/__emulator/*` controls (see local/qlik-emulator/README.md).
 * They use the global fetch, apart from the client's undici pools.
 */

export interface WriteLogEntry {
  seq: number;
  method: string;
  path: string;
  id: string;
  status: number;
  body: unknown;
  user: string;
}

export interface EmulatorStats {
  requests: Record<'GET' | 'POST' | 'PATCH' | 'DELETE', number>;
  rateLimited: { tier1: number; tier2: number };
  faults: Record<'latency' | 'error500' | 'error503' | 'error429' | 'drop', number>;
}

export interface Fault {
  latencyMs?: number;
  latencyJitterMs?: number;
  error500?: number;
  error503?: number;
  error429?: number;
  retryAfterSeconds?: number;
  drop?: number;
  times?: number | null;
}

export interface SeededIntegration {
  id: string;
  name: string;
  validOrigins: string[];
}

export class EmulatorControls {
  constructor(readonly url: string) {}

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/__emulator${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator control ${method} ${path} answered ${response.status}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  reset(): Promise<unknown> {
    return this.#call('POST', '/reset');
  }

  async seed(spec: { count: number; namePrefix?: string; validOrigins?: string[] } | { integrations: { name: string; validOrigins?: string[]; id?: string }[] }): Promise<SeededIntegration[]> {
    const body = (await this.#call('POST', '/seed', spec)) as { data: SeededIntegration[] };
    return body.data;
  }

  async integrations(): Promise<SeededIntegration[]> {
    return ((await this.#call('GET', '/integrations')) as { data: SeededIntegration[] }).data;
  }

  async writeLog(): Promise<WriteLogEntry[]> {
    return ((await this.#call('GET', '/write-log')) as { entries: WriteLogEntry[] }).entries;
  }

  async stats(): Promise<EmulatorStats> {
    return (await this.#call('GET', '/stats')) as EmulatorStats;
  }

  setFaults(faults: Partial<Record<'*' | 'GET' | 'POST' | 'PATCH' | 'DELETE', Fault>>): Promise<unknown> {
    return this.#call('PUT', '/faults', faults);
  }

  setConfig(config: { rateLimits?: boolean; timeScale?: number }): Promise<unknown> {
    return this.#call('PUT', '/config', config);
  }

  revokeTokens(): Promise<unknown> {
    return this.#call('POST', '/tokens/revoke');
  }
}

/** Runs `fn` and returns how long it took (ms) with its outcome. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([fn()]);
  return { ms: performance.now() - start, result: result as PromiseSettledResult<T> };
}

/** The rejection of a promise that must reject. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, it succeeded');
}

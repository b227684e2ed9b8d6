/**
 * One undici `Pool` per tenant origin, kept for the life of the process (a Lambda reuses it across
 * invocations) with keep-alive and connect, headers and body timeouts.
 */
import { Pool } from 'undici';

export interface PoolTimeouts {
  /** Establishing the TCP/TLS connection. */
  connectTimeoutMs: number;
  /** From sending the request to receiving the response headers. */
  headersTimeoutMs: number;
  /** Between two chunks of the response body. */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open (server hints may shorten it). */
  keepAliveTimeoutMs: number;
  /** Connections per origin. */
  connections: number;
}

export const defaultPoolTimeouts: Readonly<PoolTimeouts> = Object.freeze({
  connectTimeoutMs: 5_000,
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 15_000,
  keepAliveTimeoutMs: 10_000,
  connections: 16,
});

const pools = new Map<string, Pool>();

/** The shared pool for `origin` (e.g. `https://acme.eu.qlikcloud.com`) and these settings. */
export function poolFor(origin: string, timeouts: PoolTimeouts = defaultPoolTimeouts): Pool {
  const key = `${origin}|${timeouts.connectTimeoutMs}|${timeouts.headersTimeoutMs}|${timeouts.bodyTimeoutMs}|${timeouts.keepAliveTimeoutMs}|${timeouts.connections}`;
  let pool = pools.get(key);
  if (pool === undefined || pool.closed || pool.destroyed) {
    pool = new Pool(origin, {
      connections: timeouts.connections,
      pipelining: 1,
      connect: { timeout: timeouts.connectTimeoutMs },
      headersTimeout: timeouts.headersTimeoutMs,
      bodyTimeout: timeouts.bodyTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    });
    pools.set(key, pool);
  }
  return pool;
}

/** Closes every pool (graceful shutdown, tests). */
export async function closeQlikPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.close().catch(() => pool.destroy())));
}

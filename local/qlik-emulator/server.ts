import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Authenticator } from './auth.js';
import { ScaledClock } from './clock.js';
import { CONTROLS_PREFIX, handleControl } from './controls.js';
import { emptyStats, type EmulatorState } from './emulatorState.js';
import { EmulatorHttpError, httpErrors, newTraceId } from './errors.js';
import { FaultInjector } from './faults.js';
import { parseJsonOrForm, readBody, sendJson } from './http.js';
import { SlidingWindowRateLimiter, tierOf } from './rateLimiter.js';
import { IntegrationStore } from './store.js';
import {
  COLLECTION_PATH,
  createIntegration,
  deleteIntegration,
  getIntegration,
  listIntegrations,
  patchIntegration,
  type ApiRequest,
} from './webIntegrationsApi.js';
import { WriteLog } from './writeLog.js';

export interface QlikEmulatorOptions {
  /** API key accepted as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Keys that may read but not write (403 on POST, PATCH, DELETE). */
  readOnlyApiKeys?: readonly string[];
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Enforce Qlik's rate-limit tiers (default true). */
  rateLimits?: boolean;
  /** The rate limiter's clock runs this many times faster than real time (default 1). */
  timeScale?: number;
  /** Lifetime of OAuth access tokens in real seconds (default 3600). */
  tokenTtlSeconds?: number;
  /** Keep integrations in this JSON file across restarts. */
  statePath?: string;
}

export interface RunningQlikEmulator {
  url: string;
  port: number;
  tenantId: string;
  close(): Promise<void>;
}

const ITEM_PATH = /^\/api\/v1\/web-integrations\/([^/]+)$/;

/** Starts the emulator and resolves once it listens. */
export async function startQlikEmulator(options: QlikEmulatorOptions): Promise<RunningQlikEmulator> {
  const clock = new ScaledClock(options.timeScale ?? 1);
  const state: EmulatorState = {
    store: await IntegrationStore.open({
      ...(options.tenantId !== undefined && { tenantId: options.tenantId }),
      ...(options.statePath !== undefined && { statePath: options.statePath }),
    }),
    auth: new Authenticator(options),
    clock,
    limiter: new SlidingWindowRateLimiter(clock),
    faults: new FaultInjector(),
    writeLog: new WriteLog(),
    stats: emptyStats(),
    rateLimits: options.rateLimits ?? true,
  };

  const server = createServer((request, response) => {
    handle(state, request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof EmulatorHttpError) {
        sendJson(response, error.status, error.toEnvelope(), error.headers);
      } else {
        sendJson(response, 500, {
          errors: [{ code: 'HTTP-500', title: 'Internal Server Error', detail: String(error), status: '500' }],
          traceId: newTraceId(),
        });
      }
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    tenantId: state.store.tenantId,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await state.store.flush();
    },
  };
}

async function handle(state: EmulatorState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  // Hrefs the API returns are absolute; build them from the Host the client used.
  const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
  const method = request.method ?? 'GET';

  if (url.pathname === CONTROLS_PREFIX || url.pathname.startsWith(`${CONTROLS_PREFIX}/`)) {
    return handleControl(state, request, response, url);
  }

  const route = matchApiRoute(method, url.pathname);
  if (route.kind === 'none') throw httpErrors.routeNotFound(url.pathname);
  if (route.kind !== 'token' && method in state.stats.requests) state.stats.requests[method as keyof typeof state.stats.requests] += 1;
  if (await injectFault(state, method, request)) return;
  if (route.kind === 'wrong-method') throw httpErrors.methodNotAllowed(method, route.allowed);

  if (route.kind === 'token') {
    const token = state.auth.issueToken(parseJsonOrForm(await readBody(request), request.headers['content-type']));
    return sendJson(response, 200, token, { 'cache-control': 'no-store' });
  }

  const caller = state.auth.authenticate(request.headers.authorization);
  const tier = tierOf(method);
  if (state.rateLimits) {
    const decision = state.limiter.take(caller.userId, tier);
    if (!decision.allowed) {
      state.stats.rateLimited[tier] += 1;
      throw httpErrors.rateLimited(decision.retryAfterSeconds);
    }
  }
  if (method !== 'GET' && !caller.canWrite) {
    throw httpErrors.forbidden('This API key may read web integrations but not create, change or delete them.');
  }

  const api: ApiRequest = { request, response, url, caller };
  switch (route.kind) {
    case 'list':
      return listIntegrations(state, api);
    case 'create':
      return createIntegration(state, api);
    case 'get':
      return getIntegration(state, api, route.id);
    case 'patch':
      return patchIntegration(state, api, route.id);
    case 'delete':
      return deleteIntegration(state, api, route.id);
  }
}

type ApiRoute =
  | { kind: 'list' | 'create' | 'token' }
  | { kind: 'get' | 'patch' | 'delete'; id: string }
  | { kind: 'wrong-method'; allowed: readonly string[] }
  | { kind: 'none' };

function matchApiRoute(method: string, path: string): ApiRoute {
  if (path === COLLECTION_PATH) {
    if (method === 'GET') return { kind: 'list' };
    if (method === 'POST') return { kind: 'create' };
    return { kind: 'wrong-method', allowed: ['GET', 'POST'] };
  }
  if (path === '/oauth/token') {
    return method === 'POST' ? { kind: 'token' } : { kind: 'wrong-method', allowed: ['POST'] };
  }
  const item = ITEM_PATH.exec(path);
  if (item) {
    const id = decodeId(item[1]!);
    if (id === undefined) return { kind: 'none' };
    if (method === 'GET') return { kind: 'get', id };
    if (method === 'PATCH') return { kind: 'patch', id };
    if (method === 'DELETE') return { kind: 'delete', id };
    return { kind: 'wrong-method', allowed: ['GET', 'PATCH', 'DELETE'] };
  }
  return { kind: 'none' };
}

/** The id in a path, or `undefined` when its percent-encoding is broken (then no route matches). */
function decodeId(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Applies the configured fault for this method. Returns true when the connection was dropped
 * (nothing more to send); throws the injected error answer; otherwise only delays.
 */
async function injectFault(state: EmulatorState, method: string, request: IncomingMessage): Promise<boolean> {
  const fault = state.faults.pick(method);
  if (fault.delayMs > 0) {
    state.stats.faults.latency += 1;
    await sleep(fault.delayMs);
  }
  if (fault.outcome === 'none') return false;
  state.stats.faults[fault.outcome] += 1;
  switch (fault.outcome) {
    case 'drop':
      request.socket.destroy();
      return true;
    case 'error429':
      throw httpErrors.rateLimited(fault.retryAfterSeconds);
    case 'error500':
      throw httpErrors.injected(500);
    case 'error503':
      throw httpErrors.injected(503);
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { emptyStats, type EmulatorState } from './emulatorState.js';
import { httpErrors } from './errors.js';
import { faultSetSchema } from './faults.js';
import { parseJson, readBody, sendEmpty, sendJson } from './http.js';
import { originProblem } from './validation.js';

export const CONTROLS_PREFIX = '/__emulator';

const SEEDED_BY = 'emulator-seed';

const originsSchema = z.array(
  z.string().refine((origin) => originProblem(origin) === undefined, { message: 'not an origin Qlik accepts' }),
);

const seedSchema = z.union([
  z
    .object({ count: z.number().int().min(1).max(100_000), namePrefix: z.string().min(1).default('integration'), validOrigins: originsSchema.default([]) })
    .strict(),
  z
    .object({
      integrations: z.array(z.object({ name: z.string().min(1), validOrigins: originsSchema.default([]), id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() }).strict()),
    })
    .strict(),
]);

const editSchema = z.object({ name: z.string().min(1).optional(), validOrigins: originsSchema.optional() }).strict();

const configSchema = z.object({ rateLimits: z.boolean().optional(), timeScale: z.number().positive().optional() }).strict();

/**
 * Test controls, outside Qlik's namespace: reset, seed, read and edit state directly, read the
 * write log and counters, inject faults. Not authenticated, not rate-limited, not logged as writes.
 */
export async function handleControl(state: EmulatorState, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const route = url.pathname.slice(CONTROLS_PREFIX.length);
  const method = request.method ?? 'GET';
  const body = async <T>(schema: z.ZodType<T>): Promise<T> => {
    const parsed = schema.safeParse(parseJson(await readBody(request)));
    if (!parsed.success) throw httpErrors.badRequest(z.prettifyError(parsed.error));
    return parsed.data;
  };
  const only = (allowed: string) => {
    if (method !== allowed) throw httpErrors.methodNotAllowed(method, [allowed]);
  };

  switch (route) {
    case '/health':
      only('GET');
      return sendJson(response, 200, { ok: true });
    case '/reset':
      only('POST');
      state.store.clear();
      state.writeLog.clear();
      state.faults.clear();
      state.limiter.reset();
      state.auth.revokeTokens();
      state.stats = emptyStats();
      return sendEmpty(response, 204);
    case '/seed': {
      only('POST');
      const seed = await body(seedSchema);
      const specs =
        'count' in seed
          ? Array.from({ length: seed.count }, (_, index) => ({
              name: `${seed.namePrefix}-${String(index + 1).padStart(String(seed.count).length, '0')}`,
              validOrigins: seed.validOrigins,
            }))
          : seed.integrations;
      const data = specs.map((spec) => state.store.create({ ...spec, createdBy: SEEDED_BY }));
      return sendJson(response, 201, { data });
    }
    case '/integrations':
      only('GET');
      return sendJson(response, 200, { data: state.store.all() });
    case '/write-log':
      if (method === 'DELETE') {
        state.writeLog.clear();
        return sendEmpty(response, 204);
      }
      only('GET');
      return sendJson(response, 200, { entries: state.writeLog.entries });
    case '/stats':
      only('GET');
      return sendJson(response, 200, state.stats);
    case '/faults':
      if (method === 'PUT') {
        state.faults.set(await body(faultSetSchema));
        return sendJson(response, 200, state.faults.current);
      }
      if (method === 'DELETE') {
        state.faults.clear();
        return sendEmpty(response, 204);
      }
      only('GET');
      return sendJson(response, 200, state.faults.current);
    case '/config': {
      if (method === 'PUT') {
        const config = await body(configSchema);
        if (config.rateLimits !== undefined) state.rateLimits = config.rateLimits;
        if (config.timeScale !== undefined) state.clock.scale = config.timeScale;
      } else {
        only('GET');
      }
      return sendJson(response, 200, { rateLimits: state.rateLimits, timeScale: state.clock.scale });
    }
    case '/tokens/revoke':
      only('POST');
      state.auth.revokeTokens();
      return sendEmpty(response, 204);
    case '/cors-check': {
      // Would a browser on `origin` be let in through this integration? Lets a demo show that
      // an app can embed now, without a browser.
      only('GET');
      const origin = url.searchParams.get('origin') ?? '';
      const id = url.searchParams.get('webIntegrationId') ?? '';
      const integration = state.store.get(id);
      if (!integration) throw httpErrors.integrationNotFound(id);
      return sendJson(response, 200, { allowed: integration.validOrigins.includes(origin), origin, webIntegrationId: id });
    }
  }
  const edit = /^\/integrations\/([^/]+)$/.exec(route);
  if (edit) {
    only('PUT');
    let id: string;
    try {
      id = decodeURIComponent(edit[1]!);
    } catch {
      throw httpErrors.routeNotFound(url.pathname);
    }
    if (!state.store.get(id)) throw httpErrors.integrationNotFound(id);
    const updated = state.store.update(id, await body(editSchema));
    return sendJson(response, 200, updated);
  }
  throw httpErrors.routeNotFound(url.pathname);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from './auth.js';
import type { EmulatorState } from './emulatorState.js';
import { EmulatorHttpError, httpErrors } from './errors.js';
import { parseJson, readBody, sendEmpty, sendJson } from './http.js';
import type { SortOrder, WebIntegration } from './store.js';
import { parseCreateRequest, parsePatchRequest } from './validation.js';

export const COLLECTION_PATH = '/api/v1/web-integrations';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const SORTS: readonly SortOrder[] = ['name', '+name', '-name'];

/** A request that passed authentication, with what the handlers need of it. */
export interface ApiRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  caller: Caller;
}

export async function listIntegrations(state: EmulatorState, { response, url }: ApiRequest): Promise<void> {
  const query = url.searchParams;
  const limit = parseLimit(query.get('limit'));
  const sort = parseSort(query.get('sort'));
  const startingAfter = query.get('startingAfter');
  const endingBefore = query.get('endingBefore');
  if (startingAfter !== null && endingBefore !== null) {
    throw httpErrors.badRequest('startingAfter and endingBefore cannot be used together.', { parameter: 'startingAfter' });
  }
  const tenantId = query.get('tenantId');
  const items = state.store.sorted(sort).filter((item) => tenantId === null || item.tenantId === tenantId);

  // The page is the `limit` items after the startingAfter cursor, or the `limit` items right
  // before the endingBefore cursor; cursors are exclusive and must name an existing integration.
  let from = 0;
  let to = Math.min(items.length, limit);
  if (startingAfter !== null) {
    from = cursorIndex(items, startingAfter, 'startingAfter') + 1;
    to = Math.min(items.length, from + limit);
  } else if (endingBefore !== null) {
    to = cursorIndex(items, endingBefore, 'endingBefore');
    from = Math.max(0, to - limit);
  }
  const page = items.slice(from, to);

  const links: Record<string, { href: string }> = { self: { href: url.href } };
  const first = page[0];
  const last = page.at(-1);
  if (last && to < items.length) links.next = { href: pageHref(url, 'startingAfter', last.id) };
  if (first && from > 0) links.prev = { href: pageHref(url, 'endingBefore', first.id) };
  sendJson(response, 200, { data: page, links });
}

export function getIntegration(state: EmulatorState, { response }: ApiRequest, id: string): void {
  sendJson(response, 200, findOrThrow(state, id));
}

export async function createIntegration(state: EmulatorState, { request, response, url, caller }: ApiRequest): Promise<void> {
  const input = parseCreateRequest(parseJson(await readBody(request)));
  const created = state.store.create({ ...input, createdBy: caller.userId });
  const self = `${url.origin}${COLLECTION_PATH}/${created.id}`;
  state.writeLog.record({ method: 'POST', path: url.pathname, id: created.id, status: 201, body: input, user: caller.userId });
  sendJson(response, 201, { ...created, links: { self: { href: self } } }, { location: self });
}

export async function patchIntegration(state: EmulatorState, { request, response, url, caller }: ApiRequest, id: string): Promise<void> {
  findOrThrow(state, id);
  const body = parseJson(await readBody(request));
  const changes = parsePatchRequest(body);
  const update: { name?: string; validOrigins?: string[] } = {};
  for (const change of changes) {
    if (change.path === '/name') update.name = change.value;
    else update.validOrigins = change.value;
  }
  state.store.update(id, update);
  state.writeLog.record({ method: 'PATCH', path: url.pathname, id, status: 204, body, user: caller.userId });
  sendEmpty(response, 204);
}

export function deleteIntegration(state: EmulatorState, { response, url, caller }: ApiRequest, id: string): void {
  if (!state.store.delete(id)) throw httpErrors.integrationNotFound(id);
  state.writeLog.record({ method: 'DELETE', path: url.pathname, id, status: 204, body: null, user: caller.userId });
  sendEmpty(response, 204);
}

function findOrThrow(state: EmulatorState, id: string): WebIntegration {
  const integration = state.store.get(id);
  if (!integration) throw httpErrors.integrationNotFound(id);
  return integration;
}

function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!/^\d+$/.test(raw) || limit > MAX_LIMIT) {
    throw new EmulatorHttpError(400, [
      {
        code: 'HTTP-400',
        title: 'Bad Request',
        detail: `limit must be an integer from 0 to ${MAX_LIMIT}, got "${raw}".`,
        source: { parameter: 'limit' },
      },
    ]);
  }
  return limit;
}

function parseSort(raw: string | null): SortOrder {
  if (raw === null) return '+name';
  // A "+" in a query string decodes to a space unless the client escaped it as %2B.
  const sort = raw.replace(/^ /, '+');
  if (!SORTS.includes(sort as SortOrder)) {
    throw httpErrors.badRequest(`sort must be one of ${SORTS.join(', ')}, got "${raw}".`, { parameter: 'sort' });
  }
  return sort as SortOrder;
}

function cursorIndex(items: readonly WebIntegration[], id: string, parameter: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index === -1) throw httpErrors.badRequest(`${parameter} "${id}" is not the id of a web integration.`, { parameter });
  return index;
}

function pageHref(url: URL, cursor: 'startingAfter' | 'endingBefore', id: string): string {
  const next = new URL(url.href);
  next.searchParams.delete('startingAfter');
  next.searchParams.delete('endingBefore');
  next.searchParams.set(cursor, id);
  return next.href;
}

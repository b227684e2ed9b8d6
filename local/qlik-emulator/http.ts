import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody } from '../readRequestBody.js';
import { httpErrors } from './errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a request body, refusing more than `MAX_BODY_BYTES` with a 413. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return readRequestBody(request, MAX_BODY_BYTES, () => httpErrors.payloadTooLarge(MAX_BODY_BYTES));
}

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw httpErrors.badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** A JSON or form-encoded body as a flat object (OAuth token requests may use either). */
export function parseJsonOrForm(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  }
  const parsed = parseJson(body);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw httpErrors.badRequest('The body must be a JSON object or a form.');
  }
  return parsed as Record<string, unknown>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

export function sendEmpty(response: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  response.writeHead(status, headers);
  response.end();
}

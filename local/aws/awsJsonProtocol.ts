/**
 * The AWS JSON 1.1 wire protocol, server side, for the local cloud's stand-ins of AWS services
 * that have no local server of their own (Secrets Manager, EventBridge).
 *
 * What a real SDK v3 client (and `aws --endpoint-url`) expects, and what this module does:
 * - every call is `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON body;
 * - answers carry `content-type: application/x-amz-json-1.1` and an `x-amzn-requestid`;
 * - errors are `{"__type": "<Code>", "message": "..."}` with the HTTP status of the error and the
 *   code again in `x-amzn-errortype`; the SDK turns the code into its exported exception class;
 * - timestamps travel as epoch seconds (numbers), blobs as base64 strings.
 *
 * SigV4 signatures are not checked: any `Authorization` is accepted, as a local endpoint with no
 * IAM behind it cannot do better. Request and response bodies are never logged (they may hold
 * secret values).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { readRequestBody } from '../readRequestBody.js';

export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** What the local AWS endpoints and the event router log to: Powertools' Logger and `console` both fit. */
export interface LocalLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export const silentLogger: LocalLogger = { info() {}, warn() {}, error() {} };

/**
 * An error answer in AWS's shape. Thrown anywhere in an operation and turned into the wire form by
 * the server, so operations read top to bottom. The message must never contain a secret value.
 */
export class AwsServiceError extends Error {
  /** The error code the SDK maps to an exception class, e.g. `ResourceNotFoundException`. */
  public readonly code: string;
  public readonly status: number;

  public constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsServiceError';
    this.code = code;
    this.status = status;
  }

  public toBody(): { __type: string; message: string } {
    return { __type: this.code, message: this.message };
  }
}

/** Errors every AWS JSON service shares (the common errors of the AWS API references). */
export const awsErrors = {
  validation: (message: string) => new AwsServiceError('ValidationException', message),
  serialization: (message: string) => new AwsServiceError('SerializationException', message),
  unknownOperation: (target: string | undefined) =>
    new AwsServiceError(
      'UnknownOperationException',
      target === undefined ? 'The request has no X-Amz-Target header.' : `This endpoint does not implement the operation "${target}".`,
    ),
  tooLarge: (limit: number) => new AwsServiceError('RequestEntityTooLargeException', `The request body exceeds ${limit} bytes.`, 413),
};

export interface AwsJsonRequestContext {
  requestId: string;
  /** Runs `callback` once the answer is sent (never when the operation fails). */
  afterResponse(callback: () => void): void;
}

/** One operation: its input is the parsed JSON body (an object), its result the JSON answer. */
export type AwsJsonOperation = (input: Record<string, unknown>, context: AwsJsonRequestContext) => unknown;

export interface AwsJsonService {
  /** Name in logs, e.g. `secretsmanager`. */
  name: string;
  /** The part of `X-Amz-Target` before the dot: `secretsmanager`, `AWSEvents`. */
  targetPrefix: string;
  operations: Readonly<Record<string, AwsJsonOperation>>;
  /** The service's code for a failure of its own (`InternalServiceError`, `InternalException`). */
  internalErrorCode: string;
  /** Larger bodies get a 413 before any parsing (default 1 MiB). */
  maxBodyBytes?: number;
  logger?: LocalLogger;
}

export interface AwsJsonServerOptions {
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
}

export interface RunningAwsJsonServer {
  /** Base URL to give SDK clients as `endpoint`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Starts an HTTP server speaking AWS JSON 1.1 for `service` and resolves once it listens. */
export async function startAwsJsonServer(service: AwsJsonService, options: AwsJsonServerOptions = {}): Promise<RunningAwsJsonServer> {
  const logger = service.logger ?? silentLogger;
  const server = createServer((request, response) => {
    const requestId = randomUUID();
    handle(service, request, response, requestId).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof AwsServiceError) {
        sendAwsError(response, requestId, error);
        return;
      }
      // The message of an unexpected error is not sent or logged: it might quote a request value.
      logger.error(`${service.name}: internal error`, { requestId, error: error instanceof Error ? error.name : typeof error });
      sendAwsError(response, requestId, new AwsServiceError(service.internalErrorCode, 'An error occurred on the server side.', 500));
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(service: AwsJsonService, request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'POST' || path !== '/') {
    // Drain what was sent so the connection can be reused, then refuse: AWS JSON is POST / only.
    request.resume();
    throw new AwsServiceError('UnknownOperationException', `AWS JSON 1.1 endpoints answer POST / only, not ${request.method ?? '?'} ${path}.`, 404);
  }
  // The body is read before the operation is resolved, so that every answer follows a whole request.
  const limit = service.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const body = await readRequestBody(request, limit, () => awsErrors.tooLarge(limit));
  const operation = resolveOperation(service, header(request, 'x-amz-target'));
  const input = parseInput(body);

  const callbacks: (() => void)[] = [];
  const context: AwsJsonRequestContext = { requestId, afterResponse: (callback) => callbacks.push(callback) };
  const output = await operation(input, context);
  sendAwsJson(response, requestId, 200, output ?? {});
  if (callbacks.length > 0) setImmediate(() => callbacks.forEach((callback) => callback()));
}

function resolveOperation(service: AwsJsonService, target: string | undefined): AwsJsonOperation {
  if (target === undefined) throw awsErrors.unknownOperation(undefined);
  const dot = target.lastIndexOf('.');
  const prefix = target.slice(0, dot);
  const name = target.slice(dot + 1);
  const operation = prefix === service.targetPrefix && Object.hasOwn(service.operations, name) ? service.operations[name] : undefined;
  if (operation === undefined) throw awsErrors.unknownOperation(target);
  return operation;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as an object; an empty body is `{}` (the SDK sends `{}` for operations without input). */
function parseInput(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw awsErrors.serialization('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw awsErrors.serialization('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

export function sendAwsJson(response: ServerResponse, requestId: string, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': AWS_JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  response.end(text);
}

export function sendAwsError(response: ServerResponse, requestId: string, error: AwsServiceError): void {
  sendAwsJson(response, requestId, error.status, error.toBody(), { 'x-amzn-errortype': error.code });
}

/**
 * Parses an operation's input with `schema`; a mismatch is a `ValidationException` in AWS's words
 * ("N validation errors detected: ..."). Only member paths and constraints are quoted, never values.
 */
export function parseAwsInput<T>(schema: z.ZodType<T>, input: Record<string, unknown>): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const details = issues.map(
    (issue) => `Value at '${memberPath(issue.path)}' failed to satisfy constraint: ${constraintOf(issue, valueAt(input, issue.path) === undefined)}`,
  );
  throw awsErrors.validation(`${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${details.join('; ')}`);
}

function memberPath(path: readonly PropertyKey[]): string {
  // AWS names members in lowerCamelCase and list items by 1-based index: entries.3.member.detail.
  return path
    .map((part) => (typeof part === 'number' ? `${part + 1}.member` : String(part).replace(/^./, (first) => first.toLowerCase())))
    .join('.');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function constraintOf(issue: z.core.$ZodIssue, missing: boolean): string {
  if (issue.code === 'invalid_type' && missing) return 'Member must not be null';
  if (issue.code === 'too_small' && issue.origin === 'string') return `Member must have length greater than or equal to ${String(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.origin === 'string') return `Member must have length less than or equal to ${String(issue.maximum)}`;
  if (issue.code === 'too_small' && issue.origin === 'array') return `Member must have length greater than or equal to ${String(issue.minimum)}`;
  if (issue.code === 'too_big' && issue.origin === 'array') return `Member must have length less than or equal to ${String(issue.maximum)}`;
  if (issue.code === 'too_small') return `Member must have value greater than or equal to ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `Member must have value less than or equal to ${String(issue.maximum)}`;
  return `Member ${issue.message.replace(/^./, (first) => first.toLowerCase())}`;
}

/** A time as the JSON protocol sends it: epoch seconds (fractions allowed). */
export function toEpochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

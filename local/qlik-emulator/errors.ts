import { randomBytes } from 'node:crypto';

/** One entry of Qlik's error envelope. `status` is a string there, not a number. */
export interface QlikErrorEntry {
  code: string;
  title: string;
  detail?: string;
  status: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

export interface QlikErrorEnvelope {
  errors: QlikErrorEntry[];
  traceId: string;
}

/**
 * An answer the emulator gives instead of a success: thrown anywhere in a handler and turned into
 * Qlik's envelope by the server, so handlers read top to bottom without early-return plumbing.
 */
export class EmulatorHttpError extends Error {
  public readonly status: number;
  public readonly entries: QlikErrorEntry[];
  public readonly headers: Record<string, string>;

  public constructor(
    status: number,
    entries: Omit<QlikErrorEntry, 'status'>[],
    headers: Record<string, string> = {},
  ) {
    super(entries.map((entry) => `${entry.code}: ${entry.detail ?? entry.title}`).join('; '));
    this.name = 'EmulatorHttpError';
    this.status = status;
    this.entries = entries.map((entry) => ({ ...entry, status: String(status) }));
    this.headers = headers;
  }

  public toEnvelope(): QlikErrorEnvelope {
    return { errors: this.entries, traceId: newTraceId() };
  }
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** Shorthands for the answers that have one fixed code and title. */
export const httpErrors = {
  badRequest: (detail: string, source?: QlikErrorEntry['source']) =>
    new EmulatorHttpError(400, [{ code: 'HTTP-400', title: 'Bad Request', detail, ...(source && { source }) }]),
  unauthorized: (detail: string) =>
    new EmulatorHttpError(401, [{ code: 'HTTP-401', title: 'Unauthorized', detail }]),
  forbidden: (detail: string) => new EmulatorHttpError(403, [{ code: 'HTTP-403', title: 'Forbidden', detail }]),
  routeNotFound: (path: string) =>
    new EmulatorHttpError(404, [{ code: 'HTTP-404', title: 'Not Found', detail: `No route for ${path}.` }]),
  integrationNotFound: (id: string) =>
    new EmulatorHttpError(404, [
      { code: 'WEBINTEGRATIONS_NOT_FOUND', title: 'Web integration not found.', detail: `No web integration with id "${id}".` },
    ]),
  methodNotAllowed: (method: string, allowed: readonly string[]) =>
    new EmulatorHttpError(
      405,
      [{ code: 'HTTP-405', title: 'Method Not Allowed', detail: `${method} is not allowed here; use ${allowed.join(', ')}.` }],
      { allow: allowed.join(', ') },
    ),
  payloadTooLarge: (limit: number) =>
    new EmulatorHttpError(413, [{ code: 'HTTP-413', title: 'Payload Too Large', detail: `The body exceeds ${limit} bytes.` }]),
  rateLimited: (retryAfterSeconds: number) =>
    new EmulatorHttpError(
      429,
      [
        {
          code: 'HTTP-429',
          title: 'API rate limit reached.',
          detail: `You need to wait ${retryAfterSeconds} seconds until limit is lifted.`,
        },
      ],
      { 'retry-after': String(retryAfterSeconds) },
    ),
  injected: (status: 500 | 503) =>
    new EmulatorHttpError(status, [
      {
        code: `HTTP-${status}`,
        title: status === 500 ? 'Internal Server Error' : 'Service Unavailable',
        detail: 'Fault injected by the emulator.',
      },
    ]),
};

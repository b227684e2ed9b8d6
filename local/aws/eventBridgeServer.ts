/**
 * A local EventBridge endpoint: `PutEvents` over AWS JSON 1.1, so the real `EventBridgeClient`
 * and `aws events put-events --endpoint-url` publish to the local cloud unchanged.
 *
 * It validates as EventBridge does: 1 to 10 entries and at most 256 KB of entries per request
 * (else the whole call fails with `ValidationException`); a bad entry fails alone, with its
 * `ErrorCode` and `ErrorMessage` in its place of the answer (`InvalidArgument` for a missing
 * `Source`, `DetailType` or `Detail`, `MalformedDetail` when `Detail` is not a JSON object).
 * Each accepted entry becomes the event EventBridge hands a Lambda target (`version`, `id`,
 * `detail-type`, `source`, `account`, `time` to the second, `region`, `resources`, `detail`),
 * and the accepted events of a call are given to `onEvents` after the answer is sent.
 *
 * One deliberate difference: AWS accepts entries for an event bus that does not exist and drops
 * them silently. Here an entry naming another bus than the one served (`default` unless
 * configured; by name or ARN) fails with `InvalidArgument`, so a typo shows up locally instead
 * of losing events. Code that works here therefore works in AWS.
 *
 * @example
 * ```ts
 * const bus = await startEventBridgeServer({ onEvents: (events) => router.publish(events) });
 * const client = new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { awsErrors, parseAwsInput, silentLogger, startAwsJsonServer, type AwsJsonOperation, type LocalLogger } from './awsJsonProtocol.js';

/** An event as EventBridge delivers it to a target. */
export type DeliveredEvent = EventBridgeEvent<string, Record<string, unknown>>;

export interface EventBridgeServerOptions {
  /** Port on `host`; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** `region` of the events and of the bus ARN (default `us-east-1`). */
  region?: string;
  /** `account` of the events (default `000000000000`). */
  accountId?: string;
  /** The one bus served (default `default`). */
  eventBusName?: string;
  /**
   * Receives the accepted events of each PutEvents call, in request order, after the answer is
   * sent; a returned promise is awaited. A throw or rejection is logged and does not reach the
   * caller (it already has its event ids). `(events) => router.publish(events)` fits.
   */
  onEvents(events: DeliveredEvent[]): unknown;
  logger?: LocalLogger;
}

export interface RunningEventBridge {
  /** The endpoint for SDK clients and `aws --endpoint-url`. */
  url: string;
  port: number;
  region: string;
  accountId: string;
  eventBusName: string;
  eventBusArn: string;
  /** Stops serving; resolves once the events already accepted were handed to `onEvents`. */
  close(): Promise<void>;
}

/** Per request, counted as EventBridge counts entry sizes. */
export const MAX_ENTRIES_BYTES = 256 * 1024;
export const MAX_ENTRIES = 10;

/** Starts the endpoint and resolves once it listens. */
export async function startEventBridgeServer(options: EventBridgeServerOptions): Promise<RunningEventBridge> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const eventBusName = options.eventBusName ?? 'default';
  const eventBusArn = `arn:aws:events:${region}:${accountId}:event-bus/${eventBusName}`;
  const logger = options.logger ?? silentLogger;
  const handoffs = new Set<Promise<void>>();

  const deliver = (events: DeliveredEvent[]) => {
    const handoff = Promise.resolve()
      .then(() => options.onEvents(events))
      .then(
        () => undefined,
        (error: unknown) => {
          logger.error('eventbridge: onEvents failed; the events were accepted and are lost', {
            eventIds: events.map((event) => event.id),
            error: error instanceof Error ? error.message : String(error),
          });
        },
      )
      .finally(() => handoffs.delete(handoff));
    handoffs.add(handoff);
  };

  const server = await startAwsJsonServer(
    {
      name: 'eventbridge',
      targetPrefix: 'AWSEvents',
      operations: { PutEvents: putEvents({ region, accountId, eventBusName, eventBusArn, deliver }) },
      internalErrorCode: 'InternalException',
      logger,
    },
    { ...(options.port !== undefined && { port: options.port }), ...(options.host !== undefined && { host: options.host }) },
  );

  return {
    url: server.url,
    port: server.port,
    region,
    accountId,
    eventBusName,
    eventBusArn,
    async close() {
      await server.close();
      // Answers already sent promised delivery: let the scheduled hand-offs run first.
      await new Promise((resolve) => setImmediate(resolve));
      while (handoffs.size > 0) await Promise.allSettled([...handoffs]);
    },
  };
}

const entrySchema = z.object({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  // The SDK and the CLI send epoch seconds; an RFC 3339 string is accepted too, for hand-made requests.
  Time: z.union([z.number(), z.string()]).optional(),
  Resources: z.array(z.string()).optional(),
  EventBusName: z.string().optional(),
  TraceHeader: z.string().optional(),
});

const putEventsInput = z.object({
  Entries: z.array(entrySchema).min(1).max(MAX_ENTRIES),
  EndpointId: z.string().optional(),
});

type Entry = z.infer<typeof entrySchema>;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

function putEvents(bus: {
  region: string;
  accountId: string;
  eventBusName: string;
  eventBusArn: string;
  deliver: (events: DeliveredEvent[]) => void;
}): AwsJsonOperation {
  return (raw, context) => {
    const { Entries: entries } = parseAwsInput(putEventsInput, raw);
    if (entries.reduce((total, entry) => total + entrySize(entry), 0) > MAX_ENTRIES_BYTES) {
      throw awsErrors.validation('Total size of the entries in the request is over the limit.');
    }
    const receivedAt = new Date();
    const accepted: DeliveredEvent[] = [];
    const results = entries.map((entry): EntryResult => {
      const built = buildEvent(entry, bus, receivedAt);
      if ('ErrorCode' in built) return built;
      accepted.push(built);
      return { EventId: built.id };
    });
    if (accepted.length > 0) context.afterResponse(() => bus.deliver(accepted));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  };
}

/** An entry's size as EventBridge computes it (Time counts 14 bytes). */
function entrySize(entry: Entry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((total, resource) => total + bytes(resource), 0)
  );
}

function buildEvent(
  entry: Entry,
  bus: { region: string; accountId: string; eventBusName: string; eventBusArn: string },
  receivedAt: Date,
): DeliveredEvent | { ErrorCode: string; ErrorMessage: string } {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (!entry[field]) return invalidArgument(`Parameter ${field} is not valid. Reason: ${field} is a required argument.`);
  }
  const busName = entry.EventBusName;
  if (busName !== undefined && busName !== '' && busName !== bus.eventBusName && busName !== bus.eventBusArn) {
    return invalidArgument(`Event bus ${busName} does not exist: this local endpoint serves the bus ${bus.eventBusName} only.`);
  }
  const detail = parseDetail(entry.Detail!);
  if (detail === undefined) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const time = entry.Time === undefined ? receivedAt : typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(entry.Time);
  if (Number.isNaN(time.getTime())) return invalidArgument('Parameter Time is not valid. Reason: Time is not a valid timestamp.');
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType!,
    source: entry.Source!,
    account: bus.accountId,
    time: isoSeconds(time),
    region: bus.region,
    resources: [...(entry.Resources ?? [])],
    detail,
  };
}

function invalidArgument(message: string) {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: message };
}

/** The detail as an object, or `undefined` when it is not JSON or not an object. */
function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `2026-12-03T12:00:00Z`: EventBridge's event time has no fraction of a second. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The local cloud's EventBridge rules: routes each published event to the target of every rule
 * whose pattern matches (the same `matchesEventPattern` and patterns the stack deploys) and
 * invokes it the way Lambda invokes a function asynchronously.
 *
 * - Invocations never run inside `publish`: they are queued and run at most `maxConcurrency` at a
 *   time (everything shares one process), first in, first out.
 * - A target that throws is retried up to `maximumRetryAttempts` times (default 2, as Lambda)
 *   after `baseDelayMs × 2^n` with jitter (half fixed, half random), unless the event would then
 *   be older than `maximumEventAgeSeconds` (default 21600, as Lambda).
 * - What cannot be delivered goes to `deadLetter` with the rule, the event, the last error, the
 *   attempts made and why: `retries-exhausted`, `event-too-old`, or `shutdown`.
 * - `close()` stops retrying: invocations in flight finish, and deliveries still queued or waiting
 *   for a retry go to `deadLetter` with reason `shutdown` rather than vanishing. Nothing accepted
 *   is dropped without a record (DESIGN §3: "nothing is lost").
 * - Each target gets its own deep copy of the event, as separate Lambda invocations would.
 *
 * @example
 * ```ts
 * const router = createEventRouter({
 *   rules: [{ name: 'deployments', pattern: deploymentEventPattern(), target: (event) => deployEvents(event) }],
 *   deadLetter: (record) => console.error('dead letter', record.rule, record.event.id, record.error),
 * });
 * router.publish(events);
 * await router.drain();
 * ```
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { matchesEventPattern, type ExactEventPattern } from '../../functions/events.js';
import { silentLogger, type LocalLogger } from './awsJsonProtocol.js';

/** Any EventBridge event: deployment events, scheduled events. */
export type RoutedEvent = EventBridgeEvent<string, unknown>;

export interface RetryPolicy {
  /** Retries after the first attempt (default 2, as Lambda's asynchronous invocation). */
  maximumRetryAttempts?: number;
  /** An event older than this is not tried again (default 21600 = 6 h, as Lambda). */
  maximumEventAgeSeconds?: number;
  /** First retry after about this long; each further retry waits twice as long (default 1000). */
  baseDelayMs?: number;
}

export interface EventRule {
  /** Names the rule in logs and dead-letter records; unique per router. */
  name: string;
  pattern: ExactEventPattern;
  /** The function: resolves on success, throws or rejects to ask for a retry. */
  target: (event: RoutedEvent) => Promise<unknown>;
  retry?: RetryPolicy;
}

export type DeadLetterReason = 'retries-exhausted' | 'event-too-old' | 'shutdown';

export interface DeadLetterRecord {
  rule: string;
  event: RoutedEvent;
  /** Message of the last error, or why the event was never tried. */
  error: string;
  /** Invocations made (0 when the event was never tried). */
  attempts: number;
  /** ISO 8601. */
  failedAt: string;
  reason: DeadLetterReason;
}

export interface EventRouterOptions {
  rules: readonly EventRule[];
  deadLetter: (record: DeadLetterRecord) => void | Promise<void>;
  logger?: LocalLogger;
  /** Target invocations running at once, all rules together (default 10). */
  maxConcurrency?: number;
  /** For tests: the jitter's source of randomness in [0, 1) (default `Math.random`). */
  random?: () => number;
}

export interface EventRouterStats {
  /** Invocations that succeeded. */
  delivered: number;
  /** Invocations that threw (each retry counts). */
  failedAttempts: number;
  deadLettered: number;
  inFlight: number;
  queued: number;
  waitingToRetry: number;
}

export interface EventRouter {
  /**
   * Queues a delivery of each event to every matching rule's target and returns how many were
   * queued (0 when no rule matches). Throws once the router is closed.
   */
  publish(events: readonly RoutedEvent[]): number;
  /** Resolves when nothing is in flight, queued, waiting to retry or being dead-lettered. */
  drain(): Promise<void>;
  /** Stops: in-flight invocations finish, everything else is dead-lettered with reason `shutdown`. */
  close(): Promise<void>;
  stats(): EventRouterStats;
}

export const DEFAULT_RETRY_POLICY: Required<RetryPolicy> = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, baseDelayMs: 1_000 };
export const DEFAULT_MAX_CONCURRENCY = 10;

interface Route {
  name: string;
  pattern: ExactEventPattern;
  target: EventRule['target'];
  retry: Required<RetryPolicy>;
}

interface Delivery {
  route: Route;
  event: RoutedEvent;
  /** When the router accepted the event (epoch ms): the age limit counts from here. */
  acceptedAt: number;
  attempts: number;
  lastError?: string;
  timer?: NodeJS.Timeout;
}

export function createEventRouter(options: EventRouterOptions): EventRouter {
  const routes = options.rules.map(toRoute);
  const names = routes.map((route) => route.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) throw new Error(`event router: two rules are named "${duplicate}"`);
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) throw new Error(`event router: maxConcurrency must be a positive integer, got ${maxConcurrency}`);
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;

  const ready: Delivery[] = [];
  const waiting = new Set<Delivery>();
  const deadLettering = new Set<Promise<void>>();
  let running = 0;
  let pumpScheduled = false;
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  const counts = { delivered: 0, failedAttempts: 0, deadLettered: 0 };

  const isIdle = () => running === 0 && ready.length === 0 && waiting.size === 0 && deadLettering.size === 0 && !pumpScheduled;
  const notifyIfIdle = () => {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    waiters.forEach((resolve) => resolve());
  };

  /** Starts queued deliveries on a later turn, never inside the caller's stack. */
  const schedulePump = () => {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
      notifyIfIdle();
    });
  };

  const pump = () => {
    while (running < maxConcurrency && ready.length > 0) {
      const delivery = ready.shift()!;
      if (Date.now() - delivery.acceptedAt > delivery.route.retry.maximumEventAgeSeconds * 1000) {
        sendToDeadLetter(delivery, 'event-too-old', delivery.lastError ?? 'the event got older than maximumEventAgeSeconds before it could be delivered');
        continue;
      }
      void invoke(delivery);
    }
  };

  const invoke = async (delivery: Delivery) => {
    running += 1;
    delivery.attempts += 1;
    try {
      await delivery.route.target(structuredClone(delivery.event));
      counts.delivered += 1;
    } catch (error) {
      counts.failedAttempts += 1;
      onFailure(delivery, error instanceof Error ? error.message : String(error));
    } finally {
      running -= 1;
      pump();
      notifyIfIdle();
    }
  };

  const onFailure = (delivery: Delivery, message: string) => {
    delivery.lastError = message;
    const { route, event, attempts } = delivery;
    const where = { rule: route.name, eventId: event.id, attempts, error: message };
    if (closed) return sendToDeadLetter(delivery, 'shutdown', message);
    if (attempts > route.retry.maximumRetryAttempts) return sendToDeadLetter(delivery, 'retries-exhausted', message);
    const delayMs = Math.round(route.retry.baseDelayMs * 2 ** (attempts - 1) * (0.5 + random() * 0.5));
    if (Date.now() + delayMs - delivery.acceptedAt > route.retry.maximumEventAgeSeconds * 1000) {
      return sendToDeadLetter(delivery, 'event-too-old', message);
    }
    logger.warn(`rule ${route.name}: target failed, retrying in ${delayMs} ms`, where);
    waiting.add(delivery);
    delivery.timer = setTimeout(() => {
      waiting.delete(delivery);
      delete delivery.timer;
      ready.push(delivery);
      pump();
      notifyIfIdle();
    }, delayMs);
  };

  const sendToDeadLetter = (delivery: Delivery, reason: DeadLetterReason, error: string) => {
    counts.deadLettered += 1;
    const record: DeadLetterRecord = {
      rule: delivery.route.name,
      event: delivery.event,
      error,
      attempts: delivery.attempts,
      failedAt: new Date().toISOString(),
      reason,
    };
    logger.error(`rule ${record.rule}: event ${record.event.id} dead-lettered (${reason})`, { attempts: record.attempts, error });
    const pending = Promise.resolve()
      .then(() => options.deadLetter(record))
      .catch((failure: unknown) => {
        logger.error(`rule ${record.rule}: the dead-letter callback failed; event ${record.event.id} is lost`, {
          error: failure instanceof Error ? failure.message : String(failure),
        });
      })
      .finally(() => {
        deadLettering.delete(pending);
        notifyIfIdle();
      });
    deadLettering.add(pending);
  };

  const drain = () =>
    new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      notifyIfIdle();
    });

  return {
    publish(events) {
      if (closed) throw new Error('event router: closed, no more events are accepted');
      let queued = 0;
      const acceptedAt = Date.now();
      for (const event of events) {
        const fields: Record<string, unknown> = { ...event };
        const matching = routes.filter((route) => matchesEventPattern(route.pattern, fields));
        if (matching.length === 0) {
          logger.info('no rule matches the event', { eventId: event.id, source: event.source, detailType: event['detail-type'] });
        }
        for (const route of matching) ready.push({ route, event, acceptedAt, attempts: 0 });
        queued += matching.length;
      }
      if (queued > 0) schedulePump();
      return queued;
    },

    drain,

    async close() {
      if (!closed) {
        closed = true;
        for (const delivery of waiting) {
          clearTimeout(delivery.timer);
          sendToDeadLetter(delivery, 'shutdown', delivery.lastError ?? 'the router closed before a retry');
        }
        waiting.clear();
        for (const delivery of ready.splice(0)) {
          sendToDeadLetter(delivery, 'shutdown', delivery.lastError ?? 'the router closed before the event was delivered');
        }
      }
      await drain();
    },

    stats() {
      return { ...counts, inFlight: running, queued: ready.length, waitingToRetry: waiting.size };
    },
  };
}

function toRoute(rule: EventRule): Route {
  if (rule.name.trim() === '') throw new Error('event router: every rule needs a name');
  const retry = { ...DEFAULT_RETRY_POLICY, ...definedOnly(rule.retry ?? {}) };
  const problem =
    !Number.isInteger(retry.maximumRetryAttempts) || retry.maximumRetryAttempts < 0
      ? 'maximumRetryAttempts must be a whole number >= 0'
      : !(retry.maximumEventAgeSeconds > 0)
        ? 'maximumEventAgeSeconds must be > 0'
        : !(retry.baseDelayMs >= 0)
          ? 'baseDelayMs must be >= 0'
          : undefined;
  if (problem !== undefined) throw new Error(`event router: rule "${rule.name}": ${problem}`);
  return { name: rule.name, pattern: rule.pattern, target: rule.target, retry };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * `origin-sync register` and `deregister`: an app's origins on a target, by the same path as a
 * deployment event. The CLI builds the event an `App Deployed` / `App Removed` would carry and
 * sends it through the same validation (`parseDeploymentEvent`), the same door
 * (`registerDeployment`: origin rules, policy, event order, idempotency) and the same reconcile;
 * the event id is `cli-<uuid>`, the time now, and the audit trail names the CLI as the cause.
 */
import type { Command } from 'commander';
import { describeTarget, isRegistrationLive, type TargetRef } from '../../functions/core/model.js';
import { RejectedInputError } from '../../functions/engine/errors.js';
import { reconcile, type ReconcileResult } from '../../functions/engine/reconcile.js';
import { registerDeployment, type DeploymentRequest, type RegisteredDeployment } from '../../functions/engine/registerDeployment.js';
import { DETAIL_TYPE_DEPLOYED, DETAIL_TYPE_REMOVED } from '../../functions/events.js';
import { parseDeploymentEvent } from '../../functions/handlers/deploymentEvent.js';
import { TenantNotFoundError } from '../../functions/registry/errors.js';
import { parseDuration, parseTargetRef } from '../arguments.js';
import type { Connection } from '../connection.js';
import { EXIT_OK, type CliContext, type Runner } from '../context.js';
import { CliError, explain } from '../errors.js';
import { plural } from '../output.js';

/** The `source` of the events the CLI builds (they never reach EventBridge). */
export const CLI_EVENT_SOURCE = 'origin-sync.cli';

/** `register --json` and `deregister --json` (stable keys). */
export interface RegistrationResult {
  action: 'register' | 'deregister';
  /** `applied`: recorded; `duplicate`: this exact event was recorded before. */
  status: 'applied' | 'duplicate';
  target: string;
  appId: string;
  eventId: string;
  /** The origins recorded (normalised); empty for a deregistration. */
  origins: string[];
  expiresAt: string | null;
  reconcile: {
    /** `held-back`: the removal guard stopped removals; confirm with `apply --allow-removals`. */
    status: 'changed' | 'unchanged' | 'busy' | 'held-back';
    added: string[];
    removed: string[];
    heldBack: { origin: string; reason: string }[];
    /** `validOrigins` in Qlik afterwards; `null` when another run holds the lease. */
    after: string[] | null;
  };
}

interface RegisterOptions {
  app: string;
  target: string;
  origin: string[];
  expiresIn?: string;
  deploymentId?: string;
}

interface DeregisterOptions {
  app: string;
  target: string;
  deploymentId?: string;
}

const REGISTER_EXAMPLES = `
The same checks as an "App Deployed" event: every origin must satisfy the origin rules and the
target's allowedOrigins, or nothing is recorded. The target is reconciled right away.

Examples:
  $ npx origin-sync register --app shop --target demo/Abc123 --origin https://shop.example.com
  $ npx origin-sync register --app pr-42 --target demo/Abc123 --origin https://pr-42.preview.example.com --expires-in 7d
  $ npx origin-sync register --app shop --target demo/Abc123 --origin https://shop.example.com https://www.shop.example.com`;

const DEREGISTER_EXAMPLES = `
Like an "App Removed" event: the app's origins stop being desired, and origins this system
added are removed from Qlik (within the target's removal guard).

Examples:
  $ npx origin-sync deregister --app shop --target demo/Abc123`;

export function registerRegisterCommands(program: Command, run: Runner): void {
  program
    .command('register')
    .description("register an app's origins on a target (as an App Deployed event would) and reconcile it now")
    .requiredOption('--app <id>', 'the app (letters, digits and . _ : -)')
    .requiredOption('--target <tenant/id>', 'the target, e.g. demo/Abc123')
    .requiredOption('--origin <url...>', 'origins of the app (repeatable, or several after one --origin)')
    .option('--expires-in <duration>', 'the registration ends after this long, e.g. 30m, 12h, 7d (preview environments)')
    .option('--deployment-id <id>', 'your deployment id, kept with the registration')
    .addHelpText('after', REGISTER_EXAMPLES)
    .action(run(registerApp));
  program
    .command('deregister')
    .description("remove an app's registration from a target (as an App Removed event would) and reconcile it now")
    .requiredOption('--app <id>', 'the app')
    .requiredOption('--target <tenant/id>', 'the target, e.g. demo/Abc123')
    .option('--deployment-id <id>', 'your deployment id, kept with the tombstone')
    .addHelpText('after', DEREGISTER_EXAMPLES)
    .action(run(deregisterApp));
}

async function registerApp(context: CliContext, options: RegisterOptions): Promise<number> {
  const ref = parseTargetRef(options.target);
  const now = new Date();
  const expiresAt = options.expiresIn === undefined ? undefined : new Date(now.getTime() + parseDuration(options.expiresIn, '--expires-in')).toISOString();
  const request = toRequest(context, DETAIL_TYPE_DEPLOYED, now, {
    appId: options.app,
    ...ref,
    origins: options.origin,
    ...(options.deploymentId !== undefined && { deploymentId: options.deploymentId }),
    ...(expiresAt !== undefined && { expiresAt }),
  });
  return record(context, 'register', request, now);
}

async function deregisterApp(context: CliContext, options: DeregisterOptions): Promise<number> {
  const ref = parseTargetRef(options.target);
  const now = new Date();
  const request = toRequest(context, DETAIL_TYPE_REMOVED, now, {
    appId: options.app,
    ...ref,
    ...(options.deploymentId !== undefined && { deploymentId: options.deploymentId }),
  });
  return record(context, 'deregister', request, now);
}

/** The event the CLI stands in for, validated exactly as the deploy-events function validates it. */
function toRequest(context: CliContext, detailType: string, now: Date, detail: Record<string, unknown>): DeploymentRequest {
  const parsed = parseDeploymentEvent({ id: context.invocationId, source: CLI_EVENT_SOURCE, 'detail-type': detailType, time: now.toISOString(), detail });
  if (!parsed.ok) throw new CliError(flagNames(parsed.reason), { code: 'usage' });
  return parsed.request;
}

/** The event's field names, as the flags that set them. */
function flagNames(reason: string): string {
  const flags: Record<string, string> = {
    appId: '--app',
    tenant: '--target',
    webIntegrationId: '--target',
    origins: '--origin',
    expiresAt: '--expires-in',
    deploymentId: '--deployment-id',
  };
  return reason.replace(/detail\.(\w+)(\.\d+)?/g, (_, field: string) => flags[field] ?? field);
}

async function record(context: CliContext, action: RegistrationResult['action'], request: DeploymentRequest, now: Date): Promise<number> {
  const connection = await context.connection();
  const { registry } = connection;
  const tenant = await registry.getTenant(request.ref.tenant);
  if (!tenant) throw new TenantNotFoundError(request.ref.tenant);
  const target = describeTarget(request.ref);
  if (request.kind === 'remove') await requireRegistered(connection, request.ref, request.appId, now);

  let registered: RegisteredDeployment;
  try {
    registered = await registerDeployment(registry, request, now);
  } catch (error) {
    if (error instanceof RejectedInputError) {
      // As the deploy-events function does: a rejection at the door is part of the target's history.
      await registry.appendAudit({ ref: request.ref, time: new Date().toISOString(), kind: 'rejected', cause: context.cause, reason: error.message }).catch(() => undefined);
    }
    throw error;
  }
  if (registered.outcome.status === 'stale') {
    throw new CliError(`a newer registration of app "${request.appId}" on ${target} is recorded (event time ${registered.outcome.storedEventTime}); nothing changed`, {
      code: 'conflict',
      hint: "check this machine's clock",
    });
  }

  let result: ReconcileResult;
  try {
    result = await reconcile(request.ref, { registry, qlik: await connection.qlikFor(tenant) }, { cause: context.cause, ...context.signalOption });
  } catch (error) {
    const explained = explain(error, connection.explainContext);
    throw new CliError(`${action === 'register' ? 'registered' : 'deregistered'} app "${request.appId}" on ${target}, but Qlik was not updated: ${explained.message}`, {
      code: explained.code,
      hint: `the next drift scan retries; or fix it and run "origin-sync apply --target ${target}"`,
      cause: error,
    });
  }

  const outcome: RegistrationResult = {
    action,
    status: registered.outcome.status,
    target,
    appId: request.appId,
    eventId: request.eventId,
    origins: registered.origins,
    expiresAt: request.kind === 'deploy' && request.expiresAt !== undefined ? new Date(request.expiresAt).toISOString() : null,
    reconcile:
      result.status === 'busy'
        ? { status: 'busy', added: [], removed: [], heldBack: [], after: null }
        : {
            status: result.guardTripped ? 'held-back' : result.status === 'changed' ? 'changed' : 'unchanged',
            added: result.after.filter((origin) => !result.before.includes(origin)),
            removed: result.before.filter((origin) => !result.after.includes(origin)),
            heldBack: result.plan.heldBack.map(({ origin, reason }) => ({ origin, reason })),
            after: result.after,
          },
  };
  if (context.out.json) context.out.data(outcome);
  else printOutcome(context, outcome);
  if (outcome.reconcile.status === 'held-back') {
    const guarded = outcome.reconcile.heldBack.filter((held) => held.reason === 'removal-guard').length;
    context.out.warn(
      `the removal guard held back ${plural(guarded, 'removal')} on ${target}; review with "origin-sync plan --target ${target}", ` +
        `then confirm with "origin-sync apply --target ${target} --allow-removals ${guarded}"`,
    );
  }
  return EXIT_OK;
}

/** Deregistering an app that is not registered is most likely a typo: say which apps are. */
async function requireRegistered(connection: Connection, ref: TargetRef, appId: string, now: Date): Promise<void> {
  const registrations = await connection.registry.listRegistrations(ref);
  if (registrations.some((registration) => registration.appId === appId && registration.state === 'active')) return;
  const live = registrations.filter((registration) => isRegistrationLive(registration, now)).map((registration) => registration.appId);
  throw new CliError(`app "${appId}" is not registered on ${describeTarget(ref)}`, {
    code: 'not-found',
    hint: live.length === 0 ? 'no app is registered there' : `registered apps: ${live.sort().join(', ')}`,
  });
}

function printOutcome(context: CliContext, outcome: RegistrationResult): void {
  const { style } = context.out;
  const again = outcome.status === 'duplicate' ? ' (already recorded)' : '';
  if (outcome.action === 'register') {
    const expiry = outcome.expiresAt === null ? '' : `, until ${outcome.expiresAt}`;
    context.out.line(`Registered app ${style.bold(outcome.appId)} on ${outcome.target}${again}: ${outcome.origins.join(', ')}${expiry}.`);
  } else {
    context.out.line(`Deregistered app ${style.bold(outcome.appId)} from ${outcome.target}${again}.`);
  }
  const { reconcile: result } = outcome;
  if (result.status === 'busy') {
    context.out.line('Qlik: another run holds the target\'s lease and will apply this change.');
    return;
  }
  if (result.added.length === 0 && result.removed.length === 0) context.out.line('Qlik: nothing to change.');
  else context.out.line('Qlik updated:');
  for (const origin of result.added) context.out.line(style.green(`  + ${origin}`));
  for (const origin of result.removed) context.out.line(style.red(`  - ${origin}`));
}

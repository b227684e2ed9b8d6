import type { RegistrationChange, TargetRef } from '../core/model.js';
import { checkOrigins } from '../core/policy.js';
import { TargetNotFoundError } from '../registry/errors.js';
import type { RegistrationOutcome, Registry } from '../registry/registry.js';
import { RejectedInputError } from './errors.js';

/** A deployment or removal of an app, from an event or the CLI, before any checks. */
export type DeploymentRequest = {
  ref: TargetRef;
  appId: string;
  eventId: string;
  /** ISO 8601; orders events of one app. */
  eventTime: string;
  deploymentId?: string;
} & ({ kind: 'deploy'; origins: readonly unknown[]; expiresAt?: string } | { kind: 'remove' });

/** Rejection reasons given per event, at most. */
const MAX_REASONS = 5;

export interface RegisteredDeployment {
  outcome: RegistrationOutcome;
  /** The origins recorded (normalised), for a deploy. */
  origins: string[];
}

/**
 * The door of the system: checks a deployment against its target's policy and records it.
 * All or nothing: one origin outside the policy rejects the whole event, so the registry never
 * holds half of what a pipeline meant (the pipeline fixes its input and sends the event again).
 *
 * @throws {TargetNotFoundError} the target is not configured (terminal).
 * @throws {RejectedInputError} an origin is invalid or outside the policy, or `expiresAt` is past (terminal).
 */
export async function registerDeployment(registry: Registry, request: DeploymentRequest, now: Date = new Date()): Promise<RegisteredDeployment> {
  const target = await registry.getTarget(request.ref);
  if (!target) throw new TargetNotFoundError(request.ref);
  const common = {
    ref: request.ref,
    appId: request.appId,
    eventId: request.eventId,
    eventTime: request.eventTime,
    ...(request.deploymentId !== undefined && { deploymentId: request.deploymentId }),
  };
  if (request.kind === 'remove') {
    return { outcome: await registry.recordRegistration({ ...common, kind: 'remove' }), origins: [] };
  }

  const check = checkOrigins(request.origins, target.policy);
  if (check.rejected.length > 0) {
    // The first few reasons say what is wrong; a hundred of them would only flood the log and audit.
    const reasons = check.rejected.slice(0, MAX_REASONS).map((rejection) => rejection.reason);
    if (check.rejected.length > MAX_REASONS) reasons.push(`and ${check.rejected.length - MAX_REASONS} more`);
    throw new RejectedInputError(`${check.rejected.length} of ${request.origins.length} origin(s) of app "${request.appId}" rejected`, reasons);
  }
  if (check.accepted.length === 0) throw new RejectedInputError(`app "${request.appId}" names no origins`);
  if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= now.getTime()) {
    throw new RejectedInputError(`expiresAt ${request.expiresAt} of app "${request.appId}" is already past`);
  }
  const change: RegistrationChange = {
    ...common,
    kind: 'deploy',
    origins: check.accepted,
    ...(request.expiresAt !== undefined && { expiresAt: request.expiresAt }),
  };
  return { outcome: await registry.recordRegistration(change), origins: check.accepted };
}

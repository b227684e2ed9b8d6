import { describeTarget, type TargetRef } from '../core/model.js';

/** Base of every registry error; `cause` keeps the underlying AWS error. */
export class RegistryError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** The target is not configured: an event naming it is terminal, not retried. */
export class TargetNotFoundError extends RegistryError {
  public readonly ref: TargetRef;

  public constructor(ref: TargetRef) {
    super(`target ${describeTarget(ref)} is not configured; add it with "origin-sync targets add"`);
    this.name = 'TargetNotFoundError';
    this.ref = ref;
  }
}

/** The tenant is not configured. */
export class TenantNotFoundError extends RegistryError {
  public constructor(tenant: string) {
    super(`tenant "${tenant}" is not configured; add it with "origin-sync tenants add"`);
    this.name = 'TenantNotFoundError';
  }
}

/**
 * This invocation no longer holds the target's lease (it expired and another took it over):
 * whatever it planned may be stale, so it must stop without recording anything.
 */
export class LeaseLostError extends RegistryError {
  public constructor(ref: TargetRef, owner: string) {
    super(`lease on ${describeTarget(ref)} was lost by ${owner} (it expired and was taken over)`);
    this.name = 'LeaseLostError';
  }
}

/**
 * Errors as the CLI reports them: one line saying what went wrong and what to do about it, a
 * stable code for `--json`, and the stack only with `--debug`.
 *
 * {@link explain} turns whatever a command threw (the engine's typed errors, Qlik client errors,
 * AWS SDK errors) into a {@link CliError}, so each kind of failure is worded once, here.
 */
import { InvalidOriginError, InvalidPolicyError } from '../functions/core/errors.js';
import { CredentialsError } from '../functions/credentials/tenantSecret.js';
import { RejectedInputError, VerificationFailedError } from '../functions/engine/errors.js';
import { QlikApiError, QlikRequestAbortedError } from '../functions/qlik/errors.js';
import { LeaseLostError, RegistryError, TargetNotFoundError, TenantNotFoundError } from '../functions/registry/errors.js';

/** Stable codes of `{"error":{"code"}}` in `--json` output. */
export type CliErrorCode =
  | 'usage'
  | 'not-running'
  | 'not-found'
  | 'already-exists'
  | 'invalid-input'
  | 'removal-guard'
  | 'not-confirmed'
  | 'busy'
  | 'conflict'
  | 'credentials'
  | 'qlik'
  | 'aws'
  | 'interrupted'
  | 'internal';

export interface CliErrorOptions {
  code: CliErrorCode;
  /** What to do about it; printed after the message on the same line. */
  hint?: string;
  /** Further lines, e.g. one per invalid policy field. */
  details?: readonly string[];
  cause?: unknown;
}

/** A failure worded for the person at the terminal. */
export class CliError extends Error {
  public readonly code: CliErrorCode;
  public readonly hint: string | undefined;
  public readonly details: readonly string[];

  public constructor(message: string, options: CliErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = options.code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** The one line: what, then what to do. */
  public get line(): string {
    return this.hint === undefined ? this.message : `${this.message}: ${this.hint}`;
  }

  public toJSON(): { code: CliErrorCode; message: string; hint: string | null; details: readonly string[] } {
    return { code: this.code, message: this.message, hint: this.hint ?? null, details: this.details };
  }
}

/** Where the CLI is pointed, for wording connection failures. */
export interface ExplainContext {
  /** Said when nothing answers on the configured endpoints (local cloud stopped, VPN down). */
  unreachable?: { message: string; hint: string };
}

const DEBUG_HINT = 'run it again with --debug to see where it failed';

/** Words any error the CLI meets as a {@link CliError}. */
export function explain(error: unknown, context: ExplainContext = {}): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof InvalidPolicyError) {
    return new CliError('invalid policy', {
      code: 'invalid-input',
      details: error.issues.map((issue) => (issue.path === '' ? issue.message : `${policyField(issue.path)}: ${issue.message}`)),
      cause: error,
    });
  }
  if (error instanceof InvalidOriginError || error instanceof RejectedInputError) {
    return new CliError(error.message, { code: 'invalid-input', cause: error });
  }
  if (error instanceof TargetNotFoundError || error instanceof TenantNotFoundError) {
    // Their messages already say what to do ('add it with "origin-sync targets add"').
    return new CliError(error.message, { code: 'not-found', cause: error });
  }
  if (error instanceof LeaseLostError) {
    return new CliError(error.message, { code: 'busy', hint: 'another run took the target over; check with "origin-sync status"', cause: error });
  }
  if (error instanceof VerificationFailedError) {
    return new CliError(error.message, { code: 'conflict', hint: 'run "origin-sync plan" to see the state now, then apply again', cause: error });
  }
  if (error instanceof CredentialsError) {
    return new CliError(error.message, { code: 'credentials', hint: 'store the credentials again with "origin-sync tenants add"', cause: error });
  }
  if (error instanceof QlikApiError) return explainQlik(error);
  if (error instanceof QlikRequestAbortedError || (error instanceof Error && error.name === 'AbortError')) {
    return new CliError('interrupted', { code: 'interrupted', hint: 'what was written is in "origin-sync audit"; "origin-sync plan" shows what is left', cause: error });
  }
  if (isConnectionRefused(error) && context.unreachable) {
    return new CliError(context.unreachable.message, { code: 'not-running', hint: context.unreachable.hint, cause: error });
  }
  const aws = explainAws(error);
  if (aws) return aws;
  if (error instanceof RegistryError) return new CliError(error.message, { code: 'aws', cause: error });
  const message = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return new CliError(message || 'unexpected failure', { code: 'internal', hint: DEBUG_HINT, cause: error });
}

function policyField(path: string): string {
  const flags: Record<string, string> = {
    allowedOrigins: '--allowed-origin',
    staticOrigins: '--static-origin',
    maxRemovalsPerRun: '--max-removals',
    mode: '--mode',
    ownership: '--ownership',
    allowHttpLocalhost: '--allow-http-localhost',
  };
  const [field, index] = path.split('.');
  const flag = flags[field ?? ''];
  if (flag === undefined) return path;
  return index === undefined ? flag : `${flag} #${Number(index) + 1}`;
}

function explainQlik(error: QlikApiError): CliError {
  if (error.kind === 'network' || error.kind === 'timeout') {
    return new CliError(`Qlik did not answer (${error.method} ${error.path}: ${error.code})`, {
      code: 'qlik',
      hint: 'check the tenant URL with "origin-sync tenants list" and that the tenant is reachable',
      cause: error,
    });
  }
  if (error.status === 401 || error.status === 403) {
    return new CliError(`Qlik refused the tenant's credentials (${error.status} ${error.code})`, {
      code: 'credentials',
      hint: 'store working credentials with "origin-sync tenants add"',
      cause: error,
    });
  }
  if (error.status === 404 && /\/web-integrations\/[^/?]+/.test(error.path)) {
    return new CliError(`the web integration ${error.path.split('/').pop()} does not exist in Qlik`, {
      code: 'not-found',
      hint: 'check the id in the Qlik console (Management console > Web)',
      cause: error,
    });
  }
  return new CliError(error.message, { code: 'qlik', ...(error.retryable && { hint: 'try again in a moment' }), cause: error });
}

/** AWS SDK errors carry `$metadata`; credential and region problems come from the providers. */
function explainAws(error: unknown): CliError | undefined {
  if (!(error instanceof Error)) return undefined;
  const name = error.name;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message)) {
    return new CliError('no AWS credentials found', {
      code: 'aws',
      hint: 'pass --profile NAME (or set AWS_PROFILE), or run "aws sso login" for an SSO profile',
      cause: error,
    });
  }
  if (/region is missing/i.test(error.message)) {
    return new CliError('no AWS region given', { code: 'aws', hint: 'pass --region (or set AWS_REGION, or a region in the profile)', cause: error });
  }
  if (['ExpiredTokenException', 'ExpiredToken', 'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException'].includes(name)) {
    return new CliError(`AWS refused the credentials (${name})`, { code: 'aws', hint: 'refresh them (e.g. "aws sso login") or pass another --profile', cause: error });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new CliError(`AWS denied access: ${error.message}`, { code: 'aws', hint: 'use a profile allowed to operate the stack (see infra/DEPLOY.md)', cause: error });
  }
  if (name === 'ResourceNotFoundException' && /table/i.test(error.message)) {
    return new CliError(`the registry table does not exist (${error.message})`, { code: 'not-found', hint: 'check --stack, --table and --region', cause: error });
  }
  const network = networkCode(error);
  if (network !== undefined) {
    return new CliError(`cannot reach AWS (${network}: ${error.message})`, { code: 'aws', hint: 'check the network, --region and any AWS_ENDPOINT_URL_* variables', cause: error });
  }
  if ('$metadata' in error) {
    return new CliError(`AWS ${name}: ${error.message}`, { code: 'aws', hint: DEBUG_HINT, cause: error });
  }
  return undefined;
}

/** The first network error code (ECONNREFUSED, ENOTFOUND, ...) in the error or its causes. */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (error === undefined || error === null || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  const nested = (error as { errors?: unknown[] }).errors;
  if (Array.isArray(nested)) {
    for (const inner of nested) {
      const found = networkCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkCode((error as { cause?: unknown }).cause, depth + 1);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

function isConnectionRefused(error: unknown): boolean {
  return networkCode(error) === 'ECONNREFUSED';
}

/** The text printed for an error: the line, its details, and with `--debug` the stack and causes. */
export function formatError(error: CliError, debug: boolean): string {
  const lines = [`origin-sync: ${error.line}`, ...error.details.map((detail) => `  ${detail}`)];
  if (debug) {
    for (let current: unknown = error, depth = 0; current instanceof Error && depth < 6; depth += 1) {
      lines.push(depth === 0 ? '' : 'caused by:', current.stack ?? `${current.name}: ${current.message}`);
      current = current.cause;
    }
  }
  return `${lines.join('\n')}\n`;
}

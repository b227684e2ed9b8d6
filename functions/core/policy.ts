/**
 * The target policy (DESIGN §2): which origins a web integration may carry and
 * how far the synchronizer may go in changing it.
 *
 * The policy is the door: an origin outside `allowedOrigins` is rejected when
 * it arrives and is never written, whatever the registry says. Patterns are
 * origins in which the left-most label(s) may be `*`; `*` stands for one or
 * more whole DNS labels, so `https://*.example.com` covers
 * `https://a.example.com` and `https://a.b.example.com` but neither
 * `https://example.com` nor `https://evil-example.com`.
 */
import { z } from 'zod';

import { InvalidPolicyError } from './errors.js';
import { normalizeOrigin } from './origins.js';
import type { NormalizedOrigin, OriginOptions, OriginScheme } from './origins.js';

/** A compiled `allowedOrigins` entry. */
export interface OriginPattern {
  /** The pattern in normalised spelling, e.g. `https://*.example.com`. */
  readonly text: string;
  readonly scheme: OriginScheme;
  /** The exact host, or for a wildcard pattern the part after `*.`. */
  readonly host: string;
  /** The explicit port, or `undefined` for the scheme's default port (a pattern never matches another port). */
  readonly port: number | undefined;
  /** `true` when the pattern's left-most label(s) are `*`. */
  readonly wildcard: boolean;
}

export type OriginPatternResult =
  | { readonly ok: true; readonly pattern: OriginPattern }
  | { readonly ok: false; readonly input: unknown; readonly reason: string };

/** An origin that a target does not accept, and why. */
export interface OriginRejection {
  readonly input: unknown;
  readonly reason: string;
}

/** Labels a wildcard must leave fixed, so `*.com`-style patterns cannot cover a whole top-level domain. */
const MIN_LABELS_AFTER_WILDCARD = 2;

const WILDCARD_EXAMPLE = '"https://*.example.com"';

/**
 * Parses and normalises one `allowedOrigins` pattern.
 *
 * Apart from the wildcard a pattern obeys the origin contract (lower case,
 * punycode, default port dropped), so `https://*.Example.COM:443` is read as
 * `https://*.example.com`. Without a public-suffix list (the core has no data
 * files) a wildcard must leave at least two labels fixed: that refuses
 * `https://*.com` but cannot know that `https://*.co.uk` is just as wide.
 *
 * @example
 * parseOriginPattern('https://*.apps.example.com');
 * // { ok: true, pattern: { text: 'https://*.apps.example.com', host: 'apps.example.com', wildcard: true, ... } }
 */
export function parseOriginPattern(input: unknown, options: OriginOptions = {}): OriginPatternResult {
  if (typeof input !== 'string' || !input.includes('*')) {
    const exact = normalizeOrigin(input, options);
    return exact.ok
      ? { ok: true, pattern: { text: exact.origin, scheme: exact.scheme, host: exact.host, port: exact.port, wildcard: false } }
      : { ok: false, input, reason: exact.reason.replace(/^origin/, 'pattern') };
  }

  const text = input.trim();
  const wildcardCount = text.split('*').length - 1;
  if (wildcardCount > 1) {
    return { ok: false, input, reason: `pattern may contain only one "*" (it already stands for one or more labels), as in ${WILDCARD_EXAMPLE}` };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return { ok: false, input, reason: `pattern must start with "https://", as in ${WILDCARD_EXAMPLE}` };
  }
  const shape = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.*)$/is.exec(text);
  if (shape === null || shape[1] === undefined || shape[2] === undefined) {
    return { ok: false, input, reason: `"*" must be the whole left-most label of the host, as in ${WILDCARD_EXAMPLE}` };
  }
  const tooWide = {
    ok: false,
    input,
    reason: `"*" must be followed by at least ${MIN_LABELS_AFTER_WILDCARD} labels (${quote(text)} would cover a whole top-level domain), as in ${WILDCARD_EXAMPLE}`,
  } as const;
  const fixedHost = shape[2].split(/[/?#:]/, 1)[0] ?? '';
  if (fixedHost.split('.').length < MIN_LABELS_AFTER_WILDCARD) {
    return tooWide;
  }
  // The part after "*." is an ordinary origin; normalising it applies every
  // rule of the origin contract to what the wildcard leaves fixed.
  const fixed = normalizeOrigin(`${shape[1]}${shape[2]}`, options);
  if (!fixed.ok) {
    return { ok: false, input, reason: fixed.reason.replace(/^origin/, 'pattern') };
  }
  // Count again on the normalised host, which is the one matched against.
  if (fixed.host.split('.').length < MIN_LABELS_AFTER_WILDCARD) {
    return tooWide;
  }
  const port = fixed.port === undefined ? '' : `:${fixed.port}`;
  return {
    ok: true,
    pattern: { text: `${fixed.scheme}://*.${fixed.host}${port}`, scheme: fixed.scheme, host: fixed.host, port: fixed.port, wildcard: true },
  };
}

/** Whether a normalised origin falls under a compiled pattern. Scheme and port must match exactly. */
export function matchesOriginPattern(origin: NormalizedOrigin, pattern: OriginPattern): boolean {
  if (origin.scheme !== pattern.scheme || origin.port !== pattern.port) {
    return false;
  }
  // "." + host: the wildcard needs at least one whole label of its own, which
  // rules out both the bare suffix and look-alikes such as "evil-example.com".
  return pattern.wildcard ? origin.host.endsWith(`.${pattern.host}`) : origin.host === pattern.host;
}

const originPatternSchema = z.string({ error: 'a pattern must be a string' }).transform((value, context) => {
  // Localhost is checked against the policy's own flag once the whole object is known.
  const result = parseOriginPattern(value, { allowHttpLocalhost: true });
  if (!result.ok) {
    context.addIssue({ code: 'custom', message: result.reason });
    return z.NEVER;
  }
  return result.pattern.text;
});

const staticOriginSchema = z.string({ error: 'a static origin must be a string' }).transform((value, context) => {
  const result = normalizeOrigin(value, { allowHttpLocalhost: true });
  if (!result.ok) {
    context.addIssue({ code: 'custom', message: result.reason });
    return z.NEVER;
  }
  return result.origin;
});

/**
 * Schema of a target's policy. Parsing normalises patterns and static origins
 * and removes duplicates, so two spellings of one policy parse to one value.
 * Unknown keys are refused: a misspelt safety setting (`maxRemovalPerRun`)
 * must not silently fall back to its default.
 */
export const policySchema = z
  .strictObject({
    /** Patterns of the origins this target may carry. Empty (the default) allows nothing. */
    allowedOrigins: z.array(originPatternSchema).default([]),
    /** Accept `http://localhost[:port]` (and `https://localhost`) for local development. */
    allowHttpLocalhost: z.boolean().default(false),
    /** `sync` removes origins that are no longer desired; `upsert-only` never removes. */
    mode: z.enum(['sync', 'upsert-only']).default('sync'),
    /** `managed`: only origins this system wrote are ever removed; `exclusive`: the registry is the only truth. */
    ownership: z.enum(['managed', 'exclusive']).default('managed'),
    /** More removals than this in one run are held back until an operator confirms (mass-delete guard). */
    maxRemovalsPerRun: z
      .number({ error: 'maxRemovalsPerRun must be a number' })
      .int({ error: 'maxRemovalsPerRun must be a whole number' })
      .min(0, { error: 'maxRemovalsPerRun must be 0 or more' })
      .default(10),
    /** Origins the target always wants, whatever the registrations say. */
    staticOrigins: z.array(staticOriginSchema).default([]),
  })
  .superRefine((policy, context) => {
    const options = { allowHttpLocalhost: policy.allowHttpLocalhost };
    for (const [index, pattern] of policy.allowedOrigins.entries()) {
      const result = parseOriginPattern(pattern, options);
      if (!result.ok) {
        context.addIssue({ code: 'custom', path: ['allowedOrigins', index], message: result.reason });
      }
    }
    for (const [index, origin] of policy.staticOrigins.entries()) {
      const result = normalizeOrigin(origin, options);
      if (!result.ok) {
        context.addIssue({ code: 'custom', path: ['staticOrigins', index], message: result.reason });
      } else if (!isOriginAllowed(result.origin, policy)) {
        context.addIssue({ code: 'custom', path: ['staticOrigins', index], message: outsidePolicyReason(result.origin, policy) });
      }
    }
  })
  .transform((policy) => ({
    ...policy,
    allowedOrigins: [...new Set(policy.allowedOrigins)],
    staticOrigins: [...new Set(policy.staticOrigins)].sort(),
  }));

/** A validated, normalised target policy. */
export type Policy = z.output<typeof policySchema>;

/** What a person may write as a policy (every field optional, un-normalised spellings allowed). */
export type PolicyInput = z.input<typeof policySchema>;

/**
 * Validates a policy and fills in defaults.
 *
 * @throws {InvalidPolicyError} with every issue found, each located by path.
 */
export function parsePolicy(input: unknown): Policy {
  const result = policySchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    throw new InvalidPolicyError(issues, { cause: result.error });
  }
  return result.data;
}

/**
 * The policy of a target nobody has configured yet: it allows no origin, so a
 * new target cannot be opened by accident (DESIGN §2 "nothing allowed until
 * configured"). Frozen because it is shared.
 */
export const DEFAULT_POLICY: Readonly<Policy> = deepFreeze(parsePolicy({}));

/**
 * Whether an origin may be written to a target with this policy. The origin is
 * normalised first, so any spelling of an allowed origin is allowed and
 * anything that is not an origin is not.
 */
export function isOriginAllowed(origin: string, policy: Pick<Policy, 'allowedOrigins' | 'allowHttpLocalhost'>): boolean {
  const normalized = normalizeOrigin(origin, { allowHttpLocalhost: policy.allowHttpLocalhost });
  if (!normalized.ok) {
    return false;
  }
  return compilePatterns(policy).some((pattern) => matchesOriginPattern(normalized, pattern));
}

/** The reason given for an origin that is valid but outside the policy; it names the allowed patterns. */
export function outsidePolicyReason(origin: string, policy: Pick<Policy, 'allowedOrigins'>): string {
  if (policy.allowedOrigins.length === 0) {
    return `origin ${quote(origin)} is not allowed: this target allows no origins yet (allowedOrigins is empty)`;
  }
  return `origin ${quote(origin)} is outside the allowed origins of this target (${policy.allowedOrigins.join(', ')})`;
}

/** The outcome of checking the origins of one request against a target's policy. */
export interface OriginCheck {
  /** Normalised, without duplicates, sorted: ready to store as a registration. */
  readonly accepted: string[];
  /** Every input that was refused, in input order, with its reason. */
  readonly rejected: OriginRejection[];
}

/**
 * Checks raw origins (from a deployment event, the CLI, ...) for a target:
 * each must satisfy the origin contract and fall under the policy. One bad
 * origin does not hide the good ones (external-dns #104): the caller decides
 * whether a partial result is acceptable.
 *
 * @example
 * checkOrigins(['https://Shop.example.com', 'https://evil.com'], parsePolicy({ allowedOrigins: ['https://*.example.com'] }));
 * // { accepted: ['https://shop.example.com'],
 * //   rejected: [{ input: 'https://evil.com', reason: 'origin "https://evil.com" is outside the allowed origins of this target (https://*.example.com)' }] }
 */
export function checkOrigins(raw: readonly unknown[], policy: Pick<Policy, 'allowedOrigins' | 'allowHttpLocalhost'>): OriginCheck {
  const patterns = compilePatterns(policy);
  const accepted = new Set<string>();
  const rejected: OriginRejection[] = [];
  for (const input of raw) {
    const normalized = normalizeOrigin(input, { allowHttpLocalhost: policy.allowHttpLocalhost });
    if (!normalized.ok) {
      rejected.push({ input, reason: normalized.reason });
    } else if (!patterns.some((pattern) => matchesOriginPattern(normalized, pattern))) {
      rejected.push({ input, reason: outsidePolicyReason(normalized.origin, policy) });
    } else {
      accepted.add(normalized.origin);
    }
  }
  return { accepted: [...accepted].sort(), rejected };
}

/**
 * Compiles the policy's patterns. A pattern that does not parse matches
 * nothing: a policy built by hand rather than by {@link parsePolicy} can only
 * ever allow less, never more.
 */
function compilePatterns(policy: Pick<Policy, 'allowedOrigins' | 'allowHttpLocalhost'>): OriginPattern[] {
  const patterns: OriginPattern[] = [];
  for (const text of policy.allowedOrigins) {
    const result = parseOriginPattern(text, { allowHttpLocalhost: policy.allowHttpLocalhost });
    if (result.ok) {
      patterns.push(result.pattern);
    }
  }
  return patterns;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function deepFreeze<T extends object>(value: T): T {
  for (const property of Object.values(value)) {
    if (typeof property === 'object' && property !== null) {
      deepFreeze(property);
    }
  }
  return Object.freeze(value);
}

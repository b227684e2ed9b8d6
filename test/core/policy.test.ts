import { describe, expect, it } from 'vitest';

import { InvalidPolicyError } from '../../functions/core/errors.js';
import { normalizeOrigin } from '../../functions/core/origins.js';
import {
  DEFAULT_POLICY,
  checkOrigins,
  isOriginAllowed,
  matchesOriginPattern,
  parseOriginPattern,
  parsePolicy,
  policySchema,
} from '../../functions/core/policy.js';

/** Collects the issues of a policy that is expected to be invalid. */
function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parsePolicy(input);
  } catch (error) {
    if (error instanceof InvalidPolicyError) {
      return [...error.issues];
    }
    throw error;
  }
  throw new Error('expected the policy to be invalid');
}

describe('Function: parseOriginPattern()', () => {
  it.each([
    ['https://*.example.com', 'https://*.example.com', true],
    ['https://*.Example.COM:443/', 'https://*.example.com', true],
    ['https://*.apps.example.com:8443', 'https://*.apps.example.com:8443', true],
    ['https://*.bücher.example', 'https://*.xn--bcher-kva.example', true],
    ['https://Shop.Example.com', 'https://shop.example.com', false],
    ['https://shop.example.com:8443/', 'https://shop.example.com:8443', false],
  ])('reads %j as %j', (input, text, wildcard) => {
    // Act
    const result = parseOriginPattern(input);

    // Assess
    expect(result).toMatchObject({ ok: true, pattern: { text, wildcard } });
  });

  it('keeps host and port apart for matching', () => {
    // Act
    const result = parseOriginPattern('https://*.apps.example.com:8443');

    // Assess
    expect(result).toEqual({
      ok: true,
      pattern: { text: 'https://*.apps.example.com:8443', scheme: 'https', host: 'apps.example.com', port: 8443, wildcard: true },
    });
  });

  it.each([
    ['https://*.com', '"*" must be followed by at least 2 labels ("https://*.com" would cover a whole top-level domain), as in "https://*.example.com"'],
    ['https://*.localhost', /must be followed by at least 2 labels/],
    ['https://*', '"*" must be the whole left-most label of the host, as in "https://*.example.com"'],
    ['https://*.', /must be followed by at least 2 labels/],
    ['https://a.*.example.com', /"\*" must be the whole left-most label/],
    ['https://*shop.example.com', /"\*" must be the whole left-most label/],
    ['https://shop*.example.com', /"\*" must be the whole left-most label/],
    ['https://*.*.example.com', 'pattern may contain only one "*" (it already stands for one or more labels), as in "https://*.example.com"'],
    ['*.example.com', 'pattern must start with "https://", as in "https://*.example.com"'],
    ['ftp://*.example.com', 'scheme "ftp" is not allowed: use https'],
    ['https://*.example.com/shop', 'pattern must not contain a path ("/shop")'],
    ['https://*.example.com:0', 'port 0 is not allowed'],
    ['https://*.аpple.com', /mixes Latin and Cyrillic letters/],
    ['https://shop.example.com/shop', 'pattern must not contain a path ("/shop")'],
    ['http://*.example.com', /scheme "http" is not allowed/],
    [42, 'pattern must be a string, got a number'],
  ])('rejects %j', (input, reason) => {
    // Act
    const result = parseOriginPattern(input);

    // Assess
    expect(result).toEqual({ ok: false, input, reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) });
  });
});

describe('Function: matchesOriginPattern()', () => {
  it.each([
    ['https://*.example.com', 'https://a.example.com', true],
    ['https://*.example.com', 'https://a.b.example.com', true],
    ['https://*.example.com', 'https://A.Example.com:443/', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'https://evil-example.com', false],
    ['https://*.example.com', 'https://a.example.com.evil.com', false],
    ['https://*.example.com', 'https://a.example.org', false],
    ['https://*.example.com', 'https://a.example.com:8443', false],
    ['https://*.example.com:8443', 'https://a.example.com:8443', true],
    ['https://*.example.com:8443', 'https://a.example.com', false],
    ['https://shop.example.com', 'https://SHOP.example.com/', true],
    ['https://shop.example.com', 'https://a.shop.example.com', false],
    ['https://shop.example.com', 'https://shop.example.com:8443', false],
    ['http://localhost:3000', 'http://localhost:3000', true],
    ['http://localhost:3000', 'https://localhost:3000', false],
    ['http://localhost:3000', 'http://localhost:3001', false],
  ])('pattern %j against %j -> %j', (patternText, originText, expected) => {
    // Prepare
    const pattern = parseOriginPattern(patternText, { allowHttpLocalhost: true });
    const origin = normalizeOrigin(originText, { allowHttpLocalhost: true });
    if (!pattern.ok || !origin.ok) throw new Error('test data must be valid');

    // Act
    const matches = matchesOriginPattern(origin, pattern.pattern);

    // Assess
    expect(matches).toBe(expected);
  });
});

describe('Function: parsePolicy()', () => {
  it('fills in safe defaults', () => {
    // Act
    const policy = parsePolicy({});

    // Assess
    expect(policy).toEqual({
      allowedOrigins: [],
      allowHttpLocalhost: false,
      mode: 'sync',
      ownership: 'managed',
      maxRemovalsPerRun: 10,
      staticOrigins: [],
    });
  });

  it('normalises patterns and static origins and removes duplicates', () => {
    // Act
    const policy = parsePolicy({
      allowedOrigins: ['https://*.Example.com', 'https://*.example.com:443/', 'https://shop.example.org'],
      staticOrigins: ['https://Z.example.com', 'https://a.example.com/', 'https://A.example.com'],
    });

    // Assess
    expect(policy.allowedOrigins).toEqual(['https://*.example.com', 'https://shop.example.org']);
    expect(policy.staticOrigins).toEqual(['https://a.example.com', 'https://z.example.com']);
  });

  it('reports every issue with its path', () => {
    // Act
    const issues = issuesOf({
      allowedOrigins: ['https://*.example.com', 'https://*.com', 'ftp://shop.example.com'],
      mode: 'mirror',
      maxRemovalsPerRun: -1,
    });

    // Assess
    expect(issues).toEqual([
      { path: 'allowedOrigins.1', message: expect.stringContaining('"*" must be followed by at least 2 labels') },
      { path: 'allowedOrigins.2', message: 'scheme "ftp" is not allowed: use https' },
      { path: 'mode', message: expect.stringContaining('sync') },
      { path: 'maxRemovalsPerRun', message: 'maxRemovalsPerRun must be 0 or more' },
    ]);
  });

  it('refuses a fractional removal limit', () => {
    // Act
    const issues = issuesOf({ maxRemovalsPerRun: 2.5 });

    // Assess
    expect(issues).toEqual([{ path: 'maxRemovalsPerRun', message: 'maxRemovalsPerRun must be a whole number' }]);
  });

  it('refuses unknown keys, so a misspelt safety setting is not silently ignored', () => {
    // Act
    const issues = issuesOf({ maxRemovalPerRun: 0 });

    // Assess
    expect(issues).toEqual([{ path: '', message: expect.stringContaining('maxRemovalPerRun') }]);
  });

  it('refuses something that is not an object', () => {
    // Act
    const act = (): unknown => parsePolicy('allow everything');

    // Assess
    expect(act).toThrow(InvalidPolicyError);
  });

  it('accepts a localhost pattern only with allowHttpLocalhost', () => {
    // Prepare
    const input = { allowedOrigins: ['http://localhost:3000'] };

    // Act
    const issues = issuesOf(input);
    const policy = parsePolicy({ ...input, allowHttpLocalhost: true });

    // Assess
    expect(issues).toEqual([{ path: 'allowedOrigins.0', message: expect.stringContaining('scheme "http" is not allowed') }]);
    expect(policy.allowedOrigins).toEqual(['http://localhost:3000']);
  });

  it('refuses a static origin the policy does not allow, naming the patterns', () => {
    // Act
    const issues = issuesOf({ allowedOrigins: ['https://*.example.com'], staticOrigins: ['https://portal.example.org'] });

    // Assess
    expect(issues).toEqual([
      {
        path: 'staticOrigins.0',
        message: 'origin "https://portal.example.org" is outside the allowed origins of this target (https://*.example.com)',
      },
    ]);
  });

  it('refuses a static origin that is not an origin', () => {
    // Act
    const issues = issuesOf({ allowedOrigins: ['https://*.example.com'], staticOrigins: ['https://a.example.com/path'] });

    // Assess
    expect(issues).toEqual([{ path: 'staticOrigins.0', message: 'origin must not contain a path ("/path")' }]);
  });

  it('throws an InvalidPolicyError whose message lists the issues', () => {
    // Act
    const act = (): unknown => parsePolicy({ ownership: 'shared' });

    // Assess
    expect(act).toThrow(/^invalid policy: ownership: /);
  });

  it('is the same schema the exported policySchema applies', () => {
    // Act
    const result = policySchema.safeParse({ allowedOrigins: ['https://*.com'] });

    // Assess
    expect(result.success).toBe(false);
  });
});

describe('Constant: DEFAULT_POLICY', () => {
  it('allows nothing until configured', () => {
    // Act
    const allowed = isOriginAllowed('https://shop.example.com', DEFAULT_POLICY);

    // Assess
    expect(allowed).toBe(false);
    expect(DEFAULT_POLICY).toMatchObject({ allowedOrigins: [], mode: 'sync', ownership: 'managed', maxRemovalsPerRun: 10 });
  });

  it('cannot be changed by whoever shares it', () => {
    // Act
    const act = (): void => {
      (DEFAULT_POLICY.allowedOrigins as string[]).push('https://*.example.com');
    };

    // Assess
    expect(act).toThrow(TypeError);
    expect(DEFAULT_POLICY.allowedOrigins).toEqual([]);
  });
});

describe('Function: isOriginAllowed()', () => {
  const policy = parsePolicy({ allowedOrigins: ['https://*.example.com', 'https://shop.example.org'] });

  it.each([
    ['https://a.example.com', true],
    ['HTTPS://A.EXAMPLE.COM:443/', true],
    ['https://shop.example.org', true],
    ['https://example.com', false],
    ['https://evil-example.com', false],
    ['https://a.shop.example.org', false],
    ['https://a.example.com/path', false],
    ['not an origin', false],
  ])('%j -> %j', (origin, expected) => {
    // Act
    const allowed = isOriginAllowed(origin, policy);

    // Assess
    expect(allowed).toBe(expected);
  });

  it('lets a hand-built policy with a bad pattern allow less, never more', () => {
    // Prepare
    const handBuilt = { allowedOrigins: ['https://*', 'https://*.example.com'], allowHttpLocalhost: false };

    // Act
    const results = ['https://a.example.com', 'https://anything.org'].map((origin) => isOriginAllowed(origin, handBuilt));

    // Assess
    expect(results).toEqual([true, false]);
  });

  it('refuses localhost when the policy does not allow it, even with a matching pattern', () => {
    // Prepare
    const handBuilt = { allowedOrigins: ['http://localhost:3000'], allowHttpLocalhost: false };

    // Act
    const allowed = isOriginAllowed('http://localhost:3000', handBuilt);

    // Assess
    expect(allowed).toBe(false);
  });
});

describe('Function: checkOrigins()', () => {
  const policy = parsePolicy({ allowedOrigins: ['https://*.example.com', 'https://shop.example.org'] });

  it('returns accepted origins normalised, without duplicates, sorted', () => {
    // Act
    const check = checkOrigins(['https://b.example.com', 'https://A.example.com/', 'https://a.example.com:443', 'https://shop.example.org'], policy);

    // Assess
    expect(check).toEqual({ accepted: ['https://a.example.com', 'https://b.example.com', 'https://shop.example.org'], rejected: [] });
  });

  it('rejects bad and disallowed origins each with its reason, keeping the good ones', () => {
    // Act
    const check = checkOrigins(['https://a.example.com', 'https://evil.com', 'ftp://b.example.com', 7], policy);

    // Assess
    expect(check).toEqual({
      accepted: ['https://a.example.com'],
      rejected: [
        {
          input: 'https://evil.com',
          reason: 'origin "https://evil.com" is outside the allowed origins of this target (https://*.example.com, https://shop.example.org)',
        },
        { input: 'ftp://b.example.com', reason: 'scheme "ftp" is not allowed: use https' },
        { input: 7, reason: 'origin must be a string, got a number' },
      ],
    });
  });

  it('says so when the target allows nothing yet', () => {
    // Act
    const check = checkOrigins(['https://a.example.com'], DEFAULT_POLICY);

    // Assess
    expect(check.rejected).toEqual([
      {
        input: 'https://a.example.com',
        reason: 'origin "https://a.example.com" is not allowed: this target allows no origins yet (allowedOrigins is empty)',
      },
    ]);
  });

  it('accepts http://localhost only when the policy allows it', () => {
    // Prepare
    const local = parsePolicy({ allowedOrigins: ['http://localhost:3000'], allowHttpLocalhost: true });

    // Act
    const withFlag = checkOrigins(['http://localhost:3000/'], local);
    const withoutFlag = checkOrigins(['http://localhost:3000/'], policy);

    // Assess
    expect(withFlag.accepted).toEqual(['http://localhost:3000']);
    expect(withoutFlag.rejected).toEqual([{ input: 'http://localhost:3000/', reason: expect.stringContaining('scheme "http" is not allowed') }]);
  });
});

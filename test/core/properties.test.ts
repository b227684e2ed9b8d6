/**
 * Properties of the core that must hold for every input, checked with
 * fast-check. Generators draw labels from small alphabets so that the same
 * origin turns up in desired, actual and managed in different spellings, which
 * is where planners go wrong (external-dns #4181: updates that never converge).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { normalizeOrigin, normalizeOriginOrThrow } from '../../functions/core/origins.js';
import { plan } from '../../functions/core/plan.js';
import { isOriginAllowed, parsePolicy } from '../../functions/core/policy.js';
import type { PlanOptions } from '../../functions/core/plan.js';
import type { Policy } from '../../functions/core/policy.js';

const RUNS = { numRuns: 300 } as const;

const labelArbitrary = fc.constantFrom('a', 'b', 'shop', 'app', 'xn--bcher-kva');
const domainArbitrary = fc.constantFrom('example.com', 'example.org', 'other.net');
const caseArbitrary = fc.constantFrom<(text: string) => string>(
  (text) => text,
  (text) => text.toUpperCase(),
  (text) => text.replace(/(^|\.)([a-z])/g, (_, dot: string, letter: string) => dot + letter.toUpperCase()),
);

/** A valid origin as people write it: mixed case, an explicit default port, a trailing slash. */
const spelledOriginArbitrary = fc
  .record({
    labels: fc.array(labelArbitrary, { minLength: 0, maxLength: 2 }),
    domain: domainArbitrary,
    port: fc.constantFrom('', '', ':443', ':8443'),
    slash: fc.boolean(),
    spell: caseArbitrary,
  })
  .map(({ labels, domain, port, slash, spell }) => spell(`https://${[...labels, domain].join('.')}${port}${slash ? '/' : ''}`));

/** Text a person might have typed into the allow-list that is not an origin. */
const junkArbitrary = fc.constantFrom(
  'not an origin',
  '',
  'shop.example.com',
  'ftp://a.example.com',
  'https://*.example.com',
  'https://a.example.com/path',
  'http://a.example.com',
  'http://localhost:3000',
);

const actualEntryArbitrary = fc.oneof({ weight: 6, arbitrary: spelledOriginArbitrary }, { weight: 1, arbitrary: junkArbitrary });

const normalizedOriginArbitrary = spelledOriginArbitrary.map((origin) => normalizeOriginOrThrow(origin));

const policyArbitrary: fc.Arbitrary<Policy> = fc
  .record({
    allowedOrigins: fc.subarray(['https://*.example.com', 'https://shop.example.org', 'https://a.example.org:8443', 'https://*.other.net']),
    mode: fc.constantFrom('sync', 'upsert-only'),
    ownership: fc.constantFrom('managed', 'exclusive'),
    maxRemovalsPerRun: fc.integer({ min: 0, max: 4 }),
  })
  .map((input) => parsePolicy(input));

const optionsArbitrary: fc.Arbitrary<PlanOptions> = fc.record(
  { allowRemovals: fc.integer({ min: 0, max: 6 }) },
  { requiredKeys: [] },
);

/** One reconcile's inputs. `desired` is checked on the way in (normalised, though not necessarily allowed). */
const scenarioArbitrary = fc.record({
  desired: fc.array(normalizedOriginArbitrary, { maxLength: 6 }),
  actual: fc.array(actualEntryArbitrary, { maxLength: 8 }),
  managed: fc.array(normalizedOriginArbitrary, { maxLength: 6 }),
  policy: policyArbitrary,
  options: optionsArbitrary,
});

/** The normalised origin of an entry, or `undefined` for junk; the same recognition the planner uses. */
function recognise(entry: string): string | undefined {
  const result = normalizeOrigin(entry, { allowHttpLocalhost: true });
  return result.ok ? result.origin : undefined;
}

describe('Property: normalizeOrigin()', () => {
  const inputArbitrary = fc.oneof(
    spelledOriginArbitrary,
    junkArbitrary,
    fc.webUrl(),
    fc.domain().map((domain) => `https://${domain}`),
    fc.string({ unit: 'binary', maxLength: 40 }).map((text) => `https://${text}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
    // Characters that IDN mapping folds, case-maps or rejects, so the punycode path is exercised.
    fc
      .string({ unit: fc.constantFrom(...'aAbßüÜçσςΣаеоİıＡ．。-09.:ﬀǅ①'), minLength: 1, maxLength: 16 })
      .map((host) => `https://${host}.example.com`),
  );

  it('is idempotent', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.boolean(), (input, allowHttpLocalhost) => {
        // Act
        const first = normalizeOrigin(input, { allowHttpLocalhost });
        fc.pre(first.ok);
        const second = normalizeOrigin(first.origin, { allowHttpLocalhost });

        // Assess
        expect(second).toEqual(first);
      }),
      { numRuns: 1000 },
    );
  });

  it('answers with a result, never an exception, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(inputArbitrary, fc.anything()), (input) => {
        // Act
        const result = normalizeOrigin(input);

        // Assess
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) {
          expect(result.reason).not.toBe('');
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('only ever returns scheme://host[:port] in lower-case ASCII', () => {
    fc.assert(
      fc.property(inputArbitrary, fc.boolean(), (input, allowHttpLocalhost) => {
        // Act
        const result = normalizeOrigin(input, { allowHttpLocalhost });

        // Assess
        if (result.ok) {
          expect(result.origin).toMatch(/^https?:\/\/[a-z0-9-]+(\.[a-z0-9-]+)*(:[1-9]\d{0,4})?$/);
          expect(result.origin).not.toMatch(/^https:\/\/[^/]+:443$|^http:\/\/[^/]+:80$/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('treats every spelling of an origin as that origin', () => {
    fc.assert(
      fc.property(spelledOriginArbitrary, (spelled) => {
        // Prepare
        const canonical = spelled.toLowerCase().replace(/:443(\/?)$/, '$1').replace(/\/$/, '');

        // Act
        const result = normalizeOrigin(spelled);

        // Assess
        expect(result).toMatchObject({ ok: true, origin: canonical });
      }),
      RUNS,
    );
  });
});

describe('Property: wildcard patterns', () => {
  const policy = parsePolicy({ allowedOrigins: ['https://*.example.com'] });

  it('cover one or more labels in front of the suffix, and nothing else', () => {
    fc.assert(
      fc.property(fc.array(labelArbitrary, { minLength: 1, maxLength: 3 }), (labels) => {
        // Prepare
        const prefix = labels.join('.');

        // Act
        const underneath = isOriginAllowed(`https://${prefix}.example.com`, policy);
        const glued = isOriginAllowed(`https://${prefix}example.com`, policy);
        const hyphenated = isOriginAllowed(`https://${prefix}-example.com`, policy);
        const appended = isOriginAllowed(`https://${prefix}.example.com.evil.net`, policy);

        // Assess
        expect([underneath, glued, hyphenated, appended]).toEqual([true, false, false, false]);
      }),
      RUNS,
    );
  });
});

describe('Property: plan()', () => {
  it('plans nothing when run again on its own result, also when the guard held removals back', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Prepare
        const first = plan(desired, actual, managed, policy, options);

        // Act
        const second = plan(desired, first.nextValidOrigins, first.nextManaged, policy, options);

        // Assess
        expect(second).toMatchObject({
          add: [],
          remove: [],
          deduplicated: [],
          hasChanges: false,
          nextValidOrigins: first.nextValidOrigins,
          nextManaged: first.nextManaged,
        });
      }),
      RUNS,
    );
  });

  it('removes nothing at all when the guard trips, and holds back one entry per removal it refused', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        const guarded = result.heldBack.filter((held) => held.reason === 'removal-guard');
        if (result.guardTripped) {
          expect(result.remove).toEqual([]);
          expect(guarded.length).toBeGreaterThan(result.removalLimit);
        } else {
          expect(guarded).toEqual([]);
        }
      }),
      RUNS,
    );
  });

  it('never removes an origin it does not manage when ownership is "managed"', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Prepare
        fc.pre(policy.ownership === 'managed');
        const owned = new Set(managed);

        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        for (const removed of result.remove) {
          const origin = recognise(removed);
          expect(origin).toBeDefined();
          expect(owned.has(origin ?? '')).toBe(true);
        }
        const survivingJunk = result.nextValidOrigins.filter((entry) => recognise(entry) === undefined);
        expect(survivingJunk).toEqual(actual.filter((entry) => recognise(entry) === undefined));
      }),
      RUNS,
    );
  });

  it('never adds anything outside the policy', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        const before = new Set(actual);
        const newEntries = result.nextValidOrigins.filter((entry) => !before.has(entry));
        expect(newEntries).toEqual(result.add);
        for (const added of result.add) {
          expect(isOriginAllowed(added, policy)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('never removes more than the guard allows', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Prepare
        const limit = Math.max(policy.maxRemovalsPerRun, options.allowRemovals ?? 0);

        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        expect(result.remove.length).toBeLessThanOrEqual(limit);
        expect(result.guardTripped).toBe(result.heldBack.some((held) => held.reason === 'removal-guard'));
      }),
      RUNS,
    );
  });

  it('never removes an origin in mode "upsert-only"', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Prepare
        fc.pre(policy.mode === 'upsert-only');

        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        expect(result.remove).toEqual([]);
        const before = new Set(actual.map((entry) => recognise(entry) ?? entry));
        const after = new Set(result.nextValidOrigins.map((entry) => recognise(entry) ?? entry));
        expect([...before].filter((origin) => !after.has(origin))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('ends with every allowed desired origin on the integration', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        const after = new Set(result.nextValidOrigins.map((entry) => recognise(entry)));
        for (const origin of desired.filter((candidate) => isOriginAllowed(candidate, policy))) {
          expect(after.has(origin)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('accounts for every entry of the integration exactly once and leaves no duplicates', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        const heldEntries = result.heldBack.filter((held) => held.reason !== 'outside-policy');
        expect(result.keep.length + result.remove.length + result.deduplicated.length + heldEntries.length).toBe(actual.length);
        const recognised = result.nextValidOrigins.map(recognise).filter((origin) => origin !== undefined);
        expect(new Set(recognised).size).toBe(recognised.length);
        expect(result.hasChanges).toBe(JSON.stringify(result.nextValidOrigins) !== JSON.stringify(actual));
      }),
      RUNS,
    );
  });

  it('never gives up ownership of an origin that stays on the integration', () => {
    fc.assert(
      fc.property(scenarioArbitrary, ({ desired, actual, managed, policy, options }) => {
        // Act
        const result = plan(desired, actual, managed, policy, options);

        // Assess
        const after = new Set(result.nextValidOrigins.map(recognise));
        const nextManaged = new Set(result.nextManaged);
        for (const origin of managed.filter((candidate) => after.has(candidate))) {
          expect(nextManaged.has(origin)).toBe(true);
        }
        for (const origin of result.nextManaged) {
          expect(after.has(origin)).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

import { describe, expect, it } from 'vitest';

import { plan } from '../../functions/core/plan.js';
import { parsePolicy } from '../../functions/core/policy.js';
import type { Plan } from '../../functions/core/plan.js';
import type { Policy, PolicyInput } from '../../functions/core/policy.js';

/** A policy for the tests: subdomains of example.com and one exact origin, overridable. */
function policyWith(overrides: PolicyInput = {}): Policy {
  return parsePolicy({ allowedOrigins: ['https://*.example.com', 'https://shop.example.org'], ...overrides });
}

/** Plans again on the result of a plan, as the next reconcile would. */
function replan(desired: readonly string[], first: Plan, policy: Policy): Plan {
  return plan(desired, first.nextValidOrigins, first.nextManaged, policy);
}

describe('Function: plan()', () => {
  describe('when the integration already matches', () => {
    it('plans nothing', () => {
      // Prepare
      const desired = ['https://a.example.com', 'https://b.example.com'];

      // Act
      const result = plan(desired, ['https://b.example.com', 'https://a.example.com'], desired, policyWith());

      // Assess
      expect(result).toEqual({
        add: [],
        remove: [],
        keep: ['https://b.example.com', 'https://a.example.com'],
        deduplicated: [],
        heldBack: [],
        nextValidOrigins: ['https://b.example.com', 'https://a.example.com'],
        nextManaged: ['https://a.example.com', 'https://b.example.com'],
        hasChanges: false,
        guardTripped: false,
        removalLimit: 10,
      });
    });

    it('keeps an entry spelt differently as it is, so casing alone never causes a write', () => {
      // Act
      const result = plan(['https://shop.example.com'], ['HTTPS://Shop.Example.com:443/'], [], policyWith());

      // Assess
      expect(result).toMatchObject({ keep: ['HTTPS://Shop.Example.com:443/'], add: [], hasChanges: false });
    });
  });

  describe('additions', () => {
    it('appends missing desired origins, sorted, after the existing entries in their order', () => {
      // Act
      const result = plan(
        ['https://z.example.com', 'https://m.example.com', 'https://a.example.com'],
        ['https://m.example.com', 'https://person.example.net'],
        [],
        policyWith(),
      );

      // Assess
      expect(result.add).toEqual(['https://a.example.com', 'https://z.example.com']);
      expect(result.nextValidOrigins).toEqual([
        'https://m.example.com',
        'https://person.example.net',
        'https://a.example.com',
        'https://z.example.com',
      ]);
      expect(result.hasChanges).toBe(true);
    });

    it('normalises desired origins before comparing and adding', () => {
      // Act
      const result = plan(['https://New.Example.com:443/', 'https://new.example.com'], [], [], policyWith());

      // Assess
      expect(result.add).toEqual(['https://new.example.com']);
    });

    it('never adds an origin outside the policy, and reports it', () => {
      // Act
      const result = plan(['https://a.example.com', 'https://evil.com', 'https://evil.com'], [], [], policyWith());

      // Assess
      expect(result.add).toEqual(['https://a.example.com']);
      expect(result.heldBack).toEqual([
        {
          origin: 'https://evil.com',
          reason: 'outside-policy',
          detail: 'origin "https://evil.com" is outside the allowed origins of this target (https://*.example.com, https://shop.example.org)',
        },
      ]);
    });

    it('never adds a desired entry that is not an origin, and says why', () => {
      // Act
      const result = plan(['https://a.example.com/path', 'http://localhost:3000'], [], [], policyWith());

      // Assess
      expect(result.add).toEqual([]);
      expect(result.heldBack).toEqual([
        { origin: 'https://a.example.com/path', reason: 'outside-policy', detail: 'origin must not contain a path ("/path")' },
        { origin: 'http://localhost:3000', reason: 'outside-policy', detail: expect.stringContaining('scheme "http" is not allowed') },
      ]);
    });

    it('adds the static origins of the policy even when no app registered any', () => {
      // Prepare
      const policy = policyWith({ staticOrigins: ['https://portal.example.com'] });

      // Act
      const result = plan([], [], [], policy);

      // Assess
      expect(result.add).toEqual(['https://portal.example.com']);
      expect(result.nextManaged).toEqual(['https://portal.example.com']);
    });

    it('adds http://localhost when the policy allows local development', () => {
      // Prepare
      const policy = parsePolicy({ allowedOrigins: ['http://localhost:3000'], allowHttpLocalhost: true });

      // Act
      const result = plan(['http://localhost:3000'], [], [], policy);

      // Assess
      expect(result.add).toEqual(['http://localhost:3000']);
    });
  });

  describe('removals with ownership "managed"', () => {
    it('removes an origin it manages that is no longer desired', () => {
      // Act
      const result = plan(['https://a.example.com'], ['https://a.example.com', 'https://old.example.com'], ['https://a.example.com', 'https://old.example.com'], policyWith());

      // Assess
      expect(result.remove).toEqual(['https://old.example.com']);
      expect(result.nextValidOrigins).toEqual(['https://a.example.com']);
      expect(result.nextManaged).toEqual(['https://a.example.com']);
    });

    it('removes a managed origin in whatever spelling Qlik returns it', () => {
      // Act
      const result = plan([], ['HTTPS://OLD.example.com:443'], ['https://old.example.com'], policyWith());

      // Assess
      expect(result.remove).toEqual(['HTTPS://OLD.example.com:443']);
    });

    it('leaves an origin a person added alone and reports it', () => {
      // Act
      const result = plan([], ['https://person.example.com'], [], policyWith());

      // Assess
      expect(result.remove).toEqual([]);
      expect(result.heldBack).toEqual([
        { origin: 'https://person.example.com', reason: 'not-managed', detail: 'added by someone else: left alone (ownership "managed")' },
      ]);
      expect(result.hasChanges).toBe(false);
    });

    it('keeps junk a person typed, as it is, and says why it is junk', () => {
      // Act
      const result = plan(['https://a.example.com'], ['shop dot example', 'https://a.example.com'], [], policyWith());

      // Assess
      expect(result.nextValidOrigins).toEqual(['shop dot example', 'https://a.example.com']);
      expect(result.heldBack).toEqual([
        { origin: 'shop dot example', reason: 'not-managed', detail: expect.stringMatching(/^not a valid origin \(origin must not contain whitespace/) },
      ]);
      expect(result.hasChanges).toBe(false);
    });

    it('removes a managed origin the policy no longer allows', () => {
      // Prepare
      const narrowed = parsePolicy({ allowedOrigins: ['https://shop.example.org'] });

      // Act
      const result = plan(['https://a.example.com'], ['https://a.example.com'], ['https://a.example.com'], narrowed);

      // Assess
      expect(result.remove).toEqual(['https://a.example.com']);
      expect(result.heldBack).toEqual([expect.objectContaining({ origin: 'https://a.example.com', reason: 'outside-policy' })]);
    });
  });

  describe('removals with ownership "exclusive"', () => {
    it('removes everything that is not desired, junk included', () => {
      // Act
      const result = plan(
        ['https://a.example.com'],
        ['https://person.example.com', 'junk', 'https://a.example.com'],
        [],
        policyWith({ ownership: 'exclusive' }),
      );

      // Assess
      expect(result.remove).toEqual(['https://person.example.com', 'junk']);
      expect(result.nextValidOrigins).toEqual(['https://a.example.com']);
      expect(result.heldBack).toEqual([]);
    });
  });

  describe('mode "upsert-only"', () => {
    it('adds but never removes, and reports what it would have removed', () => {
      // Act
      const result = plan(
        ['https://new.example.com'],
        ['https://old.example.com'],
        ['https://old.example.com'],
        policyWith({ mode: 'upsert-only', ownership: 'exclusive' }),
      );

      // Assess
      expect(result.add).toEqual(['https://new.example.com']);
      expect(result.remove).toEqual([]);
      expect(result.heldBack).toEqual([
        { origin: 'https://old.example.com', reason: 'upsert-only', detail: 'the policy never removes origins (mode "upsert-only")' },
      ]);
      expect(result.nextValidOrigins).toEqual(['https://old.example.com', 'https://new.example.com']);
      expect(result.nextManaged).toEqual(['https://new.example.com', 'https://old.example.com']);
    });
  });

  describe('the removal guard', () => {
    const actual = ['https://k.example.com', 'https://r1.example.com', 'https://r2.example.com', 'https://r3.example.com', 'https://r4.example.com'];

    it('removes nothing when removals exceed maxRemovalsPerRun, and holds every one back', () => {
      // Act
      const result = plan(['https://k.example.com'], actual, actual, policyWith({ maxRemovalsPerRun: 2 }));

      // Assess
      const detail = 'this run would remove 4 origins, more than the 2 allowed per run: nothing is removed until an operator confirms';
      expect(result.remove).toEqual([]);
      expect(result.heldBack).toEqual(
        ['https://r1.example.com', 'https://r2.example.com', 'https://r3.example.com', 'https://r4.example.com'].map((origin) => ({
          origin,
          reason: 'removal-guard',
          detail,
        })),
      );
      expect(result.guardTripped).toBe(true);
      expect(result.hasChanges).toBe(false);
      expect(result.nextManaged).toEqual(actual);
    });

    it('does not trip when removals are exactly at the limit', () => {
      // Act
      const result = plan(['https://k.example.com'], actual, actual, policyWith({ maxRemovalsPerRun: 4 }));

      // Assess
      expect(result.remove).toHaveLength(4);
      expect(result.guardTripped).toBe(false);
    });

    it('counts only removals that mode and ownership allow', () => {
      // Act
      const result = plan(['https://k.example.com'], actual, ['https://r1.example.com'], policyWith({ maxRemovalsPerRun: 1 }));

      // Assess
      expect(result.remove).toEqual(['https://r1.example.com']);
      expect(result.guardTripped).toBe(false);
    });

    it('holds back a mass removal when the desired set is suddenly empty (external-dns #414)', () => {
      // Prepare
      const many = Array.from({ length: 25 }, (_, index) => `https://app${index}.example.com`);

      // Act
      const result = plan([], many, many, policyWith());

      // Assess
      expect(result.remove).toEqual([]);
      expect(result.heldBack.filter((held) => held.reason === 'removal-guard')).toHaveLength(25);
      expect(result.nextValidOrigins).toEqual(many);
      expect(result.guardTripped).toBe(true);
    });

    it('removes nothing when the limit is 0', () => {
      // Act
      const result = plan([], actual, actual, policyWith({ maxRemovalsPerRun: 0 }));

      // Assess
      expect(result.remove).toEqual([]);
      expect(result.guardTripped).toBe(true);
      expect(result.hasChanges).toBe(false);
    });

    it('lets an operator raise the limit for one run', () => {
      // Act
      const result = plan(['https://k.example.com'], actual, actual, policyWith({ maxRemovalsPerRun: 2 }), { allowRemovals: 4 });

      // Assess
      expect(result.remove).toHaveLength(4);
      expect(result.guardTripped).toBe(false);
      expect(result.removalLimit).toBe(4);
    });

    it('lets an operator confirm every removal', () => {
      // Act
      const result = plan([], actual, actual, policyWith({ maxRemovalsPerRun: 0 }), { allowRemovals: Number.POSITIVE_INFINITY });

      // Assess
      expect(result.remove).toEqual(actual);
    });

    it('never lowers the limit of the policy', () => {
      // Act
      const result = plan(['https://k.example.com'], actual, actual, policyWith({ maxRemovalsPerRun: 4 }), { allowRemovals: 1 });

      // Assess
      expect(result.remove).toHaveLength(4);
      expect(result.removalLimit).toBe(4);
    });

    it.each([-1, Number.NaN])('refuses allowRemovals %d', (allowRemovals) => {
      // Act
      const act = (): Plan => plan([], actual, actual, policyWith(), { allowRemovals });

      // Assess
      expect(act).toThrow(RangeError);
    });

    it('keeps holding a large removal back run after run until an operator confirms it', () => {
      // Prepare
      const policy = policyWith({ maxRemovalsPerRun: 2 });
      const first = plan(['https://k.example.com'], actual, actual, policy);

      // Act
      const second = replan(['https://k.example.com'], first, policy);
      const confirmed = plan(['https://k.example.com'], second.nextValidOrigins, second.nextManaged, policy, { allowRemovals: 4 });

      // Assess
      expect(second.remove).toEqual([]);
      expect(second.guardTripped).toBe(true);
      expect(confirmed.remove).toEqual(['https://r1.example.com', 'https://r2.example.com', 'https://r3.example.com', 'https://r4.example.com']);
      expect(confirmed.nextValidOrigins).toEqual(['https://k.example.com']);
    });
  });

  describe('duplicates', () => {
    it('keeps the first of entries that normalise equal and drops the others', () => {
      // Act
      const result = plan(
        ['https://a.example.com'],
        ['https://A.example.com', 'https://x.example.com', 'https://a.example.com:443', 'https://a.example.com/'],
        [],
        policyWith(),
      );

      // Assess
      expect(result.keep).toEqual(['https://A.example.com']);
      expect(result.deduplicated).toEqual(['https://a.example.com:443', 'https://a.example.com/']);
      expect(result.remove).toEqual([]);
      expect(result.nextValidOrigins).toEqual(['https://A.example.com', 'https://x.example.com']);
      expect(result.hasChanges).toBe(true);
    });

    it('drops duplicates of an origin that is being removed, and removes the first', () => {
      // Act
      const result = plan([], ['https://old.example.com', 'https://OLD.example.com'], ['https://old.example.com'], policyWith());

      // Assess
      expect(result.remove).toEqual(['https://old.example.com']);
      expect(result.deduplicated).toEqual(['https://OLD.example.com']);
      expect(result.nextValidOrigins).toEqual([]);
    });

    it('leaves repeated junk alone in managed mode', () => {
      // Act
      const result = plan([], ['junk', 'junk'], [], policyWith());

      // Assess
      expect(result.deduplicated).toEqual([]);
      expect(result.hasChanges).toBe(false);
    });
  });

  describe('managed origins after the run', () => {
    it('takes ownership of what it adds', () => {
      // Act
      const result = plan(['https://new.example.com'], [], [], policyWith());

      // Assess
      expect(result.nextManaged).toEqual(['https://new.example.com']);
    });

    it('does not take ownership of an origin a person added, even once it is desired', () => {
      // Act
      const first = plan(['https://person.example.com'], ['https://person.example.com'], [], policyWith());
      const later = plan([], first.nextValidOrigins, first.nextManaged, policyWith());

      // Assess
      expect(first.nextManaged).toEqual([]);
      expect(later.remove).toEqual([]);
      expect(later.heldBack).toEqual([expect.objectContaining({ origin: 'https://person.example.com', reason: 'not-managed' })]);
    });

    it('forgets an origin that is gone and no longer desired', () => {
      // Act
      const result = plan([], [], ['https://gone.example.com'], policyWith());

      // Assess
      expect(result.nextManaged).toEqual([]);
      expect(result.hasChanges).toBe(false);
    });

    it('puts back a managed origin a person removed by hand while it is still desired', () => {
      // Act
      const result = plan(['https://a.example.com'], [], ['https://a.example.com'], policyWith());

      // Assess
      expect(result.add).toEqual(['https://a.example.com']);
      expect(result.nextManaged).toEqual(['https://a.example.com']);
    });

    it('stores managed origins normalised and ignores records that are not origins', () => {
      // Act
      const result = plan(['https://a.example.com'], ['HTTPS://A.EXAMPLE.COM'], ['https://A.example.com:443', 'garbage'], policyWith());

      // Assess
      expect(result.nextManaged).toEqual(['https://a.example.com']);
    });
  });

  describe('idempotence', () => {
    it('plans nothing when run again on its own result', () => {
      // Prepare
      const policy = policyWith();
      const desired = ['https://a.example.com', 'https://new.example.com', 'https://evil.com'];
      const actual = ['https://A.example.com:443', 'junk', 'https://person.example.com', 'https://old.example.com', 'https://a.example.com'];
      const first = plan(desired, actual, ['https://old.example.com'], policy);

      // Act
      const second = replan(desired, first, policy);

      // Assess
      expect(first.hasChanges).toBe(true);
      expect(second).toMatchObject({ add: [], remove: [], deduplicated: [], hasChanges: false, nextValidOrigins: first.nextValidOrigins, nextManaged: first.nextManaged });
    });
  });
});

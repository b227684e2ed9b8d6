import { describe, expect, it } from 'vitest';
import { parseCount, parseDuration, parseSince, parseTargetRef, parseTenantName } from '../../cli/arguments.js';
import { CliError } from '../../cli/errors.js';

describe('Function: parseTargetRef()', () => {
  it('reads tenant/webIntegrationId as describeTarget writes it', () => {
    expect(parseTargetRef('demo/Abc123')).toEqual({ tenant: 'demo', webIntegrationId: 'Abc123' });
    expect(parseTargetRef('acme-eu/a.b_c:d-1')).toEqual({ tenant: 'acme-eu', webIntegrationId: 'a.b_c:d-1' });
  });

  it.each(['Abc123', 'Demo/Abc123', 'demo/', '/Abc123', 'demo/a/b', 'demo/a b'])('refuses %j with a usage error naming the flag', (text) => {
    expect(() => parseTargetRef(text)).toThrow(CliError);
    expect(() => parseTargetRef(text)).toThrow(/--target takes tenant\/webIntegrationId/);
  });
});

describe('Function: parseDuration() and parseSince()', () => {
  it('reads a whole number and a unit', () => {
    expect(parseDuration('30m', '--expires-in')).toBe(1_800_000);
    expect(parseDuration('12h', '--expires-in')).toBe(43_200_000);
    expect(parseDuration('7d', '--expires-in')).toBe(604_800_000);
    expect(() => parseDuration('0d', '--expires-in')).toThrow(/--expires-in takes a duration/);
    expect(() => parseDuration('1.5h', '--expires-in')).toThrow(CliError);
  });

  it('reads --since as a duration back from now or as an ISO time', () => {
    const now = new Date('2026-05-01T12:00:00Z');
    expect(parseSince('24h', '--since', now).toISOString()).toBe('2026-04-30T12:00:00.000Z');
    expect(parseSince('2026-04-01T00:00:00Z', '--since', now).toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(() => parseSince('yesterday', '--since', now)).toThrow(/--since takes a duration back from now/);
  });
});

describe('Function: parseCount() and parseTenantName()', () => {
  it('accept only what the registry accepts', () => {
    expect(parseCount('0', '--max-removals')).toBe(0);
    expect(parseCount('12', '--allow-removals')).toBe(12);
    expect(() => parseCount('-1', '--allow-removals')).toThrow(/whole number/);
    expect(parseTenantName('acme-eu')).toBe('acme-eu');
    expect(() => parseTenantName('Acme')).toThrow(/lower-case name/);
  });
});

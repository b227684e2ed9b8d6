import { describe, expect, it } from 'vitest';

import { InvalidOriginError } from '../../functions/core/errors.js';
import { MAX_ORIGIN_LENGTH, normalizeOrigin, normalizeOriginOrThrow } from '../../functions/core/origins.js';
import type { OriginOptions } from '../../functions/core/origins.js';

const LOCAL = { allowHttpLocalhost: true } as const satisfies OriginOptions;

/** A host of exactly `length` characters made of valid labels (at most 63 characters each), for boundary tests. */
function hostOfLength(length: number): string {
  const beforeTopLevel = length - '.com'.length;
  let host = '';
  while (host.length < beforeTopLevel) {
    const room = beforeTopLevel - host.length - (host === '' ? 0 : 1);
    const label = 'a'.repeat(Math.min(63, room));
    host = host === '' ? label : `${host}.${label}`;
  }
  return `${host}.com`;
}

/** Keeps test names readable when the input is thousands of characters long. */
function shorten(text: string): string {
  return text.length <= 100 ? text : `${text.slice(0, 100)}…`;
}

describe('Function: normalizeOrigin()', () => {
  describe('accepts origins and returns their normalised spelling', () => {
    const accepted: [input: string, expected: string, options?: OriginOptions][] = [
      ['https://shop.example.com', 'https://shop.example.com'],
      ['https://Shop.EXAMPLE.com:443/', 'https://shop.example.com'],
      ['HTTPS://SHOP.EXAMPLE.COM', 'https://shop.example.com'],
      ['https://shop.example.com/', 'https://shop.example.com'],
      ['  https://shop.example.com  ', 'https://shop.example.com'],
      ['https://shop.example.com:8443', 'https://shop.example.com:8443'],
      ['https://shop.example.com:8443/', 'https://shop.example.com:8443'],
      ['https://shop.example.com:80', 'https://shop.example.com:80'],
      ['https://shop.example.com:0443', 'https://shop.example.com'],
      ['https://shop.example.com:1', 'https://shop.example.com:1'],
      ['https://shop.example.com:65535', 'https://shop.example.com:65535'],
      ['https://a.b.c.example.com', 'https://a.b.c.example.com'],
      ['https://my-app-1.example.com', 'https://my-app-1.example.com'],
      ['https://123.example.com', 'https://123.example.com'],
      ['https://bücher.example', 'https://xn--bcher-kva.example'],
      ['https://BÜCHER.example', 'https://xn--bcher-kva.example'],
      ['https://xn--bcher-kva.example', 'https://xn--bcher-kva.example'],
      ['https://пример.рф', 'https://xn--e1afmkfd.xn--p1ai'],
      ['https://пример.com', 'https://xn--e1afmkfd.com'],
      ['https://ｓｈｏｐ.example.com', 'https://shop.example.com'],
      ['http://localhost:3000', 'http://localhost:3000', LOCAL],
      ['http://localhost', 'http://localhost', LOCAL],
      ['HTTP://LOCALHOST:80/', 'http://localhost', LOCAL],
      ['https://localhost:8443', 'https://localhost:8443', LOCAL],
      ['https://shop.example.com', 'https://shop.example.com', LOCAL],
    ];

    it.each(accepted)('%j -> %j', (input, expected, options) => {
      // Act
      const result = normalizeOrigin(input, options);

      // Assess
      expect(result).toMatchObject({ ok: true, origin: expected });
    });

    it.each(accepted)('is idempotent for %j', (input, _expected, options) => {
      // Prepare
      const first = normalizeOrigin(input, options);
      if (!first.ok) throw new Error(first.reason);

      // Act
      const second = normalizeOrigin(first.origin, options);

      // Assess
      expect(second).toEqual(first);
    });

    it('returns the parts of the origin for matching', () => {
      // Act
      const result = normalizeOrigin('https://Shop.Example.com:8443/');

      // Assess
      expect(result).toEqual({ ok: true, origin: 'https://shop.example.com:8443', scheme: 'https', host: 'shop.example.com', port: 8443 });
    });

    it('drops the default port from the parts too', () => {
      // Act
      const result = normalizeOrigin('http://localhost:80', LOCAL);

      // Assess
      expect(result).toMatchObject({ ok: true, scheme: 'http', host: 'localhost', port: undefined });
    });

    it('accepts a 63-character label and a 253-character host', () => {
      // Prepare
      const longLabel = `https://${'a'.repeat(63)}.example.com`;
      const longHost = `https://${hostOfLength(253)}`;

      // Act
      const results = [normalizeOrigin(longLabel), normalizeOrigin(longHost)];

      // Assess
      expect(hostOfLength(253)).toHaveLength(253);
      expect(hostOfLength(254)).toHaveLength(254);
      expect(results.map((result) => result.ok)).toEqual([true, true]);
    });
  });

  describe('rejects what is not an origin, with a reason a person understands', () => {
    const rejected: [input: unknown, reason: string | RegExp, options?: OriginOptions][] = [
      // not a string at all
      [42, 'origin must be a string, got a number'],
      [null, 'origin must be a string, got null'],
      [undefined, 'origin must be a string, got undefined'],
      [{}, 'origin must be a string, got an object'],
      [['https://shop.example.com'], 'origin must be a string, got an array'],
      [true, 'origin must be a string, got a boolean'],
      // empty
      ['', 'origin is empty'],
      ['   ', 'origin is empty'],
      ['\t\n', 'origin is empty'],
      // schemes
      ['javascript:alert(1)', 'scheme "javascript" is not allowed: use https'],
      ['data:text/html,<script>alert(1)</script>', 'scheme "data" is not allowed: use https'],
      ['file:///etc/passwd', 'scheme "file" is not allowed: use https'],
      ['ftp://example.com', 'scheme "ftp" is not allowed: use https'],
      ['wss://shop.example.com', 'scheme "wss" is not allowed: use https'],
      ['example.com', 'origin must start with "https://" (got "example.com")'],
      ['shop.example.com:443', 'origin must start with "https://" (got "shop.example.com:443")'],
      ['localhost:3000', 'origin must start with "https://" (got "localhost:3000")'],
      ['//shop.example.com', 'origin must start with "https://" (got "//shop.example.com")'],
      ['https:shop.example.com', 'origin must start with "https://": the scheme must be followed by "//" (got "https:shop.example.com")'],
      ['https:/shop.example.com', /the scheme must be followed by "\/\/"/],
      // anything after the authority
      ['https://shop.example.com/shop', 'origin must not contain a path ("/shop")'],
      ['https://shop.example.com//', 'origin must not contain a path ("//")'],
      ['https://shop.example.com/index.html?x=1', 'origin must not contain a path ("/index.html")'],
      ['https://shop.example.com?a=1', 'origin must not contain a query ("?a=1")'],
      ['https://shop.example.com/?a=1', 'origin must not contain a query ("?a=1")'],
      ['https://shop.example.com#top', 'origin must not contain a fragment ("#top")'],
      ['https://shop.example.com/#', 'origin must not contain a fragment ("#")'],
      ['https://shop.example.com#a?b', 'origin must not contain a fragment ("#a?b")'],
      // user info
      ['https://user@shop.example.com', /must not contain user info/],
      ['https://shop.example.com@evil.com', /must not contain user info/],
      // wildcards
      ['https://*.example.com', 'origin must not contain "*": wildcards are only allowed in policy patterns'],
      ['https://shop.*.com', /wildcards are only allowed in policy patterns/],
      ['*', /wildcards are only allowed in policy patterns/],
      // IP literals
      ['https://192.168.0.1', 'IP addresses are not allowed: an app origin must be a DNS name (got "192.168.0.1")'],
      ['https://127.1', 'IP addresses are not allowed: an app origin must be a DNS name (got "127.1")'],
      ['https://0x7f.0.0.1:8443', /IP addresses are not allowed/],
      ['https://１９２.１６８.０.１', /IP addresses are not allowed/],
      ['https://[::1]', 'IP addresses are not allowed: an app origin must be a DNS name (got "[::1]")'],
      ['https://[2001:db8::1]:443', /IP addresses are not allowed/],
      ['https://2001:db8::1', /IP addresses are not allowed/],
      // homoglyphs (the first "а" of each is Cyrillic U+0430, "ο" is Greek omicron)
      ['https://аpple.com', 'host label "аpple" (xn--pple-43d) mixes Latin and Cyrillic letters: a look-alike (homoglyph) of another name'],
      ['https://xn--pple-43d.com', /mixes Latin and Cyrillic letters/],
      ['https://shop.pаypal.com', /host label "pаypal" .* mixes Latin and Cyrillic letters/],
      ['https://gοogle.com', /mixes Latin and Greek letters/],
      ['https://аррӏе.com', /is made only of Cyrillic letters that look Latin/],
      // characters a parser would silently drop or fold
      ['https://exam\u200Bple.com', 'origin must not contain whitespace, control or invisible characters (U+200B at position 12)'],
      ['https://exa\u00ADmple.com', /U\+00AD/],
      ['https://shop.\texample.com', /U\+0009/],
      ['https://shop.example.com\n/evil', /U\+000A/],
      ['https://shop example.com', /U\+0020/],
      ['https://shop.example.com\u202E', /U\+202E/],
      ['https://shop.example.com\\evil', 'origin must not contain a backslash ("\\")'],
      ['https:\\\\shop.example.com', /backslash/],
      // lengths
      [`https://${'a'.repeat(64)}.example.com`, `host label "${'a'.repeat(64)}" is longer than 63 characters (64)`],
      [`https://${hostOfLength(254)}`, 'host is longer than 253 characters (254)'],
      [`https://shop.example.com/${'x'.repeat(MAX_ORIGIN_LENGTH)}`, `origin is longer than 2048 characters (${MAX_ORIGIN_LENGTH + 25})`],
      // ports
      ['https://shop.example.com:0', 'port 0 is not allowed'],
      ['https://shop.example.com:000', 'port 0 is not allowed'],
      ['https://shop.example.com:65536', 'port 65536 is out of range 1..65535'],
      ['https://shop.example.com:99999999999999999999', /is out of range 1..65535/],
      ['https://shop.example.com:', 'port is empty: remove the ":" or give a port'],
      ['https://shop.example.com:abc', 'port "abc" is not a number'],
      ['https://shop.example.com:-1', 'port "-1" is not a number'],
      ['https://shop.example.com:443:443', /may contain only one ":"/],
      // host shape
      ['https://', 'origin has no host'],
      ['https:///shop.example.com', 'origin has no host'],
      ['https://:443', 'origin has no host'],
      ['https://com', 'host "com" must have at least two labels, e.g. "app.example.com"'],
      ['https://shop.example.123', 'top-level label "123" must not be a number'],
      ['https://shop_1.example.com', 'host label "shop_1" may contain only letters, digits and hyphens'],
      ['https://-shop.example.com', 'host label "-shop" must not start or end with a hyphen'],
      ['https://shop-.example.com', 'host label "shop-" must not start or end with a hyphen'],
      ['https://shop..example.com', 'host "shop..example.com" has an empty label'],
      ['https://shop.example.com.', 'host must not end with a dot (got "shop.example.com.")'],
      ['https://%73hop.example.com', 'host must not contain percent-encoding (got "%73hop.example.com")'],
      ['https://xn--a.example.com', /host "xn--a.example.com" is not a valid domain name/],
      ['https://<script>.example.com', /is not a valid domain name/],
      // http and localhost
      ['http://localhost:3000', 'scheme "http" is not allowed: use https (http is accepted only for localhost, when the policy sets allowHttpLocalhost)'],
      ['http://shop.example.com', /scheme "http" is not allowed: use https/],
      ['http://shop.example.com', 'scheme "http" is only allowed for localhost: use https', LOCAL],
      ['https://localhost', 'localhost is accepted only when the policy sets allowHttpLocalhost'],
      ['https://app.localhost', 'host "app.localhost" is under ".localhost", which browsers resolve to this machine', LOCAL],
    ];

    const rejectedCases = rejected.map(([input, reason, options]) => ({ shown: shorten(JSON.stringify(input) ?? 'undefined'), input, reason, options }));

    it.each(rejectedCases)('$shown is rejected', ({ input, reason, options }) => {
      // Act
      const result = normalizeOrigin(input, options);

      // Assess
      expect(result).toEqual({ ok: false, input, reason: typeof reason === 'string' ? reason : expect.stringMatching(reason) });
    });

    it('does not echo a password in the reason', () => {
      // Act
      const result = normalizeOrigin('https://admin:hunter2@shop.example.com');

      // Assess
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toMatch(/hunter2.*hunter2/s);
      expect(result.ok ? '' : result.reason).not.toContain('hunter2');
    });

    it('shortens long input quoted in a reason', () => {
      // Act
      const result = normalizeOrigin(`https://shop.example.com/${'p'.repeat(500)}`);

      // Assess
      expect(result.ok ? '' : result.reason.length).toBeLessThan(150);
    });
  });
});

describe('Function: normalizeOriginOrThrow()', () => {
  it('returns the normalised origin', () => {
    // Act
    const origin = normalizeOriginOrThrow('https://Shop.Example.com:443/');

    // Assess
    expect(origin).toBe('https://shop.example.com');
  });

  it('throws an InvalidOriginError carrying input and reason', () => {
    // Act
    const act = (): string => normalizeOriginOrThrow('ftp://shop.example.com');

    // Assess
    expect(act).toThrow(InvalidOriginError);
    expect(act).toThrow(
      expect.objectContaining({
        name: 'InvalidOriginError',
        input: 'ftp://shop.example.com',
        reason: 'scheme "ftp" is not allowed: use https',
      }),
    );
  });

  it('passes the options on', () => {
    // Act
    const origin = normalizeOriginOrThrow('http://localhost:3000', LOCAL);

    // Assess
    expect(origin).toBe('http://localhost:3000');
  });
});

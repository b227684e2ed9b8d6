/**
 * Origin normalisation and validation: the origin contract of DESIGN §2.
 *
 * A normalised origin is `scheme://host[:port]`: lower case, IDN hosts in
 * punycode, the default port dropped, and nothing else (no path, query,
 * fragment, user info or trailing slash). Everything the synchronizer compares,
 * stores or writes to Qlik goes through {@link normalizeOrigin} first, so two
 * spellings of one origin can never look like two origins.
 *
 * Why not `new URL(x).origin`? The WHATWG parser is built to *repair* what a
 * browser is given: it turns backslashes into slashes, drops tabs and newlines,
 * reads `https:example.com` as `https://example.com`, decodes `%41` in hosts,
 * reads `127.1` as an IPv4 address and silently deletes invisible characters.
 * For an allow-list each of those repairs hides a mistake or an attack, so the
 * raw text is checked here piece by piece and only the IDN step is delegated
 * (to `node:url`'s `domainToASCII`, which implements UTS #46).
 *
 * Rejection is a value, not an exception: a bad origin in a deployment event is
 * an everyday event that must be reported with a reason a person can act on.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

import { InvalidOriginError } from './errors.js';

/** Longest input accepted; longer strings are rejected before any parsing work. */
export const MAX_ORIGIN_LENGTH = 2048;

/** Longest DNS name (RFC 1035, without the trailing dot). */
const MAX_HOST_LENGTH = 253;

/** Longest DNS label (RFC 1035). */
const MAX_LABEL_LENGTH = 63;

const DEFAULT_PORTS = { https: 443, http: 80 } as const;

export type OriginScheme = keyof typeof DEFAULT_PORTS;

export interface OriginOptions {
  /**
   * Accept `localhost` (as `http://localhost[:port]` or `https://localhost[:port]`)
   * for local development. Off by default: a production allow-list that trusts
   * `localhost` trusts every developer machine.
   */
  readonly allowHttpLocalhost?: boolean;
}

/** An origin that satisfies the contract, with its parts for matching. */
export interface NormalizedOrigin {
  readonly ok: true;
  /** `scheme://host[:port]`, the only spelling the synchronizer uses. */
  readonly origin: string;
  readonly scheme: OriginScheme;
  /** Lower-case ASCII (punycode) host name. */
  readonly host: string;
  /** The explicit port, or `undefined` for the scheme's default port. */
  readonly port: number | undefined;
}

/** An input that is not an acceptable origin, and why. */
export interface RejectedOrigin {
  readonly ok: false;
  readonly input: unknown;
  /** A sentence a person understands, e.g. `origin must not contain a path ("/shop")`. */
  readonly reason: string;
}

export type OriginResult = NormalizedOrigin | RejectedOrigin;

/**
 * Normalises an origin or says why it is not one.
 *
 * Surrounding whitespace is trimmed (people paste it) and a lone trailing `/`
 * is dropped (browsers show origins that way); everything else that is not
 * part of `scheme://host[:port]` is rejected rather than repaired, because a
 * repaired origin may not be the one the person meant. The result is
 * idempotent: normalising a normalised origin returns it unchanged.
 *
 * @example
 * normalizeOrigin('https://Shop.EXAMPLE.com:443/');
 * // { ok: true, origin: 'https://shop.example.com', scheme: 'https', host: 'shop.example.com', port: undefined }
 * normalizeOrigin('ftp://example.com');
 * // { ok: false, input: 'ftp://example.com', reason: 'scheme "ftp" is not allowed: use https' }
 */
export function normalizeOrigin(input: unknown, options: OriginOptions = {}): OriginResult {
  if (typeof input !== 'string') {
    return rejected(input, `origin must be a string, got ${describeType(input)}`);
  }
  if (input.length > MAX_ORIGIN_LENGTH) {
    return rejected(input, `origin is longer than ${MAX_ORIGIN_LENGTH} characters (${input.length})`);
  }
  const text = input.trim();
  if (text === '') {
    return rejected(input, 'origin is empty');
  }
  const characterProblem = findForbiddenCharacter(text);
  if (characterProblem !== undefined) {
    return rejected(input, characterProblem);
  }

  const scheme = readScheme(text);
  if (!scheme.ok) {
    return rejected(input, scheme.reason);
  }
  const { authority, tail } = splitAuthority(scheme.rest);
  if (authority === '') {
    return rejected(input, 'origin has no host');
  }
  const tailProblem = findTailProblem(tail);
  if (tailProblem !== undefined) {
    return rejected(input, tailProblem);
  }

  const hostAndPort = readHostAndPort(authority);
  if (!hostAndPort.ok) {
    return rejected(input, hostAndPort.reason);
  }
  const host = toAsciiHost(hostAndPort.host);
  if (!host.ok) {
    return rejected(input, host.reason);
  }

  const localProblem = findLocalDevelopmentProblem(scheme.scheme, host.host, options);
  if (localProblem !== undefined) {
    return rejected(input, localProblem);
  }

  const port = hostAndPort.port === DEFAULT_PORTS[scheme.scheme] ? undefined : hostAndPort.port;
  const origin = `${scheme.scheme}://${host.host}${port === undefined ? '' : `:${port}`}`;
  return { ok: true, origin, scheme: scheme.scheme, host: host.host, port };
}

/**
 * Like {@link normalizeOrigin}, but throws {@link InvalidOriginError} (carrying
 * the same `reason`) for callers whose input was already validated upstream,
 * so a rejection there is a bug rather than an event.
 */
export function normalizeOriginOrThrow(input: unknown, options: OriginOptions = {}): string {
  const result = normalizeOrigin(input, options);
  if (!result.ok) {
    throw new InvalidOriginError(result.input, result.reason);
  }
  return result.origin;
}

function rejected(input: unknown, reason: string): RejectedOrigin {
  return { ok: false, input, reason };
}

/**
 * Characters the WHATWG parser would silently drop or fold are refused up
 * front: whitespace and control characters (tabs and newlines vanish inside a
 * URL), invisible format characters (a zero-width space or soft hyphen inside
 * a host disappears during IDN mapping, bidi controls reorder what a person
 * sees), backslashes (read as `/`) and `*` (a wildcard belongs in a policy
 * pattern, never in an origin a browser sends).
 */
function findForbiddenCharacter(text: string): string | undefined {
  const invisible = /[\p{Cc}\p{Cf}\p{Z}\s]/u.exec(text);
  if (invisible !== null) {
    const codePoint = invisible[0].codePointAt(0) ?? 0;
    return `origin must not contain whitespace, control or invisible characters (${formatCodePoint(codePoint)} at position ${invisible.index})`;
  }
  if (text.includes('\\')) {
    return 'origin must not contain a backslash ("\\")';
  }
  if (text.includes('*')) {
    return 'origin must not contain "*": wildcards are only allowed in policy patterns';
  }
  return undefined;
}

type SchemeReading =
  | { readonly ok: true; readonly scheme: OriginScheme; readonly rest: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Reads `scheme://` literally. `https:example.com` and `https:/example.com`
 * are refused although a browser would fix them: the person who typed them
 * should see the mistake.
 */
function readScheme(text: string): SchemeReading {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(text);
  const afterColon = match === null ? '' : text.slice(match[0].length);
  // "example.com:443" and "localhost:3000" look like a scheme to the grammar;
  // they are origins whose scheme was forgotten, so say that instead.
  if (match === null || match[1] === undefined || match[1].includes('.') || /^\d/.test(afterColon)) {
    return { ok: false, reason: `origin must start with "https://" (got ${quote(text)})` };
  }
  const scheme = match[1].toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') {
    return { ok: false, reason: `scheme ${quote(scheme)} is not allowed: use https` };
  }
  if (!afterColon.startsWith('//')) {
    return {
      ok: false,
      reason: `origin must start with "${scheme}://": the scheme must be followed by "//" (got ${quote(text)})`,
    };
  }
  return { ok: true, scheme, rest: afterColon.slice(2) };
}

function splitAuthority(rest: string): { authority: string; tail: string } {
  const end = rest.search(/[/?#]/);
  return end < 0 ? { authority: rest, tail: '' } : { authority: rest.slice(0, end), tail: rest.slice(end) };
}

/** Everything after the authority: only a lone `/` is tolerated (and dropped). */
function findTailProblem(tail: string): string | undefined {
  const hashAt = tail.indexOf('#');
  const beforeFragment = hashAt < 0 ? tail : tail.slice(0, hashAt);
  const queryAt = beforeFragment.indexOf('?');
  const path = queryAt < 0 ? beforeFragment : beforeFragment.slice(0, queryAt);
  if (path !== '' && path !== '/') {
    return `origin must not contain a path (${quote(path)})`;
  }
  if (queryAt >= 0) {
    return `origin must not contain a query (${quote(beforeFragment.slice(queryAt))})`;
  }
  if (hashAt >= 0) {
    return `origin must not contain a fragment (${quote(tail.slice(hashAt))})`;
  }
  return undefined;
}

type HostAndPortReading =
  | { readonly ok: true; readonly host: string; readonly port: number | undefined }
  | { readonly ok: false; readonly reason: string };

function readHostAndPort(authority: string): HostAndPortReading {
  if (authority.includes('@')) {
    // The user info itself is not echoed: it may be a password.
    return { ok: false, reason: 'origin must not contain user info (a "user@" or "user:password@" part)' };
  }
  const colonCount = authority.split(':').length - 1;
  if (authority.startsWith('[') || (colonCount > 1 && /^[0-9a-f:.]+$/i.test(authority))) {
    return { ok: false, reason: `IP addresses are not allowed: an app origin must be a DNS name (got ${quote(authority)})` };
  }
  if (colonCount > 1) {
    return { ok: false, reason: `origin may contain only one ":" after the host, before the port (got ${quote(authority)})` };
  }
  const colonAt = authority.indexOf(':');
  const host = colonAt < 0 ? authority : authority.slice(0, colonAt);
  if (host === '') {
    return { ok: false, reason: 'origin has no host' };
  }
  if (colonAt < 0) {
    return { ok: true, host, port: undefined };
  }
  const portText = authority.slice(colonAt + 1);
  const port = readPort(portText);
  return typeof port === 'string' ? { ok: false, reason: port } : { ok: true, host, port };
}

/** Returns the port number, or a reason when it is not one. */
function readPort(portText: string): number | string {
  if (portText === '') {
    return 'port is empty: remove the ":" or give a port';
  }
  if (!/^\d+$/.test(portText)) {
    return `port ${quote(portText)} is not a number`;
  }
  // Compare digits before converting so "000…0443" with thousands of digits
  // cannot overflow into something that looks valid.
  const significant = portText.replace(/^0+(?=\d)/, '');
  const port = significant.length > 5 ? Number.POSITIVE_INFINITY : Number(significant);
  if (port === 0) {
    return 'port 0 is not allowed';
  }
  if (port > 65535) {
    return `port ${abbreviate(significant)} is out of range 1..65535`;
  }
  return port;
}

type HostReading = { readonly ok: true; readonly host: string } | { readonly ok: false; readonly reason: string };

/**
 * Converts a host to lower-case punycode and checks it is a DNS name a browser
 * would send as is: no IP literal, valid labels, no look-alike letters.
 */
function toAsciiHost(rawHost: string): HostReading {
  if (rawHost.includes('%')) {
    return { ok: false, reason: `host must not contain percent-encoding (got ${quote(rawHost)})` };
  }
  if (rawHost.endsWith('.')) {
    return { ok: false, reason: `host must not end with a dot (got ${quote(rawHost)})` };
  }
  const ascii = domainToASCII(rawHost);
  if (ascii === '') {
    return { ok: false, reason: explainUnconvertibleHost(rawHost) };
  }
  // domainToASCII applies the WHATWG IPv4 parser, so "127.1" and "0x7f.1"
  // arrive here as dotted quads too.
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ascii)) {
    return { ok: false, reason: `IP addresses are not allowed: an app origin must be a DNS name (got ${quote(rawHost)})` };
  }
  const dnsProblem = findDnsNameProblem(ascii);
  if (dnsProblem !== undefined) {
    return { ok: false, reason: dnsProblem };
  }
  const homoglyphProblem = findHomoglyphProblem(ascii);
  if (homoglyphProblem !== undefined) {
    return { ok: false, reason: homoglyphProblem };
  }
  return { ok: true, host: ascii };
}

function explainUnconvertibleHost(rawHost: string): string {
  const topLabel = rawHost.split('.').at(-1) ?? '';
  if (/^(\d+|0x[0-9a-f]*)$/i.test(topLabel)) {
    return `top-level label ${quote(topLabel)} must not be a number`;
  }
  return `host ${quote(rawHost)} is not a valid domain name (it cannot be converted to ASCII)`;
}

/** RFC 1035 shape, checked on the punycode form (that is what DNS sees). */
function findDnsNameProblem(host: string): string | undefined {
  if (host.length > MAX_HOST_LENGTH) {
    return `host is longer than ${MAX_HOST_LENGTH} characters (${host.length})`;
  }
  const labels = host.split('.');
  for (const label of labels) {
    if (label === '') {
      return `host ${quote(host)} has an empty label`;
    }
    if (label.length > MAX_LABEL_LENGTH) {
      return `host label ${quote(label)} is longer than ${MAX_LABEL_LENGTH} characters (${label.length})`;
    }
    if (!/^[a-z0-9-]+$/.test(label)) {
      return `host label ${quote(label)} may contain only letters, digits and hyphens`;
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return `host label ${quote(label)} must not start or end with a hyphen`;
    }
  }
  const topLabel = labels.at(-1) ?? '';
  if (labels.length < 2 && host !== 'localhost') {
    return `host ${quote(host)} must have at least two labels, e.g. "app.example.com"`;
  }
  if (/^\d+$/.test(topLabel)) {
    return `top-level label ${quote(topLabel)} must not be a number`;
  }
  return undefined;
}

/** Scripts whose letters are confusable with each other in common fonts. */
const CONFUSABLE_SCRIPTS = [
  { name: 'Latin', letter: /\p{Script=Latin}/u },
  { name: 'Cyrillic', letter: /\p{Script=Cyrillic}/u },
  { name: 'Greek', letter: /\p{Script=Greek}/u },
] as const;

/**
 * Cyrillic letters that look like Latin lower-case letters (а с ԁ е һ і ј ӏ о
 * р ԛ ѕ ԝ х у ѵ). A label made only of these under an ASCII top-level domain
 * (`аре.com`) spells a Latin name without mixing scripts; browsers show such
 * hosts as punycode for the same reason.
 */
const LATIN_LOOKALIKE_CYRILLIC = /^[асԁеһіјӏорԛѕԝхуѵ0-9-]+$/u;

/**
 * Rejects hosts that can pass for another name. IDN as such is welcome
 * (`bücher.example`); what is refused is a label that mixes Latin, Cyrillic
 * and Greek letters (`аpple.com` with a Cyrillic `а`), and an all-Cyrillic
 * label made only of Latin look-alikes under an ASCII top-level domain. The
 * check runs on the Unicode form of the punycode host, so writing the
 * look-alike directly as `xn--…` does not get around it.
 */
function findHomoglyphProblem(asciiHost: string): string | undefined {
  const asciiLabels = asciiHost.split('.');
  const unicodeLabels = domainToUnicode(asciiHost).split('.');
  const asciiTopLevel = /^[a-z0-9-]+$/.test(unicodeLabels.at(-1) ?? '');
  for (const [index, label] of unicodeLabels.entries()) {
    const shown = label === asciiLabels[index] ? quote(label) : `${quote(label)} (${asciiLabels[index] ?? ''})`;
    const scripts = CONFUSABLE_SCRIPTS.filter((script) => script.letter.test(label)).map((script) => script.name);
    if (scripts.length > 1) {
      return `host label ${shown} mixes ${scripts.join(' and ')} letters: a look-alike (homoglyph) of another name`;
    }
    if (asciiTopLevel && scripts[0] === 'Cyrillic' && LATIN_LOOKALIKE_CYRILLIC.test(label)) {
      return `host label ${shown} is made only of Cyrillic letters that look Latin: a look-alike (homoglyph) of another name`;
    }
  }
  return undefined;
}

/**
 * `http` exists for one case only: `http://localhost` during development, and
 * only when the policy says so. `localhost` under any scheme is likewise a
 * development origin, and names under `.localhost` resolve to the loopback
 * interface in browsers, so they are never app origins.
 */
function findLocalDevelopmentProblem(scheme: OriginScheme, host: string, options: OriginOptions): string | undefined {
  const isLocalhost = host === 'localhost';
  const allowLocalhost = options.allowHttpLocalhost === true;
  if (!isLocalhost && host.endsWith('.localhost')) {
    return `host ${quote(host)} is under ".localhost", which browsers resolve to this machine`;
  }
  if (scheme === 'http' && !(isLocalhost && allowLocalhost)) {
    return allowLocalhost
      ? 'scheme "http" is only allowed for localhost: use https'
      : 'scheme "http" is not allowed: use https (http is accepted only for localhost, when the policy sets allowHttpLocalhost)';
  }
  if (isLocalhost && !allowLocalhost) {
    return 'localhost is accepted only when the policy sets allowHttpLocalhost';
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'undefined' ? 'undefined' : `a${/^[aeiou]/.test(type) ? 'n' : ''} ${type}`;
}

function formatCodePoint(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Quotes a piece of input for a reason; long pieces are shortened so reasons stay readable. */
function quote(text: string): string {
  return JSON.stringify(abbreviate(text));
}

function abbreviate(text: string): string {
  const limit = 80;
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

import { isIPv4, isIPv6 } from 'node:net';
import { EmulatorHttpError, type QlikErrorEntry } from './errors.js';

/**
 * Request validation as Qlik does it: every problem of a body is reported in one answer, with a
 * JSON pointer to the offending value, and a request with any problem changes nothing.
 */

type Problem = Omit<QlikErrorEntry, 'status'>;

const MAX_HOST_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

/**
 * Why a `validOrigins` entry is not one Qlik accepts, or `undefined` when it is.
 * Qlik wants exactly `scheme://host[:port]`: it does not support wildcards and rejects paths,
 * queries, fragments and user info; the entry is stored as given (no normalisation).
 */
export function originProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `an origin must be a string, got ${describeType(value)}`;
  if (value.length === 0) return 'an origin must not be empty';
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'an origin must not contain white space or control characters';
  if (value.includes('*')) return 'wildcard origins are not supported';
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value);
  if (!schemeMatch) return 'an origin must have the form scheme://host[:port]';
  const scheme = schemeMatch[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return `scheme "${scheme}" is not allowed; use http or https`;
  const authorityAndRest = value.slice(schemeMatch[0].length);
  const end = authorityAndRest.search(/[/?#\\]/);
  const authority = end === -1 ? authorityAndRest : authorityAndRest.slice(0, end);
  if (end !== -1) {
    const kind = { '/': 'a path', '?': 'a query', '#': 'a fragment', '\\': 'a path' }[authorityAndRest[end]!];
    return `an origin must not contain ${kind} ("${authorityAndRest.slice(end)}")`;
  }
  if (authority.includes('@')) return 'an origin must not contain user info';
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (!hostPort) return 'an origin must have the form scheme://host[:port]';
  const [, host = '', port] = hostPort;
  if (port !== undefined) {
    const portNumber = Number(port);
    // No leading zeros: a browser never sends ":080", so such an entry could never match an Origin.
    if (!/^[1-9]\d{0,4}$/.test(port) || portNumber > 65_535) {
      return `port "${port}" is not a number from 1 to 65535 (without leading zeros)`;
    }
  }
  return hostProblem(host);
}

function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'an origin must name a host';
  if (host.startsWith('[')) {
    // Zone ids ("%eth0") name an interface of one machine: never a browser origin.
    const address = host.slice(1, -1);
    return isIPv6(address) && !address.includes('%') ? undefined : `"${host}" is not an IPv6 address`;
  }
  if (isIPv4(host)) return undefined;
  // A host whose last label is a number can only be an IPv4 address, and this one is not.
  if (/(^|\.)\d+$/.test(host)) return `"${host}" is not a valid IPv4 address or host name`;
  if (/[^\x00-\x7f]/.test(host)) return `host "${host}" must be ASCII; write an international name as punycode (xn--)`;
  if (host.length > MAX_HOST_LENGTH) return `host is longer than ${MAX_HOST_LENGTH} characters`;
  const labels = host.split('.');
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) return `host label "${label.slice(0, 20)}…" is longer than ${MAX_LABEL_LENGTH} characters`;
    if (!HOST_LABEL.test(label)) return `host "${host}" is not a valid host name`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function originProblems(value: unknown, pointer: string): Problem[] {
  if (!Array.isArray(value)) {
    return [invalidValue(pointer, `validOrigins must be an array of strings, got ${describeType(value)}`)];
  }
  return value.flatMap((entry, index) => {
    const problem = originProblem(entry);
    return problem === undefined ? [] : [invalidValue(`${pointer}/${index}`, `${JSON.stringify(entry)}: ${problem}`)];
  });
}

function nameProblem(value: unknown, pointer: string): Problem | undefined {
  if (typeof value !== 'string') return invalidValue(pointer, `name must be a string, got ${describeType(value)}`);
  if (value.length === 0) return invalidValue(pointer, 'name must not be empty');
  return undefined;
}

function invalidValue(pointer: string, detail: string): Problem {
  return { code: 'WEBINTEGRATIONS-6', title: 'Invalid property value.', detail, source: { pointer } };
}

function invalidPatch(pointer: string, detail: string): Problem {
  return { code: 'WEBINTEGRATIONS-4', title: 'Invalid PATCH operation.', detail, source: { pointer } };
}

function reject(problems: Problem[]): never {
  throw new EmulatorHttpError(400, problems);
}

export interface CreateRequest {
  name: string;
  validOrigins: string[];
}

/** Validates a POST body; throws a 400 listing every problem. */
export function parseCreateRequest(body: unknown): CreateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    reject([invalidValue('', `the body must be a JSON object, got ${describeType(body)}`)]);
  }
  const { name, validOrigins } = body as Record<string, unknown>;
  const problems: Problem[] = [];
  if (name === undefined) {
    problems.push({ code: 'WEBINTEGRATIONS-5', title: 'Missing required fields.', detail: 'name is required', source: { pointer: '/name' } });
  } else {
    const problem = nameProblem(name, '/name');
    if (problem) problems.push(problem);
  }
  if (validOrigins !== undefined) problems.push(...originProblems(validOrigins, '/validOrigins'));
  if (problems.length > 0) reject(problems);
  return { name: name as string, validOrigins: (validOrigins as string[] | undefined) ?? [] };
}

export type PatchChange = { path: '/name'; value: string } | { path: '/validOrigins'; value: string[] };

/**
 * Validates a PATCH document: a JSON array of `{op: "replace", path: "/name" | "/validOrigins", value}`.
 * The seed types `value` as a string while clients send an array for `/validOrigins`, so a string
 * holding a JSON array is accepted too.
 */
export function parsePatchRequest(body: unknown): PatchChange[] {
  if (!Array.isArray(body)) reject([invalidPatch('', `the body must be a JSON array of operations, got ${describeType(body)}`)]);
  if (body.length === 0) reject([invalidPatch('', 'the body must hold at least one operation')]);
  const problems: Problem[] = [];
  const changes: PatchChange[] = [];
  body.forEach((operation: unknown, index) => {
    const at = `/${index}`;
    if (typeof operation !== 'object' || operation === null || Array.isArray(operation)) {
      problems.push(invalidPatch(at, `operation ${index} must be an object`));
      return;
    }
    const { op, path, value } = operation as Record<string, unknown>;
    if (op !== 'replace') {
      problems.push(invalidPatch(`${at}/op`, `op ${JSON.stringify(op ?? null)} is not supported; only "replace" is`));
      return;
    }
    if (!('value' in operation)) {
      problems.push(invalidPatch(`${at}/value`, 'value is required'));
      return;
    }
    if (path === '/name') {
      const problem = nameProblem(value, `${at}/value`);
      if (problem) problems.push(problem);
      else changes.push({ path, value: value as string });
    } else if (path === '/validOrigins') {
      const origins = typeof value === 'string' ? parseJsonArray(value) : value;
      const originErrors = originProblems(origins, `${at}/value`);
      if (originErrors.length > 0) problems.push(...originErrors);
      else changes.push({ path, value: origins as string[] });
    } else {
      problems.push(invalidPatch(`${at}/path`, `path ${JSON.stringify(path ?? null)} is not supported; use "/name" or "/validOrigins"`));
    }
  });
  if (problems.length > 0) reject(problems);
  return changes;
}

function parseJsonArray(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

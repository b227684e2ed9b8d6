/**
 * parseTenantSecret: the two accepted shapes, and for every refusal a message that names the
 * secret and never carries a value from it.
 */
import { describe, expect, it } from 'vitest';
import { CredentialsError, parseTenantSecret } from '../../functions/credentials/tenantSecret.js';

const SECRET_ID = 'qlik/acme-tenant';
const SECRET_VALUE = 'SUPER-SECRET-123';
const OTHER_VALUE = 'ALSO-SECRET-456';

/** Everything a refusal could show a person or a log: message, stack, causes, own fields. */
function everythingShown(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (current instanceof Error) {
      parts.push(String(current), current.message, current.stack ?? '', JSON.stringify(current));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

function refusal(secretString: string | undefined): CredentialsError {
  try {
    parseTenantSecret(SECRET_ID, secretString);
  } catch (error) {
    expect(error).toBeInstanceOf(CredentialsError);
    return error as CredentialsError;
  }
  throw new Error(`expected ${JSON.stringify(secretString)} to be refused`);
}

describe('Function: parseTenantSecret()', () => {
  it('accepts an API key', () => {
    expect(parseTenantSecret(SECRET_ID, JSON.stringify({ apiKey: SECRET_VALUE }))).toEqual({ apiKey: SECRET_VALUE });
  });

  it('accepts OAuth2 client credentials', () => {
    expect(parseTenantSecret(SECRET_ID, JSON.stringify({ clientId: 'client-1', clientSecret: SECRET_VALUE }))).toEqual({
      clientId: 'client-1',
      clientSecret: SECRET_VALUE,
    });
  });

  const refused: [string, string | undefined][] = [
    ['undefined (a binary secret)', undefined],
    ['an empty string', ''],
    ['only white space', '   \n'],
    ['text that is not JSON', SECRET_VALUE],
    ['JSON cut short', `{"apiKey": "${SECRET_VALUE}"`],
    ['a JSON string', JSON.stringify(SECRET_VALUE)],
    ['a JSON number', '123456789'],
    ['null', 'null'],
    ['an array', JSON.stringify([SECRET_VALUE])],
    ['an array of objects', JSON.stringify([{ apiKey: SECRET_VALUE }])],
    ['an empty object', '{}'],
    ['an empty API key', JSON.stringify({ apiKey: '' })],
    ['a blank API key', JSON.stringify({ apiKey: '   ' })],
    ['a numeric API key', JSON.stringify({ apiKey: 123456789 })],
    ['an API key and a client id', JSON.stringify({ apiKey: SECRET_VALUE, clientId: OTHER_VALUE })],
    ['a client id alone', JSON.stringify({ clientId: SECRET_VALUE })],
    ['a client secret alone', JSON.stringify({ clientSecret: SECRET_VALUE })],
    ['a client id and an empty client secret', JSON.stringify({ clientId: SECRET_VALUE, clientSecret: '' })],
    ['all three fields', JSON.stringify({ apiKey: SECRET_VALUE, clientId: OTHER_VALUE, clientSecret: SECRET_VALUE })],
    ['an API key with an extra field', JSON.stringify({ apiKey: SECRET_VALUE, region: OTHER_VALUE })],
    ['client credentials with an extra field', JSON.stringify({ clientId: OTHER_VALUE, clientSecret: SECRET_VALUE, scope: 'admin' })],
  ];

  it.each(refused)('refuses %s, naming the secret and not its value', (_, secretString) => {
    // Act
    const error = refusal(secretString);

    // Assess
    expect(error.secretId).toBe(SECRET_ID);
    expect(error.message).toContain(`"${SECRET_ID}"`);
    const shown = everythingShown(error);
    expect(shown).not.toContain(SECRET_VALUE);
    expect(shown).not.toContain(OTHER_VALUE);
    expect(shown).not.toContain('123456789');
  });

  it('says which fields it found, by name only', () => {
    // Act
    const error = refusal(JSON.stringify({ apiKey: SECRET_VALUE, clientId: OTHER_VALUE }));

    // Assess
    expect(error.message).toContain('"apiKey"');
    expect(error.message).toContain('"clientId"');
  });

  it('tells an unreadable secret from a badly shaped one', () => {
    expect(refusal('').message).toMatch(/empty/);
    expect(refusal(SECRET_VALUE).message).toMatch(/not JSON/);
    expect(refusal('{}').message).toMatch(/no fields/);
  });
});

import { generateApiKeyToken, parseApiKeyToken } from '../modules/api-keys/api-key-token';
import { checkPassword } from '../modules/iam/password-policy';
import { slugify } from '../modules/tenancy/slug';
import { FieldErrors, requireUuid } from './errors/validation';
import { redactValues } from './graphql/format-error';
import { decodeCursor, encodeCursor, parsePageRequest, toPage } from './pagination/cursor';

describe('cursor pagination', () => {
  it('round-trips a keyset cursor and rejects garbage', () => {
    const cursor = { createdAt: '2026-11-28T10:00:00.123Z', id: 'abc' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(() => decodeCursor('garbage')).toThrow(/after is not a valid cursor/);
  });

  it('caps first at 100 and defaults to 20', () => {
    expect(parsePageRequest(undefined, undefined).first).toBe(20);
    expect(() => parsePageRequest(101, undefined)).toThrow(/first must be between 1 and 100/);
    expect(() => parsePageRequest(0, undefined)).toThrow();
  });

  it('detects the next page from the extra row', () => {
    const rows = [1, 2, 3].map((i) => ({ id: `r${i}`, createdAt: new Date(i * 1000) }));
    const page = toPage(rows, { first: 2 }, 3);
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.pageInfo.endCursor).toBe(page.edges[1].cursor);
  });
});

describe('API key tokens', () => {
  it('generates lk_<prefix>_<secret> that parses back; malformed tokens do not', () => {
    const { token, prefix, secret } = generateApiKeyToken();
    expect(parseApiKeyToken(token)).toEqual({ prefix, secret });
    expect(parseApiKeyToken('lk_short_x')).toBeNull();
    expect(parseApiKeyToken(`${token}x`)).toBeNull();
  });
});

describe('password policy', () => {
  const check = (password: string, email?: string) => {
    const errors = new FieldErrors();
    checkPassword(errors, 'password', password, email);
    try {
      errors.throwIfAny();
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  };
  it('wants 12+ characters, not repetitive, without the email name', () => {
    expect(check('short')).toMatch(/at least 12/);
    expect(check('aaaaaaaaaaaaaa')).toMatch(/repetitive/);
    expect(check('marie.curie-2026!', 'marie.curie@example.fr')).toMatch(/email/);
    expect(check('correct horse battery staple')).toBeNull();
  });
});

describe('small helpers', () => {
  it('slugifies accents and punctuation', () => {
    expect(slugify("Hôpital Saint-Éloi d'Alès")).toBe('hopital-saint-eloi-d-ales');
    expect(slugify('!!!')).toBe('tenant');
  });

  it('validates UUIDs', () => {
    expect(requireUuid('5B0C4F4E-8A0E-4F7E-9D1C-2F3A4B5C6D7E')).toBe('5b0c4f4e-8a0e-4f7e-9d1c-2f3a4b5c6d7e');
    expect(() => requireUuid('1', 'membershipId')).toThrow(/membershipId must be a UUID/);
  });

  it('cuts submitted values out of variable coercion messages', () => {
    expect(redactValues('Variable "$input" got invalid value "hunter2hunter2" at "input.password"; String cannot represent a non string value: "hunter2hunter2"')).toBe(
      'Variable "$input" got an invalid value at "input.password"; String cannot represent a non string value',
    );
    expect(redactValues('Cannot query field "x" on type "Query".')).toBe('Cannot query field "x" on type "Query".');
  });
});

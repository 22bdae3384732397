import { createHash, randomBytes } from 'node:crypto';

const TOKEN_PATTERN = /^lk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface ApiKeyToken {
  prefix: string;
  secret: string;
}

/** `lk_<prefix>_<secret>`: the prefix is public and indexed; only SHA-256(secret) is stored. */
export function generateApiKeyToken(): ApiKeyToken & { token: string; secretHash: Buffer } {
  const bytes = randomBytes(12);
  const prefix = Array.from(bytes, (b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, token: `lk_${prefix}_${secret}`, secretHash: createHash('sha256').update(secret).digest() };
}

export function parseApiKeyToken(token: string): ApiKeyToken | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { prefix: match[1], secret: match[2] } : null;
}

import { createHmac } from 'node:crypto';

/**
 * Replaces a personal identifier by a keyed HMAC-SHA256: the same value gives the same pseudonym
 * within a tenant (joins across datasets still work), a different one in another tenant, and the
 * value cannot be recovered or confirmed without the tenant's key.
 */
export class Pseudonymizer {
  constructor(private readonly key: Buffer) {}

  pseudonymize(value: string): string {
    if (value === '') return value;
    return `pii_${createHmac('sha256', this.key).update(value, 'utf8').digest('base64url').slice(0, 27)}`;
  }
}

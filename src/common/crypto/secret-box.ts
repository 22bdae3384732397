import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals short secrets (TOTP seeds) under the master key ring with AES-256-GCM. The purpose string
 * is bound as associated data, so a sealed value cannot be moved to another row or use.
 * Format: v1.<keyId>.<iv>.<ciphertext>.<tag> (base64url parts).
 */
export class SecretBox {
  constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly activeKeyId: string,
  ) {}

  seal(plaintext: string, purpose: string): string {
    const key = this.keys.get(this.activeKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.activeKeyId, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** False for a value sealed under an older key of the ring, which should be sealed again. */
  isSealedWithActiveKey(sealed: string): boolean {
    return sealed.split('.')[1] === this.activeKeyId;
  }

  open(sealed: string, purpose: string): string {
    const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
    const key = this.keys.get(keyId);
    if (version !== 'v1' || !key) throw new Error('Sealed secret uses an unknown format or key');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(purpose));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

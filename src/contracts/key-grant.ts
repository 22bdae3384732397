import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Key material handed to a GPU worker travels through Redis sealed under the master key ring
 * (AES-256-GCM, bound to a context string). Redis never holds a usable key; the worker opens a
 * grant with the master keys of its own configuration (a KMS in production).
 */
export interface SealedGrant {
  masterKeyId: string;
  /** base64url of iv(12) ‖ ciphertext ‖ tag(16) */
  sealed: string;
}

export function sealGrant(masterKeyId: string, masterKey: Buffer, plaintext: Buffer, context: string): SealedGrant {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(`lutece-grant:${context}`));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { masterKeyId, sealed: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url') };
}

export function openGrant(masterKeys: Map<string, Buffer>, grant: SealedGrant, context: string): Buffer {
  const masterKey = masterKeys.get(grant.masterKeyId);
  if (!masterKey) throw new Error(`master key "${grant.masterKeyId}" is not configured`);
  const bytes = Buffer.from(grant.sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(`lutece-grant:${context}`));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

/** What a worker needs to read one object: its secret and the tenant keys of every generation. */
export interface ObjectReadKeys {
  objectSecret: Buffer;
  tenantKeys: Map<number, Buffer>;
}

export function sealReadKeys(masterKeyId: string, masterKey: Buffer, keys: ObjectReadKeys, objectId: string): SealedGrant {
  const json = JSON.stringify({
    objectSecret: keys.objectSecret.toString('base64'),
    tenantKeys: Object.fromEntries([...keys.tenantKeys].map(([generation, key]) => [generation, key.toString('base64')])),
  });
  return sealGrant(masterKeyId, masterKey, Buffer.from(json), `read:${objectId}`);
}

export function openReadKeys(masterKeys: Map<string, Buffer>, grant: SealedGrant, objectId: string): ObjectReadKeys {
  const parsed = JSON.parse(openGrant(masterKeys, grant, `read:${objectId}`).toString('utf8')) as { objectSecret: string; tenantKeys: Record<string, string> };
  return {
    objectSecret: Buffer.from(parsed.objectSecret, 'base64'),
    tenantKeys: new Map(Object.entries(parsed.tenantKeys).map(([generation, key]) => [Number(generation), Buffer.from(key, 'base64')])),
  };
}

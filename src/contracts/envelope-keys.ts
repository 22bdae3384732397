import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { EnvelopeHeader, EnvelopeIntegrityError, EnvelopeUsageError, isBase64Url, TAG_LENGTH, WRAPPED_KEY_LENGTH } from './envelope-format';

/**
 * The key hierarchy: master key (configuration / KMS) wraps a tenant key per generation; the tenant
 * key and a per-object secret kept only in PostgreSQL derive the object's key-encryption key
 * (KEK); the KEK wraps the object's random data key, which sits in the envelope header. Deleting
 * the object secret, or every generation of a tenant key, makes the stored bytes unreadable.
 */

export const KEY_LENGTH = 32;
const IV_LENGTH = 12;

/** Binds a wrapped data key to one object, so it cannot be transplanted into another object's header. */
export interface DataKeyContext {
  tenantId: string;
  objectId: string;
}

export interface TenantKeyContext {
  tenantId: string;
  /** Any safe integer: callers encode key purposes in its sign. */
  generation: number;
}

export interface ObjectKekContext {
  tenantId: string;
  objectId: string;
  keyGeneration: number;
}

export function requireKey(key: Buffer, what: string): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_LENGTH) throw new EnvelopeUsageError(`${what} must be ${KEY_LENGTH} bytes`);
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_LENGTH);
}

export function generateObjectSecret(): Buffer {
  return randomBytes(KEY_LENGTH);
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: Buffer): Buffer | undefined {
  if (typeof sealed !== 'string' || !isBase64Url(sealed, WRAPPED_KEY_LENGTH)) return undefined;
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_LENGTH));
  const plaintext = decipher.update(bytes.subarray(IV_LENGTH, bytes.length - TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return undefined;
  }
  return plaintext;
}

function contextString(label: string, values: unknown[]): Buffer {
  // JSON of an array is an unambiguous encoding of several strings (no delimiter injection).
  return Buffer.from(`${label}\0${JSON.stringify(values)}`, 'utf8');
}

function dataKeyAad(context: DataKeyContext): Buffer {
  const { tenantId, objectId } = context;
  if (typeof tenantId !== 'string' || typeof objectId !== 'string') throw new EnvelopeUsageError('data key context needs tenantId and objectId');
  return contextString('lutece.envelope.data-key.v1', [tenantId, objectId]);
}

function tenantKeyAad(context: TenantKeyContext): Buffer {
  if (typeof context.tenantId !== 'string' || !Number.isSafeInteger(context.generation)) {
    throw new EnvelopeUsageError('tenant key context needs tenantId and an integer generation');
  }
  return contextString('lutece.tenant-key.v1', [context.tenantId, context.generation]);
}

/**
 * Wraps an object's data key, bound to the object's identity (an EnvelopeHeader can be passed as
 * the context). keyGeneration and masterKeyId are deliberately left out so that a rotation only
 * needs the object's identity; they are authenticated only through the KEK the resolver derives
 * from them (deriveObjectKek binds keyGeneration), so a resolver must not trust them further.
 */
export function wrapDataKey(kek: Buffer, dataKey: Buffer, context: DataKeyContext): string {
  requireKey(kek, 'key-encryption key');
  requireKey(dataKey, 'data key');
  return seal(kek, dataKey, dataKeyAad(context));
}

export function unwrapDataKey(kek: Buffer, wrapped: string, context: DataKeyContext): Buffer {
  requireKey(kek, 'key-encryption key');
  const dataKey = open(kek, wrapped, dataKeyAad(context));
  if (!dataKey) throw new EnvelopeIntegrityError('data-key', 'the data key does not unwrap with this key-encryption key and header');
  return dataKey;
}

/**
 * Builds the header a rotation writes: same object and segments, data key re-wrapped under the
 * new KEK. Meant as the body of createRewrapStream's callback.
 */
export function rewrapEnvelopeHeader(
  header: EnvelopeHeader,
  keys: { oldKek: Buffer; newKek: Buffer; keyGeneration: number; masterKeyId: string },
): EnvelopeHeader {
  const dataKey = unwrapDataKey(keys.oldKek, header.wrappedDataKey, header);
  try {
    return { ...header, keyGeneration: keys.keyGeneration, masterKeyId: keys.masterKeyId, wrappedDataKey: wrapDataKey(keys.newKek, dataKey, header) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The per-object KEK. Both secrets feed the HKDF input keying material, so the result stays
 * unpredictable without either one: a leaked database alone does not reveal it, and a leaked
 * tenant key after the object secret is deleted does not bring it back.
 */
export function deriveObjectKek(tenantKey: Buffer, objectSecret: Buffer, context: ObjectKekContext): Buffer {
  requireKey(tenantKey, 'tenant key');
  if (!Buffer.isBuffer(objectSecret) || objectSecret.length < KEY_LENGTH) throw new EnvelopeUsageError(`object secret must be at least ${KEY_LENGTH} bytes`);
  const { tenantId, objectId, keyGeneration } = context;
  if (typeof tenantId !== 'string' || typeof objectId !== 'string' || !Number.isSafeInteger(keyGeneration)) {
    throw new EnvelopeUsageError('object KEK context needs tenantId, objectId and an integer keyGeneration');
  }
  // The tenant key has a fixed length, so the concatenation cannot be split two ways.
  const ikm = Buffer.concat([tenantKey, objectSecret]);
  try {
    const info = contextString('lutece.object-kek.v1', [tenantId, objectId, keyGeneration]);
    return Buffer.from(hkdfSync('sha256', ikm, 'lutece.object-kek.v1', info, KEY_LENGTH));
  } finally {
    ikm.fill(0);
  }
}

export function wrapTenantKey(masterKey: Buffer, tenantKey: Buffer, context: TenantKeyContext): string {
  requireKey(masterKey, 'master key');
  requireKey(tenantKey, 'tenant key');
  return seal(masterKey, tenantKey, tenantKeyAad(context));
}

export function unwrapTenantKey(masterKey: Buffer, wrapped: string, context: TenantKeyContext): Buffer {
  requireKey(masterKey, 'master key');
  const tenantKey = open(masterKey, wrapped, tenantKeyAad(context));
  if (!tenantKey) throw new EnvelopeIntegrityError('tenant-key', 'the tenant key does not unwrap with this master key, tenant and generation');
  return tenantKey;
}

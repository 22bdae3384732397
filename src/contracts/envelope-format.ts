import { createHash } from 'node:crypto';

/**
 * The byte layout of an envelope, shared by the api and the GPU worker. Plain TypeScript that
 * imports only node:*, because the worker must not pull in Nest or TypeORM.
 *
 *   "LUTC" | format version (u8) | header length (u32 BE) | header JSON | segment 0 | segment 1 | …
 *
 * A segment is AES-256-GCM ciphertext followed by its 16-byte tag. Every segment but the last holds
 * exactly `segmentSize` plaintext bytes; the last holds fewer (possibly none). An object whose size
 * is a multiple of `segmentSize` therefore ends with an empty final segment, which lets a reader
 * decrypt any full-length segment as soon as it arrives without peeking ahead for the end.
 */

export const ENVELOPE_MAGIC = Buffer.from('LUTC', 'ascii');
export const ENVELOPE_FORMAT_VERSION = 1;
export const DEFAULT_SEGMENT_SIZE = 65536;
/** Caps what a reader buffers before a segment authenticates, since segmentSize comes from untrusted bytes. */
export const MAX_SEGMENT_SIZE = 8 * 1024 * 1024;
export const MAX_HEADER_LENGTH = 64 * 1024;
export const TAG_LENGTH = 16;
export const NONCE_PREFIX_LENGTH = 7;
/** Magic, version byte and header length. */
export const PREFIX_LENGTH = ENVELOPE_MAGIC.length + 1 + 4;
/** Index travels as a u32 in the nonce; going past it would repeat nonces. */
export const MAX_SEGMENT_INDEX = 0xffffffff;

export interface EnvelopeHeader {
  version: 1;
  tenantId: string;
  objectId: string;
  keyGeneration: number;
  masterKeyId: string;
  /** base64url of iv(12) | ciphertext(32) | tag(16). */
  wrappedDataKey: string;
  /** base64url of 7 random bytes. */
  noncePrefix: string;
  /** Plaintext bytes per segment. */
  segmentSize: number;
}

/** The header fields a key rotation may not change, because the segments are bound to them. */
export const STABLE_HEADER_FIELDS = ['version', 'tenantId', 'objectId', 'segmentSize', 'noncePrefix'] as const;

const HEADER_KEYS = ['version', 'tenantId', 'objectId', 'keyGeneration', 'masterKeyId', 'wrappedDataKey', 'noncePrefix', 'segmentSize'];
export const WRAPPED_KEY_LENGTH = 12 + 32 + TAG_LENGTH;

export type EnvelopeIntegrityReason =
  | 'header' // not a well-formed envelope header
  | 'unexpected-object' // a valid envelope, but of another tenant or object than the caller expected
  | 'data-key' // the wrapped data key does not open: wrong key-encryption key, or a tampered header
  | 'tenant-key' // a wrapped tenant key does not open under this master key, tenant and generation
  | 'segment' // a segment failed authentication: tampered, reordered, transplanted, or cut short
  | 'truncated'; // the bytes end before the final segment

/**
 * Raised for anything that makes stored bytes untrustworthy. Messages are fixed phrases plus
 * segment indexes, so logging one can never leak key material, plaintext or another tenant's ids.
 */
export class EnvelopeIntegrityError extends Error {
  override readonly name = 'EnvelopeIntegrityError';
  constructor(
    readonly reason: EnvelopeIntegrityReason,
    message: string,
  ) {
    super(message);
  }
}

/** Raised for a caller's mistake (bad key length, invalid header input, a rewrap touching stable fields). */
export class EnvelopeUsageError extends Error {
  override readonly name = 'EnvelopeUsageError';
}

export function isBase64Url(value: string, byteLength: number): boolean {
  // Buffer.from(…, 'base64url') silently skips foreign characters, so only a strict round trip proves the value.
  return /^[A-Za-z0-9_-]*$/.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value && Buffer.from(value, 'base64url').length === byteLength;
}

/** Describes what is wrong with a would-be header, or returns undefined when it is valid. */
export function headerProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'header is not an object';
  const keys = Object.keys(value);
  if (keys.length !== HEADER_KEYS.length || keys.some((key, i) => key !== HEADER_KEYS[i])) return 'header fields are not the expected ones';
  const header = value as Record<string, unknown>;
  if (header.version !== ENVELOPE_FORMAT_VERSION) return 'unsupported header version';
  for (const field of ['tenantId', 'objectId', 'masterKeyId']) {
    if (typeof header[field] !== 'string' || (header[field] as string).length === 0) return `${field} must be a non-empty string`;
  }
  if (!Number.isSafeInteger(header.keyGeneration) || (header.keyGeneration as number) < 0) return 'keyGeneration must be a non-negative integer';
  if (typeof header.wrappedDataKey !== 'string' || !isBase64Url(header.wrappedDataKey, WRAPPED_KEY_LENGTH)) return 'wrappedDataKey is malformed';
  if (typeof header.noncePrefix !== 'string' || !isBase64Url(header.noncePrefix, NONCE_PREFIX_LENGTH)) return 'noncePrefix is malformed';
  const size = header.segmentSize;
  if (!Number.isSafeInteger(size) || (size as number) < 1 || (size as number) > MAX_SEGMENT_SIZE) return `segmentSize must be an integer in [1, ${MAX_SEGMENT_SIZE}]`;
  return undefined;
}

function headerJson(header: EnvelopeHeader): Buffer {
  const { version, tenantId, objectId, keyGeneration, masterKeyId, wrappedDataKey, noncePrefix, segmentSize } = header;
  return Buffer.from(JSON.stringify({ version, tenantId, objectId, keyGeneration, masterKeyId, wrappedDataKey, noncePrefix, segmentSize }), 'utf8');
}

/** The full prefix of an envelope: magic, version, length and header JSON. */
export function encodeEnvelopeHeader(header: EnvelopeHeader): Buffer {
  const problem = headerProblem(header);
  if (problem) throw new EnvelopeUsageError(`invalid envelope header: ${problem}`);
  const json = headerJson(header);
  if (json.length > MAX_HEADER_LENGTH) throw new EnvelopeUsageError('envelope header is too long');
  const prefix = Buffer.alloc(PREFIX_LENGTH);
  ENVELOPE_MAGIC.copy(prefix, 0);
  prefix.writeUInt8(ENVELOPE_FORMAT_VERSION, ENVELOPE_MAGIC.length);
  prefix.writeUInt32BE(json.length, ENVELOPE_MAGIC.length + 1);
  return Buffer.concat([prefix, json]);
}

/** Returns the header JSON length, or throws if the fixed prefix is not ours. */
export function checkPrefix(prefix: Buffer): number {
  if (!prefix.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) throw new EnvelopeIntegrityError('header', 'not a Lutece envelope');
  if (prefix[ENVELOPE_MAGIC.length] !== ENVELOPE_FORMAT_VERSION) throw new EnvelopeIntegrityError('header', 'unsupported envelope format version');
  const length = prefix.readUInt32BE(ENVELOPE_MAGIC.length + 1);
  if (length < 2 || length > MAX_HEADER_LENGTH) throw new EnvelopeIntegrityError('header', 'envelope header length is out of range');
  return length;
}

/**
 * Parses header JSON. Only the canonical encoding is accepted: cryptography authenticates the
 * header's values (stable fields through the segments, identity through the wrapped key), and
 * canonical bytes leave nothing else free to vary.
 */
export function decodeHeaderJson(json: Buffer): EnvelopeHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new EnvelopeIntegrityError('header', 'envelope header is not valid JSON');
  }
  if (headerProblem(parsed)) throw new EnvelopeIntegrityError('header', 'envelope header has an invalid shape');
  const header = parsed as EnvelopeHeader;
  if (!headerJson(header).equals(json)) throw new EnvelopeIntegrityError('header', 'envelope header is not canonically encoded');
  return header;
}

/**
 * Associated data of every segment. Only the stable fields: a rotation rewrites keyGeneration,
 * masterKeyId and wrappedDataKey, and must be able to copy the segments byte for byte.
 */
export function segmentAad(header: EnvelopeHeader): Buffer {
  const stable = STABLE_HEADER_FIELDS.map((field) => header[field]);
  return createHash('sha256').update(`lutece.envelope.segment.v1\0${JSON.stringify(stable)}`, 'utf8').digest();
}

/** The index and the last-segment flag in the nonce are what make reordering and truncation detectable. */
export function segmentNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0, 0, NONCE_PREFIX_LENGTH);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * A FIFO of byte chunks. Readers slice exact segment lengths out of arbitrarily chunked input
 * without concatenating everything received so far.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private first = 0;
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(n: number): Buffer {
    return this.read(n, false);
  }

  take(n: number): Buffer {
    return this.read(n, true);
  }

  private read(n: number, consume: boolean): Buffer {
    if (n > this.length) throw new RangeError('ByteQueue underflow');
    if (n === 0) return Buffer.alloc(0);
    let first = this.first;
    let offset = this.offset;
    let out: Buffer;
    const head = this.chunks[first];
    if (head.length - offset >= n) {
      out = head.subarray(offset, offset + n);
      offset += n;
      if (offset === head.length) [first, offset] = [first + 1, 0];
    } else {
      out = Buffer.allocUnsafe(n);
      for (let filled = 0; filled < n; ) {
        const chunk = this.chunks[first];
        const count = Math.min(chunk.length - offset, n - filled);
        chunk.copy(out, filled, offset, offset + count);
        filled += count;
        offset += count;
        if (offset === chunk.length) [first, offset] = [first + 1, 0];
      }
    }
    if (consume) {
      this.first = first;
      this.offset = offset;
      this.length -= n;
      // Compacts lazily so that many tiny chunks cost linear, not quadratic, time.
      if (this.first > 64 && this.first * 2 > this.chunks.length) {
        this.chunks = this.chunks.slice(this.first);
        this.first = 0;
      }
    }
    return out;
  }
}

/** Consumes a complete header from the queue, or returns undefined while more bytes are needed. */
export function takeHeader(queue: ByteQueue): EnvelopeHeader | undefined {
  if (queue.length < PREFIX_LENGTH) return undefined;
  const length = checkPrefix(queue.peek(PREFIX_LENGTH));
  if (queue.length < PREFIX_LENGTH + length) return undefined;
  queue.take(PREFIX_LENGTH);
  return decodeHeaderJson(queue.take(length));
}

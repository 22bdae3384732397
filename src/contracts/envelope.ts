import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  ByteQueue,
  checkPrefix,
  DEFAULT_SEGMENT_SIZE,
  encodeEnvelopeHeader,
  EnvelopeHeader,
  EnvelopeIntegrityError,
  EnvelopeUsageError,
  headerProblem,
  MAX_SEGMENT_INDEX,
  NONCE_PREFIX_LENGTH,
  PREFIX_LENGTH,
  segmentAad,
  segmentNonce,
  STABLE_HEADER_FIELDS,
  TAG_LENGTH,
  takeHeader,
} from './envelope-format';
import { requireKey, unwrapDataKey, wrapDataKey } from './envelope-keys';

/**
 * Streaming, segmented AES-256-GCM envelopes (layout in envelope-format.ts, keys in
 * envelope-keys.ts). Each segment authenticates on its own, so memory stays at about one segment
 * whatever the object size, and no plaintext is released before its segment's tag has verified.
 *
 * A decrypting consumer must still treat its output as provisional until the stream finishes
 * without error: a truncated or tampered envelope is only known to be bad when the bad segment
 * (or the missing final one) is reached, after earlier, authentic segments were passed on.
 */

export {
  DEFAULT_SEGMENT_SIZE,
  encodeEnvelopeHeader,
  ENVELOPE_FORMAT_VERSION,
  ENVELOPE_MAGIC,
  EnvelopeIntegrityError,
  EnvelopeUsageError,
  MAX_HEADER_LENGTH,
  MAX_SEGMENT_SIZE,
  STABLE_HEADER_FIELDS,
  TAG_LENGTH,
} from './envelope-format';
export type { EnvelopeHeader, EnvelopeIntegrityReason } from './envelope-format';
export {
  deriveObjectKek,
  generateDataKey,
  generateObjectSecret,
  rewrapEnvelopeHeader,
  unwrapDataKey,
  unwrapTenantKey,
  wrapDataKey,
  wrapTenantKey,
} from './envelope-keys';
export type { DataKeyContext, ObjectKekContext, TenantKeyContext } from './envelope-keys';

export interface EncryptStreamOptions {
  header: Omit<EnvelopeHeader, 'version' | 'wrappedDataKey' | 'noncePrefix' | 'segmentSize'> & { segmentSize?: number };
  /** A fresh random key per object (generateDataKey): nonces are only unique per data key. */
  dataKey: Buffer;
  kek: Buffer;
}

export interface DecryptStreamOptions {
  /**
   * Called once with the parsed, not yet authenticated header. Resolve the KEK from the caller's
   * own context where possible rather than trusting header.tenantId; throwing aborts the stream
   * with that error (e.g. the object secret was shredded).
   */
  resolveKek: (header: EnvelopeHeader) => Buffer | Promise<Buffer>;
  /** Refuses a valid envelope of another tenant or object, such as one copied over the expected key. */
  expect?: { tenantId?: string; objectId?: string };
}

export interface RewrapStreamOptions {
  /** Returns the new header (see rewrapEnvelopeHeader); stable fields must be unchanged. */
  rewrap: (header: EnvelopeHeader) => EnvelopeHeader | Promise<EnvelopeHeader>;
}

export interface EnvelopeHeaderInfo {
  header: EnvelopeHeader;
  /** Where the first segment starts. */
  payloadOffset: number;
}

function sealedLength(header: EnvelopeHeader): number {
  return header.segmentSize + TAG_LENGTH;
}

/** Holds the per-object cipher state shared by encryption and decryption. */
class SegmentCipher {
  private index = 0;
  private readonly aad: Buffer;
  private readonly noncePrefix: Buffer;

  constructor(
    header: EnvelopeHeader,
    private readonly dataKey: Buffer,
  ) {
    this.aad = segmentAad(header);
    this.noncePrefix = Buffer.from(header.noncePrefix, 'base64url');
  }

  seal(plaintext: Buffer, last: boolean): Buffer[] {
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, this.nextNonce(last), { authTagLength: TAG_LENGTH });
    cipher.setAAD(this.aad);
    const ciphertext = cipher.update(plaintext);
    const tail = cipher.final();
    return [ciphertext, tail, cipher.getAuthTag()].filter((part) => part.length > 0);
  }

  open(sealed: Buffer, last: boolean): Buffer {
    const index = this.index;
    const decipher = createDecipheriv('aes-256-gcm', this.dataKey, this.nextNonce(last), { authTagLength: TAG_LENGTH });
    decipher.setAAD(this.aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
    try {
      const tail = decipher.final();
      return tail.length > 0 ? Buffer.concat([plaintext, tail]) : plaintext;
    } catch {
      plaintext.fill(0);
      throw new EnvelopeIntegrityError('segment', `envelope segment ${index} failed authentication`);
    }
  }

  wipe(): void {
    this.dataKey.fill(0);
  }

  private nextNonce(last: boolean): Buffer {
    if (this.index > MAX_SEGMENT_INDEX) throw new EnvelopeIntegrityError('segment', 'envelope has too many segments');
    return segmentNonce(this.noncePrefix, this.index++, last);
  }
}

export class EnvelopeEncryptStream extends Transform {
  readonly header: EnvelopeHeader;
  private readonly prefix: Buffer;
  private readonly cipher: SegmentCipher;
  private readonly pending = new ByteQueue();
  private prefixWritten = false;

  constructor(options: EncryptStreamOptions) {
    super();
    requireKey(options.dataKey, 'data key');
    requireKey(options.kek, 'key-encryption key');
    const { tenantId, objectId, keyGeneration, masterKeyId, segmentSize = DEFAULT_SEGMENT_SIZE } = options.header;
    const draft: EnvelopeHeader = {
      version: 1,
      tenantId,
      objectId,
      keyGeneration,
      masterKeyId,
      wrappedDataKey: '',
      noncePrefix: randomBytes(NONCE_PREFIX_LENGTH).toString('base64url'),
      segmentSize,
    };
    this.header = { ...draft, wrappedDataKey: wrapDataKey(options.kek, options.dataKey, draft) };
    this.prefix = encodeEnvelopeHeader(this.header);
    this.cipher = new SegmentCipher(this.header, Buffer.from(options.dataKey));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.writePrefix();
      this.pending.push(chunk);
      // A full segment is never the final one (see envelope-format.ts), so it can go out at once.
      while (this.pending.length >= this.header.segmentSize) this.pushAll(this.cipher.seal(this.pending.take(this.header.segmentSize), false));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.writePrefix();
      this.pushAll(this.cipher.seal(this.pending.take(this.pending.length), true));
      this.cipher.wipe();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cipher.wipe();
    callback(error);
  }

  private writePrefix(): void {
    if (this.prefixWritten) return;
    this.prefixWritten = true;
    this.push(this.prefix);
  }

  private pushAll(parts: Buffer[]): void {
    for (const part of parts) this.push(part);
  }
}

export class EnvelopeDecryptStream extends Transform {
  /** Set once the header has been read and its data key unwrapped. */
  header?: EnvelopeHeader;
  private cipher?: SegmentCipher;
  private readonly pending = new ByteQueue();

  constructor(private readonly options: DecryptStreamOptions) {
    super();
    if (typeof options?.resolveKek !== 'function') throw new EnvelopeUsageError('resolveKek is required');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.advance().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.cipher || !this.header) throw new EnvelopeIntegrityError('truncated', 'envelope ends inside its header');
      if (this.pending.length < TAG_LENGTH) throw new EnvelopeIntegrityError('truncated', 'envelope ends before its final segment');
      const plaintext = this.cipher.open(this.pending.take(this.pending.length), true);
      this.cipher.wipe();
      callback(null, plaintext);
    } catch (error) {
      callback(error as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cipher?.wipe();
    callback(error);
  }

  private async advance(): Promise<void> {
    if (!this.cipher) {
      const header = takeHeader(this.pending);
      if (!header) return;
      await this.open(header);
    }
    const full = sealedLength(this.header!);
    while (this.pending.length >= full) this.push(this.cipher!.open(this.pending.take(full), false));
  }

  private async open(header: EnvelopeHeader): Promise<void> {
    const expect = this.options.expect ?? {};
    // Checked before any key is touched: someone else's object is refused whatever its keys.
    if (expect.tenantId !== undefined && expect.tenantId !== header.tenantId) {
      throw new EnvelopeIntegrityError('unexpected-object', 'envelope belongs to another tenant');
    }
    if (expect.objectId !== undefined && expect.objectId !== header.objectId) {
      throw new EnvelopeIntegrityError('unexpected-object', 'envelope belongs to another object');
    }
    const kek = await this.options.resolveKek(header);
    requireKey(kek, 'resolved key-encryption key');
    this.cipher = new SegmentCipher(header, unwrapDataKey(kek, header.wrappedDataKey, header));
    this.header = header;
  }
}

/**
 * Re-keys an envelope without decrypting it: a new header, then the segments byte for byte. The
 * segments are not authenticated here (that needs the data key); only their total length is
 * checked, so a cut-off source is not silently turned into a cut-off copy.
 */
export class EnvelopeRewrapStream extends Transform {
  private header?: EnvelopeHeader;
  private readonly pending = new ByteQueue();
  private payloadLength = 0;

  constructor(private readonly options: RewrapStreamOptions) {
    super();
    if (typeof options?.rewrap !== 'function') throw new EnvelopeUsageError('rewrap is required');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.header) {
      this.payloadLength += chunk.length;
      callback(null, chunk);
      return;
    }
    this.pending.push(chunk);
    this.replaceHeader().then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _flush(callback: TransformCallback): void {
    if (!this.header) return callback(new EnvelopeIntegrityError('truncated', 'envelope ends inside its header'));
    // Full segments plus a final one of TAG_LENGTH to sealedLength - 1 bytes.
    if (this.payloadLength % sealedLength(this.header) < TAG_LENGTH) {
      return callback(new EnvelopeIntegrityError('truncated', 'envelope payload length is not a whole number of segments'));
    }
    callback();
  }

  private async replaceHeader(): Promise<void> {
    const header = takeHeader(this.pending);
    if (!header) return;
    const next = await this.options.rewrap({ ...header });
    const problem = headerProblem(next);
    if (problem) throw new EnvelopeUsageError(`rewrap returned an invalid header: ${problem}`);
    for (const field of STABLE_HEADER_FIELDS) {
      if (next[field] !== header[field]) throw new EnvelopeUsageError(`rewrap may not change ${field}`);
    }
    this.header = next;
    this.push(encodeEnvelopeHeader(next));
    const rest = this.pending.take(this.pending.length);
    this.payloadLength += rest.length;
    if (rest.length > 0) this.push(rest);
  }
}

export function createEncryptStream(options: EncryptStreamOptions): EnvelopeEncryptStream {
  return new EnvelopeEncryptStream(options);
}

export function createDecryptStream(options: DecryptStreamOptions): EnvelopeDecryptStream {
  return new EnvelopeDecryptStream(options);
}

export function createRewrapStream(options: RewrapStreamOptions): EnvelopeRewrapStream {
  return new EnvelopeRewrapStream(options);
}

/**
 * Reads the header without any key: from a complete or leading Buffer (synchronously), or from a
 * stream, which is consumed only up to the end of the header and then released.
 */
export function readEnvelopeHeader(source: Uint8Array): EnvelopeHeaderInfo;
export function readEnvelopeHeader(source: AsyncIterable<Uint8Array | string>): Promise<EnvelopeHeaderInfo>;
export function readEnvelopeHeader(source: Uint8Array | AsyncIterable<Uint8Array | string>): EnvelopeHeaderInfo | Promise<EnvelopeHeaderInfo> {
  if (source instanceof Uint8Array) return headerFromQueue(queueOf(toBuffer(source)));
  return (async () => {
    const queue = new ByteQueue();
    for await (const chunk of source) {
      queue.push(toBuffer(chunk));
      // Leaving the loop early releases the stream: nothing past the header is read.
      if (queue.length >= PREFIX_LENGTH && queue.length >= PREFIX_LENGTH + checkPrefix(queue.peek(PREFIX_LENGTH))) break;
    }
    return headerFromQueue(queue);
  })();
}

function toBuffer(bytes: Uint8Array | string): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function queueOf(bytes: Buffer): ByteQueue {
  const queue = new ByteQueue();
  queue.push(bytes);
  return queue;
}

function headerFromQueue(queue: ByteQueue): EnvelopeHeaderInfo {
  const total = queue.length;
  const header = takeHeader(queue);
  if (!header) throw new EnvelopeIntegrityError('truncated', 'envelope ends inside its header');
  return { header, payloadOffset: total - queue.length };
}

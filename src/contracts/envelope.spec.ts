import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecryptStream,
  createEncryptStream,
  createRewrapStream,
  DEFAULT_SEGMENT_SIZE,
  deriveObjectKek,
  encodeEnvelopeHeader,
  EnvelopeHeader,
  EnvelopeIntegrityError,
  EnvelopeIntegrityReason,
  EnvelopeUsageError,
  readEnvelopeHeader,
  rewrapEnvelopeHeader,
  TAG_LENGTH,
  unwrapDataKey,
  unwrapTenantKey,
  wrapDataKey,
  wrapTenantKey,
} from './envelope';

const TENANT = 'tenant-a';
const OBJECT = 'object-1';
const MASTER_KEY_ID = 'mk-1';

/** What a strict key resolver throws for a master key it does not hold. */
class UnknownMasterKeyError extends Error {}

interface SealOptions {
  kek?: Buffer;
  dataKey?: Buffer;
  tenantId?: string;
  objectId?: string;
  keyGeneration?: number;
  segmentSize?: number;
  /** Size of the chunks fed to the encryptor. */
  chunkSize?: number;
}

interface OpenOptions {
  kek?: Buffer;
  resolveKek?: (header: EnvelopeHeader) => Buffer | Promise<Buffer>;
  expect?: { tenantId?: string; objectId?: string };
  chunkSize?: number;
}

const kek = randomBytes(32);

function chunked(bytes: Buffer, size = bytes.length || 1): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

async function through(input: Iterable<Buffer> | AsyncIterable<Buffer>, transform: Transform, received: Buffer[] = []): Promise<Buffer> {
  await pipeline(Readable.from(input), transform, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) received.push(chunk);
  });
  return Buffer.concat(received);
}

function seal(plaintext: Buffer, options: SealOptions = {}): Promise<Buffer> {
  const encryptor = createEncryptStream({
    header: {
      tenantId: options.tenantId ?? TENANT,
      objectId: options.objectId ?? OBJECT,
      keyGeneration: options.keyGeneration ?? 1,
      masterKeyId: MASTER_KEY_ID,
      segmentSize: options.segmentSize,
    },
    dataKey: options.dataKey ?? randomBytes(32),
    kek: options.kek ?? kek,
  });
  return through(chunked(plaintext, options.chunkSize), encryptor);
}

function open(envelope: Buffer, options: OpenOptions = {}, received: Buffer[] = []): Promise<Buffer> {
  const resolveKek = options.resolveKek ?? (() => options.kek ?? kek);
  return through(chunked(envelope, options.chunkSize), createDecryptStream({ resolveKek, expect: options.expect }), received);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function expectIntegrityError(promise: Promise<unknown>, reason: EnvelopeIntegrityReason): Promise<void> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(EnvelopeIntegrityError);
  expect((error as EnvelopeIntegrityError).reason).toBe(reason);
}

/** Byte ranges of the header and of each sealed segment. */
function layout(envelope: Buffer): { payloadOffset: number; header: EnvelopeHeader; segments: Array<[number, number]> } {
  const { header, payloadOffset } = readEnvelopeHeader(envelope);
  const sealed = header.segmentSize + TAG_LENGTH;
  const segments: Array<[number, number]> = [];
  let at = payloadOffset;
  while (envelope.length - at >= sealed) segments.push([at, (at += sealed)]);
  segments.push([at, envelope.length]);
  return { payloadOffset, header, segments };
}

function flipBit(bytes: Buffer, byte: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[byte] ^= 1 << bit;
  return copy;
}

describe('envelope round trips', () => {
  it.each([
    ['0 bytes', 0, 1],
    ['1 byte', 1, 1],
    ['one byte short of a segment', DEFAULT_SEGMENT_SIZE - 1, 1],
    ['exactly one segment', DEFAULT_SEGMENT_SIZE, 2],
    ['one segment and a byte', DEFAULT_SEGMENT_SIZE + 1, 2],
    ['three segments exactly', 3 * DEFAULT_SEGMENT_SIZE, 4],
  ])('%s with the default segment size', async (_label, size, segmentCount) => {
    const plaintext = randomBytes(size);
    const envelope = await seal(plaintext);

    const { header, payloadOffset, segments } = layout(envelope);
    expect(header).toMatchObject({ version: 1, tenantId: TENANT, objectId: OBJECT, keyGeneration: 1, masterKeyId: MASTER_KEY_ID, segmentSize: DEFAULT_SEGMENT_SIZE });
    expect(envelope.subarray(0, 5)).toEqual(Buffer.from('LUTC\x01', 'latin1'));
    // A full-size segment is never final, so the last one is always shorter (empty when size is a multiple).
    expect(segments).toHaveLength(segmentCount);
    expect(envelope.length - payloadOffset).toBe(size + segmentCount * TAG_LENGTH);
    await expect(open(envelope)).resolves.toEqual(plaintext);
  });

  it('round-trips many small segments whatever the chunking on either side', async () => {
    const plaintext = randomBytes(1000);
    const envelope = await seal(plaintext, { segmentSize: 13, chunkSize: 7 });
    expect(layout(envelope).segments).toHaveLength(Math.ceil(1000 / 13) + (1000 % 13 === 0 ? 1 : 0));
    for (const chunkSize of [1, 5, 29, 4096]) await expect(open(envelope, { chunkSize })).resolves.toEqual(plaintext);
    await expect(open(await seal(plaintext, { segmentSize: 13, chunkSize: 1 }), { chunkSize: 3 })).resolves.toEqual(plaintext);
  });

  it('never produces the same envelope twice, even with the same data key', async () => {
    const dataKey = randomBytes(32);
    const plaintext = Buffer.from('same bytes');
    const [a, b] = [await seal(plaintext, { dataKey }), await seal(plaintext, { dataKey })];
    expect(readEnvelopeHeader(a).header.noncePrefix).not.toBe(readEnvelopeHeader(b).header.noncePrefix);
    expect(a.equals(b)).toBe(false);
  });

  it('reads the header from a Buffer and from a stream without consuming the payload', async () => {
    const envelope = await seal(randomBytes(5000), { segmentSize: 100 });
    const fromBuffer = readEnvelopeHeader(envelope);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of chunked(envelope, 10)) {
          pulled += chunk.length;
          yield chunk;
        }
      })(),
    );
    await expect(readEnvelopeHeader(source)).resolves.toEqual(fromBuffer);
    expect(pulled).toBeLessThan(fromBuffer.payloadOffset + 100);
    expect(() => readEnvelopeHeader(envelope.subarray(0, fromBuffer.payloadOffset - 1))).toThrow(EnvelopeIntegrityError);
  });

  it('streams 64 MiB through encryption and decryption in bounded memory', async () => {
    // One immutable chunk repeated: the producer itself allocates nothing, so growth is the streams' own.
    const chunk = randomBytes(1024 * 1024);
    async function run(chunks: number, onPlaintext: (plaintext: Buffer) => void): Promise<void> {
      await pipeline(
        Readable.from((function* () {
          for (let i = 0; i < chunks; i++) yield chunk;
        })()),
        createEncryptStream({ header: { tenantId: TENANT, objectId: OBJECT, keyGeneration: 1, masterKeyId: MASTER_KEY_ID }, dataKey: randomBytes(32), kek }),
        createDecryptStream({ resolveKek: () => kek }),
        async (source: AsyncIterable<Buffer>) => {
          for await (const plaintext of source) onPlaintext(plaintext);
        },
      );
    }
    // Warms up code and heap sizing so the baseline is not taken from a cold process.
    await run(8, () => undefined);

    const total = 64;
    const expected = createHash('sha256');
    for (let i = 0; i < total; i++) expected.update(chunk);
    const receivedHash = createHash('sha256');
    let received = 0;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    await run(total, (plaintext) => {
      receivedHash.update(plaintext);
      received += plaintext.length;
      peak = Math.max(peak, process.memoryUsage().rss);
    });
    expect(received).toBe(total * chunk.length);
    expect(receivedHash.digest('hex')).toBe(expected.digest('hex'));
    // Holding the object on either side would add at least 64 MiB on top of collectable garbage.
    expect(peak - baseline).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('envelope layout', () => {
  // Written from the format description rather than with the library, to pin the stored format.
  const dataKey = randomBytes(32);
  const noncePrefix = randomBytes(7);
  const header: EnvelopeHeader = {
    version: 1,
    tenantId: TENANT,
    objectId: OBJECT,
    keyGeneration: 1,
    masterKeyId: MASTER_KEY_ID,
    wrappedDataKey: wrapDataKey(kek, dataKey, { tenantId: TENANT, objectId: OBJECT }),
    noncePrefix: noncePrefix.toString('base64url'),
    segmentSize: 4,
  };
  const aad = createHash('sha256')
    .update(`lutece.envelope.segment.v1\0${JSON.stringify([1, TENANT, OBJECT, 4, header.noncePrefix])}`)
    .digest();

  function handSeal(plaintext: string, index: number, last: boolean): Buffer {
    const nonce = Buffer.alloc(12);
    noncePrefix.copy(nonce);
    nonce.writeUInt32BE(index, 7);
    nonce[11] = last ? 1 : 0;
    const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
    cipher.setAAD(aad);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  function handEnvelope(json: string, ...segments: Buffer[]): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(json));
    return Buffer.concat([Buffer.from('LUTC'), Buffer.from([1]), length, Buffer.from(json), ...segments]);
  }

  const canonical = JSON.stringify(header);

  it('decrypts an envelope built from the documented layout', async () => {
    expect(encodeEnvelopeHeader(header)).toEqual(handEnvelope(canonical));
    await expect(open(handEnvelope(canonical, handSeal('abcd', 0, false), handSeal('ef', 1, true)))).resolves.toEqual(Buffer.from('abcdef'));
    await expect(open(handEnvelope(canonical, handSeal('abcd', 0, false), handSeal('', 1, true)))).resolves.toEqual(Buffer.from('abcd'));
  });

  it('requires the last-segment flag on the final segment and only there', async () => {
    await expectIntegrityError(open(handEnvelope(canonical, handSeal('abcd', 0, false), handSeal('ef', 1, false))), 'segment');
    await expectIntegrityError(open(handEnvelope(canonical, handSeal('abcd', 0, true), handSeal('ef', 1, true))), 'segment');
  });

  it('refuses an equivalent but non-canonical header', async () => {
    const spaced = JSON.stringify(header, null, 1);
    await expectIntegrityError(open(handEnvelope(spaced, handSeal('ab', 0, true))), 'header');
    const { version, ...rest } = header;
    const reordered = JSON.stringify({ ...rest, version });
    await expectIntegrityError(open(handEnvelope(reordered, handSeal('ab', 0, true))), 'header');
    await expect(open(handEnvelope(canonical, handSeal('ab', 0, true)))).resolves.toEqual(Buffer.from('ab'));
  });
});

describe('envelope tampering', () => {
  // A small key hierarchy like the platform's: the KEK depends on the key generation, and the
  // master key id must name a known key.
  const tenantKey = randomBytes(32);
  const objectSecret = randomBytes(32);
  const platformKek = (keyGeneration: number) => deriveObjectKek(tenantKey, objectSecret, { tenantId: TENANT, objectId: OBJECT, keyGeneration });
  const resolveKek = (header: EnvelopeHeader) => {
    if (header.masterKeyId !== MASTER_KEY_ID) throw new UnknownMasterKeyError('unknown master key');
    return platformKek(header.keyGeneration);
  };
  const plaintext = Buffer.from('forty bytes of training data, 3 segments');
  let envelope: Buffer;
  let segments: Array<[number, number]>;
  let payloadOffset: number;

  beforeAll(async () => {
    envelope = await seal(plaintext, { segmentSize: 16, kek: platformKek(1) });
    ({ segments, payloadOffset } = layout(envelope));
    expect(segments.map(([start, end]) => end - start)).toEqual([32, 32, 24]);
    await expect(open(envelope, { resolveKek })).resolves.toEqual(plaintext);
  });

  it('rejects a flipped bit at every position of the envelope', async () => {
    const masterKeyIdAt = envelope.indexOf(`"masterKeyId":"${MASTER_KEY_ID}"`) + '"masterKeyId":"'.length;
    for (let byte = 0; byte < envelope.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const error = await failure(open(flipBit(envelope, byte, bit), { resolveKek }));
        // Only the master key id is a plain lookup hint: a flip there names a key nobody holds.
        const inMasterKeyId = byte >= masterKeyIdAt && byte < masterKeyIdAt + MASTER_KEY_ID.length;
        if (!(error instanceof EnvelopeIntegrityError) && !(inMasterKeyId && error instanceof UnknownMasterKeyError)) {
          throw new Error(`flipping bit ${bit} of byte ${byte} gave ${String(error)}`);
        }
      }
    }
  });

  it.each<[string, () => number, EnvelopeIntegrityReason]>([
    ['the magic', () => 0, 'header'],
    ['the version byte', () => 4, 'header'],
    ['the header length', () => 5, 'header'],
    ['the header JSON syntax', () => envelope.indexOf('{'), 'header'],
    ['the tenant id', () => envelope.indexOf(TENANT), 'data-key'],
    ['the key generation', () => envelope.indexOf('"keyGeneration":1') + '"keyGeneration":'.length, 'data-key'],
    ['the segment size', () => envelope.indexOf('"segmentSize":16') + '"segmentSize":'.length, 'segment'],
    ['the first segment', () => segments[0][0], 'segment'],
    ['the middle segment', () => segments[1][0] + 7, 'segment'],
    ['the final segment', () => segments[2][0], 'segment'],
    ['a tag', () => segments[1][1] - 1, 'segment'],
  ])('detects a flipped bit in %s', async (_label, position, reason) => {
    // Bit 1 keeps ASCII digits and letters printable, so the header still parses where a value is hit.
    await expectIntegrityError(open(flipBit(envelope, position(), 1), { resolveKek }), reason);
  });

  it.each<[string, keyof EnvelopeHeader, EnvelopeIntegrityReason]>([
    ['the wrapped key', 'wrappedDataKey', 'data-key'],
    ['the nonce prefix', 'noncePrefix', 'segment'],
  ])('detects a flipped bit in the decoded bytes of %s', async (_label, field, reason) => {
    const { header } = readEnvelopeHeader(envelope);
    for (const byte of [0, 6]) {
      const bytes = flipBit(Buffer.from(header[field] as string, 'base64url'), byte);
      const tampered = Buffer.concat([encodeEnvelopeHeader({ ...header, [field]: bytes.toString('base64url') }), envelope.subarray(payloadOffset)]);
      await expectIntegrityError(open(tampered, { resolveKek }), reason);
    }
  });

  it('releases no plaintext of a segment that fails authentication', async () => {
    const received: Buffer[] = [];
    await expectIntegrityError(open(flipBit(envelope, segments[1][0] + 3), { resolveKek, chunkSize: 1 }, received), 'segment');
    // Whatever reached the consumer before the error is authentic and from the first segment only.
    const released = Buffer.concat(received);
    expect(released.length).toBeLessThanOrEqual(16);
    expect(released).toEqual(plaintext.subarray(0, released.length));
  });

  it('detects truncation at a segment boundary and inside a segment or the header', async () => {
    await expectIntegrityError(open(envelope.subarray(0, segments[1][1]), { resolveKek }), 'truncated');
    await expectIntegrityError(open(envelope.subarray(0, segments[1][0] + 20), { resolveKek }), 'segment');
    await expectIntegrityError(open(envelope.subarray(0, segments[1][0] + 5), { resolveKek }), 'truncated');
    await expectIntegrityError(open(envelope.subarray(0, envelope.length - 1), { resolveKek }), 'segment');
    await expectIntegrityError(open(envelope.subarray(0, payloadOffset - 1), { resolveKek }), 'truncated');
    await expectIntegrityError(open(Buffer.alloc(0), { resolveKek }), 'truncated');
  });

  it('detects a removed final segment', async () => {
    await expectIntegrityError(open(envelope.subarray(0, segments[2][0]), { resolveKek }), 'truncated');
  });

  it('detects removing a middle segment', async () => {
    const cut = Buffer.concat([envelope.subarray(0, segments[1][0]), envelope.subarray(segments[2][0])]);
    await expectIntegrityError(open(cut, { resolveKek }), 'segment');
  });

  it('detects a swapped pair of segments', async () => {
    const [first, second] = [envelope.subarray(...segments[0]), envelope.subarray(...segments[1])];
    const swapped = Buffer.concat([envelope.subarray(0, payloadOffset), second, first, envelope.subarray(segments[2][0])]);
    await expectIntegrityError(open(swapped, { resolveKek }), 'segment');
  });

  it.each([1, 16, 100])('detects %i trailing bytes', async (count) => {
    await expectIntegrityError(open(Buffer.concat([envelope, randomBytes(count)]), { resolveKek }), 'segment');
  });

  it('detects a repeated final segment', async () => {
    await expectIntegrityError(open(Buffer.concat([envelope, envelope.subarray(...segments[2])]), { resolveKek }), 'segment');
  });

  it('detects a segment transplanted from another object under the same keys', async () => {
    const dataKey = randomBytes(32);
    const ours = await seal(plaintext, { segmentSize: 16, dataKey });
    const theirs = await seal(plaintext, { segmentSize: 16, dataKey, objectId: 'object-2' });
    const [ourSegments, theirSegments] = [layout(ours).segments, layout(theirs).segments];
    const mixed = Buffer.concat([ours.subarray(0, ourSegments[1][0]), theirs.subarray(...theirSegments[1]), ours.subarray(ourSegments[2][0])]);
    await expectIntegrityError(open(mixed), 'segment');
  });

  it('refuses the segments of one object under a validly keyed header of another', async () => {
    // Even someone able to wrap keys cannot relabel an object: the segments authenticate its identity.
    const dataKey = randomBytes(32);
    const original = await seal(plaintext, { segmentSize: 16, dataKey });
    const { header, payloadOffset: offset } = readEnvelopeHeader(original);
    const relabelled: EnvelopeHeader = { ...header, objectId: 'object-2', wrappedDataKey: wrapDataKey(kek, dataKey, { tenantId: TENANT, objectId: 'object-2' }) };
    const forged = Buffer.concat([encodeEnvelopeHeader(relabelled), original.subarray(offset)]);
    await expectIntegrityError(open(forged), 'segment');
  });
});

describe('envelope keys', () => {
  const plaintext = Buffer.from('personal data that must never appear in an error message');

  it('cannot be opened with another tenant key-encryption key', async () => {
    await expectIntegrityError(open(await seal(plaintext), { kek: randomBytes(32) }), 'data-key');
  });

  it('refuses an envelope of another tenant or object before touching any key', async () => {
    const envelope = await seal(plaintext);
    const resolveKek = jest.fn(() => kek);
    await expectIntegrityError(open(envelope, { resolveKek, expect: { tenantId: 'tenant-b' } }), 'unexpected-object');
    await expectIntegrityError(open(envelope, { resolveKek, expect: { tenantId: TENANT, objectId: 'object-2' } }), 'unexpected-object');
    expect(resolveKek).not.toHaveBeenCalled();
    await expect(open(envelope, { expect: { tenantId: TENANT, objectId: OBJECT } })).resolves.toEqual(plaintext);
  });

  it("passes the resolver's own error through, e.g. for a shredded object", async () => {
    const shredded = new Error('object secret was erased');
    await expect(open(await seal(plaintext), { resolveKek: async () => Promise.reject(shredded) })).rejects.toBe(shredded);
  });

  it('refuses a wrapped data key moved to another object', () => {
    const dataKey = randomBytes(32);
    const wrapped = wrapDataKey(kek, dataKey, { tenantId: TENANT, objectId: OBJECT });
    expect(unwrapDataKey(kek, wrapped, { tenantId: TENANT, objectId: OBJECT })).toEqual(dataKey);
    expect(() => unwrapDataKey(kek, wrapped, { tenantId: TENANT, objectId: 'object-2' })).toThrow(EnvelopeIntegrityError);
    expect(() => unwrapDataKey(kek, wrapped, { tenantId: 'tenant-b', objectId: OBJECT })).toThrow(EnvelopeIntegrityError);
  });

  it('rejects keys of the wrong length as a usage error', () => {
    const header = { tenantId: TENANT, objectId: OBJECT, keyGeneration: 1, masterKeyId: MASTER_KEY_ID };
    expect(() => createEncryptStream({ header, dataKey: randomBytes(16), kek })).toThrow(EnvelopeUsageError);
    expect(() => createEncryptStream({ header, dataKey: randomBytes(32), kek: randomBytes(31) })).toThrow(EnvelopeUsageError);
    expect(() => createEncryptStream({ header: { ...header, segmentSize: 0 }, dataKey: randomBytes(32), kek })).toThrow(EnvelopeUsageError);
  });

  it('keeps key material and plaintext out of error messages', async () => {
    const dataKey = randomBytes(32);
    const envelope = await seal(plaintext, { dataKey, segmentSize: 16 });
    const { segments } = layout(envelope);
    const errors = [
      await failure(open(envelope, { kek: randomBytes(32) })),
      await failure(open(flipBit(envelope, segments[1][0]))),
      await failure(open(envelope.subarray(0, segments[2][0]))),
      await failure(open(envelope, { expect: { tenantId: 'tenant-b' } })),
    ];
    const secrets = [kek, dataKey].flatMap((key) => [key.toString('hex'), key.toString('base64'), key.toString('base64url')]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(EnvelopeIntegrityError);
      const text = `${(error as Error).message} ${(error as Error).stack}`;
      for (const secret of [...secrets, 'personal data', TENANT, 'tenant-b']) expect(text).not.toContain(secret);
    }
  });
});

describe('envelope rewrap', () => {
  const tenantKeys = new Map([
    [1, randomBytes(32)],
    [2, randomBytes(32)],
  ]);
  const objectSecret = randomBytes(32);
  const kekOf = (generation: number) => deriveObjectKek(tenantKeys.get(generation)!, objectSecret, { tenantId: TENANT, objectId: OBJECT, keyGeneration: generation });
  const rewrapTo2 = (header: EnvelopeHeader) => rewrapEnvelopeHeader(header, { oldKek: kekOf(1), newKek: kekOf(2), keyGeneration: 2, masterKeyId: 'mk-2' });

  it('moves an object to a new key without touching its segments', async () => {
    const plaintext = randomBytes(1000);
    const before = await seal(plaintext, { kek: kekOf(1), segmentSize: 64 });
    const after = await through(chunked(before, 33), createRewrapStream({ rewrap: rewrapTo2 }));

    const [old, next] = [readEnvelopeHeader(before), readEnvelopeHeader(after)];
    expect(next.header).toEqual({ ...old.header, keyGeneration: 2, masterKeyId: 'mk-2', wrappedDataKey: expect.any(String) });
    expect(next.header.wrappedDataKey).not.toBe(old.header.wrappedDataKey);
    expect(after.subarray(next.payloadOffset).equals(before.subarray(old.payloadOffset))).toBe(true);

    await expect(open(after, { kek: kekOf(2) })).resolves.toEqual(plaintext);
    await expectIntegrityError(open(after, { kek: kekOf(1) }), 'data-key');
  });

  it.each<[string, Partial<EnvelopeHeader>]>([
    ['objectId', { objectId: 'object-2' }],
    ['tenantId', { tenantId: 'tenant-b' }],
    ['segmentSize', { segmentSize: 32 }],
    ['noncePrefix', { noncePrefix: randomBytes(7).toString('base64url') }],
  ])('refuses a new header that changes %s', async (_field, change) => {
    const before = await seal(randomBytes(100), { kek: kekOf(1), segmentSize: 64 });
    const rewrapper = createRewrapStream({ rewrap: (header) => ({ ...rewrapTo2(header), ...change }) });
    await expect(through([before], rewrapper)).rejects.toThrow(EnvelopeUsageError);
  });

  it('refuses to copy a truncated envelope', async () => {
    const before = await seal(randomBytes(1000), { kek: kekOf(1), segmentSize: 64 });
    const { segments } = layout(before);
    await expectIntegrityError(through([before.subarray(0, segments[3][1])], createRewrapStream({ rewrap: rewrapTo2 })), 'truncated');
    await expectIntegrityError(through([before.subarray(0, 20)], createRewrapStream({ rewrap: rewrapTo2 })), 'truncated');
  });

  it('fails when the old key does not open the data key', async () => {
    const before = await seal(randomBytes(10), { kek: randomBytes(32) });
    await expectIntegrityError(through([before], createRewrapStream({ rewrap: rewrapTo2 })), 'data-key');
  });
});

describe('deriveObjectKek', () => {
  const tenantKey = randomBytes(32);
  const secret = randomBytes(32);
  const context = { tenantId: TENANT, objectId: OBJECT, keyGeneration: 1 };

  it('is deterministic and depends on every input', () => {
    const kekOne = deriveObjectKek(tenantKey, secret, context);
    expect(kekOne).toHaveLength(32);
    expect(deriveObjectKek(tenantKey, Buffer.from(secret), { ...context })).toEqual(kekOne);
    const variants = [
      deriveObjectKek(tenantKey, randomBytes(32), context),
      deriveObjectKek(randomBytes(32), secret, context),
      deriveObjectKek(tenantKey, secret, { ...context, tenantId: 'tenant-b' }),
      deriveObjectKek(tenantKey, secret, { ...context, objectId: 'object-2' }),
      deriveObjectKek(tenantKey, secret, { ...context, keyGeneration: 2 }),
    ];
    for (const variant of variants) expect(variant.equals(kekOne)).toBe(false);
  });

  it('makes an object unreadable once its secret is gone', async () => {
    const envelope = await seal(Buffer.from('to be forgotten'), { kek: deriveObjectKek(tenantKey, secret, context) });
    // With the secret deleted, the best anyone holding the tenant key can do is guess another one.
    await expectIntegrityError(open(envelope, { kek: deriveObjectKek(tenantKey, randomBytes(32), context) }), 'data-key');
  });

  it('refuses a short object secret', () => {
    expect(() => deriveObjectKek(tenantKey, randomBytes(16), context)).toThrow(EnvelopeUsageError);
  });
});

describe('tenant key wrapping', () => {
  const masterKey = randomBytes(32);
  const tenantKey = randomBytes(32);
  const wrapped = wrapTenantKey(masterKey, tenantKey, { tenantId: TENANT, generation: 3 });

  it('round-trips, including the negative generations used for other key purposes', () => {
    expect(unwrapTenantKey(masterKey, wrapped, { tenantId: TENANT, generation: 3 })).toEqual(tenantKey);
    const negative = wrapTenantKey(masterKey, tenantKey, { tenantId: TENANT, generation: -1 });
    expect(unwrapTenantKey(masterKey, negative, { tenantId: TENANT, generation: -1 })).toEqual(tenantKey);
    expect(() => unwrapTenantKey(masterKey, negative, { tenantId: TENANT, generation: 1 })).toThrow(EnvelopeIntegrityError);
  });

  it.each([
    ['master key', randomBytes(32), { tenantId: TENANT, generation: 3 }],
    ['generation', masterKey, { tenantId: TENANT, generation: 2 }],
    ['tenant', masterKey, { tenantId: 'tenant-b', generation: 3 }],
  ])('fails with the wrong %s', (_label, key, context) => {
    const error = (() => {
      try {
        unwrapTenantKey(key, wrapped, context);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EnvelopeIntegrityError);
    expect((error as EnvelopeIntegrityError).reason).toBe('tenant-key');
  });

  it('fails on a tampered or malformed wrapped key', () => {
    const bytes = Buffer.from(wrapped, 'base64url');
    bytes[20] ^= 1;
    expect(() => unwrapTenantKey(masterKey, bytes.toString('base64url'), { tenantId: TENANT, generation: 3 })).toThrow(EnvelopeIntegrityError);
    expect(() => unwrapTenantKey(masterKey, `${wrapped}!`, { tenantId: TENANT, generation: 3 })).toThrow(EnvelopeIntegrityError);
    expect(() => unwrapTenantKey(masterKey, wrapped.slice(0, -4), { tenantId: TENANT, generation: 3 })).toThrow(EnvelopeIntegrityError);
  });
});

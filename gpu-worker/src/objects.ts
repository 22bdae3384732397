import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createDecryptStream, createEncryptStream, deriveObjectKek, generateDataKey, generateObjectSecret } from '../../src/contracts/envelope';
import { openGrant, openReadKeys, sealGrant } from '../../src/contracts/key-grant';
import type { ObjectStore } from '../../src/contracts/object-store';
import type { DatasetRef, ObjectRef, StoredObjectReport, TrainingJobPayload } from '../../src/contracts/training';
import type { MasterKeyRing } from './config';
import { JobError } from './errors';

export type WrittenKind = 'checkpoint' | 'model_artifact';

interface TenantWriteKey {
  generation: number;
  key: Buffer;
}

/**
 * The encrypted objects one job may touch: those its payload names (opened with their read grants)
 * and those it writes itself (under the tenant key of its write grant). Keys come only from grants
 * sealed under the master key ring, and plaintext only ever exists in this process's memory.
 */
export class JobObjects {
  private writeKey?: TenantWriteKey;

  constructor(
    private readonly store: ObjectStore,
    private readonly masterKeys: MasterKeyRing,
    private readonly job: Pick<TrainingJobPayload, 'jobId' | 'tenantId' | 'writeGrant'>,
  ) {}

  /** Plaintext of an object the api named in the payload (a base model's artifact, a dataset). */
  read(ref: ObjectRef): Promise<Buffer> {
    return readGrantedObject(this.store, this.masterKeys, this.job.tenantId, ref);
  }

  /**
   * A dataset's plaintext, checked against the digest the api recorded at upload. The ciphertext's
   * own digest is not compared: a key rotation rewrites envelope headers, and GCM authenticates every
   * segment anyway.
   */
  async readDataset(ref: DatasetRef, what: string): Promise<Buffer> {
    const plaintext = await this.read(ref);
    if (createHash('sha256').update(plaintext).digest('hex') !== ref.contentSha256) {
      plaintext.fill(0);
      throw new JobError(`the ${what} does not match its recorded SHA-256`, true);
    }
    return plaintext;
  }

  /** Plaintext of an object this job wrote earlier (a checkpoint, possibly from an attempt on another node). */
  async readWritten(report: StoredObjectReport): Promise<Buffer> {
    const writeKey = this.tenantWriteKey();
    let objectSecret: Buffer;
    try {
      objectSecret = openGrant(this.masterKeys.keys, report.sealedObjectSecret, `object-secret:${report.objectId}`);
    } catch {
      throw new JobError("a checkpoint's sealed secret does not open with this worker's master keys", true);
    }
    try {
      return await decryptObject(this.store, { tenantId: this.job.tenantId, objectId: report.objectId, storageKey: report.storageKey }, objectSecret, (generation) =>
        generation === writeKey.generation ? writeKey.key : undefined,
      );
    } finally {
      objectSecret.fill(0);
    }
  }

  /** Encrypts and stores `plaintext` under a new object id, and reports it with its secret sealed for the api. */
  async write(kind: WrittenKind, plaintext: Buffer): Promise<StoredObjectReport> {
    const { generation, key } = this.tenantWriteKey();
    const objectId = randomUUID();
    const storageKey = `${this.job.tenantId}/${kind}/${objectId}.lte`;
    const objectSecret = generateObjectSecret();
    try {
      const encryptor = createEncryptStream({
        header: { tenantId: this.job.tenantId, objectId, keyGeneration: generation, masterKeyId: this.job.writeGrant.masterKeyId },
        dataKey: generateDataKey(),
        kek: deriveObjectKek(key, objectSecret, { tenantId: this.job.tenantId, objectId, keyGeneration: generation }),
      });
      const writing = this.store.write(storageKey, encryptor);
      encryptor.end(plaintext);
      const written = await writing;
      const { activeId, keys } = this.masterKeys;
      return {
        objectId,
        storageKey,
        sha256: written.sha256,
        sizeBytes: written.sizeBytes,
        region: this.store.region,
        node: this.store.node,
        keyGeneration: generation,
        sealedObjectSecret: sealGrant(activeId, keys.get(activeId)!, objectSecret, `object-secret:${objectId}`),
      };
    } finally {
      objectSecret.fill(0);
    }
  }

  /** Wipes the tenant key this job held. */
  dispose(): void {
    this.writeKey?.key.fill(0);
    this.writeKey = undefined;
  }

  private tenantWriteKey(): TenantWriteKey {
    if (this.writeKey) return this.writeKey;
    let opened: Buffer;
    try {
      opened = openGrant(this.masterKeys.keys, this.job.writeGrant, `write:${this.job.jobId}`);
    } catch {
      throw new JobError("the job's write grant does not open with this worker's master keys", true);
    }
    const parsed = JSON.parse(opened.toString('utf8')) as { generation: number; key: string };
    opened.fill(0);
    const key = Buffer.from(parsed.key, 'base64');
    if (!Number.isSafeInteger(parsed.generation) || key.length !== 32) throw new JobError("the job's write grant is malformed", true);
    this.writeKey = { generation: parsed.generation, key };
    return this.writeKey;
  }
}

/**
 * Plaintext of an object named by the api with a read grant (a dataset, a base model's or a served
 * model's artifact). The grant opens with the master key ring only, and the envelope must belong to
 * `tenantId` and to this very object.
 */
export async function readGrantedObject(store: ObjectStore, masterKeys: MasterKeyRing, tenantId: string, ref: ObjectRef): Promise<Buffer> {
  let keys;
  try {
    keys = openReadKeys(masterKeys.keys, ref.readGrant, ref.objectId);
  } catch {
    throw new JobError("an object's read grant does not open with this worker's master keys", true);
  }
  try {
    return await decryptObject(store, { tenantId, objectId: ref.objectId, storageKey: ref.storageKey }, keys.objectSecret, (generation) => keys.tenantKeys.get(generation));
  } finally {
    keys.objectSecret.fill(0);
    for (const key of keys.tenantKeys.values()) key.fill(0);
  }
}

async function decryptObject(
  store: ObjectStore,
  object: { tenantId: string; objectId: string; storageKey: string },
  objectSecret: Buffer,
  tenantKey: (generation: number) => Buffer | undefined,
): Promise<Buffer> {
  const { tenantId, objectId } = object;
  const decryptor = createDecryptStream({
    // Another tenant's or another object's envelope copied over this key is refused before any key is used.
    expect: { tenantId, objectId },
    resolveKek: (header) => {
      const key = tenantKey(header.keyGeneration);
      if (!key) throw new JobError(`tenant key generation ${header.keyGeneration} was not granted to this worker`, true);
      return deriveObjectKek(key, objectSecret, { tenantId, objectId, keyGeneration: header.keyGeneration });
    },
  });
  let source: Readable;
  try {
    source = await store.read(object.storageKey);
  } catch {
    throw new JobError('an object the worker needs is missing from storage', false);
  }
  source.on('error', (error) => decryptor.destroy(error));
  const chunks: Buffer[] = [];
  // Collected whole and only returned once the final segment has authenticated.
  for await (const chunk of source.pipe(decryptor)) chunks.push(chunk as Buffer);
  const plaintext = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  return plaintext;
}

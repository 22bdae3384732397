import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createEncryptStream, deriveObjectKek, generateDataKey, generateObjectSecret } from '../../../src/contracts/envelope';
import { sealGrant, sealReadKeys } from '../../../src/contracts/key-grant';
import type { ObjectStore } from '../../../src/contracts/object-store';
import type { DatasetRef, Hyperparameters, ObjectRef, TrainingJobPayload } from '../../../src/contracts/training';
import type { MasterKeyRing } from '../../src/config';

/**
 * Plays the api's part for worker tests: a master key ring, a tenant key, encrypted objects written
 * the way EncryptedObjectsService writes them, and the grants a job payload carries.
 */
export class TestTenant {
  readonly tenantId = randomUUID();
  readonly projectId = randomUUID();
  readonly masterKeyId = 'test';
  readonly masterKey = randomBytes(32);
  readonly tenantKey = randomBytes(32);
  readonly generation = 1;

  /** The MASTER_KEYS value a worker needs to open this tenant's grants. */
  get masterKeysEnv(): string {
    return `${this.masterKeyId}:${this.masterKey.toString('base64')}`;
  }

  get masterKeys(): MasterKeyRing {
    return { activeId: this.masterKeyId, keys: new Map([[this.masterKeyId, this.masterKey]]) };
  }

  async storeObject(store: ObjectStore, kind: string, plaintext: Buffer): Promise<ObjectRef> {
    const objectId = randomUUID();
    const objectSecret = generateObjectSecret();
    const storageKey = `${this.tenantId}/${kind}/${objectId}.lte`;
    const encryptor = createEncryptStream({
      header: { tenantId: this.tenantId, objectId, keyGeneration: this.generation, masterKeyId: this.masterKeyId },
      dataKey: generateDataKey(),
      kek: deriveObjectKek(this.tenantKey, objectSecret, { tenantId: this.tenantId, objectId, keyGeneration: this.generation }),
    });
    const writing = store.write(storageKey, encryptor);
    encryptor.end(plaintext);
    const written = await writing;
    const readGrant = sealReadKeys(this.masterKeyId, this.masterKey, { objectSecret, tenantKeys: new Map([[this.generation, this.tenantKey]]) }, objectId);
    return { objectId, storageKey, sha256: written.sha256, readGrant };
  }

  async storeDataset(store: ObjectStore, csv: Buffer): Promise<DatasetRef> {
    const ref = await this.storeObject(store, 'dataset_version', csv);
    return { ...ref, datasetVersionId: randomUUID(), format: 'CSV', contentSha256: createHash('sha256').update(csv).digest('hex') };
  }

  payload(fields: {
    jobId?: string;
    poolId: string;
    region?: string;
    baseModel: TrainingJobPayload['baseModel'];
    training: DatasetRef;
    validation?: DatasetRef;
    baseArtifact?: ObjectRef;
    targetColumn: string;
    featureColumns?: string[] | null;
    hyperparameters: Hyperparameters;
  }): TrainingJobPayload {
    const jobId = fields.jobId ?? randomUUID();
    return {
      kind: 'training',
      version: 1,
      jobId,
      tenantId: this.tenantId,
      projectId: this.projectId,
      poolId: fields.poolId,
      region: fields.region ?? 'fr-par',
      gpuClass: 'cpu',
      baseModel: fields.baseModel,
      baseArtifact: fields.baseArtifact,
      training: fields.training,
      validation: fields.validation,
      targetColumn: fields.targetColumn,
      featureColumns: fields.featureColumns ?? null,
      hyperparameters: fields.hyperparameters,
      writeGrant: sealGrant(this.masterKeyId, this.masterKey, Buffer.from(JSON.stringify({ generation: this.generation, key: this.tenantKey.toString('base64') })), `write:${jobId}`),
    };
  }
}

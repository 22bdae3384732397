import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from 'typeorm';
import { createDecryptStream, createEncryptStream, createRewrapStream, deriveObjectKek, unwrapDataKey, wrapDataKey } from '../../contracts/envelope';
import { AppError } from '../../common/errors/app-error';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { openGrant, SealedGrant, sealGrant, sealReadKeys } from '../../contracts/key-grant';
import type { StoredObjectReport } from '../../contracts/training';
import { KeyChainService, TenantKey } from './key-chain.service';
import { OBJECT_STORE } from '../../contracts/object-store';
import type { ObjectStore } from '../../contracts/object-store';
import { regionAllowed } from './residency';
import { ObjectKind, StoredObjectEntity } from './storage.entities';

export interface StoreRequest {
  tenantId: string;
  kind: ObjectKind;
  /** The tenant's active key, looked up (in a short transaction) before the write starts. */
  tenantKey: TenantKey;
  /** Feeds plaintext into `sink`; its rejection aborts the write and nothing is kept. */
  produce: (sink: PassThrough) => Promise<void>;
}

/**
 * Encrypts and stores objects, and opens them again. Writing the object happens before (and
 * outside) the caller's transaction; the caller records the returned row, and deletes the object
 * if its transaction fails.
 */
@Injectable()
export class EncryptedObjectsService {
  private readonly masterKeys: RuntimeConfig['masterKeys'];

  constructor(
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) config: RuntimeConfig,
    private readonly keys: KeyChainService,
  ) {
    this.masterKeys = config.masterKeys;
  }

  get region(): string {
    return this.store.region;
  }

  assertResidency(dataResidency: string): void {
    if (!regionAllowed(dataResidency, this.store.region)) {
      throw new AppError('BAD_USER_INPUT', `Storage region ${this.store.region} is outside this tenant's data residency (${dataResidency}); nothing was stored`, {
        fields: [{ field: 'storageRegion', message: 'is outside the tenant data residency' }],
      });
    }
  }

  /** Checks residency and returns the key to encrypt with; run inside a tenant transaction. */
  async prepareWrite(manager: EntityManager, tenantId: string, dataResidency: string): Promise<TenantKey> {
    this.assertResidency(dataResidency);
    return this.keys.activeKey(manager, tenantId);
  }

  async write(request: StoreRequest): Promise<StoredObjectEntity> {
    const { tenantKey } = request;
    const id = randomUUID();
    const objectSecret = randomBytes(32);
    const kek = deriveObjectKek(tenantKey.key, objectSecret, { tenantId: request.tenantId, objectId: id, keyGeneration: tenantKey.generation });
    const storageKey = `${request.tenantId}/${request.kind.toLowerCase()}/${id}.lte`;

    const plaintext = new PassThrough();
    const encryptor = createEncryptStream({
      header: { tenantId: request.tenantId, objectId: id, keyGeneration: tenantKey.generation, masterKeyId: tenantKey.masterKeyId },
      dataKey: randomBytes(32),
      kek,
    });
    const ciphertext = new PassThrough();
    const encrypting = pipeline(plaintext, encryptor, ciphertext);
    const producing = request.produce(plaintext).catch((error) => {
      plaintext.destroy(error);
      throw error;
    });
    const writing = this.store.write(storageKey, ciphertext);
    const [produced, encrypted, written] = await Promise.allSettled([producing, encrypting, writing]);
    // The producer's error is the meaningful one (e.g. a malformed line), not the stream teardown.
    if (produced.status === 'rejected') throw produced.reason;
    if (encrypted.status === 'rejected') throw encrypted.reason;
    if (written.status === 'rejected') throw written.reason;

    return Object.assign(new StoredObjectEntity(), {
      id,
      tenantId: request.tenantId,
      kind: request.kind,
      storageKey,
      region: this.store.region,
      node: this.store.node,
      sha256: written.value.sha256,
      sizeBytes: String(written.value.sizeBytes),
      keyGeneration: tenantKey.generation,
      objectSecret,
      shreddedAt: null,
      deletedAt: null,
    });
  }

  async record(manager: EntityManager, object: StoredObjectEntity): Promise<void> {
    await manager.getRepository(StoredObjectEntity).insert(object);
  }

  /** Best-effort cleanup for an object whose row was never committed. */
  async discard(object: StoredObjectEntity): Promise<void> {
    await this.store.delete(object.storageKey).catch(() => undefined);
  }

  /** Plaintext of a stored object; integrity is checked segment by segment while streaming. */
  async open(manager: EntityManager, objectId: string): Promise<Readable> {
    const object = await this.loadWithSecret(manager, objectId);
    if (!object.objectSecret || object.shreddedAt) throw new AppError('NOT_FOUND', 'Object content has been erased');
    const secret = object.objectSecret;
    // Loaded now, inside the caller's transaction: the stream is read after it has ended. The header
    // names the generation, which can be ahead of the row if a re-wrap was interrupted.
    const tenantKeys = await this.keys.allKeys(manager, object.tenantId);
    const decryptor = createDecryptStream({
      expect: { tenantId: object.tenantId, objectId: object.id },
      resolveKek: (header) => {
        const tenantKey = tenantKeys.get(header.keyGeneration);
        if (!tenantKey) throw new Error(`tenant key generation ${header.keyGeneration} is missing`);
        return deriveObjectKek(tenantKey, secret, { tenantId: object.tenantId, objectId: object.id, keyGeneration: header.keyGeneration });
      },
    });
    const source = await this.store.read(object.storageKey);
    source.on('error', (error) => decryptor.destroy(error));
    // Integrity errors can fire before the caller consumes the stream: keep the stream errored
    // (consumers see it through pipeline/finished) instead of crashing on an unhandled event.
    decryptor.on('error', () => undefined);
    return source.pipe(decryptor);
  }

  /** Crypto-shredding: the object secret goes first, so every copy of the object is unreadable. */
  async shred(manager: EntityManager, objectId: string): Promise<StoredObjectEntity> {
    const object = await manager.getRepository(StoredObjectEntity).findOneByOrFail({ id: objectId });
    await manager.getRepository(StoredObjectEntity).update({ id: objectId }, { objectSecret: null, shreddedAt: new Date() });
    return object;
  }

  async deleteStored(object: StoredObjectEntity): Promise<void> {
    await this.store.delete(object.storageKey);
  }

  /** Moves an object to the tenant's active key generation by rewriting its header only. */
  async rewrap(manager: EntityManager, objectId: string): Promise<boolean> {
    const object = await this.loadWithSecret(manager, objectId);
    if (!object.objectSecret || object.shreddedAt) return false;
    const active = await this.keys.activeKey(manager, object.tenantId);
    if (object.keyGeneration >= active.generation) return false;
    const old = await this.keys.keyOfGeneration(manager, object.tenantId, object.keyGeneration);
    const context = { tenantId: object.tenantId, objectId: object.id };
    const oldKek = deriveObjectKek(old.key, object.objectSecret, { ...context, keyGeneration: object.keyGeneration });
    const newKek = deriveObjectKek(active.key, object.objectSecret, { ...context, keyGeneration: active.generation });
    const rewrapper = createRewrapStream({
      rewrap: (header) => ({
        ...header,
        keyGeneration: active.generation,
        masterKeyId: active.masterKeyId,
        wrappedDataKey: wrapDataKey(newKek, unwrapDataKey(oldKek, header.wrappedDataKey, context), context),
      }),
    });
    const source = await this.store.read(object.storageKey);
    const written = await this.store.write(object.storageKey, source.pipe(rewrapper));
    await manager
      .getRepository(StoredObjectEntity)
      .update({ id: object.id }, { keyGeneration: active.generation, sha256: written.sha256, sizeBytes: String(written.sizeBytes) });
    return true;
  }

  /** Sealed keys a worker needs to read one object (see src/contracts/key-grant.ts). */
  async readGrant(manager: EntityManager, objectId: string): Promise<SealedGrant> {
    const object = await this.loadWithSecret(manager, objectId);
    if (!object.objectSecret || object.shreddedAt) throw new AppError('NOT_FOUND', 'Object content has been erased');
    const { activeId, keys } = this.masterKeys;
    const tenantKeys = await this.keys.allKeys(manager, object.tenantId);
    return sealReadKeys(activeId, keys.get(activeId)!, { objectSecret: object.objectSecret, tenantKeys }, object.id);
  }

  /** Sealed active tenant key, so a worker can encrypt the objects it writes for `context`. */
  async writeGrant(manager: EntityManager, tenantId: string, context: string): Promise<SealedGrant> {
    const active = await this.keys.activeKey(manager, tenantId);
    const { activeId, keys } = this.masterKeys;
    return sealGrant(activeId, keys.get(activeId)!, Buffer.from(JSON.stringify({ generation: active.generation, key: active.key.toString('base64') })), context);
  }

  /** Records an object a worker wrote; its secret arrives sealed under the master key ring. */
  async recordReported(manager: EntityManager, tenantId: string, kind: ObjectKind, report: StoredObjectReport): Promise<void> {
    const objectSecret = openGrant(this.masterKeys.keys, report.sealedObjectSecret, `object-secret:${report.objectId}`);
    await manager.query(
      `INSERT INTO stored_objects (id, tenant_id, kind, storage_key, region, node, sha256, size_bytes, key_generation, object_secret)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [report.objectId, tenantId, kind, report.storageKey, report.region, report.node, report.sha256, report.sizeBytes, report.keyGeneration, objectSecret],
    );
  }

  private async loadWithSecret(manager: EntityManager, objectId: string): Promise<StoredObjectEntity> {
    const object = await manager
      .getRepository(StoredObjectEntity)
      .createQueryBuilder('o')
      .addSelect('o.objectSecret')
      .where('o.id = :objectId', { objectId })
      .getOne();
    if (!object) throw new AppError('NOT_FOUND', 'Object not found');
    return object;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { StoredObjectEntity } from '../storage/storage.entities';
import { DatasetEntity, DatasetRetentionEntity, DatasetVersionEntity } from './dataset.entities';

/**
 * Erases a dataset: the object secrets of every version are destroyed (crypto-shredding, so any
 * copy or backup of the objects is unreadable), the dataset is marked erased and audited; the
 * caller deletes the objects themselves after commit.
 */
@Injectable()
export class DatasetErasureService {
  private readonly logger = new Logger(DatasetErasureService.name);

  constructor(
    private readonly objects: EncryptedObjectsService,
    private readonly audit: AuditService,
  ) {}

  async erase(manager: EntityManager, dataset: DatasetEntity, reason: 'request' | 'retention', actor: { actorType: string; actorId: string | null }): Promise<StoredObjectEntity[]> {
    const versions = await manager.getRepository(DatasetVersionEntity).find({ where: { datasetId: dataset.id }, order: { version: 'ASC' } });
    const shredded: StoredObjectEntity[] = [];
    for (const version of versions) shredded.push(await this.objects.shred(manager, version.objectId));
    const erasedAt = new Date();
    await manager.getRepository(DatasetEntity).update({ id: dataset.id }, { erasedAt });
    await manager.getRepository(DatasetRetentionEntity).delete({ datasetId: dataset.id });
    await this.audit.append(manager, dataset.tenantId, {
      action: 'dataset.erase',
      resourceType: 'Dataset',
      resourceId: dataset.id,
      actor,
      details: {
        reason,
        erasedAt: erasedAt.toISOString(),
        name: dataset.name,
        versions: versions.map((v) => ({ id: v.id, version: v.version, sha256: v.sha256, objectId: v.objectId })),
      },
    });
    return shredded;
  }

  async deleteObjects(objects: StoredObjectEntity[]): Promise<void> {
    for (const object of objects) {
      await this.objects.deleteStored(object).catch((error) => this.logger.warn({ err: error, objectId: object.id }, 'could not delete a shredded object; it stays unreadable'));
    }
  }
}

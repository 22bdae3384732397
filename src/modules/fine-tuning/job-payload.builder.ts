import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatasetRef, ObjectRef, TrainingJobPayload, BaseModelId } from '../../contracts/training';
import { DatasetEntity, DatasetVersionEntity } from '../datasets/dataset.entities';
import { ModelVersionEntity } from '../models/model.entities';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { StoredObjectEntity } from '../storage/storage.entities';
import { FineTuningJobEntity } from './fine-tuning.entities';

/**
 * Builds what a worker receives: ids, hyperparameters and sealed key grants, never a usable key or
 * a row of data (both stay encrypted in Redis and in storage).
 */
@Injectable()
export class JobPayloadBuilder {
  constructor(private readonly objects: EncryptedObjectsService) {}

  async build(manager: EntityManager, job: FineTuningJobEntity, training: DatasetVersionEntity, validation: DatasetVersionEntity | null, base: ModelVersionEntity | null): Promise<TrainingJobPayload> {
    return {
      kind: 'training',
      version: 1,
      jobId: job.id,
      tenantId: job.tenantId,
      projectId: job.projectId,
      poolId: job.poolId,
      region: job.region,
      gpuClass: job.gpuClass,
      baseModel: job.baseModel as BaseModelId,
      baseArtifact: base ? await this.objectRef(manager, base.artifactObjectId) : undefined,
      training: await this.datasetRef(manager, training),
      validation: validation ? await this.datasetRef(manager, validation) : undefined,
      targetColumn: job.targetColumn,
      featureColumns: job.featureColumns,
      hyperparameters: job.hyperparameters,
      writeGrant: await this.objects.writeGrant(manager, job.tenantId, `write:${job.id}`),
    };
  }

  private async objectRef(manager: EntityManager, objectId: string): Promise<ObjectRef> {
    const object = await manager.getRepository(StoredObjectEntity).findOneByOrFail({ id: objectId });
    return { objectId, storageKey: object.storageKey, sha256: object.sha256, readGrant: await this.objects.readGrant(manager, objectId) };
  }

  private async datasetRef(manager: EntityManager, version: DatasetVersionEntity): Promise<DatasetRef> {
    const dataset = await manager.getRepository(DatasetEntity).findOneByOrFail({ id: version.datasetId });
    return { ...(await this.objectRef(manager, version.objectId)), datasetVersionId: version.id, format: dataset.format, contentSha256: version.sha256 };
  }
}

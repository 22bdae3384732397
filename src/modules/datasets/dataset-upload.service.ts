import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { assertCan } from '../../common/authz/access';
import { AppError } from '../../common/errors/app-error';
import { APP_CONFIG, DATA_SOURCE } from '../../common/infrastructure/tokens';
import { actorOf } from '../../common/request-context/principal';
import { currentContext, currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { inTenantTransaction } from '../../database/tenant-transaction';
import { AuditService } from '../audit/audit.service';
import { KeyChainService } from '../storage/key-chain.service';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { StoredObjectEntity } from '../storage/storage.entities';
import { TenantEntity } from '../tenancy/tenant.entity';
import { loadReadableDataset, loadReadableVersion } from './dataset-access';
import { toVersionModel } from './dataset-models';
import { DatasetEntity, DatasetVersionEntity } from './dataset.entities';
import { ingest, IngestSummary } from './ingest/ingest';
import { IngestError, UploadTooLargeError } from './ingest/ingest-error';
import { Pseudonymizer } from './ingest/pseudonymizer';
import { DatasetVersionModel } from './models/dataset.model';

const CONTENT_TYPES: Record<string, string[]> = {
  CSV: ['text/csv'],
  JSONL: ['application/x-ndjson', 'application/jsonl', 'application/jsonlines'],
};

export interface UploadRequest {
  datasetId: string;
  body: Readable;
  contentType: string | undefined;
  contentLength: number | undefined;
}

/**
 * A new dataset version, streamed: the body goes through validation, pseudonymisation, hashing and
 * encryption straight into storage. Three short transactions (check, then record) surround the
 * stream, so no database connection is held while bytes arrive. Any failure leaves no version row
 * and no object.
 */
@Injectable()
export class DatasetUploadService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly objects: EncryptedObjectsService,
    private readonly keys: KeyChainService,
    private readonly audit: AuditService,
  ) {}

  async upload(request: UploadRequest): Promise<DatasetVersionModel> {
    const { dataset, tenantKey, pseudonymisationKey } = await inTenantTransaction(this.dataSource, async () => {
      const found = await loadReadableDataset(request.datasetId, 'datasetId');
      assertCan('create', 'Dataset', { projectId: found.projectId });
      this.checkContentType(found, request.contentType);
      const limit = this.config.datasets.maxUploadBytes;
      if (request.contentLength !== undefined && request.contentLength > limit) throw new UploadTooLargeError(limit);
      const tenant = await getRepository(TenantEntity).findOneByOrFail({ id: currentTenantId() });
      return {
        dataset: found,
        tenantKey: await this.objects.prepareWrite(currentManager(), tenant.id, tenant.dataResidency),
        pseudonymisationKey: (await this.keys.activeKey(currentManager(), tenant.id, 'PSEUDONYMISATION')).key,
      };
    });

    let summary: IngestSummary | undefined;
    const object = await this.objects.write({
      tenantId: dataset.tenantId,
      kind: 'DATASET_VERSION',
      tenantKey,
      produce: async (sink) => {
        summary = await ingest(request.body, sink, {
          format: dataset.format,
          piiColumns: dataset.piiColumns,
          pseudonymizer: new Pseudonymizer(pseudonymisationKey),
          maxBytes: this.config.datasets.maxUploadBytes,
        });
      },
    });

    try {
      return await inTenantTransaction(this.dataSource, () => this.record(dataset, object, summary!));
    } catch (error) {
      await this.objects.discard(object);
      throw error;
    }
  }

  /** Decrypted (pseudonymised) content of a version, for the tenant's own ML engineers; audited. */
  async openContent(versionId: string): Promise<{ stream: Readable; version: DatasetVersionEntity; format: string }> {
    return inTenantTransaction(this.dataSource, async () => {
      const { version, dataset } = await loadReadableVersion(versionId);
      assertCan('readContent', 'Dataset', { projectId: dataset.projectId });
      const stream = await this.objects.open(currentManager(), version.objectId);
      await this.audit.record({
        action: 'dataset.read_content',
        resourceType: 'DatasetVersion',
        resourceId: version.id,
        details: { datasetId: dataset.id, version: version.version, sha256: version.sha256 },
      });
      return { stream, version, format: dataset.format };
    });
  }

  private async record(dataset: DatasetEntity, object: StoredObjectEntity, summary: IngestSummary): Promise<DatasetVersionModel> {
    const manager = currentManager();
    // Locks the dataset row: concurrent uploads get consecutive version numbers.
    const locked = await manager.getRepository(DatasetEntity).createQueryBuilder('d').setLock('pessimistic_write').where('d.id = :id', { id: dataset.id }).getOne();
    if (!locked || locked.erasedAt) throw new AppError('NOT_FOUND', 'Dataset not found');
    const [{ next }] = await manager.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM dataset_versions WHERE dataset_id = $1`, [dataset.id]);
    await this.objects.record(manager, object);
    const version: DatasetVersionEntity = Object.assign(new DatasetVersionEntity(), {
      id: randomUUID(),
      tenantId: dataset.tenantId,
      datasetId: dataset.id,
      version: Number(next),
      objectId: object.id,
      sha256: summary.sha256,
      sizeBytes: String(summary.sizeBytes),
      rowCount: String(summary.rowCount),
      columns: summary.columns,
      pseudonymizedColumns: summary.pseudonymizedColumns,
      warnings: summary.warnings,
      storageRegion: object.region,
      createdBy: actorOf(currentContext().principal).actorId,
    });
    await manager.getRepository(DatasetVersionEntity).insert(version);
    await this.audit.record({
      action: 'dataset.upload',
      resourceType: 'DatasetVersion',
      resourceId: version.id,
      details: {
        datasetId: dataset.id,
        version: version.version,
        sha256: version.sha256,
        rowCount: summary.rowCount,
        sizeBytes: summary.sizeBytes,
        pseudonymizedColumns: summary.pseudonymizedColumns,
        objectSha256: object.sha256,
        storageRegion: object.region,
        warnings: summary.warnings.length,
      },
    });
    return toVersionModel(await manager.getRepository(DatasetVersionEntity).findOneByOrFail({ id: version.id }));
  }

  private checkContentType(dataset: DatasetEntity, contentType: string | undefined): void {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    const charset = /charset=([^;]+)/i.exec(contentType ?? '')?.[1]?.trim().toLowerCase();
    if (!CONTENT_TYPES[dataset.format].includes(mediaType)) {
      throw new IngestError(0, `Content-Type must be ${CONTENT_TYPES[dataset.format][0]} for a ${dataset.format} dataset`, 415);
    }
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new IngestError(0, 'only UTF-8 content is accepted', 415);
  }
}

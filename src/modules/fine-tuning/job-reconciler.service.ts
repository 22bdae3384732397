import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, DATA_SOURCE } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { DatasetVersionEntity } from '../datasets/dataset.entities';
import { ModelVersionEntity } from '../models/model.entities';
import { FineTuningJobEntity, JobEventEntity } from './fine-tuning.entities';
import { JobPayloadBuilder } from './job-payload.builder';
import { TrainingQueueService } from './training-queue.service';

/**
 * The outbox's second half: a job QUEUED in PostgreSQL but absent from Redis (Redis flushed or
 * failed over, an enqueue lost) is enqueued again. Bull job id = job id, so a race is a no-op.
 */
@Injectable()
export class JobReconcilerService {
  private readonly logger = new Logger(JobReconcilerService.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly queue: TrainingQueueService,
    private readonly payloads: JobPayloadBuilder,
  ) {}

  async reconcile(): Promise<number> {
    const graceSeconds = this.config.training.reconcileSeconds;
    const queued: { id: string; tenant_id: string; pool_id: string }[] = await withScopedTransaction(this.dataSource, { maintenance: 'reconcile' }, (manager) =>
      manager.query(`SELECT id, tenant_id, pool_id FROM fine_tuning_jobs WHERE status = 'QUEUED' AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT 200`, [graceSeconds]),
    );
    let requeued = 0;
    for (const row of queued) {
      if (await this.queue.isQueued(row.pool_id, row.id).catch(() => true)) continue;
      await withScopedTransaction(this.dataSource, { tenantId: row.tenant_id }, async (manager) => {
        const job = await manager.getRepository(FineTuningJobEntity).findOneBy({ id: row.id });
        if (!job || job.status !== 'QUEUED') return;
        const training = await manager.getRepository(DatasetVersionEntity).findOneByOrFail({ id: job.trainingDatasetVersionId });
        const validation = job.validationDatasetVersionId ? await manager.getRepository(DatasetVersionEntity).findOneByOrFail({ id: job.validationDatasetVersionId }) : null;
        const base = job.baseModelVersionId ? await manager.getRepository(ModelVersionEntity).findOneByOrFail({ id: job.baseModelVersionId }) : null;
        await this.queue.enqueue(await this.payloads.build(manager, job, training, validation, base));
        await manager.getRepository(JobEventEntity).insert({ tenantId: job.tenantId, jobId: job.id, at: new Date(), level: 'warn', message: 'was missing from the queue; re-enqueued by the reconciler' });
        requeued++;
      });
    }
    if (requeued) this.logger.warn({ requeued }, 're-enqueued queued jobs missing from Redis');
    return requeued;
  }
}

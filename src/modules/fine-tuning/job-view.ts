import Decimal from 'decimal.js';
import type { EntityManager } from 'typeorm';
import { StoredObjectEntity } from '../storage/storage.entities';
import { ModelVersionEntity } from '../models/model.entities';
import { toModelVersionModel } from '../models/model-views';
import { microToEur } from '../billing/money';
import { FineTuningJobEntity, JobCheckpointEntity, JobEpochMetricsEntity, JobEventEntity, TERMINAL_STATUSES } from './fine-tuning.entities';
import { FineTuningJobModel } from './models/fine-tuning.model';

const RECENT_EVENTS = 100;

/** The full GraphQL view of a job, read in the caller's (tenant-scoped) transaction. */
export async function loadJobView(manager: EntityManager, job: FineTuningJobEntity): Promise<FineTuningJobModel> {
  // One after the other: they share the transaction's single connection.
  const metrics = await manager.getRepository(JobEpochMetricsEntity).find({ where: { jobId: job.id }, order: { epoch: 'ASC' } });
  const events = await manager.getRepository(JobEventEntity).find({ where: { jobId: job.id }, order: { id: 'DESC' }, take: RECENT_EVENTS });
  const checkpoints = (await manager
      .getRepository(JobCheckpointEntity)
      .createQueryBuilder('c')
      .innerJoinAndMapOne('c.object', StoredObjectEntity, 'o', 'o.id = c.object_id')
      .where('c.job_id = :jobId', { jobId: job.id })
      .orderBy('c.epoch', 'ASC')
      .getMany()) as (JobCheckpointEntity & { object: StoredObjectEntity })[];
  const resultVersion = job.resultModelVersionId ? await manager.getRepository(ModelVersionEntity).findOneBy({ id: job.resultModelVersionId }) : null;
  const [{ seconds, amount }] = await manager.query(
      `SELECT coalesce(sum(quantity) FILTER (WHERE meter IN ('GPU_SECONDS', 'CPU_SECONDS')), 0)::text AS seconds, coalesce(sum(amount_micro), 0)::text AS amount
         FROM usage_events WHERE source_type = 'fine_tuning_job' AND source_id = $1`,
      [job.id],
  );
  return {
    id: job.id,
    projectId: job.projectId,
    status: job.status,
    progress: job.progress,
    attempts: job.attempts,
    error: job.error,
    baseModel: job.baseModel,
    baseModelVersionId: job.baseModelVersionId,
    trainingDatasetVersionId: job.trainingDatasetVersionId,
    validationDatasetVersionId: job.validationDatasetVersionId,
    targetColumn: job.targetColumn,
    featureColumns: job.featureColumns,
    hyperparameters: { ...job.hyperparameters },
    metrics: metrics.map((m) => ({ epoch: m.epoch, samplesPerSecond: m.samplesPerSecond, loss: m.metrics.loss, ...m.metrics })),
    allEvents: events.map((e) => ({ at: e.at, level: e.level, message: e.message })),
    checkpoints: checkpoints.map((c) => ({ id: c.objectId, epoch: c.epoch, sha256: c.object.sha256, sizeBytes: c.object.sizeBytes, storageRegion: c.object.region, createdAt: c.createdAt })),
    resultModelVersion: resultVersion ? toModelVersionModel(resultVersion) : null,
    gpuSeconds: new Decimal(seconds).toFixed(3),
    costEur: microToEur(amount),
    costToEstimateRatio: TERMINAL_STATUSES.includes(job.status) && Number(job.estimate.amountEur) > 0 ? new Decimal(amount).div(1_000_000).div(job.estimate.amountEur).toDecimalPlaces(4).toNumber() : null,
    estimate: { ...job.estimate, pool: job.poolId },
    pool: job.poolId,
    region: job.region,
    gpuClass: job.gpuClass,
    backend: job.backend,
    cancelRequestedAt: job.cancelRequestedAt,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

import { Process, Processor } from '@nestjs/bull';
import { Inject, Logger } from '@nestjs/common';
import type { Job } from 'bull';
import Redis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, DATA_SOURCE, REDIS } from '../../common/infrastructure/tokens';
import { newContext, requestContextStorage } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { WORKER_EVENTS_QUEUE, WorkerEvent, redisKeys } from '../../contracts/training';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { AuditService } from '../audit/audit.service';
import { BudgetService } from '../billing/budget.service';
import { microToEur } from '../billing/money';
import { DatasetVersionEntity } from '../datasets/dataset.entities';
import { UsageLedgerService } from '../metering/usage-ledger.service';
import { ModelRegistryService } from '../models/model-registry.service';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { FineTuningJobEntity, JobCheckpointEntity, JobEventEntity, TERMINAL_STATUSES } from './fine-tuning.entities';
import { JobUpdatesService } from './job-updates.service';

type JobEvent = Exclude<WorkerEvent, { type: 'worker.heartbeat' }>;
const WORKER = (id: string) => ({ actorType: 'worker', actorId: id });

/**
 * Applies what workers report. Every handler is idempotent (events can be delivered twice, and a
 * resumed job repeats epochs): upserts by (job, epoch), ledger inserts by deterministic id.
 */
@Processor(WORKER_EVENTS_QUEUE)
export class WorkerEventsProcessor {
  private readonly logger = new Logger(WorkerEventsProcessor.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly objects: EncryptedObjectsService,
    private readonly ledger: UsageLedgerService,
    private readonly registry: ModelRegistryService,
    private readonly audit: AuditService,
    private readonly updates: JobUpdatesService,
    private readonly budgets: BudgetService,
  ) {}

  @Process({ concurrency: 4 })
  async handle(job: Job<WorkerEvent>): Promise<void> {
    const event = job.data;
    if (event.type === 'worker.heartbeat') return;
    await requestContextStorage.run(newContext(`worker-event:${job.id}`, null), async () => {
      const applied = await withScopedTransaction(this.dataSource, { tenantId: event.tenantId }, async (manager) => {
        const row = await manager.getRepository(FineTuningJobEntity).createQueryBuilder('j').setLock('pessimistic_write').where('j.id = :id', { id: event.jobId }).getOne();
        if (!row) {
          // The job is enqueued before its row commits, so a fast worker can report first. Failing
          // makes Bull retry the event (with backoff) once the row is visible; a job whose row never
          // committed ends in the failed set after the worker's attempts.
          this.logger.warn({ jobId: event.jobId, type: event.type }, 'worker event for a job not visible yet; will retry');
          throw new Error(`job ${event.jobId} is not visible yet`);
        }
        await this.apply(manager, row, event);
        return true;
      });
      if (applied) await this.updates.publish({ jobId: event.jobId, tenantId: event.tenantId });
    });
  }

  private async apply(manager: EntityManager, job: FineTuningJobEntity, event: JobEvent): Promise<void> {
    const jobs = manager.getRepository(FineTuningJobEntity);
    const terminal = TERMINAL_STATUSES.includes(job.status);
    switch (event.type) {
      case 'job.started': {
        if (terminal) return;
        await jobs.update({ id: job.id }, {
          status: 'RUNNING',
          startedAt: job.startedAt ?? new Date(event.at),
          attempts: Math.max(job.attempts, event.attempt),
          backend: event.backend,
          node: event.node,
        });
        const resumed = event.resumedFromEpoch ? `, resuming after epoch ${event.resumedFromEpoch}` : '';
        await this.event(manager, job, 'info', `attempt ${event.attempt} started on ${event.node} (${event.region}, backend ${event.backend})${resumed}`);
        const training = await manager.getRepository(DatasetVersionEntity).findOneBy({ id: job.trainingDatasetVersionId });
        await this.audit.append(manager, job.tenantId, {
          action: 'dataset.read_content',
          resourceType: 'DatasetVersion',
          resourceId: job.trainingDatasetVersionId,
          actor: WORKER(event.workerId),
          details: { jobId: job.id, sha256: training?.sha256, attempt: event.attempt, node: event.node, region: event.region },
        });
        return;
      }
      case 'job.progress':
        if (!terminal) await jobs.update({ id: job.id }, { progress: Math.min(1, Math.max(job.progress, event.progress)) });
        return;
      case 'job.epoch':
        await manager.query(
          `INSERT INTO job_epoch_metrics (job_id, tenant_id, epoch, metrics, samples_per_second) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (job_id, epoch) DO UPDATE SET metrics = EXCLUDED.metrics, samples_per_second = EXCLUDED.samples_per_second, recorded_at = now()`,
          [job.id, job.tenantId, event.epoch, JSON.stringify(event.metrics), event.samplesPerSecond],
        );
        if (!terminal) await jobs.update({ id: job.id }, { progress: Math.max(job.progress, event.epoch / job.hyperparameters.epochs) });
        return;
      case 'job.checkpoint':
        await this.objects.recordReported(manager, job.tenantId, 'CHECKPOINT', event.object);
        await manager.query(
          `INSERT INTO job_checkpoints (job_id, tenant_id, epoch, object_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (job_id, epoch) DO UPDATE SET object_id = EXCLUDED.object_id, created_at = now()`,
          [job.id, job.tenantId, event.epoch, event.object.objectId],
        );
        await this.event(manager, job, 'info', `checkpoint after epoch ${event.epoch} (sha256 ${event.object.sha256.slice(0, 12)}…, ${event.object.region})`);
        return;
      case 'job.usage':
        // Measured time is billed even after a cancellation: the accelerator did that work.
        await this.ledger.append(manager, {
          id: event.usageEventId,
          tenantId: job.tenantId,
          projectId: job.projectId,
          meter: event.meter,
          quantity: event.seconds,
          unit: 'second',
          gpuClass: event.meter === 'GPU_SECONDS' ? event.gpuClass : null,
          sourceType: 'fine_tuning_job',
          sourceId: job.id,
          occurredAt: new Date(event.at),
          details: { attempt: event.attempt, segment: event.segment, backend: event.backend, pool: job.poolId },
        });
        await this.stopAtReservation(manager, job);
        await this.budgets.checkAlerts(manager, job.tenantId);
        return;
      case 'job.log':
        await this.event(manager, job, event.level, event.message.slice(0, 1000));
        return;
      case 'job.succeeded': {
        if (terminal) return;
        await this.objects.recordReported(manager, job.tenantId, 'MODEL_ARTIFACT', event.artifact);
        const version = await this.registry.registerFromJob(manager, { ...job, node: job.node }, event);
        await jobs.update({ id: job.id }, {
          status: 'SUCCEEDED',
          progress: 1,
          finishedAt: new Date(event.at),
          resultModelVersionId: version.id,
          error: null,
          backend: event.backend,
          samplesPerSecond: await this.medianSamplesPerSecond(manager, job.id),
        });
        await this.budgets.release(manager, 'fine_tuning_job', job.id);
        await this.event(manager, job, 'info', `succeeded after ${event.epochs} epochs; model version ${version.version} registered`);
        await this.audit.append(manager, job.tenantId, {
          action: 'model_version.create',
          resourceType: 'ModelVersion',
          resourceId: version.id,
          actor: WORKER(job.node ?? 'worker'),
          details: { jobId: job.id, sha256: version.sha256, trainingDatasetVersionIds: version.trainingDatasetVersionIds },
        });
        await this.cleanup(job.id);
        return;
      }
      case 'job.failed':
        if (terminal) return;
        if (event.willRetry) {
          await this.event(manager, job, 'warn', `attempt ${event.attempt} failed: ${event.error}; retrying`);
          return;
        }
        await jobs.update({ id: job.id }, { status: 'FAILED', error: event.error.slice(0, 500), finishedAt: new Date(event.at) });
        await this.budgets.release(manager, 'fine_tuning_job', job.id);
        await this.event(manager, job, 'error', `failed: ${event.error}`);
        await this.cleanup(job.id);
        return;
      case 'job.cancelled':
        if (terminal) return;
        await jobs.update({ id: job.id }, { status: 'CANCELLED', finishedAt: new Date(event.at) });
        await this.budgets.release(manager, 'fine_tuning_job', job.id);
        await this.event(manager, job, 'info', `cancelled during epoch ${event.epoch + 1}`);
        await this.cleanup(job.id);
        return;
    }
  }

  /** A hard-capped job whose measured cost reaches its reservation is stopped, with the reason shown. */
  private async stopAtReservation(manager: EntityManager, job: FineTuningJobEntity): Promise<void> {
    if (job.cancelRequestedAt || TERMINAL_STATUSES.includes(job.status)) return;
    const used = await this.ledger.amountMicro(manager, 'fine_tuning_job', job.id);
    const { usedUp, reservedMicro } = await this.budgets.reservationUsedUp(manager, 'fine_tuning_job', job.id, used);
    if (!usedUp) return;
    const reason = `stopped: its budget reservation of ${microToEur(reservedMicro.toString())} EUR is used up (hard cap)`;
    await manager.getRepository(FineTuningJobEntity).update({ id: job.id }, { cancelRequestedAt: new Date(), error: reason });
    await this.redis.set(redisKeys.cancel(this.config.redisPrefix, job.id), '1', 'EX', 7 * 86400);
    await this.event(manager, job, 'warn', reason);
    await this.audit.append(manager, job.tenantId, { action: 'job.budget_stop', resourceType: 'FineTuningJob', resourceId: job.id, actor: { actorType: 'system', actorId: 'budget' }, details: { reservedEur: microToEur(reservedMicro.toString()), usedEur: microToEur(used.toString()) } });
  }

  private async medianSamplesPerSecond(manager: EntityManager, jobId: string): Promise<number | null> {
    const [{ median }] = await manager.query(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY samples_per_second) AS median FROM job_epoch_metrics WHERE job_id = $1 AND samples_per_second > 0`, [jobId]);
    return median === null ? null : Number(median);
  }

  private async event(manager: EntityManager, job: FineTuningJobEntity, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await manager.getRepository(JobEventEntity).insert({ tenantId: job.tenantId, jobId: job.id, at: new Date(), level, message });
  }

  private async cleanup(jobId: string): Promise<void> {
    const prefix = this.config.redisPrefix;
    await this.redis.del(redisKeys.cancel(prefix, jobId), redisKeys.checkpoint(prefix, jobId)).catch(() => undefined);
  }
}

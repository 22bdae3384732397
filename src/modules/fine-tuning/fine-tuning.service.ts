import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { randomInt, randomUUID } from 'node:crypto';
import { assertCan, currentAbility } from '../../common/authz/access';
import { abilityToSql } from '../../common/authz/ability-sql';
import { AppError, badInput, conflict, notFound } from '../../common/errors/app-error';
import { isUuid, requireUuid } from '../../common/errors/validation';
import { APP_CONFIG, REDIS } from '../../common/infrastructure/tokens';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { actorOf } from '../../common/request-context/principal';
import { currentContext, currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { redisKeys } from '../../contracts/training';
import { AuditService } from '../audit/audit.service';
import { BudgetService } from '../billing/budget.service';
import { eurToMicro } from '../billing/money';
import { PricingService } from '../billing/pricing.service';
import { DatasetEntity, DatasetVersionEntity } from '../datasets/dataset.entities';
import { ModelEntity, ModelVersionEntity } from '../models/model.entities';
import { ProjectEntity } from '../projects/project.entity';
import { loadReadableProject } from '../projects/project-access';
import { TenantEntity } from '../tenancy/tenant.entity';
import { BASE_MODEL_CATALOGUE, BaseModelSpec } from './base-models';
import { estimateTrainingCost } from './cost-estimator';
import { FineTuningJobEntity, JobEventEntity, JobStatus, TERMINAL_STATUSES } from './fine-tuning.entities';
import { checkColumns, checkJobInput } from './job-request.validator';
import { JobPayloadBuilder } from './job-payload.builder';
import { JobUpdatesService } from './job-updates.service';
import { loadJobView } from './job-view';
import { BaseModelModel, CostEstimateModel, CreateFineTuningJobInput, FineTuningJobModel } from './models/fine-tuning.model';
import { placeJob } from './placement';
import { TrainingQueueService } from './training-queue.service';

interface CheckedRequest {
  spec: BaseModelSpec;
  project: ProjectEntity;
  training: DatasetVersionEntity;
  validation: DatasetVersionEntity | null;
  baseModelVersion: ModelVersionEntity | null;
  estimate: CostEstimateModel;
  poolId: string;
  region: string;
  gpuClass: string;
}

@Injectable()
export class FineTuningService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly audit: AuditService,
    private readonly queue: TrainingQueueService,
    private readonly payloads: JobPayloadBuilder,
    private readonly updates: JobUpdatesService,
    private readonly budgets: BudgetService,
    private readonly pricing: PricingService,
  ) {}

  baseModels(): BaseModelModel[] {
    return BASE_MODEL_CATALOGUE.map(({ id, task, inputKind, description, defaultHyperparameters }) => ({ id, task, inputKind, description, defaultHyperparameters }));
  }

  async estimate(input: CreateFineTuningJobInput): Promise<CostEstimateModel> {
    return (await this.check(input)).estimate;
  }

  async create(input: CreateFineTuningJobInput): Promise<FineTuningJobModel> {
    if (input.idempotencyKey) {
      const first = await getRepository(FineTuningJobEntity).findOneBy({ tenantId: currentTenantId(), idempotencyKey: input.idempotencyKey });
      if (first) return this.view(first);
    }
    const checked = await this.check(input);
    const job: FineTuningJobEntity = Object.assign(new FineTuningJobEntity(), {
      id: randomUUID(),
      tenantId: currentTenantId(),
      projectId: checked.project.id,
      status: 'QUEUED' as JobStatus,
      baseModel: checked.spec.id,
      baseModelVersionId: checked.baseModelVersion?.id ?? null,
      trainingDatasetVersionId: checked.training.id,
      validationDatasetVersionId: checked.validation?.id ?? null,
      targetColumn: input.targetColumn,
      featureColumns: input.featureColumns && input.featureColumns.length ? input.featureColumns : null,
      hyperparameters: { ...input.hyperparameters, seed: input.hyperparameters.seed ?? randomInt(0, 2 ** 31 - 1) },
      poolId: checked.poolId,
      region: checked.region,
      gpuClass: checked.gpuClass,
      estimate: checked.estimate,
      idempotencyKey: input.idempotencyKey ?? null,
      progress: 0,
      attempts: 0,
      error: null,
      backend: null,
      node: null,
      cancelRequestedAt: null,
      resultModelVersionId: null,
      createdBy: actorOf(currentContext().principal).actorId,
      startedAt: null,
      samplesPerSecond: null,
      finishedAt: null,
    });
    // With a hard cap, the estimate is reserved under a lock on the budget row, before the job exists.
    await this.budgets.reserve(currentManager(), job.tenantId, 'fine_tuning_job', job.id, eurToMicro(checked.estimate.amountEur));
    try {
      await getRepository(FineTuningJobEntity).insert(job);
    } catch (error) {
      if ((error as { code?: string }).code === '23505' && input.idempotencyKey) throw conflict('A job with this idempotencyKey is being created; retry to get it');
      throw error;
    }
    await this.event(job, 'info', `queued on pool ${job.poolId} (${job.region}, ${job.gpuClass}); estimate ${checked.estimate.amountEur} EUR`);
    await this.audit.record({
      action: 'job.create',
      resourceType: 'FineTuningJob',
      resourceId: job.id,
      details: {
        projectId: job.projectId,
        baseModel: job.baseModel,
        trainingDatasetVersionId: job.trainingDatasetVersionId,
        trainingDatasetSha256: checked.training.sha256,
        validationDatasetVersionId: job.validationDatasetVersionId,
        pool: job.poolId,
        estimateEur: checked.estimate.amountEur,
      },
    });
    // Enqueued before the row commits: if Redis refuses, the transaction rolls back and no orphan
    // QUEUED row is left; if the commit fails after, the reconciler's twin check finds nothing to do.
    await this.queue.enqueue(await this.payloads.build(currentManager(), job, checked.training, checked.validation, checked.baseModelVersion));
    currentContext().afterCommit.push(() => this.updates.publish({ jobId: job.id, tenantId: job.tenantId }));
    return this.view(job);
  }

  async get(id: string): Promise<FineTuningJobModel> {
    return this.view(await this.load(id));
  }

  async list(projectId: string, status: JobStatus | undefined, first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const project = await loadReadableProject(projectId);
    const query = this.readable().andWhere('j.project_id = :projectId', { projectId: project.id });
    if (status) query.andWhere('j.status = :status', { status });
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(j.created_at, j.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('j.created_at', 'DESC').addOrderBy('j.id', 'DESC').take(page.first + 1).getMany();
    const result = toPage(rows, page, totalCount);
    const edges = [];
    for (const e of result.edges) edges.push({ cursor: e.cursor, node: await this.view(e.node) });
    return { ...result, edges };
  }

  /** A queued job is withdrawn at once; a running one is asked to stop and stops within a batch. */
  async cancel(id: string): Promise<FineTuningJobModel> {
    const job = await this.load(id);
    assertCan('cancel', 'Job', { projectId: job.projectId });
    if (TERMINAL_STATUSES.includes(job.status)) throw conflict(`The job is already ${job.status}`);
    const repository = getRepository(FineTuningJobEntity);
    if (job.status === 'QUEUED' && (await this.queue.removeIfWaiting(job.poolId, job.id))) {
      await repository.update({ id: job.id }, { status: 'CANCELLED', finishedAt: new Date(), cancelRequestedAt: new Date() });
      await this.budgets.release(currentManager(), 'fine_tuning_job', job.id);
      await this.event(job, 'info', 'cancelled before a worker started it');
    } else {
      await repository.update({ id: job.id }, { cancelRequestedAt: new Date() });
      await this.redis.set(redisKeys.cancel(this.config.redisPrefix, job.id), '1', 'EX', 7 * 86400);
      await this.event(job, 'info', 'cancellation requested; the worker stops after its current batch');
    }
    await this.audit.record({ action: 'job.cancel', resourceType: 'FineTuningJob', resourceId: job.id, details: { statusBefore: job.status } });
    currentContext().afterCommit.push(() => this.updates.publish({ jobId: job.id, tenantId: job.tenantId }));
    return this.view(await repository.findOneByOrFail({ id: job.id }));
  }

  /** For subscribers: the job as the subscriber's tenant sees it (RLS applies). */
  async view(job: FineTuningJobEntity): Promise<FineTuningJobModel> {
    return loadJobView(currentManager(), job);
  }

  async load(id: string): Promise<FineTuningJobEntity> {
    const job = await this.readable().andWhere('j.id = :id', { id: requireUuid(id) }).getOne();
    if (!job) throw notFound('FineTuningJob');
    return job;
  }

  private readable() {
    const query = getRepository(FineTuningJobEntity).createQueryBuilder('j').where('j.tenant_id = :tenantId', { tenantId: currentTenantId() });
    const allowed = abilityToSql(currentAbility(), 'read', 'Job', { projectId: 'j.project_id' });
    return allowed ? query.andWhere(allowed.sql, allowed.params) : query.andWhere('FALSE');
  }

  private async event(job: FineTuningJobEntity, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
    await getRepository(JobEventEntity).insert({ tenantId: job.tenantId, jobId: job.id, at: new Date(), level, message });
  }

  private async check(input: CreateFineTuningJobInput): Promise<CheckedRequest> {
    const spec = checkJobInput(input);
    const tenantId = currentTenantId();
    const project = await getRepository(ProjectEntity).findOneBy({ id: input.projectId.toLowerCase(), tenantId });
    if (!project) throw notFound('Project');
    assertCan('create', 'Job', { projectId: project.id });
    if (project.archivedAt) throw conflict('The project is archived');

    const training = await this.datasetVersionInProject(input.trainingDatasetVersionId, project.id, 'trainingDatasetVersionId');
    const validation = input.validationDatasetVersionId ? await this.datasetVersionInProject(input.validationDatasetVersionId, project.id, 'validationDatasetVersionId') : null;
    checkColumns(spec, training.columns, input.targetColumn, input.featureColumns, validation?.columns);

    let baseModelVersion: ModelVersionEntity | null = null;
    if (input.baseModelVersionId) {
      baseModelVersion = await getRepository(ModelVersionEntity).findOneBy({ id: input.baseModelVersionId.toLowerCase(), tenantId });
      const model = baseModelVersion ? await getRepository(ModelEntity).findOneBy({ id: baseModelVersion.modelId }) : null;
      if (!baseModelVersion || !model || model.projectId !== project.id) throw notFound('ModelVersion');
      if (model.baseModel !== spec.id) throw badInput('baseModelVersionId', `is a ${model.baseModel} model; it cannot continue as ${spec.id}`);
    }

    const tenant = await getRepository(TenantEntity).findOneByOrFail({ id: tenantId });
    const placement = placeJob(this.config.training.pools, tenant, input.gpuClass);
    if ('reason' in placement) throw badInput('gpuClass', placement.reason);

    const rows = Number(training.rowCount);
    const throughput = await this.calibratedThroughput(spec, placement.pool.id);
    const price = await this.pricing.priceAt(currentManager(), tenantId, 'GPU_SECONDS', placement.pool.gpuClass, new Date());
    const estimate = estimateTrainingCost({
      rows,
      epochs: input.hyperparameters.epochs,
      samplesPerSecond: throughput.samplesPerSecond,
      calibrationJobs: throughput.jobs,
      unitPriceMicro: price.unitPriceMicro,
      gpuClass: placement.pool.gpuClass,
      family: spec.id,
    });
    return { spec, project, training, validation, baseModelVersion, estimate: { ...estimate, pool: placement.pool.id }, poolId: placement.pool.id, region: placement.pool.region, gpuClass: placement.pool.gpuClass };
  }

  /**
   * Median training throughput of the last finished jobs of this family on this pool (the api sees
   * only the tenant's own jobs); the family's documented default before there are any.
   */
  private async calibratedThroughput(spec: BaseModelSpec, poolId: string): Promise<{ samplesPerSecond: number; jobs: number }> {
    const rows: { samples_per_second: number }[] = await currentManager().query(
      `SELECT samples_per_second FROM fine_tuning_jobs WHERE base_model = $1 AND pool_id = $2 AND status = 'SUCCEEDED' AND samples_per_second > 0
        ORDER BY finished_at DESC LIMIT 20`,
      [spec.id, poolId],
    );
    if (rows.length === 0) return { samplesPerSecond: spec.defaultSamplesPerSecond, jobs: 0 };
    const sorted = rows.map((r) => r.samples_per_second).sort((a, b) => a - b);
    return { samplesPerSecond: sorted[Math.floor(sorted.length / 2)], jobs: rows.length };
  }

  /** Another tenant's version, another project's, or an erased dataset's: all NOT_FOUND. */
  private async datasetVersionInProject(id: string, projectId: string, field: string): Promise<DatasetVersionEntity> {
    const version = await getRepository(DatasetVersionEntity).findOneBy({ id: id.toLowerCase(), tenantId: currentTenantId() });
    const dataset = version ? await getRepository(DatasetEntity).findOneBy({ id: version.datasetId }) : null;
    if (!version || !dataset || dataset.projectId !== projectId || dataset.erasedAt) throw new AppError('NOT_FOUND', 'DatasetVersion not found', { fields: [{ field, message: 'not found in this project' }] });
    return version;
  }
}

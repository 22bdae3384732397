import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import { assertCan } from '../../common/authz/access';
import { AppError, badInput, rateLimited } from '../../common/errors/app-error';
import { APP_CONFIG, REDIS } from '../../common/infrastructure/tokens';
import { currentManager, getRepository } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { canonicalJson } from '../audit/audit-chain';
import { AuditService } from '../audit/audit.service';
import { BudgetService } from '../billing/budget.service';
import type { ObjectRef, ModelSummary } from '../../contracts/training';
import { meterForBackend } from '../../contracts/training';
import { UsageLedgerService } from '../metering/usage-ledger.service';
import { ModelVersionEntity } from '../models/model.entities';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { StoredObjectEntity } from '../storage/storage.entities';
import { DriftMonitorService } from './drift-monitor.service';
import { EndpointsService } from './endpoints.service';
import { InferenceClientService } from './inference-client.service';
import { PredictionResultModel } from './models/endpoint.model';
import { validatePredictionInputs } from './prediction-inputs';

const GRANT_CACHE_MS = 60_000;

/**
 * A predict call: validate against the model's features, rate-limit per tenant and endpoint, send
 * to the pool, then record usage (deterministic ids) and an audit event with the SHA-256 of the
 * canonical inputs — never the inputs themselves.
 */
@Injectable()
export class PredictionService {
  private readonly grants = new Map<string, { ref: ObjectRef; expires: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly endpoints: EndpointsService,
    private readonly inference: InferenceClientService,
    private readonly objects: EncryptedObjectsService,
    private readonly ledger: UsageLedgerService,
    private readonly drift: DriftMonitorService,
    private readonly audit: AuditService,
    private readonly budgets: BudgetService,
  ) {}

  async predict(endpointId: string, inputs: unknown): Promise<PredictionResultModel> {
    const started = process.hrtime.bigint();
    const endpoint = await this.endpoints.load(endpointId);
    assertCan('predict', 'Endpoint', { projectId: endpoint.projectId });
    if (!Array.isArray(inputs) || inputs.length === 0) throw badInput('inputs', 'must be a non-empty array of objects');
    if (inputs.length > this.config.serving.maxRows) throw badInput('inputs', `must hold at most ${this.config.serving.maxRows} rows per call`);
    const version = await getRepository(ModelVersionEntity).findOneByOrFail({ id: endpoint.modelVersionId });
    const { rows, errors } = validatePredictionInputs(version.summary as unknown as ModelSummary, inputs);
    if (errors.length) throw badInput(errors);
    await this.rateLimit(endpoint.tenantId, endpoint.id, endpoint.rateLimitPerMinute);
    await this.budgets.assertCanSpend(currentManager(), endpoint.tenantId);

    const requestId = randomUUID();
    const result = await this.inference.predict(endpoint.poolId, {
      kind: 'predict',
      version: 1,
      requestId,
      tenantId: endpoint.tenantId,
      endpointId: endpoint.id,
      modelVersionId: version.id,
      artifact: await this.artifactRef(version),
      idleTimeoutSeconds: endpoint.idleTimeoutSeconds,
      inputs: rows,
    });
    const latencyMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    const now = new Date();
    const manager = currentManager();
    await this.ledger.append(manager, {
      id: `predict:${requestId}`,
      tenantId: endpoint.tenantId,
      projectId: endpoint.projectId,
      meter: 'PREDICTIONS',
      quantity: String(rows.length),
      unit: 'prediction',
      gpuClass: null,
      sourceType: 'endpoint',
      sourceId: endpoint.id,
      occurredAt: now,
      details: { modelVersionId: version.id, requestId },
    });
    const meter = meterForBackend(result.backend);
    await this.ledger.append(manager, {
      id: `predict-compute:${requestId}`,
      tenantId: endpoint.tenantId,
      projectId: endpoint.projectId,
      meter,
      quantity: result.computeSeconds,
      unit: 'second',
      gpuClass: meter === 'GPU_SECONDS' ? (this.config.training.pools.find((p) => p.id === endpoint.poolId)?.gpuClass ?? null) : null,
      sourceType: 'endpoint',
      sourceId: endpoint.id,
      occurredAt: now,
      details: { modelVersionId: version.id, requestId, backend: result.backend, batchSize: result.batchSize },
    });
    await this.audit.record({
      action: 'endpoint.predict',
      resourceType: 'Endpoint',
      resourceId: endpoint.id,
      details: {
        modelVersionId: version.id,
        rows: rows.length,
        inputsSha256: createHash('sha256').update(canonicalJson(rows)).digest('hex'),
        latencyMs,
        coldStart: result.coldStart,
        batchSize: result.batchSize,
        worker: result.workerId,
        requestId,
      },
    });
    await this.budgets.checkAlerts(manager, endpoint.tenantId);
    await this.drift.observe(endpoint, version.driftBaseline, rows, result.outputs);
    await this.drift.checkThresholds(endpoint);
    return { outputs: result.outputs, modelVersionId: version.id, latencyMs, coldStart: result.coldStart };
  }

  private async rateLimit(tenantId: string, endpointId: string, perMinute: number): Promise<void> {
    const minute = Math.floor(Date.now() / 60_000);
    const key = `${this.config.redisPrefix}:ratelimit:predict:${tenantId}:${endpointId}:${minute}`;
    const [[, count]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[null, number], unknown];
    if (count > perMinute) {
      const retryAfterSeconds = 60 - Math.floor((Date.now() / 1000) % 60);
      throw rateLimited(`This endpoint accepts ${perMinute} calls per minute for your tenant; retry in ${retryAfterSeconds} s`, retryAfterSeconds);
    }
  }

  /** Grants are cached a minute per artifact: sealing touches keys on every call otherwise. */
  private async artifactRef(version: ModelVersionEntity): Promise<ObjectRef> {
    const cached = this.grants.get(version.artifactObjectId);
    if (cached && cached.expires > Date.now()) return cached.ref;
    const manager = currentManager();
    const object = await manager.getRepository(StoredObjectEntity).findOneBy({ id: version.artifactObjectId });
    if (!object) throw new AppError('NOT_FOUND', 'Model artifact not found');
    const ref = { objectId: object.id, storageKey: object.storageKey, sha256: object.sha256, readGrant: await this.objects.readGrant(manager, object.id) };
    this.grants.set(version.artifactObjectId, { ref, expires: Date.now() + GRANT_CACHE_MS });
    return ref;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, REDIS } from '../../common/infrastructure/tokens';
import { getRepository } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import type { DriftBaseline, PredictionOutput } from '../../contracts/inference';
import { AuditService } from '../audit/audit.service';
import { ModelVersionEntity } from '../models/model.entities';
import { bucketsOf, driftReport, DriftReport } from './drift';
import { EndpointEntity, EndpointEventEntity } from './endpoint.entities';
import { DriftModel } from './models/endpoint.model';

/**
 * Rolling windows of live inputs and outputs per endpoint (Redis hashes of bucket counts, one per
 * window), compared with the model version's training baseline by PSI. Only bucket counts are
 * kept, never the inputs themselves.
 */
@Injectable()
export class DriftMonitorService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly audit: AuditService,
  ) {}

  async observe(endpoint: EndpointEntity, baseline: DriftBaseline | null, rows: Record<string, unknown>[], outputs: PredictionOutput[]): Promise<void> {
    if (!baseline) return;
    const { counts, rows: rowsKey } = this.keys(endpoint, this.windowStart());
    const pipeline = this.redis.multi();
    rows.forEach((row, i) => {
      for (const bucket of bucketsOf(baseline, row, outputs[i])) pipeline.hincrby(counts, bucket, 1);
    });
    pipeline.incrby(rowsKey, rows.length);
    const ttl = this.config.serving.driftWindowSeconds * 3;
    pipeline.expire(counts, ttl).expire(rowsKey, ttl);
    await pipeline.exec();
  }

  /** The current window if it has enough rows, else the previous one. */
  async report(endpoint: EndpointEntity, baseline: DriftBaseline | null): Promise<DriftModel> {
    if (!baseline) return { status: 'OK', windowStart: null, rows: 0, features: [], outputPsi: null };
    const current = this.windowStart();
    const previous = new Date(current.getTime() - this.config.serving.driftWindowSeconds * 1000);
    for (const start of [current, previous]) {
      const { counts, rows } = this.keys(endpoint, start);
      const total = Number((await this.redis.get(rows)) ?? 0);
      if (total >= this.config.serving.driftMinRows) {
        const hash = await this.redis.hgetall(counts);
        const report = driftReport(baseline, new Map(Object.entries(hash).map(([k, v]) => [k, Number(v)])), total);
        return { ...report, windowStart: start };
      }
    }
    return { status: 'OK', windowStart: current, rows: Number((await this.redis.get(this.keys(endpoint, current).rows)) ?? 0), features: [], outputPsi: null };
  }

  /** Records a change of drift status once: an endpoint event and an audit record. */
  async checkThresholds(endpoint: EndpointEntity): Promise<DriftModel> {
    const version = await getRepository(ModelVersionEntity).findOneByOrFail({ id: endpoint.modelVersionId });
    const drift = await this.report(endpoint, version.driftBaseline);
    if (drift.rows >= this.config.serving.driftMinRows && drift.status !== endpoint.driftStatus) {
      const updated = await getRepository(EndpointEntity)
        .createQueryBuilder()
        .update()
        .set({ driftStatus: drift.status as EndpointEntity['driftStatus'] })
        .where('id = :id AND drift_status = :previous', { id: endpoint.id, previous: endpoint.driftStatus })
        .execute();
      if (updated.affected) {
        const worst = [...drift.features].sort((a, b) => b.psi - a.psi)[0];
        const message = `drift ${endpoint.driftStatus} → ${drift.status} over ${drift.rows} rows${worst ? `; largest PSI ${worst.psi} on ${worst.name}` : ''}`;
        await getRepository(EndpointEventEntity).insert({ tenantId: endpoint.tenantId, endpointId: endpoint.id, at: new Date(), level: drift.status === 'ALERT' ? 'error' : drift.status === 'WARNING' ? 'warn' : 'info', message });
        await this.audit.record({
          action: 'endpoint.drift',
          resourceType: 'Endpoint',
          resourceId: endpoint.id,
          actor: { actorType: 'system', actorId: 'drift-monitor' },
          details: { from: endpoint.driftStatus, to: drift.status, rows: drift.rows, features: drift.features, outputPsi: drift.outputPsi, modelVersionId: endpoint.modelVersionId },
        });
      }
    }
    return drift;
  }

  private windowStart(): Date {
    const size = this.config.serving.driftWindowSeconds * 1000;
    return new Date(Math.floor(Date.now() / size) * size);
  }

  private keys(endpoint: EndpointEntity, start: Date) {
    const base = `${this.config.redisPrefix}:drift:${endpoint.id}:${endpoint.modelVersionId}:${start.getTime()}`;
    return { counts: `${base}:counts`, rows: `${base}:rows` };
  }
}

export type { DriftReport };

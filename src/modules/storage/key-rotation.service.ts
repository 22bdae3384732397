import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { currentContext, currentManager, currentTenantId } from '../../common/request-context/request-context';
import { AuditService } from '../audit/audit.service';
import { MAINTENANCE_QUEUE, RewrapJob } from '../maintenance/maintenance.jobs';
import { KeyChainService } from './key-chain.service';
import { KeyRotationModel } from './models/key-rotation.model';

@Injectable()
export class KeyRotationService {
  constructor(
    private readonly keys: KeyChainService,
    private readonly audit: AuditService,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
  ) {}

  /** New objects use the new generation at once; older objects are re-wrapped in the background. */
  async rotate(): Promise<KeyRotationModel> {
    const tenantId = currentTenantId();
    const manager = currentManager();
    const rotated = await this.keys.rotate(manager, tenantId);
    const [{ pending }] = await manager.query(
      `SELECT count(*)::int AS pending FROM stored_objects WHERE tenant_id = $1 AND key_generation < $2 AND shredded_at IS NULL`,
      [tenantId, rotated.generation],
    );
    await this.audit.record({ action: 'tenant.key_rotate', resourceType: 'Tenant', resourceId: tenantId, details: { generation: rotated.generation, rewrapPending: pending } });
    const job: RewrapJob = { tenantId, generation: rotated.generation };
    currentContext().afterCommit.push(async () => {
      await this.queue.add('rewrap', job, { jobId: `rewrap:${tenantId}:${rotated.generation}`, attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100 });
    });
    return { generation: rotated.generation, rotatedAt: rotated.createdAt, rewrapPending: pending };
  }
}

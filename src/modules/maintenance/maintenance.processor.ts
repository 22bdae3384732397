import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Inject, Logger, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { DataSource } from 'typeorm';
import { APP_CONFIG, DATA_SOURCE } from '../../common/infrastructure/tokens';
import { newContext, requestContextStorage } from '../../common/request-context/request-context';
import type { RuntimeConfig } from '../../config/runtime-config';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { AuditService } from '../audit/audit.service';
import { DatasetErasureService } from '../datasets/dataset-erasure.service';
import { DatasetEntity, DatasetRetentionEntity } from '../datasets/dataset.entities';
import { EncryptedObjectsService } from '../storage/encrypted-objects.service';
import { KeyChainService } from '../storage/key-chain.service';
import { InvoicesService } from '../billing/invoices.service';
import { UsageLedgerService } from '../metering/usage-ledger.service';
import Decimal from 'decimal.js';
import { JobReconcilerService } from '../fine-tuning/job-reconciler.service';
import { MAINTENANCE_QUEUE, RewrapJob } from './maintenance.jobs';

const REWRAP_BATCH = 50;
const SYSTEM = (name: string) => ({ actorType: 'system', actorId: name });

@Processor(MAINTENANCE_QUEUE)
export class MaintenanceProcessor implements OnModuleInit {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    private readonly objects: EncryptedObjectsService,
    private readonly erasure: DatasetErasureService,
    private readonly audit: AuditService,
    private readonly reconciler: JobReconcilerService,
    private readonly ledger: UsageLedgerService,
    private readonly invoices: InvoicesService,
    private readonly keyChain: KeyChainService,
  ) {}

  async onModuleInit(): Promise<void> {
    const every = this.config.datasets.retentionSweepSeconds * 1000;
    await this.queue.add('retention-sweep', {}, { repeat: { every }, jobId: 'retention-sweep', removeOnComplete: 10, removeOnFail: 50 });
    const reconcileEvery = this.config.training.reconcileSeconds * 1000;
    await this.queue.add('reconcile-jobs', {}, { repeat: { every: reconcileEvery }, jobId: 'reconcile-jobs', removeOnComplete: 10, removeOnFail: 50 });
    await this.queue.add('storage-metering', {}, { repeat: { cron: '5 * * * *' }, jobId: 'storage-metering', removeOnComplete: 10, removeOnFail: 50 });
    await this.queue.add('month-close', {}, { repeat: { cron: '30 2 * * *' }, jobId: 'month-close', removeOnComplete: 10, removeOnFail: 50 });
    // At each start, then every 15 minutes: during a rollout, a pod still on the previous ring may
    // run it towards its own active key; the runs after the rollout move everything to the new one.
    await this.queue.add('master-key-rewrap', {}, { attempts: 3, backoff: { type: 'fixed', delay: 30_000 }, removeOnComplete: true, removeOnFail: 20 });
    await this.queue.add('master-key-rewrap', {}, { repeat: { every: 15 * 60_000 }, jobId: 'master-key-rewrap', removeOnComplete: 10, removeOnFail: 50 });
  }

  /**
   * Moves tenant keys still wrapped under an older master key of MASTER_KEYS onto the active one,
   * a tenant per transaction, so that the older key can then leave the ring (docs/DEPLOYMENT.md).
   */
  @Process('master-key-rewrap')
  async masterKeyRewrap(job: Job): Promise<{ tenants: number; keys: number }> {
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => {
      const activeId = this.config.masterKeys.activeId;
      const tenants: { tenant_id: string }[] = await withScopedTransaction(this.dataSource, { maintenance: 'master-key-rewrap' }, (manager) =>
        manager.query(`SELECT tenant_id FROM tenants_with_keys_not_under($1) AS tenant_id`, [activeId]),
      );
      let keys = 0;
      let failed = 0;
      for (const { tenant_id: tenantId } of tenants) {
        try {
          const moved = await withScopedTransaction(this.dataSource, { tenantId }, (manager) => this.keyChain.rewrapUnderActiveMaster(manager, tenantId));
          const count = Object.values(moved).reduce((sum, n) => sum + n, 0);
          keys += count;
          if (count) {
            await this.audit.recordStandalone(tenantId, {
              action: 'tenant.master_key_rewrap',
              resourceType: 'Tenant',
              resourceId: tenantId,
              actor: SYSTEM('master-key-rewrap'),
              details: { toMasterKeyId: activeId, fromMasterKeyIds: moved, keys: count },
            });
          }
        } catch (error) {
          // One tenant's failure (e.g. a key under a master key missing from the ring) stops only that tenant.
          failed++;
          this.logger.error({ tenantId, reason: (error as Error).message }, 'tenant keys could not be re-wrapped');
        }
        await job.progress(keys);
      }
      if (keys) this.logger.log({ tenants: tenants.length, keys, masterKeyId: activeId }, 'tenant keys re-wrapped under the active master key');
      if (failed) throw new Error(`tenant keys of ${failed} tenant(s) could not be re-wrapped under master key "${activeId}"`);
      return { tenants: tenants.length, keys };
    });
  }

  /** Hourly STORAGE_GB_HOURS per tenant: bytes held (datasets, checkpoints, models) during the last hour. */
  @Process('storage-metering')
  async storageMetering(job: Job): Promise<{ tenants: number }> {
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => {
      const hourStart = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
      const held: { tenant_id: string; bytes: string }[] = await withScopedTransaction(this.dataSource, { maintenance: 'storage-metering' }, (manager) =>
        manager.query(`SELECT tenant_id, sum(size_bytes)::text AS bytes FROM stored_objects WHERE shredded_at IS NULL AND deleted_at IS NULL AND created_at < $1 GROUP BY tenant_id`, [new Date(hourStart.getTime() + 3_600_000)]),
      );
      for (const { tenant_id: tenantId, bytes } of held) {
        await withScopedTransaction(this.dataSource, { tenantId }, (manager) =>
          this.ledger.append(manager, {
            id: `storage:${tenantId}:${hourStart.toISOString()}`,
            tenantId,
            projectId: null,
            meter: 'STORAGE_GB_HOURS',
            quantity: new Decimal(bytes).div(1e9).toDecimalPlaces(6, Decimal.ROUND_HALF_UP).toFixed(6),
            unit: 'GB-hour',
            gpuClass: null,
            sourceType: 'storage',
            sourceId: tenantId,
            occurredAt: hourStart,
            details: { bytes },
          }),
        );
      }
      return { tenants: held.length };
    });
  }

  /** Closes last month's invoices a day into the new month, leaving time for late worker reports. */
  @Process('month-close')
  async monthClose(job: Job): Promise<{ closed: number }> {
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => {
      const now = new Date();
      if (now.getUTCDate() < 2) return { closed: 0 };
      const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
      const tenants: { tenant_id: string }[] = await withScopedTransaction(this.dataSource, { maintenance: 'month-close' }, (manager) =>
        manager.query(`SELECT DISTINCT tenant_id FROM usage_events WHERE billing_period = $1`, [previous]),
      );
      let closed = 0;
      for (const { tenant_id: tenantId } of tenants) {
        await withScopedTransaction(this.dataSource, { tenantId }, async (manager) => {
          const [existing] = await manager.query(`SELECT 1 FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [tenantId, previous]);
          if (existing) return;
          await this.invoices.close(manager, tenantId, previous, SYSTEM('month-close'));
          closed++;
        });
      }
      return { closed };
    });
  }

  @Process('reconcile-jobs')
  async reconcileJobs(job: Job): Promise<{ requeued: number }> {
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => ({ requeued: await this.reconciler.reconcile() }));
  }

  /** Moves a tenant's objects to its newest key generation, a batch per transaction. */
  @Process('rewrap')
  async rewrap(job: Job<RewrapJob>): Promise<{ rewrapped: number }> {
    const { tenantId, generation } = job.data;
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => {
      let rewrapped = 0;
      let lastId = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const batch: { id: string }[] = await withScopedTransaction(this.dataSource, { tenantId }, (manager) =>
          manager.query(
            `SELECT id FROM stored_objects WHERE tenant_id = $1 AND key_generation < $2 AND shredded_at IS NULL AND id > $3 ORDER BY id LIMIT $4`,
            [tenantId, generation, lastId, REWRAP_BATCH],
          ),
        );
        for (const { id } of batch) {
          const moved = await withScopedTransaction(this.dataSource, { tenantId }, (manager) => this.objects.rewrap(manager, id));
          if (moved) rewrapped++;
          lastId = id;
        }
        await job.progress(rewrapped);
        if (batch.length < REWRAP_BATCH) break;
      }
      await this.audit.recordStandalone(tenantId, { action: 'storage.rewrap_completed', resourceType: 'Tenant', resourceId: tenantId, actor: SYSTEM('key-rotation'), details: { generation, rewrapped } });
      this.logger.log({ tenantId, generation, rewrapped }, 'key re-wrap completed');
      return { rewrapped };
    });
  }

  /** Erases datasets whose retention period has ended, in every tenant, one transaction each. */
  @Process('retention-sweep')
  async retentionSweep(job: Job): Promise<{ erased: number }> {
    return requestContextStorage.run(newContext(`job:${job.id}`, null), async () => {
      const due = await withScopedTransaction(this.dataSource, { maintenance: 'retention' }, (manager) =>
        manager.getRepository(DatasetRetentionEntity).createQueryBuilder('r').where('r.erase_after <= now()').orderBy('r.erase_after').take(500).getMany(),
      );
      let erased = 0;
      for (const entry of due) {
        const objects = await withScopedTransaction(this.dataSource, { tenantId: entry.tenantId }, async (manager) => {
          const dataset = await manager.getRepository(DatasetEntity).findOneBy({ id: entry.datasetId });
          if (!dataset || dataset.erasedAt) return [];
          return this.erasure.erase(manager, dataset, 'retention', SYSTEM('retention'));
        });
        await this.erasure.deleteObjects(objects);
        erased++;
      }
      if (erased) this.logger.log({ erased }, 'retention sweep erased datasets');
      return { erased };
    });
  }
}

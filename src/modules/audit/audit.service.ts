import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { actorOf } from '../../common/request-context/principal';
import { currentContext, PendingAuditEvent, requestContextStorage } from '../../common/request-context/request-context';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { chainHash, GENESIS_HASH } from './audit-chain';
import { AuditChainHeadEntity, AuditEventEntity, AuditOutcome } from './audit-event.entity';

export interface AuditRecord {
  action: string;
  resourceType?: string;
  resourceId?: string;
  outcome?: AuditOutcome;
  details?: Record<string, unknown>;
  /** Overrides the actor taken from the request context (e.g. a login before a principal exists). */
  actor?: { actorType: string; actorId: string | null };
}

/**
 * Appends to a tenant's hash chain. The chain head row is locked for the rest of the transaction,
 * so concurrent writers in one tenant queue up instead of forking the chain.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);

  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Records inside the request's transaction: the event commits or rolls back with the change. */
  async record(record: AuditRecord): Promise<void> {
    const context = currentContext();
    if (!context.transaction || !context.tenantId) throw new Error('audit.record needs a tenant transaction');
    await this.append(context.transaction.manager, context.tenantId, record);
  }

  /** Denials and failures: written after the request's transaction has rolled back. */
  recordAfterRollback(event: PendingAuditEvent): void {
    currentContext().pendingAudit.push(event);
  }

  /** Writes in a transaction of its own (events with no request transaction, e.g. logins). */
  async recordStandalone(tenantId: string, record: AuditRecord): Promise<void> {
    await withScopedTransaction(this.dataSource, { tenantId }, (manager) => this.append(manager, tenantId, record));
  }

  async flushPending(): Promise<void> {
    const context = requestContextStorage.getStore();
    if (!context?.tenantId || context.pendingAudit.length === 0) return;
    const events = context.pendingAudit.splice(0);
    try {
      await withScopedTransaction(this.dataSource, { tenantId: context.tenantId }, async (manager) => {
        for (const event of events) await this.append(manager, context.tenantId!, event);
      });
    } catch (error) {
      this.logger.error({ err: error, requestId: context.requestId }, 'failed to write audit events after rollback');
    }
  }

  async append(manager: EntityManager, tenantId: string, record: AuditRecord): Promise<AuditEventEntity> {
    const context = requestContextStorage.getStore();
    await manager.query(
      `INSERT INTO audit_chain_heads (tenant_id, last_seq, last_hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId, GENESIS_HASH],
    );
    const head = await manager
      .getRepository(AuditChainHeadEntity)
      .createQueryBuilder('head')
      .setLock('pessimistic_write')
      .where('head.tenant_id = :tenantId', { tenantId })
      .getOneOrFail();

    const actor = record.actor ?? actorOf(context?.principal);
    const event: AuditEventEntity = {
      tenantId,
      seq: (BigInt(head.lastSeq) + 1n).toString(),
      id: randomUUID(),
      at: new Date(),
      actorType: actor.actorType,
      actorId: actor.actorId,
      action: record.action,
      resourceType: record.resourceType ?? null,
      resourceId: record.resourceId ?? null,
      outcome: record.outcome ?? 'SUCCESS',
      requestId: context?.requestId ?? null,
      ip: context?.ip ?? null,
      details: record.details ?? {},
      prevHash: head.lastHash,
      hash: '',
    };
    event.hash = chainHash(event.prevHash, event);
    await manager.getRepository(AuditEventEntity).insert(event as never);
    await manager.getRepository(AuditChainHeadEntity).update({ tenantId }, { lastSeq: event.seq, lastHash: event.hash });
    return event;
  }
}

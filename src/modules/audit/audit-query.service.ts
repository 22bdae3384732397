import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { badInput } from '../../common/errors/app-error';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from '../../common/pagination/cursor';
import { currentTenantId, getRepository } from '../../common/request-context/request-context';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { ChainVerification, ChainVerifier } from './audit-chain';
import { AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditFilter } from './models/audit-event.model';

const VERIFY_BATCH = 1000;

/** Reads of the audit trail: filtered pages, chain verification, and the JSON Lines export. */
@Injectable()
export class AuditQueryService {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async list(filter: AuditFilter | undefined, first: number | undefined, after: string | undefined) {
    const size = first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw badInput('first', `must be between 1 and ${MAX_PAGE_SIZE}`);
    if (after !== undefined && after !== null && !/^\d{1,19}$/.test(after)) throw badInput('after', 'is not a valid cursor');

    const filtered = this.applyFilter(getRepository(AuditEventEntity).createQueryBuilder('e'), filter);
    const totalCount = await filtered.clone().getCount();
    const page = filtered.clone().orderBy('e.seq', 'DESC').take(size + 1);
    if (after) page.andWhere('e.seq < :after', { after });
    const rows = await page.getMany();
    const nodes = rows.slice(0, size);
    return {
      edges: nodes.map((node) => ({ cursor: node.seq, node })),
      pageInfo: { hasNextPage: rows.length > size, endCursor: nodes.length ? nodes[nodes.length - 1].seq : null },
      totalCount,
    };
  }

  /** Recomputes every hash in seq order, then checks the head still points at the last event. */
  async verify(): Promise<ChainVerification> {
    const repository = getRepository(AuditEventEntity);
    const verifier = new ChainVerifier();
    let last: AuditEventEntity | undefined;
    for (;;) {
      const batch = await repository
        .createQueryBuilder('e')
        .where('e.seq > :lastSeq', { lastSeq: last?.seq ?? '0' })
        .orderBy('e.seq', 'ASC')
        .take(VERIFY_BATCH)
        .getMany();
      batch.forEach((event) => verifier.accept(event));
      if (batch.length) last = batch[batch.length - 1];
      if (batch.length < VERIFY_BATCH) break;
    }
    const result = verifier.result();
    const head = await repository.manager.getRepository(AuditChainHeadEntity).findOneBy({ tenantId: currentTenantId() });
    const headMatches = !head || (head.lastSeq === (last?.seq ?? '0') && (!last || head.lastHash === last.hash));
    if (result.valid && !headMatches) {
      // Events were cut from the end of the chain: the head remembers more than the table holds.
      return { valid: false, checkedCount: result.checkedCount, firstInvalidSeq: (BigInt(last?.seq ?? '0') + 1n).toString() };
    }
    return result;
  }

  /** Streams events in batches inside one tenant transaction; `write` applies back-pressure. */
  async exportJsonLines(tenantId: string, from: Date | undefined, to: Date | undefined, write: (line: string) => Promise<void>): Promise<number> {
    return withScopedTransaction(this.dataSource, { tenantId }, async (manager: EntityManager) => {
      let lastSeq = '0';
      let count = 0;
      for (;;) {
        const batch = await this.applyFilter(manager.getRepository(AuditEventEntity).createQueryBuilder('e'), { from, to })
          .andWhere('e.seq > :lastSeq', { lastSeq })
          .orderBy('e.seq', 'ASC')
          .take(VERIFY_BATCH)
          .getMany();
        for (const event of batch) {
          const { tenantId: _tenant, ...rest } = event;
          await write(`${JSON.stringify({ tenantId: _tenant, ...rest, at: event.at.toISOString() })}\n`);
          count++;
        }
        if (batch.length < VERIFY_BATCH) return count;
        lastSeq = batch[batch.length - 1].seq;
      }
    });
  }

  private applyFilter(query: SelectQueryBuilder<AuditEventEntity>, filter: AuditFilter | undefined) {
    if (!filter) return query;
    if (filter.action) query.andWhere('e.action = :action', { action: filter.action });
    if (filter.actorId) query.andWhere('e.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.resourceType) query.andWhere('e.resource_type = :resourceType', { resourceType: filter.resourceType });
    if (filter.resourceId) query.andWhere('e.resource_id = :resourceId', { resourceId: filter.resourceId });
    if (filter.outcome) query.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
    if (filter.from) query.andWhere('e.at >= :from', { from: filter.from });
    if (filter.to) query.andWhere('e.at < :to', { to: filter.to });
    return query;
  }
}

import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Meter } from './usage-event.entity';

export interface UsageRecord {
  id: string;
  tenantId: string;
  projectId: string | null;
  meter: Meter;
  quantity: string;
  unit: string;
  gpuClass: string | null;
  sourceType: string;
  sourceId: string;
  occurredAt: Date;
  details?: Record<string, unknown>;
}

/** Appends to the ledger; a repeated id (a retried report) is ignored, so nothing counts twice. */
@Injectable()
export class UsageLedgerService {
  async append(manager: EntityManager, record: UsageRecord): Promise<boolean> {
    if (!/^\d+(\.\d{1,6})?$/.test(record.quantity)) throw new Error('usage quantity must be a non-negative decimal string');
    const inserted: unknown[] = await manager.query(
      `INSERT INTO usage_events (id, tenant_id, project_id, meter, quantity, unit, gpu_class, source_type, source_id, occurred_at, details)
       VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [record.id, record.tenantId, record.projectId, record.meter, record.quantity, record.unit, record.gpuClass, record.sourceType, record.sourceId, record.occurredAt, JSON.stringify(record.details ?? {})],
    );
    return inserted.length > 0;
  }

  /** Sum of a source's quantity for a meter, as an exact decimal string. */
  async total(manager: EntityManager, sourceType: string, sourceId: string, meters: Meter[]): Promise<string> {
    const [{ total }] = await manager.query(
      `SELECT coalesce(sum(quantity), 0)::text AS total FROM usage_events WHERE source_type = $1 AND source_id = $2 AND meter = ANY($3)`,
      [sourceType, sourceId, meters],
    );
    return total;
  }
}

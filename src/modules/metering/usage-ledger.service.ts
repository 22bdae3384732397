import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { amountMicro, billingPeriodOf } from '../billing/money';
import { PricingService } from '../billing/pricing.service';
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

export class UsageRejectedError extends Error {}

const MAX_CLOCK_AHEAD_MS = 5 * 60 * 1000;

/**
 * Appends to the ledger. A repeated id (a retried report) is ignored, so nothing counts twice. Each
 * line is priced when written, at the rate in force when the usage happened; a line whose month is
 * already invoiced lands in the open month as an adjustment.
 */
@Injectable()
export class UsageLedgerService {
  constructor(private readonly pricing: PricingService) {}

  async append(manager: EntityManager, record: UsageRecord): Promise<boolean> {
    if (!/^\d+(\.\d{1,6})?$/.test(record.quantity)) throw new UsageRejectedError('usage quantity must be a non-negative decimal string with at most 6 decimals');
    if (record.occurredAt.getTime() > Date.now() + MAX_CLOCK_AHEAD_MS) throw new UsageRejectedError('usage timestamp is more than 5 minutes in the future');
    const price = await this.pricing.priceAt(manager, record.tenantId, record.meter, record.gpuClass, record.occurredAt);
    const period = billingPeriodOf(record.occurredAt);
    // Shared side of the month-close lock: a close waits for in-flight lines, and lines written
    // after it see the closed invoice and become adjustments.
    await manager.query(`SELECT pg_advisory_xact_lock_shared(hashtext('invoice:' || $1 || ':' || $2))`, [record.tenantId, period]);
    const [closed] = await manager.query(`SELECT 1 FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [record.tenantId, period]);
    const billingPeriod = closed ? billingPeriodOf(new Date()) : period;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO usage_events (id, tenant_id, project_id, meter, quantity, unit, gpu_class, source_type, source_id, occurred_at, details,
                                 unit_price_micro, amount_micro, billing_period, adjustment)
       VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        record.id,
        record.tenantId,
        record.projectId,
        record.meter,
        record.quantity,
        record.unit,
        record.gpuClass,
        record.sourceType,
        record.sourceId,
        record.occurredAt,
        JSON.stringify({ ...(record.details ?? {}), ...(closed ? { adjustmentFor: period } : {}) }),
        price.unitPriceMicro,
        amountMicro(record.quantity, price.unitPriceMicro).toString(),
        billingPeriod,
        Boolean(closed),
      ],
    );
    return inserted.length > 0;
  }

  /** Sum of a source's quantity for some meters, as an exact decimal string. */
  async total(manager: EntityManager, sourceType: string, sourceId: string, meters: Meter[]): Promise<string> {
    const [{ total }] = await manager.query(
      `SELECT coalesce(sum(quantity), 0)::text AS total FROM usage_events WHERE source_type = $1 AND source_id = $2 AND meter = ANY($3)`,
      [sourceType, sourceId, meters],
    );
    return total;
  }

  async amountMicro(manager: EntityManager, sourceType: string, sourceId: string): Promise<bigint> {
    const [{ total }] = await manager.query(`SELECT coalesce(sum(amount_micro), 0)::text AS total FROM usage_events WHERE source_type = $1 AND source_id = $2`, [sourceType, sourceId]);
    return BigInt(total);
  }
}

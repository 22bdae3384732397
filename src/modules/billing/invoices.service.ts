import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { badInput, conflict } from '../../common/errors/app-error';
import { AuditService } from '../audit/audit.service';
import { billingPeriodOf, microToEur } from './money';
import { InvoiceLineModel, InvoiceModel } from './models/billing.model';

interface LineRow {
  project_id: string | null;
  project_name: string | null;
  meter: string;
  gpu_class: string | null;
  unit: string;
  unit_price_micro: string;
  adjustment: boolean;
  quantity: string;
  amount_micro: string;
}

export function parseMonth(month: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw badInput('month', 'must look like 2026-11');
  return month;
}

/** Invoices by billing period: computed live while OPEN, frozen in `invoices` once CLOSED. */
@Injectable()
export class InvoicesService {
  constructor(private readonly audit: AuditService) {}

  async invoice(manager: EntityManager, tenantId: string, month: string): Promise<InvoiceModel> {
    parseMonth(month);
    const [closed] = await manager.query(`SELECT lines, total_micro::text AS total_micro, closed_at FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [tenantId, month]);
    if (closed) return { month, status: 'CLOSED', lines: closed.lines, totalEur: microToEur(closed.total_micro), currency: 'EUR', closedAt: closed.closed_at };
    const { lines, total } = await this.compute(manager, tenantId, month);
    return { month, status: 'OPEN', lines, totalEur: microToEur(total.toString()), currency: 'EUR', closedAt: null };
  }

  /** Freezes a past month. Usage that arrives later goes to the open month as an adjustment. */
  async close(manager: EntityManager, tenantId: string, month: string, actor?: { actorType: string; actorId: string | null }): Promise<InvoiceModel> {
    parseMonth(month);
    if (month >= billingPeriodOf(new Date())) throw badInput('month', 'only a past month can be closed');
    // Serialises closing with ledger writes that check for a closed month.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('invoice:' || $1 || ':' || $2))`, [tenantId, month]);
    const [existing] = await manager.query(`SELECT 1 FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [tenantId, month]);
    if (existing) throw conflict(`The ${month} invoice is already closed`);
    const { lines, total } = await this.compute(manager, tenantId, month);
    await manager.query(`INSERT INTO invoices (tenant_id, billing_period, status, lines, total_micro) VALUES ($1, $2, 'CLOSED', $3, $4)`, [tenantId, month, JSON.stringify(lines), total.toString()]);
    await this.audit.append(manager, tenantId, { action: 'invoice.close', resourceType: 'Invoice', resourceId: month, actor, details: { totalEur: microToEur(total.toString()), lines: lines.length } });
    return this.invoice(manager, tenantId, month);
  }

  private async compute(manager: EntityManager, tenantId: string, month: string): Promise<{ lines: InvoiceLineModel[]; total: bigint }> {
    const rows: LineRow[] = await manager.query(
      `SELECT u.project_id, p.name AS project_name, u.meter, u.gpu_class, u.unit, u.unit_price_micro::text AS unit_price_micro, u.adjustment,
              sum(u.quantity)::text AS quantity, sum(u.amount_micro)::text AS amount_micro
         FROM usage_events u LEFT JOIN projects p ON p.id = u.project_id
        WHERE u.tenant_id = $1 AND u.billing_period = $2
        GROUP BY u.project_id, p.name, u.meter, u.gpu_class, u.unit, u.unit_price_micro, u.adjustment
        ORDER BY u.adjustment, p.name NULLS FIRST, u.meter, u.gpu_class NULLS FIRST, u.unit_price_micro`,
      [tenantId, month],
    );
    const lines = rows.map((r) => ({
      projectId: r.project_id,
      projectName: r.project_name,
      meter: r.meter,
      gpuClass: r.gpu_class,
      quantity: r.quantity,
      unit: r.unit,
      unitPriceEur: microToEur(r.unit_price_micro),
      amountEur: microToEur(r.amount_micro),
      adjustment: r.adjustment,
    }));
    return { lines, total: rows.reduce((sum, r) => sum + BigInt(r.amount_micro), 0n) };
  }
}

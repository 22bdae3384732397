import { Injectable } from '@nestjs/common';
import Decimal from 'decimal.js';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AppError } from '../../common/errors/app-error';
import { FieldErrors } from '../../common/errors/validation';
import { AuditService } from '../audit/audit.service';
import { billingPeriodOf, eurToMicro, microToEur } from './money';
import { BudgetModel, SetBudgetInput } from './models/billing.model';

export const DEFAULT_ALERT_THRESHOLDS = [50, 80, 100];

interface BudgetRow {
  monthly_limit_micro: string;
  hard_cap: boolean;
  alert_thresholds: number[];
}

/**
 * Monthly budgets. With a hard cap, paid work reserves its estimated cost up front under a lock on
 * the budget row, so two jobs created at the same instant are checked one after the other.
 */
@Injectable()
export class BudgetService {
  constructor(private readonly audit: AuditService) {}

  async view(manager: EntityManager, tenantId: string): Promise<BudgetModel> {
    const budget = await this.row(manager, tenantId, false);
    const { spent, reserved } = await this.figures(manager, tenantId);
    const now = new Date();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const elapsed = Math.max((now.getTime() - monthStart) / (monthEnd - monthStart), 1 / 720);
    return {
      monthlyLimitEur: budget ? microToEur(budget.monthly_limit_micro) : null,
      hardCap: budget?.hard_cap ?? false,
      alertThresholds: budget?.alert_thresholds ?? DEFAULT_ALERT_THRESHOLDS,
      spentThisMonthEur: microToEur(spent.toString()),
      reservedEur: microToEur(reserved.toString()),
      forecastEur: microToEur(new Decimal(spent.toString()).div(elapsed).toDecimalPlaces(0).toString()),
      month: billingPeriodOf(now),
    };
  }

  async set(manager: EntityManager, tenantId: string, input: SetBudgetInput): Promise<BudgetModel> {
    const errors = new FieldErrors();
    let limitMicro = 0n;
    try {
      limitMicro = eurToMicro(input.monthlyLimitEur);
    } catch {
      errors.add('monthlyLimitEur', 'must be a EUR amount like "1500.00" (at most 6 decimals)');
    }
    const thresholds = input.alertThresholds ?? DEFAULT_ALERT_THRESHOLDS;
    errors.check(thresholds.length <= 10 && thresholds.every((t) => Number.isInteger(t) && t >= 1 && t <= 200), 'alertThresholds', 'must be up to 10 whole percentages from 1 to 200');
    errors.throwIfAny();
    await manager.query(
      `INSERT INTO budgets (tenant_id, monthly_limit_micro, hard_cap, alert_thresholds, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id) DO UPDATE SET monthly_limit_micro = EXCLUDED.monthly_limit_micro, hard_cap = EXCLUDED.hard_cap, alert_thresholds = EXCLUDED.alert_thresholds, updated_at = now()`,
      [tenantId, limitMicro.toString(), input.hardCap, [...new Set(thresholds)].sort((a, b) => a - b)],
    );
    await this.audit.append(manager, tenantId, { action: 'budget.set', resourceType: 'Budget', resourceId: tenantId, details: { monthlyLimitEur: microToEur(limitMicro.toString()), hardCap: input.hardCap, alertThresholds: thresholds } });
    return this.view(manager, tenantId);
  }

  /** Reserves `amountMicro` for a job, or refuses with the figures when a hard cap would be passed. */
  async reserve(manager: EntityManager, tenantId: string, sourceType: string, sourceId: string, amount: bigint): Promise<void> {
    const budget = await this.row(manager, tenantId, true);
    if (budget?.hard_cap) {
      const { spent, reserved } = await this.figures(manager, tenantId);
      const limit = BigInt(budget.monthly_limit_micro);
      if (spent + reserved + amount > limit) {
        throw new AppError(
          'BUDGET_EXCEEDED',
          `This would exceed the monthly budget: spent ${microToEur(spent.toString())} + reserved ${microToEur(reserved.toString())} + this job ${microToEur(amount.toString())} > limit ${microToEur(limit.toString())} EUR`,
          { spentEur: microToEur(spent.toString()), reservedEur: microToEur(reserved.toString()), requestedEur: microToEur(amount.toString()), limitEur: microToEur(limit.toString()) },
        );
      }
    }
    await manager.query(
      `INSERT INTO budget_reservations (id, tenant_id, source_type, source_id, amount_micro, billing_period, status) VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE')
       ON CONFLICT (source_type, source_id) DO NOTHING`,
      [randomUUID(), tenantId, sourceType, sourceId, amount.toString(), billingPeriodOf(new Date())],
    );
  }

  async release(manager: EntityManager, sourceType: string, sourceId: string): Promise<void> {
    await manager.query(`UPDATE budget_reservations SET status = 'RELEASED', released_at = now() WHERE source_type = $1 AND source_id = $2 AND status = 'ACTIVE'`, [sourceType, sourceId]);
  }

  /** True when a hard-capped job has used up what it reserved. */
  async reservationUsedUp(manager: EntityManager, sourceType: string, sourceId: string, usedMicro: bigint): Promise<{ usedUp: boolean; reservedMicro: bigint }> {
    const rows: { amount_micro: string; hard_cap: boolean | null }[] = await manager.query(
      `SELECT r.amount_micro, b.hard_cap FROM budget_reservations r LEFT JOIN budgets b ON b.tenant_id = r.tenant_id
        WHERE r.source_type = $1 AND r.source_id = $2 AND r.status = 'ACTIVE'`,
      [sourceType, sourceId],
    );
    if (!rows.length || !rows[0].hard_cap) return { usedUp: false, reservedMicro: 0n };
    const reserved = BigInt(rows[0].amount_micro);
    return { usedUp: usedMicro >= reserved, reservedMicro: reserved };
  }

  /** Predictions on a hard-capped tenant stop once the month's spending reaches the limit. */
  async assertCanSpend(manager: EntityManager, tenantId: string): Promise<void> {
    const budget = await this.row(manager, tenantId, false);
    if (!budget?.hard_cap) return;
    const { spent, reserved } = await this.figures(manager, tenantId);
    const limit = BigInt(budget.monthly_limit_micro);
    if (spent + reserved >= limit) {
      throw new AppError('BUDGET_EXCEEDED', `The monthly budget is used up: spent ${microToEur(spent.toString())} + reserved ${microToEur(reserved.toString())} ≥ limit ${microToEur(limit.toString())} EUR`, {
        spentEur: microToEur(spent.toString()),
        reservedEur: microToEur(reserved.toString()),
        limitEur: microToEur(limit.toString()),
      });
    }
  }

  /** Writes an alert (event + audit) the first time each threshold is crossed in a month. */
  async checkAlerts(manager: EntityManager, tenantId: string): Promise<number[]> {
    const budget = await this.row(manager, tenantId, false);
    if (!budget || BigInt(budget.monthly_limit_micro) === 0n) return [];
    const { spent } = await this.figures(manager, tenantId);
    const limit = BigInt(budget.monthly_limit_micro);
    const period = billingPeriodOf(new Date());
    const crossed: number[] = [];
    for (const threshold of budget.alert_thresholds) {
      if (spent * 100n < limit * BigInt(threshold)) continue;
      const inserted: unknown[] = await manager.query(
        `INSERT INTO budget_alerts (tenant_id, billing_period, threshold, spent_micro) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING threshold`,
        [tenantId, period, threshold, spent.toString()],
      );
      if (inserted.length) {
        crossed.push(threshold);
        await this.audit.append(manager, tenantId, {
          action: 'budget.alert',
          resourceType: 'Budget',
          resourceId: tenantId,
          actor: { actorType: 'system', actorId: 'budget' },
          details: { threshold, month: period, spentEur: microToEur(spent.toString()), limitEur: microToEur(limit.toString()) },
        });
      }
    }
    return crossed;
  }

  private async row(manager: EntityManager, tenantId: string, lock: boolean): Promise<BudgetRow | null> {
    // Reservations of one tenant run one at a time, budget row or not (the runtime role may not
    // lock rows it does not update, and a tenant without a budget has no row to lock).
    if (lock) await manager.query(`SELECT pg_advisory_xact_lock(hashtext('budget:' || $1))`, [tenantId]);
    const rows: (BudgetRow & { updated_at: Date })[] = await manager.query(
      `SELECT monthly_limit_micro, hard_cap, alert_thresholds, updated_at FROM budgets WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0] ?? null;
  }

  private async figures(manager: EntityManager, tenantId: string): Promise<{ spent: bigint; reserved: bigint }> {
    const period = billingPeriodOf(new Date());
    const [{ spent, reserved }] = await manager.query(
      `SELECT (SELECT coalesce(sum(amount_micro), 0) FROM usage_events WHERE tenant_id = $1 AND billing_period = $2)::text AS spent,
              (SELECT coalesce(sum(greatest(r.amount_micro - coalesce(u.used, 0), 0)), 0)
                 FROM budget_reservations r
                 LEFT JOIN LATERAL (SELECT sum(amount_micro) AS used FROM usage_events e WHERE e.tenant_id = r.tenant_id AND e.source_id = r.source_id::text) u ON true
                WHERE r.tenant_id = $1 AND r.status = 'ACTIVE')::text AS reserved`,
      [tenantId, period],
    );
    return { spent: BigInt(spent), reserved: BigInt(reserved) };
  }
}

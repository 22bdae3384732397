import { Inject, Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { beginScopedTransaction, finishTransaction } from '../../database/scoped-transaction';
import { notFound } from '../../common/errors/app-error';
import { requireUuid } from '../../common/errors/validation';
import { ProjectEntity } from '../projects/project.entity';
import { microToEur } from './money';
import { UsageReportInput, UsageReportModel, UsageReportRowModel } from './models/billing.model';
import { buildUsageReportQuery, GroupBy, ReportQuery } from './usage-report.query';

interface RawRow {
  period: string | null;
  project_id: string | null;
  project_name: string | null;
  meter: string | null;
  gpu_class: string | null;
  unit: string | null;
  unit_price_micro: string | null;
  quantity: string;
  amount_micro: string;
}

/** Stable CSV header for finance tools (documented in README.md). */
export const CSV_COLUMNS = ['period', 'project_id', 'project_name', 'meter', 'gpu_class', 'quantity', 'unit', 'unit_price_eur', 'amount_eur'];
const FETCH_SIZE = 1000;

function toRow(raw: RawRow): UsageReportRowModel {
  return {
    period: raw.period,
    projectId: raw.project_id,
    projectName: raw.project_name,
    meter: raw.meter,
    gpuClass: raw.gpu_class,
    unit: raw.unit,
    quantity: raw.quantity,
    unitPriceEur: raw.unit_price_micro === null ? null : microToEur(raw.unit_price_micro),
    amountEur: microToEur(raw.amount_micro),
  };
}

@Injectable()
export class UsageReportsService {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  async report(input: UsageReportInput): Promise<UsageReportModel> {
    const query = await this.prepare(input);
    const rows: RawRow[] = await currentManager().query(query.sql, query.params);
    // The total is the sum of the rows' integer micro-euros: it matches them exactly.
    const total = rows.reduce((sum, r) => sum + BigInt(r.amount_micro), 0n);
    return { rows: rows.map(toRow), totalEur: microToEur(total.toString()), currency: 'EUR' };
  }

  /**
   * Validates the request and builds its query, inside the request's tenant transaction. The
   * project filter only needs the project to be the tenant's: billing roles see all usage.
   */
  async prepare(input: UsageReportInput): Promise<ReportQuery> {
    let projectId: string | null = null;
    if (input.projectId) {
      const project = await getRepository(ProjectEntity).findOneBy({ id: requireUuid(input.projectId, 'projectId'), tenantId: currentTenantId() });
      if (!project) throw notFound('Project');
      projectId = project.id;
    }
    return buildUsageReportQuery(currentTenantId(), input.from, input.to, input.groupBy as GroupBy[], projectId);
  }

  async streamCsv(tenantId: string, query: ReportQuery, out: Writable): Promise<number> {
    const queryRunner = await beginScopedTransaction(this.dataSource, { tenantId });
    const csv = stringify({ header: true, columns: CSV_COLUMNS });
    csv.pipe(out);
    let rows = 0;
    let ok = false;
    try {
      await queryRunner.query(`DECLARE usage_export NO SCROLL CURSOR FOR ${query.sql}`, query.params);
      for (;;) {
        const batch: RawRow[] = await queryRunner.query(`FETCH ${FETCH_SIZE} FROM usage_export`);
        for (const raw of batch) {
          const row = toRow(raw);
          const written = csv.write([row.period ?? '', row.projectId ?? '', row.projectName ?? '', row.meter ?? '', row.gpuClass ?? '', row.quantity, row.unit ?? '', row.unitPriceEur ?? '', row.amountEur]);
          rows++;
          if (!written) await once(csv, 'drain');
        }
        if (batch.length < FETCH_SIZE) break;
      }
      ok = true;
    } finally {
      await finishTransaction(queryRunner, ok);
      csv.end();
    }
    await once(csv, 'end').catch(() => undefined);
    return rows;
  }
}

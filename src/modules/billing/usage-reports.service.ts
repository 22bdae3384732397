import { Inject, Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { currentManager, currentTenantId } from '../../common/request-context/request-context';
import { beginScopedTransaction, finishTransaction } from '../../database/scoped-transaction';
import { loadReadableProject } from '../projects/project-access';
import { microToEur } from './money';
import { UsageReportInput, UsageReportModel, UsageReportRowModel } from './models/billing.model';
import { buildUsageReportQuery, GroupBy } from './usage-report.query';

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
    const projectId = input.projectId ? (await loadReadableProject(input.projectId)).id : null;
    const query = buildUsageReportQuery(currentTenantId(), input.from, input.to, input.groupBy as GroupBy[], projectId);
    const rows: RawRow[] = await currentManager().query(query.sql, query.params);
    // The total is the sum of the rows' integer micro-euros: it matches them exactly.
    const total = rows.reduce((sum, r) => sum + BigInt(r.amount_micro), 0n);
    return { rows: rows.map(toRow), totalEur: microToEur(total.toString()), currency: 'EUR' };
  }

  /**
   * The same report as CSV, read through a server-side cursor in batches and written with
   * back-pressure, so memory stays flat whatever the number of rows.
   */
  async exportCsv(input: UsageReportInput, out: Writable): Promise<number> {
    const tenantId = currentTenantId();
    const projectId = input.projectId ? (await loadReadableProject(input.projectId)).id : null;
    const query = buildUsageReportQuery(tenantId, input.from, input.to, input.groupBy as GroupBy[], projectId);
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

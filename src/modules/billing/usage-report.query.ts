import { badInput } from '../../common/errors/app-error';

export type GroupBy = 'PROJECT' | 'METER' | 'DAY' | 'MONTH';

export interface ReportQuery {
  sql: string;
  params: unknown[];
  grouped: { period: boolean; project: boolean; meter: boolean };
}

const MAX_RANGE_DAYS = 3 * 366;

/**
 * One aggregation over the ledger, built only from fixed fragments chosen by the enum values.
 * With METER, rows also split by GPU class and unit price, so every row carries one price and the
 * CSV export matches the GraphQL report row for row.
 */
export function buildUsageReportQuery(tenantId: string, from: Date, to: Date, groupBy: GroupBy[], projectId: string | null): ReportQuery {
  if (!(from < to)) throw badInput('to', 'must be after from');
  if ((to.getTime() - from.getTime()) / 86_400_000 > MAX_RANGE_DAYS) throw badInput('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  if (groupBy.includes('DAY') && groupBy.includes('MONTH')) throw badInput('groupBy', 'choose DAY or MONTH, not both');
  const period = groupBy.includes('DAY') ? `to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')` : groupBy.includes('MONTH') ? `to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')` : null;
  const project = groupBy.includes('PROJECT');
  const meter = groupBy.includes('METER');
  const select = [
    `${period ?? 'NULL'} AS period`,
    project ? 'u.project_id AS project_id' : 'NULL::uuid AS project_id',
    project ? 'p.name AS project_name' : 'NULL AS project_name',
    meter ? 'u.meter AS meter' : 'NULL AS meter',
    meter ? 'u.gpu_class AS gpu_class' : 'NULL AS gpu_class',
    meter ? 'u.unit AS unit' : 'NULL AS unit',
    meter ? 'u.unit_price_micro::text AS unit_price_micro' : 'NULL AS unit_price_micro',
    'sum(u.quantity)::text AS quantity',
    'sum(u.amount_micro)::text AS amount_micro',
  ];
  const groups = [...(period ? ['1'] : []), ...(project ? ['u.project_id', 'p.name'] : []), ...(meter ? ['u.meter', 'u.gpu_class', 'u.unit', 'u.unit_price_micro'] : [])];
  const params: unknown[] = [tenantId, from, to];
  let where = 'u.tenant_id = $1 AND u.occurred_at >= $2 AND u.occurred_at < $3';
  if (projectId) {
    params.push(projectId);
    where += ' AND u.project_id = $4';
  }
  const sql = `SELECT ${select.join(', ')}
    FROM usage_events u ${project ? 'LEFT JOIN projects p ON p.id = u.project_id' : ''}
    WHERE ${where}
    ${groups.length ? `GROUP BY ${groups.join(', ')}` : ''}
    HAVING count(*) > 0
    ORDER BY ${[...(period ? ['1'] : []), ...(project ? ['p.name NULLS FIRST', 'u.project_id'] : []), ...(meter ? ['u.meter', 'u.gpu_class NULLS FIRST', 'u.unit_price_micro'] : []), 'amount_micro DESC'].join(', ')}`;
  return { sql, params, grouped: { period: period !== null, project, meter } };
}

import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { inTenantTransaction } from '../../database/tenant-transaction';
import type { Response } from 'express';
import { Can } from '../../common/authz/decorators';
import { badInput } from '../../common/errors/app-error';
import { currentTenantId } from '../../common/request-context/request-context';
import { AuditService } from '../audit/audit.service';
import { UsageReportsService } from './usage-reports.service';
import { GroupBy } from './usage-report.query';

const GROUPS = ['PROJECT', 'METER', 'DAY', 'MONTH'];

function instant(value: string | undefined, field: string): Date {
  const parsed = value ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) throw badInput(field, 'is required, as an ISO-8601 date-time');
  return parsed;
}

/** `GET /v1/usage/export.csv?from=…&to=…&groupBy=MONTH,PROJECT,METER[&projectId=…]` for finance. */
@Controller('v1/usage')
export class UsageExportController {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly reports: UsageReportsService,
    private readonly audit: AuditService,
  ) {}

  @Can('export', 'Usage')
  @Get('export.csv')
  async export(@Query('from') from: string, @Query('to') to: string, @Query('groupBy') groupBy: string | undefined, @Query('projectId') projectId: string | undefined, @Res() res: Response): Promise<void> {
    const groups = (groupBy ?? 'MONTH,PROJECT,METER').split(',').map((g) => g.trim().toUpperCase()).filter(Boolean);
    if (!groups.every((g) => GROUPS.includes(g))) throw badInput('groupBy', `must be a comma-separated list of ${GROUPS.join(', ')}`);
    const input = { from: instant(from, 'from'), to: instant(to, 'to'), groupBy: groups as GroupBy[] as never, projectId: projectId || null };
    // Validation and the audit record first: a refused export answers JSON and is not audited as done.
    const query = await inTenantTransaction(this.dataSource, async () => {
      const prepared = await this.reports.prepare(input);
      await this.audit.record({ action: 'usage.export', resourceType: 'Usage', details: { from, to, groupBy: groups, projectId: projectId ?? null } });
      return prepared;
    });
    res.status(200).setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="lutece-usage-${from.slice(0, 10)}-${to.slice(0, 10)}.csv"`);
    await this.reports.streamCsv(currentTenantId(), query, res);
  }
}

import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { once } from 'node:events';
import { Can } from '../../common/authz/decorators';
import { badInput } from '../../common/errors/app-error';
import { currentTenantId } from '../../common/request-context/request-context';
import { AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';

function parseInstant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw badInput(field, 'must be an ISO-8601 date-time');
  return parsed;
}

@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly query: AuditQueryService,
    private readonly audit: AuditService,
  ) {}

  /** JSON Lines for a SIEM, streamed in batches with back-pressure. */
  @Can('export', 'Audit')
  @Get('export.jsonl')
  async export(@Query('from') fromRaw: string | undefined, @Query('to') toRaw: string | undefined, @Res() res: Response): Promise<void> {
    const from = parseInstant(fromRaw, 'from');
    const to = parseInstant(toRaw, 'to');
    const tenantId = currentTenantId();
    await this.audit.recordStandalone(tenantId, { action: 'audit.export', resourceType: 'Audit', details: { from: fromRaw ?? null, to: toRaw ?? null } });
    res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit-events.jsonl"');
    await this.query.exportJsonLines(tenantId, from, to, async (line) => {
      if (!res.write(line)) await once(res, 'drain');
    });
    res.end();
  }
}

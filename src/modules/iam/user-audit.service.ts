import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { PLATFORM_TENANT_ID } from '../audit/audit-chain';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { MembershipEntity } from '../tenancy/membership.entity';

/**
 * Identity events (logins, MFA, refresh-token reuse) concern a user, not one tenant: they are
 * written to the chain of every tenant the user belongs to, and to the platform chain when the
 * user is unknown, so each tenant's SIEM sees attempts on its members.
 */
@Injectable()
export class UserAuditService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async record(userId: string | null, action: string, outcome: AuditOutcome, details: Record<string, unknown> = {}): Promise<void> {
    const tenantIds = userId
      ? await withScopedTransaction(this.dataSource, { userId }, async (manager) =>
          (await manager.getRepository(MembershipEntity).find({ where: { userId }, select: { tenantId: true } })).map((m) => m.tenantId),
        )
      : [];
    const actor = { actorType: userId ? 'user' : 'anonymous', actorId: userId };
    for (const tenantId of tenantIds.length ? tenantIds : [PLATFORM_TENANT_ID]) {
      await this.audit.recordStandalone(tenantId, { action, outcome, actor, resourceType: 'User', resourceId: userId ?? undefined, details });
    }
  }
}

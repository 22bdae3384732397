import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { AuditQueryService } from './audit-query.service';
import { AuditEventConnection, AuditFilter, AuditVerificationModel } from './models/audit-event.model';

@Resolver()
export class AuditResolver {
  constructor(private readonly audit: AuditQueryService) {}

  @Can('read', 'Audit')
  @Query(() => AuditEventConnection)
  auditEvents(
    @Args('filter', { type: () => AuditFilter, nullable: true }) filter?: AuditFilter,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 20 }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ) {
    return this.audit.list(filter, first, after);
  }

  @Can('verify', 'Audit')
  @Query(() => AuditVerificationModel)
  verifyAuditChain() {
    return this.audit.verify();
  }
}

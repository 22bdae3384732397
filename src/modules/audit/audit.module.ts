import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditResolver } from './audit.resolver';
import { AuditService } from './audit.service';

@Module({
  providers: [AuditService, AuditQueryService, AuditResolver],
  controllers: [AuditController],
  exports: [AuditService],
})
export class AuditModule {}

import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MembersService } from './members.service';
import { TenancyResolver } from './tenancy.resolver';
import { TenantProvisioningService } from './tenant-provisioning.service';
import { TenantService } from './tenant.service';

@Module({
  imports: [AuditModule],
  providers: [TenantService, MembersService, TenantProvisioningService, TenancyResolver],
  exports: [TenantProvisioningService],
})
export class TenancyModule {}

import { Global, Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { UsageLedgerService } from '../metering/usage-ledger.service';
import { BillingResolver } from './billing.resolver';
import { BillingService } from './billing.service';
import { BudgetService } from './budget.service';
import { InvoicesService } from './invoices.service';
import { PricingService } from './pricing.service';
import { UsageExportController } from './usage-export.controller';
import { UsageReportsService } from './usage-reports.service';

/** Global: the ledger, prices and budgets are used wherever usage is measured (jobs, endpoints). */
@Global()
@Module({
  imports: [AuditModule],
  providers: [BillingResolver, BillingService, BudgetService, InvoicesService, PricingService, UsageReportsService, UsageLedgerService],
  controllers: [UsageExportController],
  exports: [BudgetService, PricingService, UsageLedgerService, InvoicesService],
})
export class BillingModule {}

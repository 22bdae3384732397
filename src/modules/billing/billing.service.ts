import { Injectable } from '@nestjs/common';
import { actorOf } from '../../common/request-context/principal';
import { currentContext, currentManager, currentTenantId } from '../../common/request-context/request-context';
import { BudgetService } from './budget.service';
import { InvoicesService } from './invoices.service';
import { microToEur } from './money';
import { BudgetModel, InvoiceModel, PriceModel, SetBudgetInput, UsageReportInput, UsageReportModel } from './models/billing.model';
import { PricingService, UNITS } from './pricing.service';
import { UsageReportsService } from './usage-reports.service';

/** The GraphQL face of billing: each operation is one call into the focused service behind it. */
@Injectable()
export class BillingService {
  constructor(
    private readonly pricing: PricingService,
    private readonly budgets: BudgetService,
    private readonly reports: UsageReportsService,
    private readonly invoices: InvoicesService,
  ) {}

  usageReport(input: UsageReportInput): Promise<UsageReportModel> {
    return this.reports.report(input);
  }

  async priceList(): Promise<PriceModel[]> {
    const prices = await this.pricing.currentList(currentManager(), currentTenantId());
    return prices.map((p) => ({ meter: p.meter, gpuClass: p.gpuClass || null, unit: UNITS[p.meter], unitPriceEur: microToEur(p.unitPriceMicro), effectiveFrom: p.effectiveFrom, source: p.source }));
  }

  budget(): Promise<BudgetModel> {
    return this.budgets.view(currentManager(), currentTenantId());
  }

  setBudget(input: SetBudgetInput): Promise<BudgetModel> {
    return this.budgets.set(currentManager(), currentTenantId(), input);
  }

  invoice(month: string): Promise<InvoiceModel> {
    return this.invoices.invoice(currentManager(), currentTenantId(), month);
  }

  closeInvoice(month: string): Promise<InvoiceModel> {
    return this.invoices.close(currentManager(), currentTenantId(), month, actorOf(currentContext().principal));
  }
}

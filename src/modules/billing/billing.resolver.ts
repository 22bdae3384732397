import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { BillingService } from './billing.service';
import { BudgetModel, InvoiceModel, PriceModel, SetBudgetInput, UsageReportInput, UsageReportModel } from './models/billing.model';

@Resolver()
export class BillingResolver {
  constructor(private readonly billing: BillingService) {}

  @Can('read', 'Usage')
  @Query(() => UsageReportModel)
  usageReport(@Args('input') input: UsageReportInput) {
    return this.billing.usageReport(input);
  }

  @Can('read', 'Usage')
  @Query(() => [PriceModel])
  priceList() {
    return this.billing.priceList();
  }

  @Can('read', 'Budget')
  @Query(() => BudgetModel)
  budget() {
    return this.billing.budget();
  }

  @Can('update', 'Budget')
  @Mutation(() => BudgetModel)
  setBudget(@Args('input') input: SetBudgetInput) {
    return this.billing.setBudget(input);
  }

  @Can('read', 'Usage')
  @Query(() => InvoiceModel)
  invoice(@Args('month') month: string) {
    return this.billing.invoice(month);
  }

  @Can('update', 'Budget')
  @Mutation(() => InvoiceModel, { description: 'Freezes a past month; later usage lands in the open month as an adjustment' })
  closeInvoice(@Args('month') month: string) {
    return this.billing.closeInvoice(month);
  }
}

import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum MeterEnum {
  GPU_SECONDS = 'GPU_SECONDS',
  CPU_SECONDS = 'CPU_SECONDS',
  PREDICTIONS = 'PREDICTIONS',
  STORAGE_GB_HOURS = 'STORAGE_GB_HOURS',
}
registerEnumType(MeterEnum, { name: 'Meter' });

export enum UsageGroupByEnum {
  PROJECT = 'PROJECT',
  METER = 'METER',
  DAY = 'DAY',
  MONTH = 'MONTH',
}
registerEnumType(UsageGroupByEnum, { name: 'UsageGroupBy' });

export enum InvoiceStatusEnum {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}
registerEnumType(InvoiceStatusEnum, { name: 'InvoiceStatus' });

@ObjectType('Price')
export class PriceModel {
  @Field(() => MeterEnum) meter: string;
  @Field(() => String, { nullable: true }) gpuClass: string | null;
  @Field() unit: string;
  @Field({ description: 'EUR per unit (decimal string)' }) unitPriceEur: string;
  @Field() effectiveFrom: Date;
  @Field({ description: 'default or override (a negotiated rate)' }) source: string;
}

@ObjectType('Budget')
export class BudgetModel {
  @Field(() => String, { nullable: true, description: 'EUR (decimal string); null when no budget is set' }) monthlyLimitEur: string | null;
  @Field() hardCap: boolean;
  @Field(() => [Int], { description: 'Percent of the limit that raise an alert, once per month each' }) alertThresholds: number[];
  @Field() spentThisMonthEur: string;
  @Field({ description: 'Estimated cost of running work not yet spent' }) reservedEur: string;
  @Field({ description: 'Linear projection of this month’s spending' }) forecastEur: string;
  @Field() month: string;
}

@InputType()
export class SetBudgetInput {
  @Field({ description: 'EUR, decimal string, e.g. "1500.00"' }) monthlyLimitEur: string;
  @Field() hardCap: boolean;
  @Field(() => [Int], { nullable: true }) alertThresholds?: number[] | null;
}

@InputType()
export class UsageReportInput {
  @Field() from: Date;
  @Field() to: Date;
  @Field(() => [UsageGroupByEnum]) groupBy: UsageGroupByEnum[];
  @Field(() => ID, { nullable: true }) projectId?: string | null;
}

@ObjectType('UsageReportRow')
export class UsageReportRowModel {
  @Field(() => String, { nullable: true, description: 'YYYY-MM or YYYY-MM-DD when grouped by MONTH or DAY' }) period: string | null;
  @Field(() => ID, { nullable: true }) projectId: string | null;
  @Field(() => String, { nullable: true }) projectName: string | null;
  @Field(() => MeterEnum, { nullable: true }) meter: string | null;
  @Field(() => String, { nullable: true }) gpuClass: string | null;
  @Field({ description: 'Decimal string' }) quantity: string;
  @Field(() => String, { nullable: true }) unit: string | null;
  @Field(() => String, { nullable: true, description: 'EUR per unit when the row has one price' }) unitPriceEur: string | null;
  @Field({ description: 'EUR, 6 decimals' }) amountEur: string;
}

@ObjectType('UsageReport')
export class UsageReportModel {
  @Field(() => [UsageReportRowModel]) rows: UsageReportRowModel[];
  @Field({ description: 'Equals the sum of the rows exactly' }) totalEur: string;
  @Field() currency: string;
}

@ObjectType('InvoiceLine')
export class InvoiceLineModel {
  @Field(() => ID, { nullable: true }) projectId: string | null;
  @Field(() => String, { nullable: true }) projectName: string | null;
  @Field(() => MeterEnum) meter: string;
  @Field(() => String, { nullable: true }) gpuClass: string | null;
  @Field() quantity: string;
  @Field() unit: string;
  @Field() unitPriceEur: string;
  @Field() amountEur: string;
  @Field({ description: 'Late usage from an already closed month' }) adjustment: boolean;
}

@ObjectType('Invoice')
export class InvoiceModel {
  @Field() month: string;
  @Field(() => InvoiceStatusEnum) status: string;
  @Field(() => [InvoiceLineModel]) lines: InvoiceLineModel[];
  @Field() totalEur: string;
  @Field() currency: string;
  @Field(() => Date, { nullable: true }) closedAt: Date | null;
}

import { parse } from 'csv-parse/sync';
import type { Actor } from './actors';
import { signUpOwner } from './actors';
import { AppUnderTest, codeOf, GraphQLResponse } from './app-under-test';
import { createProject, fixture, uploadCsvDataset } from './datasets';
import type { JobIdentity } from './worker-events';

/** GraphQL documents and helpers shared by the billing suites. */

export const REPORT = `query($input: UsageReportInput!) { usageReport(input: $input) {
  rows { period projectId projectName meter gpuClass quantity unit unitPriceEur amountEur } totalEur currency } }`;
export const PRICES = '{ priceList { meter gpuClass unit unitPriceEur effectiveFrom source } }';
export const BUDGET = '{ budget { monthlyLimitEur hardCap alertThresholds spentThisMonthEur reservedEur forecastEur month } }';
export const SET_BUDGET = 'mutation($input: SetBudgetInput!) { setBudget(input: $input) { monthlyLimitEur hardCap alertThresholds spentThisMonthEur reservedEur month } }';
export const INVOICE = `query($month: String!) { invoice(month: $month) { month status totalEur currency closedAt
  lines { projectId projectName meter gpuClass quantity unit unitPriceEur amountEur adjustment } } }`;
export const CLOSE_INVOICE = `mutation($month: String!) { closeInvoice(month: $month) { month status totalEur closedAt
  lines { projectId projectName meter gpuClass quantity unit unitPriceEur amountEur adjustment } } }`;
export const CREATE_JOB = `mutation($input: CreateFineTuningJobInput!) { createFineTuningJob(input: $input) {
  id status gpuClass estimate { amountEur gpuSeconds } } }`;
export const ESTIMATE = 'query($input: CreateFineTuningJobInput!) { estimateFineTuningCost(input: $input) { amountEur gpuSeconds gpuClass } }';
export const JOB = `query($id: ID!) { fineTuningJob(id: $id) { id status error cancelRequestedAt gpuSeconds costEur costToEstimateRatio
  estimate { amountEur } resultModelVersion { id } events(first: 20) { level message } } }`;

export const CSV_HEADER = 'period,project_id,project_name,meter,gpu_class,quantity,unit,unit_price_eur,amount_eur';

export const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

export interface ReportRow {
  period: string | null;
  projectId: string | null;
  projectName: string | null;
  meter: string | null;
  gpuClass: string | null;
  quantity: string;
  unit: string | null;
  unitPriceEur: string | null;
  amountEur: string;
}

/** A tenant with an OWNER and projects, each holding the penguins dataset (344 rows). */
export interface TenantSetup {
  owner: Actor;
  projects: { id: string; name: string; versionId: string }[];
}

export async function tenantWithProjects(app: AppUnderTest, label: string, projectNames: string[]): Promise<TenantSetup> {
  const owner = await signUpOwner(app, label);
  const projects = [];
  for (const name of projectNames) {
    const id = await createProject(app, owner, name);
    const { versionId } = await uploadCsvDataset(app, owner, id, fixture('penguins.csv'));
    projects.push({ id, name, versionId });
  }
  return { owner, projects };
}

export function jobInput(project: { id: string; versionId: string }, overrides: Record<string, unknown> = {}) {
  return {
    projectId: project.id,
    baseModel: 'tabular-classifier',
    trainingDatasetVersionId: project.versionId,
    targetColumn: 'species',
    hyperparameters: { epochs: 5, batchSize: 32, learningRate: 0.01, seed: 7 },
    ...overrides,
  };
}

export async function createJob(app: AppUnderTest, actor: Actor, project: { id: string; versionId: string }, overrides: Record<string, unknown> = {}): Promise<JobIdentity & { estimateMicro: bigint; gpuClass: string }> {
  const created = await app.graphql(CREATE_JOB, { input: jobInput(project, overrides) }, as(actor));
  if (!created.data) throw new Error(`createFineTuningJob failed: ${JSON.stringify(created.errors)}`);
  const job = created.data.createFineTuningJob;
  return { jobId: job.id, tenantId: actor.tenantId, estimateMicro: micro(job.estimate.amountEur), gpuClass: job.gpuClass };
}

export async function report(app: AppUnderTest, actor: Actor, input: Record<string, unknown>): Promise<{ rows: ReportRow[]; totalEur: string; currency: string }> {
  const response = await app.graphql(REPORT, { input }, as(actor));
  if (!response.data) throw new Error(`usageReport ${JSON.stringify(input)} failed: ${JSON.stringify(response.errors)}`);
  return response.data.usageReport;
}

export async function ok<T = any>(response: Promise<GraphQLResponse<T>> | GraphQLResponse<T>): Promise<T> {
  const r = await response;
  if (!r.data || r.errors) throw new Error(`GraphQL call failed: ${JSON.stringify(r.errors)}`);
  return r.data;
}

export { codeOf };

/** Fetches the CSV export; returns status, content type, raw text and parsed records. */
export async function exportCsv(app: AppUnderTest, actor: Actor, params: Record<string, string>): Promise<{ status: number; contentType: string | null; text: string; header: string; records: string[][]; body: any }> {
  const query = new URLSearchParams(params).toString();
  const response = await app.fetch(`/v1/usage/export.csv?${query}`, as(actor));
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  if (response.status !== 200) {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, contentType, text, header: '', records: [], body };
  }
  const records: string[][] = parse(text, { relax_column_count: false });
  return { status: 200, contentType, text, header: text.split(/\r?\n/, 1)[0], records: records.slice(1), body: null };
}

/** A GraphQL report row as the CSV writes it. */
export function asCsvRecord(row: ReportRow): string[] {
  return [row.period ?? '', row.projectId ?? '', row.projectName ?? '', row.meter ?? '', row.gpuClass ?? '', row.quantity, row.unit ?? '', row.unitPriceEur ?? '', row.amountEur];
}

/** "12.345678" EUR → 12345678n micro-euros (exact; refuses anything that is not a 6-decimal string). */
export function micro(eur: string): bigint {
  const match = /^(-?)(\d+)\.(\d{6})$/.exec(eur);
  if (!match) throw new Error(`not a 6-decimal EUR string: ${eur}`);
  const value = BigInt(match[2]) * 1_000_000n + BigInt(match[3]);
  return match[1] ? -value : value;
}

/** A decimal string (any scale up to 6) → integer millionths. */
export function millionths(decimal: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(decimal);
  if (!match) throw new Error(`not a non-negative decimal with at most 6 places: ${decimal}`);
  return BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

export function eur(microEuros: bigint): string {
  const sign = microEuros < 0n ? '-' : '';
  const abs = microEuros < 0n ? -microEuros : microEuros;
  return `${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

/** quantity × unit price (micro-euros), rounded half-up to the micro-euro, in integers only. */
export function amountOf(quantity: string, unitPriceMicro: bigint): bigint {
  const product = millionths(quantity) * unitPriceMicro; // in millionths of a micro-euro
  return (product + 500_000n) / 1_000_000n;
}

export function sum(values: bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** The first instant of the month `offset` months from the one holding `date` (UTC). */
export function monthStart(date: Date, offset = 0): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
}

/** Every `groupBy` a usage report accepts: no period, DAY or MONTH, with or without PROJECT and METER. */
export const GROUPINGS: string[][] = [];
for (const period of [[], ['DAY'], ['MONTH']]) for (const project of [[], ['PROJECT']]) for (const meter of [[], ['METER']]) GROUPINGS.push([...period, ...project, ...meter]);

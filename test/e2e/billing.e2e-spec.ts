import { signUpOwner } from '../support/actors';
import { AppUnderTest, codeOf } from '../support/app-under-test';
import {
  amountOf,
  as,
  asCsvRecord,
  CLOSE_INVOICE,
  createJob,
  CSV_HEADER,
  eur,
  exportCsv,
  INVOICE,
  micro,
  millionths,
  monthOf,
  monthStart,
  ok,
  GROUPINGS,
  PRICES,
  report,
  REPORT,
  ReportRow,
  SET_BUDGET,
  sum,
  tenantWithProjects,
  TenantSetup,
} from '../support/billing';
import { events, JobIdentity, WorkerPeer } from '../support/worker-events';

/**
 * The usage ledger and what finance reads from it: idempotent usage, timestamp checks, effective-
 * dated prices, usageReport for every grouping reconciled with the ledger, the CSV export row for
 * row, late usage after a month close, and input validation. Usage is produced the way a GPU worker
 * produces it: WorkerEvents on the real `worker-events` Bull queue.
 */

interface LedgerRow {
  id: string;
  project_id: string | null;
  project_name: string | null;
  meter: string;
  gpu_class: string | null;
  unit: string;
  unit_price_micro: string;
  quantity: string;
  amount_micro: string;
  occurred_at: Date;
}

/** The report as it should be, aggregated here from the raw ledger rows. */
function expectedReport(ledger: LedgerRow[], groupBy: string[]): Map<string, { quantity: bigint; amount: bigint; row: Omit<ReportRow, 'quantity' | 'amountEur'> }> {
  const groups = new Map<string, { quantity: bigint; amount: bigint; row: Omit<ReportRow, 'quantity' | 'amountEur'> }>();
  for (const l of ledger) {
    const iso = l.occurred_at.toISOString();
    const dims = {
      period: groupBy.includes('DAY') ? iso.slice(0, 10) : groupBy.includes('MONTH') ? iso.slice(0, 7) : null,
      projectId: groupBy.includes('PROJECT') ? l.project_id : null,
      projectName: groupBy.includes('PROJECT') ? l.project_name : null,
      meter: groupBy.includes('METER') ? l.meter : null,
      gpuClass: groupBy.includes('METER') ? l.gpu_class : null,
      unit: groupBy.includes('METER') ? l.unit : null,
      unitPriceEur: groupBy.includes('METER') ? eur(BigInt(l.unit_price_micro)) : null,
    };
    const key = JSON.stringify(dims);
    const group = groups.get(key) ?? { quantity: 0n, amount: 0n, row: dims };
    group.quantity += millionths(l.quantity);
    group.amount += BigInt(l.amount_micro);
    groups.set(key, group);
  }
  return groups;
}

describe('Billing: usage ledger, reports, CSV export and invoices', () => {
  let app: AppUnderTest;
  let peer: WorkerPeer;
  const now = new Date();
  const lastMonth = monthOf(monthStart(now, -1));
  const currentMonth = monthOf(now);

  beforeAll(async () => {
    app = await AppUnderTest.start({
      GPU_POOLS: JSON.stringify([
        { id: 'fr-par-l4', region: 'fr-par', gpuClass: 'L4' },
        { id: 'fr-par-a100', region: 'fr-par', gpuClass: 'A100' },
      ]),
    });
    peer = new WorkerPeer(app);
  });
  afterAll(async () => {
    await peer?.close();
    await app?.stop();
  });

  const ledgerOf = (tenantId: string, from: Date, to: Date) =>
    app.ownerQuery<LedgerRow>(
      `SELECT u.id, u.project_id, p.name AS project_name, u.meter, u.gpu_class, u.unit, u.unit_price_micro::text, u.quantity::text, u.amount_micro::text, u.occurred_at
         FROM usage_events u LEFT JOIN projects p ON p.id = u.project_id
        WHERE u.tenant_id = $1 AND u.occurred_at >= $2 AND u.occurred_at < $3`,
      [tenantId, from, to],
    );
  const ledgerSum = async (tenantId: string, from: Date, to: Date, projectId?: string) =>
    BigInt(
      (
        await app.ownerQuery(
          `SELECT coalesce(sum(amount_micro), 0)::text AS s FROM usage_events WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3 ${projectId ? 'AND project_id = $4' : ''}`,
          projectId ? [tenantId, from, to, projectId] : [tenantId, from, to],
        )
      )[0].s,
    );

  describe('the ledger', () => {
    let t: TenantSetup;
    let job: JobIdentity;
    const range = () => ({ from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() });

    beforeAll(async () => {
      t = await tenantWithProjects(app, 'ledger-owner', ['ledger']);
      job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
    });

    it('counts a usage event sent twice (and three more times at once) only once', async () => {
      const usage = events.usage(job, { segment: 1, seconds: '61.250' });
      await peer.apply(usage);
      await peer.apply(usage);
      const again = await peer.applyAll([usage, usage, usage]);
      expect(again.map((a) => a.state)).toEqual(['completed', 'completed', 'completed']);

      const rows = await app.ownerQuery(`SELECT id, quantity::text, amount_micro::text FROM usage_events WHERE tenant_id = $1`, [t.owner.tenantId]);
      expect(rows).toEqual([{ id: `${job.jobId}:1:1`, quantity: '61.250000', amount_micro: String(amountOf('61.250', 230n)) }]);
      const byMeter = await report(app, t.owner, { ...range(), groupBy: ['METER'] });
      expect(byMeter.rows).toEqual([expect.objectContaining({ meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '61.250000', unitPriceEur: '0.000230', amountEur: eur(amountOf('61.250', 230n)) })]);
      expect(byMeter.totalEur).toBe(eur(amountOf('61.250', 230n)));
      const view = await ok(app.graphql('query($id: ID!) { fineTuningJob(id: $id) { gpuSeconds costEur } }', { id: job.jobId }, as(t.owner)));
      expect(view.fineTuningJob).toEqual({ gpuSeconds: '61.250', costEur: eur(amountOf('61.250', 230n)) });

      // A new segment (or a new attempt) is new usage.
      await peer.apply(events.usage(job, { segment: 2, seconds: '1.000' }));
      await peer.apply(events.usage(job, { segment: 1, attempt: 2, seconds: '1.000' }));
      const after = await report(app, t.owner, { ...range(), groupBy: [] });
      expect(micro(after.totalEur)).toBe(amountOf('61.250', 230n) + 2n * amountOf('1.000', 230n));
    });

    it('refuses a usage timestamp more than 5 minutes in the future, and accepts one 2 minutes ahead', async () => {
      const before = await report(app, t.owner, { ...range(), groupBy: [] });
      const future = events.usage(job, { segment: 10, seconds: '30.000', at: new Date(Date.now() + 10 * 60_000) });
      const refused = await peer.send(future);
      expect(refused.state).toBe('failed');
      expect(refused.failedReason).toMatch(/more than 5 minutes in the future/);
      expect(await app.ownerQuery('SELECT id FROM usage_events WHERE id = $1', [`${job.jobId}:1:10`])).toEqual([]);
      const farFuture = await peer.send(events.usage(job, { segment: 11, seconds: '30.000', at: '2099-01-01T00:00:00.000Z' }));
      expect(farFuture.state).toBe('failed');
      expect(await app.ownerQuery('SELECT id FROM usage_events WHERE id = $1', [`${job.jobId}:1:11`])).toEqual([]);
      expect((await report(app, t.owner, { ...range(), groupBy: [] })).totalEur).toBe(before.totalEur);

      await peer.apply(events.usage(job, { segment: 12, seconds: '30.000', at: new Date(Date.now() + 2 * 60_000) }));
      expect(await app.ownerQuery('SELECT id FROM usage_events WHERE id = $1', [`${job.jobId}:1:12`])).toHaveLength(1);
    });

    it('keeps usage_events append-only, even for the table owner', async () => {
      await expect(app.ownerQuery(`UPDATE usage_events SET amount_micro = 0 WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow(/append-only/);
      await expect(app.ownerQuery(`DELETE FROM usage_events WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow(/append-only/);
    });
  });

  describe('prices', () => {
    it('prices usage at the rate in force when it happened: a negotiated rate from mid-period gives two rows', async () => {
      const t = await tenantWithProjects(app, 'price-owner', ['pricing']);
      const job = await createJob(app, t.owner, t.projects[0]);
      const early = new Date(Date.now() - 2 * 3_600_000);
      const effective = new Date(Date.now() - 3_600_000);
      const late = new Date(Date.now() - 30 * 60_000);
      await app.ownerQuery(`INSERT INTO price_overrides (tenant_id, meter, gpu_class, effective_from, unit_price_micro, reason) VALUES ($1, 'GPU_SECONDS', 'L4', $2, 200, 'negotiated rate')`, [t.owner.tenantId, effective]);
      // A stranger's override is no business of this tenant.
      const stranger = await signUpOwner(app, 'price-stranger');
      await app.ownerQuery(`INSERT INTO price_overrides (tenant_id, meter, gpu_class, effective_from, unit_price_micro) VALUES ($1, 'GPU_SECONDS', 'L4', $2, 1)`, [stranger.tenantId, new Date(0)]);

      await peer.apply(events.started(job));
      await peer.apply(events.usage(job, { segment: 1, seconds: '10.050', at: early })); // 10.05 × 230 = 2311.5 → 2312
      await peer.apply(events.usage(job, { segment: 2, seconds: '7.777', at: late })); // 7.777 × 200 = 1555.4 → 1555
      await peer.apply(events.usage(job, { segment: 3, seconds: '3.125', at: late, meter: 'CPU_SECONDS' })); // 3.125 × 12 = 37.5 → 38

      const range = { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
      const byMeter = await report(app, t.owner, { ...range, groupBy: ['METER'] });
      expect(byMeter.rows).toEqual([
        { period: null, projectId: null, projectName: null, meter: 'CPU_SECONDS', gpuClass: null, quantity: '3.125000', unit: 'second', unitPriceEur: '0.000012', amountEur: '0.000038' },
        { period: null, projectId: null, projectName: null, meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '7.777000', unit: 'second', unitPriceEur: '0.000200', amountEur: '0.001555' },
        { period: null, projectId: null, projectName: null, meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '10.050000', unit: 'second', unitPriceEur: '0.000230', amountEur: '0.002312' },
      ]);
      for (const row of byMeter.rows) expect(micro(row.amountEur)).toBe(amountOf(row.quantity, micro(row.unitPriceEur!)));
      expect(byMeter.totalEur).toBe('0.003905');

      const prices = (await ok(app.graphql(PRICES, {}, as(t.owner)))).priceList;
      expect(prices).toContainEqual({ meter: 'GPU_SECONDS', gpuClass: 'L4', unit: 'second', unitPriceEur: '0.000200', effectiveFrom: effective.toISOString(), source: 'override' });
      expect(prices).toContainEqual(expect.objectContaining({ meter: 'GPU_SECONDS', gpuClass: 'A100', unitPriceEur: '0.001250', source: 'default' }));
      expect(prices).toContainEqual(expect.objectContaining({ meter: 'PREDICTIONS', unit: 'prediction', unitPriceEur: '0.000020', source: 'default' }));
      expect(prices).toContainEqual(expect.objectContaining({ meter: 'STORAGE_GB_HOURS', unit: 'GB-hour', unitPriceEur: '0.000040', source: 'default' }));
      const strangerPrices = (await ok(app.graphql(PRICES, {}, as(stranger)))).priceList;
      expect(strangerPrices).toContainEqual(expect.objectContaining({ meter: 'GPU_SECONDS', gpuClass: 'L4', unitPriceEur: '0.000001', source: 'override' }));
      expect((await ok(app.graphql(PRICES, {}, as(await signUpOwner(app, 'price-default'))))).priceList).toContainEqual(expect.objectContaining({ meter: 'GPU_SECONDS', gpuClass: 'L4', unitPriceEur: '0.000230', source: 'default' }));

      // The same split, by day, in the CSV.
      const csv = await exportCsv(app, t.owner, { ...range, groupBy: 'METER' });
      expect(csv.records).toEqual(byMeter.rows.map(asCsvRecord));
    });
  });

  describe('usage reports', () => {
    let t: TenantSetup;
    const from = monthStart(now, -2);
    const to = new Date(now.getTime() + 3_600_000);

    beforeAll(async () => {
      t = await tenantWithProjects(app, 'report-owner', ['Ledger, "north" (FR)', 'south']);
      const [north, south] = t.projects;
      const jobs = [
        { job: await createJob(app, t.owner, north), meter: 'GPU_SECONDS' as const, gpuClass: 'L4' },
        { job: await createJob(app, t.owner, north, { gpuClass: 'A100' }), meter: 'GPU_SECONDS' as const, gpuClass: 'A100' },
        { job: await createJob(app, t.owner, south), meter: 'CPU_SECONDS' as const, gpuClass: 'L4' },
        { job: await createJob(app, t.owner, south), meter: 'GPU_SECONDS' as const, gpuClass: 'L4' },
      ];
      const batch = [];
      // 36 segments per job, one every 25 hours back from now: about five weeks, over two or three months.
      for (let k = 0; k < 36; k++) {
        for (const [j, { job, meter, gpuClass }] of jobs.entries()) {
          const seconds = (((k + 1) * 7919 * (j + 3)) % 100_000) / 1000 + 0.001;
          batch.push(events.usage(job, { segment: k, seconds: seconds.toFixed(3), meter, gpuClass, at: new Date(now.getTime() - k * 25 * 3_600_000 - j * 60_000) }));
        }
      }
      const applied = await peer.applyAll(batch);
      expect(applied.filter((a) => a.state !== 'completed')).toEqual([]);
    });

    it.each(GROUPINGS.map((g) => [g.join('×') || '(no grouping)', g]))('%s: rows match the ledger, sum exactly to totalEur, and reconcile with SELECT sum()', async (_label, groupBy) => {
      const result = await report(app, t.owner, { from: from.toISOString(), to: to.toISOString(), groupBy });
      expect(result.currency).toBe('EUR');
      const ledger = await ledgerOf(t.owner.tenantId, from, to);
      expect(ledger.length).toBe(144);

      expect(sum(result.rows.map((r) => micro(r.amountEur)))).toBe(micro(result.totalEur));
      expect(micro(result.totalEur)).toBe(await ledgerSum(t.owner.tenantId, from, to));

      const expected = expectedReport(ledger, groupBy);
      expect(result.rows).toHaveLength(expected.size);
      for (const row of result.rows) {
        const { quantity, amountEur, ...dims } = row;
        const group = expected.get(JSON.stringify(dims));
        expect(group).toBeDefined();
        expect(millionths(quantity)).toBe(group!.quantity);
        expect(micro(amountEur)).toBe(group!.amount);
        expect(amountEur).toMatch(/^\d+\.\d{6}$/);
        if (row.unitPriceEur) expect(row.unitPriceEur).toMatch(/^\d+\.\d{6}$/);
      }
    });

    it.each(GROUPINGS.map((g) => [g.join(',') || '(empty)', g]))('GET /v1/usage/export.csv?groupBy=%s matches usageReport row for row', async (_label, groupBy) => {
      const range = { from: from.toISOString(), to: to.toISOString() };
      const gql = await report(app, t.owner, { ...range, groupBy });
      const csv = await exportCsv(app, t.owner, { ...range, groupBy: groupBy.join(',') });
      expect(csv.status).toBe(200);
      expect(csv.contentType).toMatch(/^text\/csv/);
      expect(csv.header).toBe(CSV_HEADER);
      expect(csv.records).toEqual(gql.rows.map(asCsvRecord));
      expect(sum(csv.records.map((r) => micro(r[8])))).toBe(micro(gql.totalEur));
    });

    it('sorts rows by period, then project, then meter, GPU class and price', async () => {
      const gql = await report(app, t.owner, { from: from.toISOString(), to: to.toISOString(), groupBy: ['DAY', 'PROJECT', 'METER'] });
      const keys = gql.rows.map((r) => [r.period!, r.projectName!, r.meter!, r.gpuClass ?? '', r.unitPriceEur!]);
      const sorted = [...keys].sort((a, b) => {
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i === 4 ? Number(micro(a[i]) - micro(b[i])) : a[i] < b[i] ? -1 : 1;
        return 0;
      });
      expect(keys).toEqual(sorted);
      expect(new Set(gql.rows.map((r) => r.period)).size).toBeGreaterThanOrEqual(30);
    });

    it('filters by project, and reconciles per project and over a partial range', async () => {
      const [north, south] = t.projects;
      const partialFrom = new Date(now.getTime() - 10 * 86_400_000);
      for (const project of [north, south]) {
        for (const [f, tt] of [
          [from, to],
          [partialFrom, to],
        ]) {
          const result = await report(app, t.owner, { from: f.toISOString(), to: tt.toISOString(), groupBy: ['PROJECT', 'METER'], projectId: project.id });
          expect(new Set(result.rows.map((r) => r.projectId))).toEqual(new Set([project.id]));
          expect(result.rows.every((r) => r.projectName === project.name)).toBe(true);
          expect(micro(result.totalEur)).toBe(await ledgerSum(t.owner.tenantId, f, tt, project.id));
          expect(sum(result.rows.map((r) => micro(r.amountEur)))).toBe(micro(result.totalEur));
        }
      }
      const whole = await report(app, t.owner, { from: partialFrom.toISOString(), to: to.toISOString(), groupBy: [] });
      expect(micro(whole.totalEur)).toBe(await ledgerSum(t.owner.tenantId, partialFrom, to));
    });

    it('exports one project through the CSV too, matching usageReport', async () => {
      const [north] = t.projects;
      const range = { from: from.toISOString(), to: to.toISOString() };
      const gql = await report(app, t.owner, { ...range, groupBy: ['MONTH', 'PROJECT', 'METER'], projectId: north.id });
      const csv = await exportCsv(app, t.owner, { ...range, groupBy: 'MONTH,PROJECT,METER', projectId: north.id });
      expect(csv.status).toBe(200);
      expect(csv.records).toEqual(gql.rows.map(asCsvRecord));
    });

    it('defaults the CSV to MONTH,PROJECT,METER and quotes awkward project names for spreadsheets', async () => {
      const range = { from: from.toISOString(), to: to.toISOString() };
      const csv = await exportCsv(app, t.owner, range);
      const gql = await report(app, t.owner, { ...range, groupBy: ['MONTH', 'PROJECT', 'METER'] });
      expect(csv.records).toEqual(gql.rows.map(asCsvRecord));
      expect(csv.text).toContain('"Ledger, ""north"" (FR)"');
      expect(csv.records.some((r) => r[2] === 'Ledger, "north" (FR)')).toBe(true);
    });

    it('answers an empty range with no rows and a zero total, for every grouping', async () => {
      const empty = { from: '2020-01-01T00:00:00Z', to: '2020-02-01T00:00:00Z' };
      for (const groupBy of GROUPINGS) {
        const response = await app.graphql(REPORT, { input: { ...empty, groupBy } }, as(t.owner));
        expect({ groupBy, errors: response.errors }).toEqual({ groupBy, errors: undefined });
        expect(response.data.usageReport.totalEur).toBe('0.000000');
        expect(sum(response.data.usageReport.rows.map((r: ReportRow) => micro(r.amountEur)))).toBe(0n);
        const csv = await exportCsv(app, t.owner, { ...empty, groupBy: groupBy.join(',') });
        expect(csv.status).toBe(200);
        expect(csv.records).toEqual(response.data.usageReport.rows.map(asCsvRecord));
      }
    });
  });

  describe('invoices and late usage', () => {
    it('puts usage that arrives after its month was closed into the open month as an adjustment; the closed invoice never changes', async () => {
      const t = await tenantWithProjects(app, 'invoice-owner', ['invoiced']);
      const job = await createJob(app, t.owner, t.projects[0]);
      const inLastMonth = new Date(monthStart(now, -1).getTime() + 9 * 86_400_000 + 3_600_000);
      await peer.apply(events.started(job));
      await peer.apply(events.usage(job, { segment: 1, seconds: '100.000', at: inLastMonth }));
      await peer.apply(events.usage(job, { segment: 2, seconds: '5.000' }));

      const open = await ok(app.graphql(INVOICE, { month: lastMonth }, as(t.owner)));
      expect(open.invoice).toMatchObject({ month: lastMonth, status: 'OPEN', totalEur: '0.023000', closedAt: null });
      const closed = (await ok(app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(t.owner)))).closeInvoice;
      expect(closed).toMatchObject({ month: lastMonth, status: 'CLOSED', totalEur: '0.023000', closedAt: expect.any(String) });
      expect(closed.lines).toEqual([{ projectId: t.projects[0].id, projectName: 'invoiced', meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '100.000000', unit: 'second', unitPriceEur: '0.000230', amountEur: '0.023000', adjustment: false }]);
      expect(codeOf(await app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(t.owner)))).toBe('CONFLICT');

      // The worker's late report of last month's work.
      await peer.apply(events.usage(job, { segment: 3, seconds: '40.000', at: new Date(inLastMonth.getTime() + 3_600_000) }));

      const frozen = (await ok(app.graphql(INVOICE, { month: lastMonth }, as(t.owner)))).invoice;
      expect(frozen).toEqual({ ...closed, currency: 'EUR' });
      const current = (await ok(app.graphql(INVOICE, { month: currentMonth }, as(t.owner)))).invoice;
      expect(current.status).toBe('OPEN');
      expect(current.lines).toEqual([
        { projectId: t.projects[0].id, projectName: 'invoiced', meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '5.000000', unit: 'second', unitPriceEur: '0.000230', amountEur: '0.001150', adjustment: false },
        { projectId: t.projects[0].id, projectName: 'invoiced', meter: 'GPU_SECONDS', gpuClass: 'L4', quantity: '40.000000', unit: 'second', unitPriceEur: '0.000230', amountEur: '0.009200', adjustment: true },
      ]);
      expect(current.totalEur).toBe('0.010350');
      const [late] = await app.ownerQuery(`SELECT billing_period, adjustment, details FROM usage_events WHERE id = $1`, [`${job.jobId}:1:3`]);
      expect(late).toEqual({ billing_period: currentMonth, adjustment: true, details: expect.objectContaining({ adjustmentFor: lastMonth }) });
      // The month's spending (and so the budget) includes the adjustment.
      expect((await ok(app.graphql('{ budget { spentThisMonthEur } }', {}, as(t.owner)))).budget.spentThisMonthEur).toBe('0.010350');
      // Reports stay by time of use: last month's report still shows all of last month's usage.
      const lastMonthReport = await report(app, t.owner, { from: monthStart(now, -1).toISOString(), to: monthStart(now).toISOString(), groupBy: ['MONTH'] });
      expect(lastMonthReport.totalEur).toBe('0.032200');

      const audit = await app.ownerQuery(`SELECT actor_type, actor_id, details FROM audit_events WHERE tenant_id = $1 AND action = 'invoice.close'`, [t.owner.tenantId]);
      expect(audit).toEqual([{ actor_type: 'user', actor_id: t.owner.userId, details: { totalEur: '0.023000', lines: 1 } }]);
    });

    it('refuses to change a closed invoice, even for the table owner (trigger)', async () => {
      const t = await tenantWithProjects(app, 'frozen-owner', ['frozen']);
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.usage(job, { segment: 1, seconds: '10.000', at: new Date(monthStart(now, -1).getTime() + 86_400_000) }));
      await ok(app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(t.owner)));
      await expect(app.ownerQuery(`UPDATE invoices SET total_micro = 0 WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow(/a closed invoice never changes/);
      await expect(app.ownerQuery(`UPDATE invoices SET lines = '[]'::jsonb WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow(/a closed invoice never changes/);
      await expect(app.ownerQuery(`DELETE FROM invoices WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow(/a closed invoice never changes/);
      const [row] = await app.ownerQuery(`SELECT total_micro::text AS total FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [t.owner.tenantId, lastMonth]);
      expect(row.total).toBe('2300');
      // The api's own role cannot either.
      const client = await app.appRoleClient();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [t.owner.tenantId]);
        await expect(client.query(`UPDATE invoices SET total_micro = 0 WHERE tenant_id = $1`, [t.owner.tenantId])).rejects.toThrow();
      } finally {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.end();
      }
    });

    it('never loses usage that races the month close: closed total + adjustments = the month’s usage', async () => {
      const t = await tenantWithProjects(app, 'race-owner', ['race']);
      const job = await createJob(app, t.owner, t.projects[0]);
      const base = monthStart(now, -1).getTime() + 3 * 86_400_000;
      await peer.apply(events.usage(job, { segment: 0, seconds: '1.000', at: new Date(base) }));
      const late = Array.from({ length: 60 }, (_, i) => events.usage(job, { segment: i + 1, seconds: '1.000', at: new Date(base + (i + 1) * 60_000) }));
      const [closing] = await Promise.all([app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(t.owner)), peer.applyAll(late)]);
      expect(closing.errors).toBeUndefined();
      const [{ total }] = await app.ownerQuery(`SELECT total_micro::text AS total FROM invoices WHERE tenant_id = $1 AND billing_period = $2`, [t.owner.tenantId, lastMonth]);
      const [{ inClosed, adjusted, all }] = await app.ownerQuery(
        `SELECT coalesce(sum(amount_micro) FILTER (WHERE billing_period = $2), 0)::text AS "inClosed",
                coalesce(sum(amount_micro) FILTER (WHERE adjustment), 0)::text AS adjusted,
                sum(amount_micro)::text AS all
           FROM usage_events WHERE tenant_id = $1`,
        [t.owner.tenantId, lastMonth],
      );
      expect(all).toBe(String(61 * 230));
      // Every line of the closed month is in the frozen invoice; everything else is an adjustment.
      expect(inClosed).toBe(total);
      expect(BigInt(total) + BigInt(adjusted)).toBe(BigInt(all));
    });
  });

  describe('bad input', () => {
    let t: TenantSetup;
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };

    beforeAll(async () => {
      t = await tenantWithProjects(app, 'input-owner', ['inputs']);
    });

    it.each([
      ['from after to', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z', groupBy: ['MONTH'] }],
      ['from equal to to', { from: '2026-02-01T00:00:00Z', to: '2026-02-01T00:00:00Z', groupBy: ['MONTH'] }],
      ['DAY and MONTH together', { ...range, groupBy: ['DAY', 'MONTH'] }],
      ['a range over three years', { from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z', groupBy: [] }],
      ['a malformed projectId', { ...range, groupBy: ['PROJECT'], projectId: 'north' }],
      ['an unknown groupBy', { ...range, groupBy: ['WEEK'] }],
      ['a date that is not a date', { from: 'yesterday', to: range.to, groupBy: [] }],
    ])('usageReport refuses %s with BAD_USER_INPUT', async (_label, input) => {
      expect(codeOf(await app.graphql(REPORT, { input }, as(t.owner)))).toBe('BAD_USER_INPUT');
    });

    it.each([
      ['from after to', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z', groupBy: 'MONTH' }],
      ['DAY and MONTH together', { ...range, groupBy: 'DAY,MONTH' }],
      ['an unknown groupBy', { ...range, groupBy: 'MONTH,WEEK' }],
      ['an injected groupBy', { ...range, groupBy: "MONTH;DROP TABLE usage_events" }],
      ['a missing from', { to: range.to, groupBy: 'MONTH' }],
      ['a malformed to', { from: range.from, to: 'soon', groupBy: 'MONTH' }],
      ['a malformed projectId', { ...range, groupBy: 'PROJECT', projectId: 'north' }],
    ])('the CSV export refuses %s with 400 BAD_USER_INPUT', async (_label, params) => {
      const csv = await exportCsv(app, t.owner, params as Record<string, string>);
      expect(csv.status).toBe(400);
      expect(csv.contentType).toMatch(/json/);
      expect(csv.body.error.code).toBe('BAD_USER_INPUT');
    });

    it('does not audit a refused CSV export as a successful one', async () => {
      for (const params of [
        { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z', groupBy: 'MONTH' },
        { ...range, groupBy: 'DAY,MONTH' },
      ]) {
        expect((await exportCsv(app, t.owner, params)).status).toBe(400);
      }
      const audit = await app.ownerQuery(`SELECT details FROM audit_events WHERE tenant_id = $1 AND action = 'usage.export' AND outcome = 'SUCCESS'`, [t.owner.tenantId]);
      expect(audit).toEqual([]);
    });

    it.each(['2026-13', '2026-00', '2026-1', '26-11', 'november', '2026-11-01', ''])('invoice and closeInvoice refuse the month "%s"', async (month) => {
      expect(codeOf(await app.graphql(INVOICE, { month }, as(t.owner)))).toBe('BAD_USER_INPUT');
      expect(codeOf(await app.graphql(CLOSE_INVOICE, { month }, as(t.owner)))).toBe('BAD_USER_INPUT');
    });

    it('refuses to close the current or a future month, and stores nothing', async () => {
      const next = monthOf(monthStart(now, 1));
      for (const month of [currentMonth, next, '2099-01']) {
        const response = await app.graphql(CLOSE_INVOICE, { month }, as(t.owner));
        expect(codeOf(response)).toBe('BAD_USER_INPUT');
        expect(response.errors![0].extensions!.fields!.map((f) => f.field)).toEqual(['month']);
      }
      expect(await app.ownerQuery('SELECT billing_period FROM invoices WHERE tenant_id = $1', [t.owner.tenantId])).toEqual([]);
    });

    it.each([
      ['a float-like amount', { monthlyLimitEur: '1e3', hardCap: true }, 'monthlyLimitEur'],
      ['a float-like amount with a dot', { monthlyLimitEur: '1.5e2', hardCap: true }, 'monthlyLimitEur'],
      ['a negative amount', { monthlyLimitEur: '-5.00', hardCap: true }, 'monthlyLimitEur'],
      ['seven decimals', { monthlyLimitEur: '1.1234567', hardCap: true }, 'monthlyLimitEur'],
      ['a comma', { monthlyLimitEur: '1,50', hardCap: true }, 'monthlyLimitEur'],
      ['an empty amount', { monthlyLimitEur: '', hardCap: true }, 'monthlyLimitEur'],
      ['a padded amount', { monthlyLimitEur: ' 100', hardCap: true }, 'monthlyLimitEur'],
      ['NaN', { monthlyLimitEur: 'NaN', hardCap: true }, 'monthlyLimitEur'],
      ['a threshold of 0', { monthlyLimitEur: '100.00', hardCap: true, alertThresholds: [0, 50] }, 'alertThresholds'],
      ['a threshold of 250', { monthlyLimitEur: '100.00', hardCap: true, alertThresholds: [250] }, 'alertThresholds'],
    ])('setBudget refuses %s with BAD_USER_INPUT and stores nothing', async (_label, input, field) => {
      const response = await app.graphql(SET_BUDGET, { input }, as(t.owner));
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(response.errors![0].extensions!.fields!.map((f) => f.field)).toContain(field);
      expect(await app.ownerQuery('SELECT * FROM budgets WHERE tenant_id = $1', [t.owner.tenantId])).toEqual([]);
      expect(await app.ownerQuery(`SELECT seq FROM audit_events WHERE tenant_id = $1 AND action = 'budget.set'`, [t.owner.tenantId])).toEqual([]);
    });

    it('refuses a JSON number for the amount (money is a decimal string)', async () => {
      const response = await app.graphql(SET_BUDGET, { input: { monthlyLimitEur: 1500.5, hardCap: true } }, as(t.owner));
      expect(codeOf(response)).toBe('BAD_USER_INPUT');
      expect(await app.ownerQuery('SELECT * FROM budgets WHERE tenant_id = $1', [t.owner.tenantId])).toEqual([]);
    });

    it('accepts a well-formed budget with 6 decimals', async () => {
      const set = await ok(app.graphql(SET_BUDGET, { input: { monthlyLimitEur: '1500.123456', hardCap: false, alertThresholds: [90, 25, 90] } }, as(t.owner)));
      expect(set.setBudget).toMatchObject({ monthlyLimitEur: '1500.123456', hardCap: false, alertThresholds: [25, 90] });
      const [row] = await app.ownerQuery('SELECT monthly_limit_micro::text AS limit FROM budgets WHERE tenant_id = $1', [t.owner.tenantId]);
      expect(row.limit).toBe('1500123456');
    });
  });
});

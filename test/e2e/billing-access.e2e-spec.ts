import type { Role } from '../../src/common/authz/roles';
import { Actor, apiKeyWithRole, memberWithRole } from '../support/actors';
import { AppUnderTest, codeOf } from '../support/app-under-test';
import {
  as,
  asCsvRecord,
  BUDGET,
  CLOSE_INVOICE,
  createJob,
  exportCsv,
  INVOICE,
  micro,
  monthOf,
  monthStart,
  ok,
  GROUPINGS,
  PRICES,
  report,
  REPORT,
  SET_BUDGET,
  sum,
  tenantWithProjects,
  TenantSetup,
} from '../support/billing';
import { events, WorkerPeer } from '../support/worker-events';

/**
 * Who sees billing: OWNER and BILLING read everything and set the budget, ADMIN reads, the other
 * roles see none of it. And no tenant ever sees another's usage, in any report, invoice or export.
 */

describe('Billing: roles and tenant isolation', () => {
  let app: AppUnderTest;
  let peer: WorkerPeer;
  let a: TenantSetup;
  let b: TenantSetup;
  const members = {} as Record<Role, Actor>;
  const now = new Date();
  const from = monthStart(now, -3).toISOString();
  const to = new Date(now.getTime() + 3_600_000).toISOString();
  const currentMonth = monthOf(now);

  const ledgerSum = async (tenantId: string, where = 'TRUE', params: unknown[] = []) =>
    BigInt((await app.ownerQuery(`SELECT coalesce(sum(amount_micro), 0)::text AS s FROM usage_events WHERE tenant_id = $1 AND ${where}`, [tenantId, ...params]))[0].s);

  beforeAll(async () => {
    app = await AppUnderTest.start();
    peer = new WorkerPeer(app);
    a = await tenantWithProjects(app, 'a-owner', ['alpha-one', 'alpha-two']);
    b = await tenantWithProjects(app, 'b-owner', ['beta-one']);
    for (const role of ['ADMIN', 'BILLING', 'ML_ENGINEER', 'VIEWER', 'AUDITOR'] as Role[]) members[role] = await memberWithRole(app, a.owner, role);
    members.OWNER = a.owner;

    // Usage in both tenants, this month and in the three before; different amounts in each.
    const plan: [TenantSetup, number, string][] = [
      [a, 0, '100.000'],
      [a, 1, '250.500'],
      [b, 0, '7.000'],
    ];
    for (const [tenant, projectIndex, seconds] of plan) {
      const job = await createJob(app, tenant.owner, tenant.projects[projectIndex]);
      await peer.apply(events.started(job));
      const batch = [0, 1, 2, 3].map((monthsAgo) =>
        events.usage(job, { segment: monthsAgo, seconds, at: monthsAgo === 0 ? new Date(now.getTime() - 60_000) : new Date(monthStart(now, -monthsAgo).getTime() + 5 * 86_400_000) }),
      );
      for (const e of batch) await peer.apply(e);
    }
  });
  afterAll(async () => {
    await peer?.close();
    await app?.stop();
  });

  describe('roles', () => {
    const readers: Role[] = ['OWNER', 'ADMIN', 'BILLING'];
    const outsiders: Role[] = ['ML_ENGINEER', 'VIEWER', 'AUDITOR'];

    it.each(readers)('%s reads the report, price list, budget, invoice and CSV', async (role) => {
      const actor = members[role];
      const result = await report(app, actor, { from, to, groupBy: ['MONTH', 'PROJECT', 'METER'] });
      expect(micro(result.totalEur)).toBe(await ledgerSum(a.owner.tenantId));
      expect((await ok(app.graphql(PRICES, {}, as(actor)))).priceList.length).toBeGreaterThan(0);
      expect((await ok(app.graphql(BUDGET, {}, as(actor)))).budget.month).toBe(currentMonth);
      expect((await ok(app.graphql(INVOICE, { month: currentMonth }, as(actor)))).invoice.status).toBe('OPEN');
      const csv = await exportCsv(app, actor, { from, to, groupBy: 'MONTH,PROJECT,METER' });
      expect(csv.status).toBe(200);
      expect(csv.records).toEqual(result.rows.map(asCsvRecord));
    });

    it.each(outsiders)('%s gets FORBIDDEN on every billing query and 403 on the CSV', async (role) => {
      const actor = members[role];
      expect(codeOf(await app.graphql(REPORT, { input: { from, to, groupBy: ['MONTH'] } }, as(actor)))).toBe('FORBIDDEN');
      expect(codeOf(await app.graphql(PRICES, {}, as(actor)))).toBe('FORBIDDEN');
      expect(codeOf(await app.graphql(BUDGET, {}, as(actor)))).toBe('FORBIDDEN');
      expect(codeOf(await app.graphql(INVOICE, { month: currentMonth }, as(actor)))).toBe('FORBIDDEN');
      expect(codeOf(await app.graphql(SET_BUDGET, { input: { monthlyLimitEur: '1.00', hardCap: true } }, as(actor)))).toBe('FORBIDDEN');
      expect(codeOf(await app.graphql(CLOSE_INVOICE, { month: monthOf(monthStart(now, -3)) }, as(actor)))).toBe('FORBIDDEN');
      const csv = await exportCsv(app, actor, { from, to, groupBy: 'MONTH' });
      expect(csv.status).toBe(403);
      expect(csv.body.error.code).toBe('FORBIDDEN');
      expect(csv.text).not.toContain('alpha');
    });

    it('lets OWNER and BILLING set the budget, and refuses ADMIN with FORBIDDEN (changing nothing)', async () => {
      const set = (actor: Actor, monthlyLimitEur: string) => app.graphql(SET_BUDGET, { input: { monthlyLimitEur, hardCap: false } }, as(actor));
      expect((await ok(set(members.OWNER, '500.00'))).setBudget.monthlyLimitEur).toBe('500.000000');
      expect((await ok(set(members.BILLING, '750.25'))).setBudget.monthlyLimitEur).toBe('750.250000');
      expect(codeOf(await set(members.ADMIN, '1.00'))).toBe('FORBIDDEN');
      expect((await ok(app.graphql(BUDGET, {}, as(members.ADMIN)))).budget.monthlyLimitEur).toBe('750.250000');
      const denied = await app.ownerQuery(`SELECT actor_id FROM audit_events WHERE tenant_id = $1 AND outcome = 'DENIED' AND action = 'setBudget'`, [a.owner.tenantId]);
      expect(denied.map((d) => d.actor_id)).toContain(members.ADMIN.userId);
    });

    it('lets OWNER and BILLING close a month, and refuses ADMIN', async () => {
      const lastMonth = monthOf(monthStart(now, -1));
      const twoAgo = monthOf(monthStart(now, -2));
      expect(codeOf(await app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(members.ADMIN)))).toBe('FORBIDDEN');
      expect((await ok(app.graphql(CLOSE_INVOICE, { month: lastMonth }, as(members.OWNER)))).closeInvoice.status).toBe('CLOSED');
      expect((await ok(app.graphql(CLOSE_INVOICE, { month: twoAgo }, as(members.BILLING)))).closeInvoice.status).toBe('CLOSED');
      expect((await ok(app.graphql(INVOICE, { month: lastMonth }, as(members.ADMIN)))).invoice.status).toBe('CLOSED');
      const closed = await app.ownerQuery(`SELECT billing_period FROM invoices WHERE tenant_id = $1 ORDER BY billing_period`, [a.owner.tenantId]);
      expect(closed.map((c) => c.billing_period)).toEqual([twoAgo, lastMonth]);
    });

    it('lets BILLING filter the report and the CSV by project', async () => {
      const project = a.projects[1];
      const response = await app.graphql(REPORT, { input: { from, to, groupBy: ['PROJECT'], projectId: project.id } }, as(members.BILLING));
      expect(response.errors).toBeUndefined();
      expect(micro(response.data.usageReport.totalEur)).toBe(await ledgerSum(a.owner.tenantId, 'project_id = $2', [project.id]));
      const csv = await exportCsv(app, members.BILLING, { from, to, groupBy: 'PROJECT', projectId: project.id });
      expect(csv.status).toBe(200);
      expect(csv.records).toEqual(response.data.usageReport.rows.map(asCsvRecord));
    });

    it('applies the same rules to API keys, and a project-bound key sees no billing', async () => {
      const billingKey = await apiKeyWithRole(app, a.owner, 'BILLING');
      const viaKey = await app.graphql(REPORT, { input: { from, to, groupBy: ['MONTH'] } }, { token: billingKey.secret });
      expect(micro(viaKey.data.usageReport.totalEur)).toBe(await ledgerSum(a.owner.tenantId));
      const csv = await app.fetch(`/v1/usage/export.csv?${new URLSearchParams({ from, to, groupBy: 'MONTH' })}`, { token: billingKey.secret });
      expect(csv.status).toBe(200);
      const viewerKey = await apiKeyWithRole(app, a.owner, 'VIEWER');
      expect(codeOf(await app.graphql(BUDGET, {}, { token: viewerKey.secret }))).toBe('FORBIDDEN');
      const scoped = await apiKeyWithRole(app, a.owner, 'ADMIN', a.projects[0].id);
      expect(codeOf(await app.graphql(REPORT, { input: { from, to, groupBy: ['MONTH'], projectId: a.projects[0].id } }, { token: scoped.secret }))).toBe('FORBIDDEN');
      expect((await app.fetch(`/v1/usage/export.csv?${new URLSearchParams({ from, to })}`, { token: scoped.secret })).status).toBe(403);
    });
  });

  describe('tenant isolation', () => {
    const aIds = () => [a.owner.tenantId, ...a.projects.map((p) => p.id), ...a.projects.map((p) => p.name)];

    it.each(GROUPINGS.map((g) => [g.join('×') || '(no grouping)', g]))("tenant B's usageReport and CSV by %s hold only B's usage", async (_label, groupBy) => {
      const result = await report(app, b.owner, { from, to, groupBy });
      expect(micro(result.totalEur)).toBe(await ledgerSum(b.owner.tenantId));
      expect(sum(result.rows.map((r) => micro(r.amountEur)))).toBe(micro(result.totalEur));
      for (const row of result.rows) if (row.projectId) expect(row.projectId).toBe(b.projects[0].id);
      const csv = await exportCsv(app, b.owner, { from, to, groupBy: groupBy.join(',') });
      expect(csv.records).toEqual(result.rows.map(asCsvRecord));
      for (const id of aIds()) {
        expect(JSON.stringify(result)).not.toContain(id);
        expect(csv.text).not.toContain(id);
      }
    });

    it("tenant B's invoice and budget count only B's usage", async () => {
      const invoice = (await ok(app.graphql(INVOICE, { month: currentMonth }, as(b.owner)))).invoice;
      expect(micro(invoice.totalEur)).toBe(await ledgerSum(b.owner.tenantId, 'billing_period = $2', [currentMonth]));
      expect(invoice.lines.map((l: any) => l.projectId)).toEqual([b.projects[0].id]);
      const budget = (await ok(app.graphql(BUDGET, {}, as(b.owner)))).budget;
      expect(micro(budget.spentThisMonthEur)).toBe(await ledgerSum(b.owner.tenantId, 'billing_period = $2', [currentMonth]));
      expect(budget.monthlyLimitEur).not.toBe('750.250000');
      // B closing a month closes it for B only.
      const threeAgo = monthOf(monthStart(now, -3));
      const closed = (await ok(app.graphql(CLOSE_INVOICE, { month: threeAgo }, as(b.owner)))).closeInvoice;
      expect(micro(closed.totalEur)).toBe(await ledgerSum(b.owner.tenantId, 'billing_period = $2', [threeAgo]));
      expect((await ok(app.graphql(INVOICE, { month: threeAgo }, as(a.owner)))).invoice.status).toBe('OPEN');
    });

    it("answers NOT_FOUND / 404 when tenant B asks for a report or CSV of A's project", async () => {
      for (const project of a.projects) {
        expect(codeOf(await app.graphql(REPORT, { input: { from, to, groupBy: ['PROJECT'], projectId: project.id } }, as(b.owner)))).toBe('NOT_FOUND');
        const csv = await exportCsv(app, b.owner, { from, to, groupBy: 'PROJECT', projectId: project.id });
        expect(csv.status).toBe(404);
        expect(csv.body.error.code).toBe('NOT_FOUND');
        expect(csv.text).not.toContain(project.name);
      }
    });

    it('shows a member of two tenants each tenant’s usage only under that tenant', async () => {
      const billing = members.BILLING;
      // memberWithRole's user also owns a tenant of their own, which has no usage.
      const me = await ok(app.graphql('{ me { memberships { role tenant { id } } } }', {}, { token: billing.token }));
      const ownTenantId: string = me.me.memberships.find((m: any) => m.role === 'OWNER').tenant.id;
      expect(ownTenantId).not.toBe(a.owner.tenantId);
      const inA = await report(app, billing, { from, to, groupBy: [] });
      expect(micro(inA.totalEur)).toBe(await ledgerSum(a.owner.tenantId));
      const inOwn = await report(app, { ...billing, tenantId: ownTenantId }, { from, to, groupBy: ['PROJECT'] });
      expect(inOwn.rows).toEqual([]);
      expect(inOwn.totalEur).toBe('0.000000');
      const csv = await exportCsv(app, { ...billing, tenantId: ownTenantId }, { from, to, groupBy: 'PROJECT' });
      expect(csv.status).toBe(200);
      expect(csv.records).toEqual([]);
      expect((await ok(app.graphql(INVOICE, { month: currentMonth }, as({ ...billing, tenantId: ownTenantId })))).invoice.lines).toEqual([]);
    });

    it("refuses a worker event that names B as the tenant of A's job: nothing is billed to either", async () => {
      const job = await createJob(app, a.owner, a.projects[0]);
      const before = { a: await ledgerSum(a.owner.tenantId), b: await ledgerSum(b.owner.tenantId) };
      // Under B's tenant scope A's job does not exist: the api refuses the event (Bull retries it,
      // as it does for a job whose row has not committed yet) and bills nothing.
      const result = await peer.send(events.usage({ jobId: job.jobId, tenantId: b.owner.tenantId }, { segment: 1, seconds: '999.000' }));
      expect(result.state).toBe('failed');
      expect(await app.ownerQuery('SELECT id FROM usage_events WHERE id = $1', [`${job.jobId}:1:1`])).toEqual([]);
      expect({ a: await ledgerSum(a.owner.tenantId), b: await ledgerSum(b.owner.tenantId) }).toEqual(before);
    });
  });
});

import Redis from 'ioredis';
import { redisKeys } from '../../src/contracts/training';
import { AppUnderTest, codeOf, GraphQLResponse } from '../support/app-under-test';
import {
  amountOf,
  as,
  BUDGET,
  CREATE_JOB,
  createJob,
  ESTIMATE,
  eur,
  JOB,
  jobInput,
  micro,
  ok,
  SET_BUDGET,
  tenantWithProjects,
  TenantSetup,
} from '../support/billing';
import { TEST_REDIS_URL } from '../support/services';
import { events, eventually, InferencePeer, JobIdentity, newMasterKey, WorkerPeer } from '../support/worker-events';

/**
 * Budgets with hard caps: reservations taken under a lock at job creation (raced with Promise.all),
 * released when a job ends however it ends, a running job stopped when it has used up what it
 * reserved, predictions refused past the limit, and threshold alerts once each per month.
 */

const master = newMasterKey('m1');
const GPU_POOLS = [
  { id: 'fr-par-l4', region: 'fr-par', gpuClass: 'L4' },
  { id: 'fr-par-a100', region: 'fr-par', gpuClass: 'A100' },
];

describe('Billing: budgets, reservations, hard caps and alerts', () => {
  let app: AppUnderTest;
  let peer: WorkerPeer;
  let redis: Redis;

  beforeAll(async () => {
    app = await AppUnderTest.start({ MASTER_KEYS: master.env, GPU_POOLS: JSON.stringify(GPU_POOLS), PREDICT_TIMEOUT_SECONDS: '10' });
    peer = new WorkerPeer(app);
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await peer?.close();
    await app?.stop();
  });

  const budgetOf = async (t: TenantSetup) => (await ok(app.graphql(BUDGET, {}, as(t.owner)))).budget;
  const setBudget = (t: TenantSetup, input: Record<string, unknown>) => ok(app.graphql(SET_BUDGET, { input }, as(t.owner)));
  const estimateOf = async (t: TenantSetup) => micro((await ok(app.graphql(ESTIMATE, { input: jobInput(t.projects[0]) }, as(t.owner)))).estimateFineTuningCost.amountEur);
  const reservationOf = async (jobId: string) =>
    (await app.ownerQuery(`SELECT status, amount_micro::text AS amount, released_at FROM budget_reservations WHERE source_type = 'fine_tuning_job' AND source_id = $1`, [jobId]))[0];
  const jobView = async (t: TenantSetup, jobId: string) => (await ok(app.graphql(JOB, { id: jobId }, as(t.owner)))).fineTuningJob;
  const cancelKey = (jobId: string) => redisKeys.cancel(app.redisPrefix, jobId);

  /** A model version to serve: the job's `job.succeeded`, its artifact secret sealed under the api's master key. */
  async function registerModelVersion(t: TenantSetup, job: JobIdentity): Promise<string> {
    await peer.apply(events.succeeded(job, master));
    return (await jobView(t, job.jobId)).resultModelVersion.id;
  }

  function expectBudgetExceeded(response: GraphQLResponse, figures: { spent: bigint; reserved: bigint; requested: bigint; limit: bigint }) {
    expect(codeOf(response)).toBe('BUDGET_EXCEEDED');
    const error = response.errors![0];
    for (const figure of [figures.spent, figures.reserved, figures.requested, figures.limit]) expect(error.message).toContain(eur(figure));
    expect(error.message).toBe(`This would exceed the monthly budget: spent ${eur(figures.spent)} + reserved ${eur(figures.reserved)} + this job ${eur(figures.requested)} > limit ${eur(figures.limit)} EUR`);
    expect(error.extensions).toMatchObject({ spentEur: eur(figures.spent), reservedEur: eur(figures.reserved), requestedEur: eur(figures.requested), limitEur: eur(figures.limit) });
  }

  describe('concurrent job creation against a hard cap', () => {
    it('lets exactly one of two simultaneous jobs through when only one fits (three rounds)', async () => {
      const t = await tenantWithProjects(app, 'race2-owner', ['race-two']);
      const estimate = await estimateOf(t);
      expect(estimate).toBeGreaterThan(0n);
      const limit = estimate + estimate / 2n;
      await setBudget(t, { monthlyLimitEur: eur(limit), hardCap: true });

      const waiting = () => redis.llen(`${app.redisPrefix}:bull:training:fr-par-l4:wait`);
      for (let round = 0; round < 3; round++) {
        const waitingBefore = await waiting();
        const results = await Promise.all([0, 1].map(() => app.graphql(CREATE_JOB, { input: jobInput(t.projects[0]) }, as(t.owner))));
        const passed = results.filter((r) => r.data?.createFineTuningJob);
        const refused = results.filter((r) => codeOf(r) === 'BUDGET_EXCEEDED');
        expect({ round, passed: passed.length, refused: refused.length }).toEqual({ round, passed: 1, refused: 1 });
        expectBudgetExceeded(refused[0], { spent: 0n, reserved: estimate, requested: estimate, limit });

        const winner = passed[0].data.createFineTuningJob.id;
        const active = await app.ownerQuery(`SELECT source_id, amount_micro::text AS amount FROM budget_reservations WHERE tenant_id = $1 AND status = 'ACTIVE'`, [t.owner.tenantId]);
        expect(active).toEqual([{ source_id: winner, amount: String(estimate) }]);
        const queued = await app.ownerQuery(`SELECT id FROM fine_tuning_jobs WHERE tenant_id = $1 AND status = 'QUEUED'`, [t.owner.tenantId]);
        expect(queued).toEqual([{ id: winner }]);
        expect(await waiting()).toBe(waitingBefore + 1);
        expect(await redis.exists(`${app.redisPrefix}:bull:training:fr-par-l4:${winner}`)).toBe(1);
        expect((await budgetOf(t)).reservedEur).toBe(eur(estimate));

        // Withdrawing the winner frees its reservation for the next round.
        await ok(app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status } }', { id: winner }, as(t.owner)));
        expect((await budgetOf(t)).reservedEur).toBe('0.000000');
      }
      const jobs = await app.ownerQuery(`SELECT count(*)::int AS n FROM fine_tuning_jobs WHERE tenant_id = $1`, [t.owner.tenantId]);
      expect(jobs[0].n).toBe(3);
    });

    it('lets exactly two of five simultaneous jobs through when two fit, counting this month’s spending', async () => {
      const t = await tenantWithProjects(app, 'race5-owner', ['race-five']);
      const estimate = await estimateOf(t);
      // Earlier spending this month: a job that ran 20 s on L4 and failed.
      const earlier = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(earlier));
      await peer.apply(events.usage(earlier, { segment: 1, seconds: '20.000' }));
      await peer.apply(events.failed(earlier));
      const spent = amountOf('20.000', 230n);
      expect((await budgetOf(t)).spentThisMonthEur).toBe(eur(spent));

      const limit = spent + 2n * estimate + estimate / 2n;
      await setBudget(t, { monthlyLimitEur: eur(limit), hardCap: true });
      const results = await Promise.all([0, 1, 2, 3, 4].map(() => app.graphql(CREATE_JOB, { input: jobInput(t.projects[0]) }, as(t.owner))));
      const passed = results.filter((r) => r.data?.createFineTuningJob);
      const refused = results.filter((r) => codeOf(r) === 'BUDGET_EXCEEDED');
      expect([passed.length, refused.length]).toEqual([2, 3]);
      for (const r of refused) expectBudgetExceeded(r, { spent, reserved: 2n * estimate, requested: estimate, limit });

      const active = await app.ownerQuery(`SELECT source_id FROM budget_reservations WHERE tenant_id = $1 AND status = 'ACTIVE' ORDER BY source_id`, [t.owner.tenantId]);
      expect(active.map((a) => a.source_id)).toEqual(passed.map((p) => p.data.createFineTuningJob.id).sort());
      const budget = await budgetOf(t);
      expect(budget).toMatchObject({ hardCap: true, monthlyLimitEur: eur(limit), spentThisMonthEur: eur(spent), reservedEur: eur(2n * estimate) });
      expect(micro(budget.spentThisMonthEur) + micro(budget.reservedEur)).toBeLessThanOrEqual(limit);
      const queued = await app.ownerQuery(`SELECT count(*)::int AS n FROM fine_tuning_jobs WHERE tenant_id = $1 AND status = 'QUEUED'`, [t.owner.tenantId]);
      expect(queued[0].n).toBe(2);
    });

    it('does not refuse jobs past a soft limit (hardCap false)', async () => {
      const t = await tenantWithProjects(app, 'soft-owner', ['soft']);
      await setBudget(t, { monthlyLimitEur: '0.000001', hardCap: false });
      const results = await Promise.all([0, 1, 2].map(() => app.graphql(CREATE_JOB, { input: jobInput(t.projects[0]) }, as(t.owner))));
      expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    });

    it('shows no budget (monthlyLimitEur null) to a tenant that never set one, also once it has run jobs', async () => {
      const t = await tenantWithProjects(app, 'nobudget-owner', ['no-budget']);
      expect(await budgetOf(t)).toMatchObject({ monthlyLimitEur: null, hardCap: false, alertThresholds: [50, 80, 100], reservedEur: '0.000000' });
      const job = await createJob(app, t.owner, t.projects[0]);
      expect(await budgetOf(t)).toMatchObject({ monthlyLimitEur: null, hardCap: false, reservedEur: eur(job.estimateMicro) });
    });
  });

  describe('reservations are released however a job ends', () => {
    let t: TenantSetup;
    let estimate: bigint;

    beforeAll(async () => {
      t = await tenantWithProjects(app, 'release-owner', ['release']);
      estimate = await estimateOf(t);
      await setBudget(t, { monthlyLimitEur: '1.000000', hardCap: true });
    });

    it('on cancelling a queued job', async () => {
      const job = await createJob(app, t.owner, t.projects[0]);
      expect(await reservationOf(job.jobId)).toMatchObject({ status: 'ACTIVE', amount: String(estimate), released_at: null });
      expect((await budgetOf(t)).reservedEur).toBe(eur(estimate));
      const cancelled = await ok(app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status } }', { id: job.jobId }, as(t.owner)));
      expect(cancelled.cancelFineTuningJob.status).toBe('CANCELLED');
      expect(await reservationOf(job.jobId)).toMatchObject({ status: 'RELEASED', released_at: expect.any(Date) });
      expect((await budgetOf(t)).reservedEur).toBe('0.000000');
    });

    it('on cancelling a running job, once the worker confirms', async () => {
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
      await peer.apply(events.usage(job, { segment: 1, seconds: '5.000' }));
      const used = amountOf('5.000', 230n);
      // What is left of the reservation still counts; what was used is spent.
      expect(await budgetOf(t)).toMatchObject({ reservedEur: eur(estimate - used) });
      await ok(app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status } }', { id: job.jobId }, as(t.owner)));
      expect(await redis.get(cancelKey(job.jobId))).toBe('1');
      expect((await reservationOf(job.jobId)).status).toBe('ACTIVE');
      await peer.apply(events.cancelled(job, 1));
      expect((await jobView(t, job.jobId)).status).toBe('CANCELLED');
      expect(await reservationOf(job.jobId)).toMatchObject({ status: 'RELEASED', released_at: expect.any(Date) });
      expect((await budgetOf(t)).reservedEur).toBe('0.000000');
    });

    it('on failure, but not while the worker retries', async () => {
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
      await peer.apply(events.usage(job, { segment: 1, seconds: '2.000' }));
      await peer.apply(events.failed(job, 'worker lost its GPU', true));
      expect((await reservationOf(job.jobId)).status).toBe('ACTIVE');
      expect((await jobView(t, job.jobId)).status).toBe('RUNNING');
      await peer.apply(events.failed(job, 'CUDA error: out of memory', false));
      const view = await jobView(t, job.jobId);
      expect(view).toMatchObject({ status: 'FAILED', error: 'CUDA error: out of memory' });
      expect(await reservationOf(job.jobId)).toMatchObject({ status: 'RELEASED', released_at: expect.any(Date) });
      expect((await budgetOf(t)).reservedEur).toBe('0.000000');
    });

    it('on success, with the actual cost and its ratio to the estimate on the job', async () => {
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
      for (let epoch = 1; epoch <= 5; epoch++) await peer.apply(events.epoch(job, epoch, 18_000));
      await peer.apply(events.usage(job, { segment: 1, seconds: '9.000' }));
      await peer.apply(events.usage(job, { segment: 2, seconds: '4.321' }));
      expect((await reservationOf(job.jobId)).status).toBe('ACTIVE');
      const succeeded = events.succeeded(job, master);
      await peer.apply(succeeded);
      await peer.apply(succeeded); // delivered twice: still one version, one release
      const view = await jobView(t, job.jobId);
      const cost = amountOf('9.000', 230n) + amountOf('4.321', 230n);
      expect(view).toMatchObject({ status: 'SUCCEEDED', error: null, gpuSeconds: '13.321', costEur: eur(cost), resultModelVersion: { id: expect.any(String) } });
      expect(view.costToEstimateRatio).toBeCloseTo(Number(cost) / Number(estimate), 3);
      expect(await reservationOf(job.jobId)).toMatchObject({ status: 'RELEASED', released_at: expect.any(Date) });
      const versions = await app.ownerQuery(`SELECT count(*)::int AS n FROM model_versions WHERE job_id = $1`, [job.jobId]);
      expect(versions[0].n).toBe(1);
      expect((await budgetOf(t)).reservedEur).toBe('0.000000');
    });

    it('leaves the month’s spending equal to the ledger and nothing reserved', async () => {
      const budget = await budgetOf(t);
      const [{ s }] = await app.ownerQuery(`SELECT sum(amount_micro)::text AS s FROM usage_events WHERE tenant_id = $1`, [t.owner.tenantId]);
      expect(budget.spentThisMonthEur).toBe(eur(BigInt(s)));
      expect(budget.reservedEur).toBe('0.000000');
      const active = await app.ownerQuery(`SELECT count(*)::int AS n FROM budget_reservations WHERE tenant_id = $1 AND status = 'ACTIVE'`, [t.owner.tenantId]);
      expect(active[0].n).toBe(0);
    });
  });

  describe('a running job is stopped at its reservation', () => {
    /** Sends usage worth 40 % of the estimate per segment; returns after the segment that first reaches it. */
    async function runPastEstimate(job: JobIdentity, gpuSeconds: string, segments: number, onEach: (segment: number) => Promise<void>) {
      const per = (Math.ceil(Number(gpuSeconds) * 0.4 * 1000) / 1000).toFixed(3);
      for (let segment = 1; segment <= segments; segment++) {
        await peer.apply(events.usage(job, { segment, seconds: per }));
        await onEach(segment);
      }
      return per;
    }

    it('sets the cancel key, records why, and keeps billing what the worker still reports', async () => {
      const t = await tenantWithProjects(app, 'stop-owner', ['stop']);
      await setBudget(t, { monthlyLimitEur: '1.000000', hardCap: true });
      const created = await ok(app.graphql(CREATE_JOB, { input: jobInput(t.projects[0]) }, as(t.owner)));
      const job = { jobId: created.createFineTuningJob.id, tenantId: t.owner.tenantId };
      const estimate = micro(created.createFineTuningJob.estimate.amountEur);
      await peer.apply(events.started(job));

      const per = await runPastEstimate(job, created.createFineTuningJob.estimate.gpuSeconds, 3, async (segment) => {
        const view = await jobView(t, job.jobId);
        if (segment < 3) {
          // 40 %, 80 %: runs on.
          expect(await redis.get(cancelKey(job.jobId))).toBeNull();
          expect(view).toMatchObject({ status: 'RUNNING', error: null, cancelRequestedAt: null });
        } else {
          // 120 %: stopped.
          expect(await redis.get(cancelKey(job.jobId))).toBe('1');
          expect(view.cancelRequestedAt).not.toBeNull();
          expect(view.error).toBe(`stopped: its budget reservation of ${eur(estimate)} EUR is used up (hard cap)`);
          expect(view.events).toContainEqual({ level: 'warn', message: view.error });
        }
      });
      const used = 3n * amountOf(per, 230n);
      const audit = await app.ownerQuery(`SELECT actor_type, actor_id, resource_id, details FROM audit_events WHERE tenant_id = $1 AND action = 'job.budget_stop'`, [t.owner.tenantId]);
      expect(audit).toEqual([{ actor_type: 'system', actor_id: 'budget', resource_id: job.jobId, details: { reservedEur: eur(estimate), usedEur: eur(used) } }]);

      // The batch in flight when the key was set is still measured and billed, without a second stop.
      await peer.apply(events.usage(job, { segment: 4, seconds: '0.500' }));
      expect((await jobView(t, job.jobId)).costEur).toBe(eur(used + amountOf('0.500', 230n)));
      const stops = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'job.budget_stop'`, [t.owner.tenantId]);
      expect(stops[0].n).toBe(1);

      await peer.apply(events.cancelled(job, 2));
      const view = await jobView(t, job.jobId);
      expect(view.status).toBe('CANCELLED');
      expect(view.error).toMatch(/budget reservation .* is used up/);
      expect((await reservationOf(job.jobId)).status).toBe('RELEASED');
      expect(await redis.get(cancelKey(job.jobId))).toBeNull();
      expect((await budgetOf(t)).reservedEur).toBe('0.000000');
    });

    it('lets a job run past its estimate without a hard cap', async () => {
      for (const [label, budget] of [
        ['soft', { monthlyLimitEur: '1.000000', hardCap: false }],
        ['none', null],
      ] as const) {
        const t = await tenantWithProjects(app, `nostop-${label}`, ['no-stop']);
        if (budget) await setBudget(t, budget);
        const created = await ok(app.graphql(CREATE_JOB, { input: jobInput(t.projects[0]) }, as(t.owner)));
        const job = { jobId: created.createFineTuningJob.id, tenantId: t.owner.tenantId };
        await peer.apply(events.started(job));
        await runPastEstimate(job, created.createFineTuningJob.estimate.gpuSeconds, 3, async () => undefined);
        expect(await redis.get(cancelKey(job.jobId))).toBeNull();
        expect(await jobView(t, job.jobId)).toMatchObject({ status: 'RUNNING', error: null, cancelRequestedAt: null });
      }
    });
  });

  describe('alerts', () => {
    it('writes a budget.alert audit event once per threshold per month as spending crosses 50, 80 and 100 %', async () => {
      const t = await tenantWithProjects(app, 'alert-owner', ['alerts']);
      await setBudget(t, { monthlyLimitEur: '0.010000', hardCap: false });
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
      const month = new Date().toISOString().slice(0, 7);
      const alerts = async () =>
        (await app.ownerQuery(`SELECT actor_type, actor_id, details FROM audit_events WHERE tenant_id = $1 AND action = 'budget.alert' ORDER BY seq`, [t.owner.tenantId])).map((a) => ({
          ...a,
          threshold: a.details.threshold,
        }));
      // seconds → cumulative spending at 230 µ€/s on L4, against a limit of 10 000 µ€.
      const steps: [string, number[]][] = [
        ['17.400', []], //   4 002 (40.0 %)
        ['4.400', [50]], //  5 014 (50.1 %)
        ['13.000', [50, 80]], //  8 004 (80.0 %)
        ['4.000', [50, 80]], //  8 924 (89.2 %)
        ['5.000', [50, 80, 100]], // 10 074 (100.7 %)
        ['20.000', [50, 80, 100]], // 14 674 (146.7 %)
      ];
      let spent = 0n;
      for (const [segment, [seconds, expected]] of steps.entries()) {
        await peer.apply(events.usage(job, { segment, seconds }));
        spent += amountOf(seconds, 230n);
        const written = await alerts();
        expect({ segment, thresholds: written.map((a) => a.threshold) }).toEqual({ segment, thresholds: expected });
      }
      expect(spent).toBe(14_674n);
      // A repeated usage event neither counts nor alerts again.
      await peer.apply(events.usage(job, { segment: 5, seconds: '20.000' }));
      const written = await alerts();
      expect(written).toHaveLength(3);
      for (const a of written) {
        expect(a).toMatchObject({ actor_type: 'system', actor_id: 'budget' });
        expect(a.details).toMatchObject({ threshold: a.threshold, month, limitEur: '0.010000' });
      }
      expect(written.map((a) => micro(a.details.spentEur))).toEqual([5014n, 8004n, 10_074n]);
      const rows = await app.ownerQuery(`SELECT billing_period, threshold FROM budget_alerts WHERE tenant_id = $1 ORDER BY threshold`, [t.owner.tenantId]);
      expect(rows).toEqual([50, 80, 100].map((threshold) => ({ billing_period: month, threshold })));
    });
  });

  describe('predictions on a capped tenant', () => {
    let t: TenantSetup;
    let endpointId: string;
    let inference: InferencePeer;
    const PREDICT = 'mutation($id: ID!, $inputs: [JSON!]!) { predict(endpointId: $id, inputs: $inputs) { outputs modelVersionId } }';
    const penguin = { island: 'Biscoe', bill_length_mm: 45.2, bill_depth_mm: 14.8, flipper_length_mm: 212, body_mass_g: 5200, sex: 'FEMALE' };

    beforeAll(async () => {
      t = await tenantWithProjects(app, 'predict-owner', ['serving']);
      const job = await createJob(app, t.owner, t.projects[0]);
      await peer.apply(events.started(job));
      await peer.apply(events.usage(job, { segment: 1, seconds: '12.000' }));
      const versionId = await registerModelVersion(t, job);
      const endpoint = await ok(
        app.graphql('mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { id pool } }', { input: { projectId: t.projects[0].id, name: 'penguins', modelVersionId: versionId, environment: 'STAGING', gpuClass: 'A100' } }, as(t.owner)),
      );
      endpointId = endpoint.createEndpoint.id;
      expect(endpoint.createEndpoint.pool).toBe('fr-par-a100');
      inference = new InferencePeer(app, 'fr-par-a100', { backend: 'tensorflow-gpu', computeSeconds: '0.004' }).start();
    });
    afterAll(() => inference?.close());

    const ledgerCount = async () => (await app.ownerQuery(`SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1`, [t.owner.tenantId]))[0].n;

    // First on purpose: the api's first call to a pool, answered at once by a warm replica.
    it('gets the answer of a replica that answers the very first call at once (and bills it)', async () => {
      inference.delayMs = 0;
      const served = await app.graphql(PREDICT, { id: endpointId, inputs: [penguin] }, as(t.owner));
      inference.delayMs = 150;
      expect(inference.received).toHaveLength(1);
      expect(served.errors).toBeUndefined();
      const billed = await app.ownerQuery(`SELECT count(*)::int AS n FROM usage_events WHERE tenant_id = $1 AND meter = 'PREDICTIONS'`, [t.owner.tenantId]);
      expect(billed[0].n).toBe(1);
    });

    it('serves under the limit and refuses with BUDGET_EXCEEDED past it, without reaching a worker', async () => {
      inference.delayMs = 150;
      inference.received.length = 0;
      const billedBefore = await app.ownerQuery(`SELECT id FROM usage_events WHERE tenant_id = $1 AND meter = 'PREDICTIONS'`, [t.owner.tenantId]);
      const spent = micro((await budgetOf(t)).spentThisMonthEur);
      await setBudget(t, { monthlyLimitEur: eur(spent + 1_000_000n), hardCap: true });
      const served = await app.graphql(PREDICT, { id: endpointId, inputs: [penguin, penguin] }, as(t.owner));
      expect(served.errors).toBeUndefined();
      expect(served.data.predict.outputs).toHaveLength(2);
      expect(inference.received).toHaveLength(1);
      const predictions = await app.ownerQuery(`SELECT quantity::text, amount_micro::text FROM usage_events WHERE tenant_id = $1 AND meter = 'PREDICTIONS' AND NOT (id = ANY($2))`, [t.owner.tenantId, billedBefore.map((b) => b.id)]);
      expect(predictions).toEqual([{ quantity: '2.000000', amount_micro: '40' }]);

      // The limit is now what has been spent: the next call is refused before it reaches the pool.
      const now = (await budgetOf(t)).spentThisMonthEur;
      await setBudget(t, { monthlyLimitEur: now, hardCap: true });
      const before = await ledgerCount();
      const refused = await app.graphql(PREDICT, { id: endpointId, inputs: [penguin] }, as(t.owner));
      expect(codeOf(refused)).toBe('BUDGET_EXCEEDED');
      expect(refused.errors![0].message).toContain(`limit ${now} EUR`);
      expect(refused.errors![0].extensions).toMatchObject({ spentEur: now, limitEur: now });
      const rest = await app.fetch(`/v1/endpoints/${endpointId}/predict`, { method: 'POST', ...as(t.owner), headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [penguin] }) });
      expect(rest.status).toBe(402);
      expect(((await rest.json()) as any).error.code).toBe('BUDGET_EXCEEDED');
      expect(inference.received).toHaveLength(1);
      expect(await ledgerCount()).toBe(before);

      // A soft limit only alerts.
      await setBudget(t, { monthlyLimitEur: now, hardCap: false });
      const soft = await app.graphql(PREDICT, { id: endpointId, inputs: [penguin] }, as(t.owner));
      expect(soft.errors).toBeUndefined();
      expect(inference.received).toHaveLength(2);
    });

    it('prices the accelerator time of a prediction at the pool’s GPU class rate', async () => {
      inference.delayMs = 150;
      await setBudget(t, { monthlyLimitEur: '100.000000', hardCap: false });
      await ok(app.graphql(PREDICT, { id: endpointId, inputs: [penguin] }, as(t.owner)));
      const compute = await eventually(
        async () => (await app.ownerQuery(`SELECT gpu_class, unit_price_micro::text AS price, quantity::text FROM usage_events WHERE tenant_id = $1 AND id LIKE 'predict-compute:%'`, [t.owner.tenantId]))[0],
        'a predict-compute ledger line',
      );
      expect(compute).toEqual({ gpu_class: 'A100', price: '1250', quantity: '0.004000' });
    });
  });
});

import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';
import { createProject, fixture, uploadCsvDataset } from '../support/datasets';

const CREATE = `mutation($input: CreateFineTuningJobInput!) {
  createFineTuningJob(input: $input) { id status pool region gpuClass attempts progress estimate { gpuSeconds amountEur lowEur highEur basis gpuClass }
    events(first: 5) { level message } metrics { epoch } checkpoints { id } gpuSeconds costEur createdAt } }`;
const ESTIMATE = 'query($input: CreateFineTuningJobInput!) { estimateFineTuningCost(input: $input) { gpuSeconds amountEur gpuClass lowEur highEur basis } }';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A Redis of this test file's own, so it can be stopped without touching other files. */
async function privateRedis(): Promise<{ url: string; stop: () => void; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    const ok = await client.connect().then(() => client.ping()).catch(() => null);
    client.disconnect();
    if (ok === 'PONG') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, stop: () => child.kill('SIGKILL') };
}

describe('fine-tuning jobs: validation, placement, estimates, outbox delivery', () => {
  let app: AppUnderTest;
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let owner: Actor;
  let projectId: string;
  let penguins: { versionId: string };
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });
  const input = (overrides: Record<string, unknown> = {}) => ({
    projectId,
    baseModel: 'tabular-classifier',
    trainingDatasetVersionId: penguins.versionId,
    targetColumn: 'species',
    hyperparameters: { epochs: 5, batchSize: 32, learningRate: 0.01, seed: 7 },
    ...overrides,
  });

  beforeAll(async () => {
    redis = await privateRedis();
    app = await AppUnderTest.start({
      REDIS_URL: redis.url,
      RECONCILE_SECONDS: '1',
      GPU_POOLS: JSON.stringify([
        { id: 'fr-par-l4', region: 'fr-par', gpuClass: 'L4' },
        { id: 'fr-par-a100', region: 'fr-par', gpuClass: 'A100' },
      ]),
    });
    owner = await signUpOwner(app, 'ft-owner');
    projectId = await createProject(app, owner);
    penguins = await uploadCsvDataset(app, owner, projectId, fixture('penguins.csv'));
  });
  afterAll(async () => {
    await app?.stop();
    redis?.stop();
  });

  it('lists the base models', async () => {
    const models = await app.graphql('{ baseModels { id task inputKind description defaultHyperparameters } }', {}, as(owner));
    expect(models.data.baseModels.map((m: any) => m.id)).toEqual(['tabular-classifier', 'tabular-regressor', 'text-classifier', 'sequence-forecaster']);
  });

  it('estimates before creating, and stores the same estimate on the job', async () => {
    const estimate = await app.graphql(ESTIMATE, { input: input({ gpuClass: 'A100' }) }, as(owner));
    expect(estimate.data.estimateFineTuningCost).toMatchObject({ gpuClass: 'A100', amountEur: expect.stringMatching(/^\d+\.\d{6}$/), basis: expect.stringContaining('344 rows × 5 epochs at 4800 samples/s') });
    const created = await app.graphql(CREATE, { input: input({ gpuClass: 'A100' }) }, as(owner));
    const job = created.data.createFineTuningJob;
    expect(job).toMatchObject({ status: 'QUEUED', pool: 'fr-par-a100', region: 'fr-par', gpuClass: 'A100', gpuSeconds: '0.000', costEur: '0.000000' });
    expect(job.estimate).toMatchObject(estimate.data.estimateFineTuningCost);
    expect(job.events[0].message).toContain('queued on pool fr-par-a100');
    // The Bull job id is the platform job id.
    const client = new Redis(redis.url);
    expect(await client.exists(`${app.redisPrefix}:bull:training:fr-par-a100:${job.id}`)).toBe(1);
    const payload = JSON.parse((await client.hget(`${app.redisPrefix}:bull:training:fr-par-a100:${job.id}`, 'data'))!);
    client.disconnect();
    // The payload carries sealed grants, never a key or a row of data.
    expect(payload).toMatchObject({ tenantId: owner.tenantId, jobId: job.id, training: { readGrant: { masterKeyId: expect.any(String), sealed: expect.any(String) } } });
    expect(JSON.stringify(payload)).not.toMatch(/Adelie|Torgersen/);
  });

  it('returns the first job for a repeated idempotencyKey', async () => {
    const first = await app.graphql(CREATE, { input: input({ idempotencyKey: 'nightly-2026-11-28' }) }, as(owner));
    const again = await app.graphql(CREATE, { input: input({ idempotencyKey: 'nightly-2026-11-28', hyperparameters: { epochs: 9, batchSize: 8, learningRate: 0.1 } }) }, as(owner));
    expect(again.data.createFineTuningJob.id).toBe(first.data.createFineTuningJob.id);
    const rows = await app.ownerQuery(`SELECT count(*)::int AS n FROM fine_tuning_jobs WHERE idempotency_key = 'nightly-2026-11-28'`);
    expect(rows[0].n).toBe(1);
  });

  it.each([
    ['an unknown base model', { baseModel: 'gpt-17' }, 'baseModel'],
    ['zero epochs', { hyperparameters: { epochs: 0, batchSize: 32, learningRate: 0.01 } }, 'hyperparameters.epochs'],
    ['501 epochs', { hyperparameters: { epochs: 501, batchSize: 32, learningRate: 0.01 } }, 'hyperparameters.epochs'],
    ['a batch size of 5000', { hyperparameters: { epochs: 1, batchSize: 5000, learningRate: 0.01 } }, 'hyperparameters.batchSize'],
    ['a learning rate of 0', { hyperparameters: { epochs: 1, batchSize: 32, learningRate: 0 } }, 'hyperparameters.learningRate'],
    ['a learning rate above 1', { hyperparameters: { epochs: 1, batchSize: 32, learningRate: 1.5 } }, 'hyperparameters.learningRate'],
    ['an unknown target column', { targetColumn: 'wingspan' }, 'targetColumn'],
    ['a numeric target for a classifier', { targetColumn: 'body_mass_g' }, 'targetColumn'],
    ['a categorical target for a regressor', { baseModel: 'tabular-regressor', targetColumn: 'species' }, 'targetColumn'],
    ['an unknown feature column', { featureColumns: ['bill_length_mm', 'beak_colour'] }, 'featureColumns'],
    ['the target among the features', { featureColumns: ['species'] }, 'featureColumns'],
    ['features for a forecaster', { baseModel: 'sequence-forecaster', targetColumn: 'body_mass_g', featureColumns: ['bill_length_mm'] }, 'featureColumns'],
    ['a malformed dataset id', { trainingDatasetVersionId: 'penguins' }, 'trainingDatasetVersionId'],
    ['a GPU class no pool offers', { gpuClass: 'H100' }, 'gpuClass'],
  ])('refuses %s with BAD_USER_INPUT naming the field, and queues nothing', async (_label, overrides, field) => {
    const before = await app.ownerQuery('SELECT count(*)::int AS n FROM fine_tuning_jobs');
    const response = await app.graphql(CREATE, { input: input(overrides) }, as(owner));
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.errors![0].extensions!.fields!.map((f) => f.field)).toContain(field);
    const after = await app.ownerQuery('SELECT count(*)::int AS n FROM fine_tuning_jobs');
    expect(after[0].n).toBe(before[0].n);
  });

  it('answers NOT_FOUND for another tenant’s dataset, another project’s dataset, and an unknown project', async () => {
    const stranger = await signUpOwner(app, 'ft-stranger');
    const strangerProject = await createProject(app, stranger);
    const theirs = await uploadCsvDataset(app, stranger, strangerProject, fixture('iris.csv'));
    expect(codeOf(await app.graphql(CREATE, { input: input({ trainingDatasetVersionId: theirs.versionId, targetColumn: 'species' }) }, as(owner)))).toBe('NOT_FOUND');
    const otherProject = await createProject(app, owner);
    const other = await uploadCsvDataset(app, owner, otherProject, fixture('iris.csv'));
    expect(codeOf(await app.graphql(CREATE, { input: input({ trainingDatasetVersionId: other.versionId }) }, as(owner)))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql(CREATE, { input: input({ projectId: strangerProject }) }, as(owner)))).toBe('NOT_FOUND');
    const mine = await app.graphql(CREATE, { input: input() }, as(owner));
    expect(codeOf(await app.graphql('query($id: ID!) { fineTuningJob(id: $id) { id } }', { id: mine.data.createFineTuningJob.id }, as(stranger)))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { id } }', { id: mine.data.createFineTuningJob.id }, as(stranger)))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('query($p: ID!) { fineTuningJobs(projectId: $p) { totalCount } }', { p: projectId }, as(stranger)))).toBe('NOT_FOUND');
  });

  it('lets ML_ENGINEER start and cancel jobs; VIEWER and BILLING cannot; VIEWER reads', async () => {
    const engineer = await memberWithRole(app, owner, 'ML_ENGINEER');
    const viewer = await memberWithRole(app, owner, 'VIEWER');
    const billing = await memberWithRole(app, owner, 'BILLING');
    const started = await app.graphql(CREATE, { input: input() }, as(engineer));
    expect(started.data.createFineTuningJob.status).toBe('QUEUED');
    expect(codeOf(await app.graphql(CREATE, { input: input() }, as(viewer)))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql(CREATE, { input: input() }, as(billing)))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql(ESTIMATE, { input: input() }, as(viewer)))).toBe('FORBIDDEN');
    expect((await app.graphql('query($id: ID!) { fineTuningJob(id: $id) { status } }', { id: started.data.createFineTuningJob.id }, as(viewer))).data.fineTuningJob.status).toBe('QUEUED');
    expect(codeOf(await app.graphql('query($p: ID!) { fineTuningJobs(projectId: $p) { totalCount } }', { p: projectId }, as(billing)))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { id } }', { id: started.data.createFineTuningJob.id }, as(viewer)))).toBe('FORBIDDEN');
    const key = await apiKeyWithRole(app, owner, 'ML_ENGINEER', projectId);
    expect((await app.graphql(CREATE, { input: input() }, { token: key.secret })).data.createFineTuningJob.status).toBe('QUEUED');
  });

  it('cancels a queued job at once and removes it from the queue', async () => {
    const created = await app.graphql(CREATE, { input: input() }, as(owner));
    const id = created.data.createFineTuningJob.id;
    const cancelled = await app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status finishedAt } }', { id }, as(owner));
    expect(cancelled.data.cancelFineTuningJob.status).toBe('CANCELLED');
    const client = new Redis(redis.url);
    expect(await client.exists(`${app.redisPrefix}:bull:training:fr-par-l4:${id}`)).toBe(0);
    client.disconnect();
    expect(codeOf(await app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status } }', { id }, as(owner)))).toBe('CONFLICT');
    const listed = await app.graphql('query($p: ID!) { fineTuningJobs(projectId: $p, status: CANCELLED) { edges { node { id } } } }', { p: projectId }, as(owner));
    expect(listed.data.fineTuningJobs.edges.map((e: any) => e.node.id)).toContain(id);
  });

  it('re-enqueues a job that is QUEUED in PostgreSQL but missing from Redis', async () => {
    const created = await app.graphql(CREATE, { input: input() }, as(owner));
    const id = created.data.createFineTuningJob.id;
    const client = new Redis(redis.url);
    const key = `${app.redisPrefix}:bull:training:fr-par-l4:${id}`;
    await client.del(key);
    await client.lrem(`${app.redisPrefix}:bull:training:fr-par-l4:wait`, 0, id);
    let back = 0;
    for (let i = 0; i < 60 && !back; i++) {
      await new Promise((r) => setTimeout(r, 250));
      back = await client.exists(key);
    }
    client.disconnect();
    expect(back).toBe(1);
    const events = await app.graphql('query($id: ID!) { fineTuningJob(id: $id) { events(first: 5) { message } } }', { id }, as(owner));
    expect(events.data.fineTuningJob.events.map((e: any) => e.message).join(' ')).toContain('re-enqueued by the reconciler');
  });

  it('answers SERVICE_UNAVAILABLE when Redis is down at submit, and leaves no row', async () => {
    const before = await app.ownerQuery('SELECT count(*)::int AS n FROM fine_tuning_jobs');
    redis.stop();
    await new Promise((r) => setTimeout(r, 200));
    const response = await app.graphql(CREATE, { input: input() }, as(owner));
    expect(codeOf(response)).toBe('SERVICE_UNAVAILABLE');
    const after = await app.ownerQuery('SELECT count(*)::int AS n FROM fine_tuning_jobs');
    expect(after[0].n).toBe(before[0].n);
  });
});

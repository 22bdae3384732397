import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, memberWithRole, signUpOwner } from '../support/actors';
import { createProject, fixture, uploadCsvDataset } from '../support/datasets';
import { SubscriptionClient } from '../support/subscriptions';

const JOB_FIELDS = `id status progress attempts error backend pool region gpuSeconds costEur costToEstimateRatio startedAt finishedAt
  metrics { epoch loss valLoss accuracy valAccuracy mae valMae samplesPerSecond }
  checkpoints { id epoch sha256 sizeBytes storageRegion }
  events(first: 50) { at level message }
  resultModelVersion { id version metrics modelCard sha256 backend region trainingDatasetVersionIds driftBaseline }`;
const CREATE = `mutation($input: CreateFineTuningJobInput!) { createFineTuningJob(input: $input) { ${JOB_FIELDS} } }`;
const GET = `query($id: ID!) { fineTuningJob(id: $id) { ${JOB_FIELDS} } }`;
const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const WORKER_ENTRY = join(__dirname, '..', '..', 'dist', 'gpu-worker', 'src', 'main.js');

/** A gpu-worker process of the test's own, so the test can SIGKILL it mid-training. */
function startWorker(app: AppUnderTest, storageDir: string, name: string): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: app.redisPrefix,
      WORKER_POOL: 'fr-par-l4',
      WORKER_REGION: 'fr-par',
      WORKER_NODE: name,
      WORKER_LOCK_SECONDS: '4',
      STORAGE_DIR: storageDir,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  return { child, output };
}

describe('fine-tuning on a real gpu-worker: train, checkpoint, resume after SIGKILL, cancel', () => {
  let app: AppUnderTest;
  let owner: Actor;
  let projectId: string;
  let penguins: { versionId: string; version: any };
  let storageDir: string;
  const workers: ChildProcess[] = [];
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

  async function waitFor(id: string, predicate: (job: any) => boolean, timeoutMs = 90_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await app.graphql(GET, { id }, as(owner));
      const job = response.data?.fineTuningJob;
      if (job && predicate(job)) return job;
      if (Date.now() > deadline) throw new Error(`timed out waiting for job ${id}: ${JSON.stringify(job?.status)} ${JSON.stringify(job?.events?.slice(0, 5))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'lutece-training-'));
    app = await AppUnderTest.start({ STORAGE_DIR: storageDir, WORKERS: '0' });
    owner = await signUpOwner(app, 'trainer');
    projectId = await createProject(app, owner);
    penguins = await uploadCsvDataset(app, owner, projectId, fixture('penguins.csv'), { name: 'penguins' });
    const first = startWorker(app, storageDir, 'worker-a');
    workers.push(first.child);
  });
  afterAll(async () => {
    workers.forEach((w) => w.exitCode === null && w.kill('SIGKILL'));
    await app?.stop();
  });

  it('trains penguins to SUCCEEDED with per-epoch metrics, checkpoints, a model card, and streams progress', async () => {
    const created = await app.graphql(
      CREATE,
      { input: { projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: penguins.versionId, targetColumn: 'species', hyperparameters: { epochs: 12, batchSize: 16, learningRate: 0.01, seed: 42 } } },
      as(owner),
    );
    expect(codeOf(created)).toBeUndefined();
    const id = created.data.createFineTuningJob.id;
    const client = await SubscriptionClient.connect(app.baseUrl, { authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId });
    const stream = await client.subscribe<any>('subscription($id: ID!) { fineTuningJobUpdated(id: $id) { id status progress } }', { id }, (d) => TERMINAL.includes(d.fineTuningJobUpdated.status), 120_000);
    client.close();
    expect(stream.errors).toBeUndefined();
    const statuses = stream.messages.map((m) => m.fineTuningJobUpdated.status);
    expect(statuses).toContain('RUNNING');
    expect(statuses[statuses.length - 1]).toBe('SUCCEEDED');

    const job = await waitFor(id, (j) => j.status === 'SUCCEEDED' && j.resultModelVersion);
    expect(job.metrics.map((m: any) => m.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(job.metrics[11].valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(job.checkpoints).toHaveLength(12);
    expect(job.checkpoints[0]).toMatchObject({ storageRegion: 'fr-par', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // No accelerator here: the wasm or cpu backend's time is CPU time, never called GPU time.
    expect(['wasm', 'cpu']).toContain(job.backend);
    expect(Number(job.gpuSeconds)).toBeGreaterThan(0);
    const meters = await app.ownerQuery(`SELECT DISTINCT meter FROM usage_events WHERE source_id = $1`, [id]);
    expect(meters).toEqual([{ meter: 'CPU_SECONDS' }]);
    expect(job.costToEstimateRatio).toBeGreaterThan(0);

    const card = job.resultModelVersion.modelCard;
    expect(card.trainingData[0]).toMatchObject({ datasetVersionId: penguins.versionId, sha256: penguins.version.sha256 });
    expect(card).toMatchObject({ intendedUse: 'model training for tests', hyperparameters: expect.objectContaining({ epochs: 12 }), knownLimitations: expect.any(Array) });
    expect(card.training).toMatchObject({ backend: job.backend, region: 'fr-par', pool: 'fr-par-l4' });

    const lineage = await app.graphql('query($id: ID!) { datasetVersion(id: $id) { modelVersions { id } } }', { id: penguins.versionId }, as(owner));
    expect(lineage.data.datasetVersion.modelVersions.map((v: any) => v.id)).toContain(job.resultModelVersion.id);
    const audit = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.read_content' AND details->>'jobId' = $2`, [owner.tenantId, id]);
    expect(audit[0].n).toBeGreaterThanOrEqual(1);
  });

  it('continues training from an earlier model version as a new version of the same model', async () => {
    const [{ id: baseVersionId, model_id: modelId }] = await app.ownerQuery(`SELECT id, model_id FROM model_versions ORDER BY created_at LIMIT 1`);
    const created = await app.graphql(
      CREATE,
      { input: { projectId, baseModel: 'tabular-classifier', baseModelVersionId: baseVersionId, trainingDatasetVersionId: penguins.versionId, targetColumn: 'species', hyperparameters: { epochs: 2, batchSize: 16, learningRate: 0.005, seed: 1 } } },
      as(owner),
    );
    const job = await waitFor(created.data.createFineTuningJob.id, (j) => TERMINAL.includes(j.status));
    expect(job.status).toBe('SUCCEEDED');
    const [version] = await app.ownerQuery(`SELECT model_id, version FROM model_versions WHERE id = $1`, [job.resultModelVersion.id]);
    expect(version).toEqual({ model_id: modelId, version: 2 });
  });

  it('resumes from the last checkpoint after the worker is SIGKILLed, and bills no second twice', async () => {
    const created = await app.graphql(
      CREATE,
      { input: { projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: penguins.versionId, targetColumn: 'species', hyperparameters: { epochs: 40, batchSize: 4, learningRate: 0.005, seed: 3 } } },
      as(owner),
    );
    const id = created.data.createFineTuningJob.id;
    await waitFor(id, (j) => j.checkpoints.length >= 2);
    workers[0].kill('SIGKILL');
    const second = startWorker(app, storageDir, 'worker-b');
    workers.push(second.child);
    const job = await waitFor(id, (j) => TERMINAL.includes(j.status), 180_000);
    expect(job.status).toBe('SUCCEEDED');
    const messages = job.events.map((e: any) => e.message).join('\n');
    expect(messages).toMatch(/resuming after epoch [1-9]/);
    expect(job.metrics.map((m: any) => m.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const usage = await app.ownerQuery(`SELECT id, details FROM usage_events WHERE source_id = $1`, [id]);
    const segments = usage.map((u: any) => `${u.details.attempt}:${u.details.segment}`);
    expect(new Set(segments).size).toBe(segments.length);
    expect(new Set(usage.map((u: any) => u.details.attempt)).size).toBeGreaterThanOrEqual(2);
  });

  it('cancels a running job within a batch', async () => {
    const created = await app.graphql(
      CREATE,
      { input: { projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: penguins.versionId, targetColumn: 'species', hyperparameters: { epochs: 400, batchSize: 2, learningRate: 0.001, seed: 5 } } },
      as(owner),
    );
    const id = created.data.createFineTuningJob.id;
    await waitFor(id, (j) => j.status === 'RUNNING' && j.progress > 0);
    const requested = Date.now();
    const cancelled = await app.graphql('mutation($id: ID!) { cancelFineTuningJob(id: $id) { status cancelRequestedAt } }', { id }, as(owner));
    expect(cancelled.data.cancelFineTuningJob.cancelRequestedAt).not.toBeNull();
    const job = await waitFor(id, (j) => TERMINAL.includes(j.status), 30_000);
    expect(job.status).toBe('CANCELLED');
    expect(job.metrics.length).toBeLessThan(400);
    expect(Date.now() - requested).toBeLessThan(30_000);
  });

  it('keeps jobs and their subscriptions to their tenant', async () => {
    const stranger = await signUpOwner(app, 'stranger');
    const [{ id }] = await app.ownerQuery(`SELECT id FROM fine_tuning_jobs WHERE tenant_id = $1 LIMIT 1`, [owner.tenantId]);
    expect(codeOf(await app.graphql(GET, { id }, { token: stranger.token, tenantId: stranger.tenantId }))).toBe('NOT_FOUND');
    const client = await SubscriptionClient.connect(app.baseUrl, { authorization: `Bearer ${stranger.token}` });
    const result = await client.subscribe<any>('subscription($id: ID!) { fineTuningJobUpdated(id: $id) { id } }', { id }, () => true, 10_000);
    client.close();
    expect(JSON.stringify(result.errors)).toContain('NOT_FOUND');
    const viewer = await memberWithRole(app, owner, 'VIEWER');
    expect(codeOf(await app.graphql(GET, { id }, as(viewer)))).toBeUndefined();
  });
});

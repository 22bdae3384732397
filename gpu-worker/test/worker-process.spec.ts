import { redisKeys, type WorkerEvent, type WorkerInfo } from '../../src/contracts/training';
import { parseArtifact } from '../src/artifact';
import { JobObjects } from '../src/objects';
import { fixtureBytes } from './support/fixtures';
import { WorkerHarness, type JobWorkerEvent, type WorkerProcess } from './support/worker-harness';

/**
 * The compiled worker as a child process against the local Redis, driven through Bull exactly as the
 * api drives it: payload in on training:<pool>, everything out on worker-events.
 */

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;
const is =
  <T extends WorkerEvent['type']>(type: T, jobId?: string) =>
  (event: WorkerEvent): event is EventOf<T> =>
    event.type === type && (jobId === undefined || (event as JobWorkerEvent).jobId === jobId);

function ofType<T extends WorkerEvent['type']>(events: WorkerEvent[], type: T): EventOf<T>[] {
  return events.filter((event): event is EventOf<T> => event.type === type);
}

function expectUniqueUsageIds(events: WorkerEvent[]): void {
  const ids = ofType(events, 'job.usage').map((usage) => usage.usageEventId);
  expect(new Set(ids).size).toBe(ids.length);
}

/** penguins repeated: long epochs (thousands of batches), so there is time to act in the middle of one. */
function repeatedCsv(name: string, times: number): Buffer {
  const [header, ...rows] = fixtureBytes(name).toString('utf8').trimEnd().split('\n');
  return Buffer.from([header, ...Array.from({ length: times }, () => rows).flat()].join('\n') + '\n');
}

describe('gpu-worker process: one worker, whole jobs', () => {
  const harness = new WorkerHarness();
  let worker: WorkerProcess;
  let readyLine: string;

  beforeAll(async () => {
    await harness.start();
    worker = harness.spawnWorker();
    readyLine = await worker.ready();
  });
  afterAll(() => harness.stop());

  it('registers, then trains a job end to end: started → epoch/checkpoint per epoch → usage segments → succeeded', async () => {
    expect(readyLine).toContain(`gpu-worker ready pool=${harness.pool} backend=wasm`);

    const heartbeat = await harness.waitForEvent(is('worker.heartbeat'));
    const registered = await harness.redis.get(redisKeys.worker(harness.prefix, heartbeat.worker.workerId));
    expect(JSON.parse(registered!) as WorkerInfo).toMatchObject({ poolId: harness.pool, region: 'fr-par', backend: 'wasm', gpuModel: 'none' });
    expect(await harness.redis.ttl(redisKeys.worker(harness.prefix, heartbeat.worker.workerId))).toBeGreaterThan(0);

    const tenant = harness.tenant;
    const training = await tenant.storeDataset(harness.store, fixtureBytes('penguins.csv'));
    const payload = tenant.payload({ poolId: harness.pool, baseModel: 'tabular-classifier', training, targetColumn: 'species', hyperparameters: { epochs: 3, batchSize: 16, learningRate: 0.01, seed: 5 } });
    await harness.enqueue(payload);
    const succeeded = await harness.waitForEvent(is('job.succeeded', payload.jobId));

    const events = harness.jobEvents(payload.jobId);
    const types = events.map((event) => event.type).filter((type) => type !== 'job.progress');
    expect(types[0]).toBe('job.started');
    expect(types.at(-1)).toBe('job.succeeded');
    expect(types).not.toContain('job.failed');

    const [started] = ofType(events, 'job.started');
    expect(started).toMatchObject({ attempt: 1, backend: 'wasm', region: 'fr-par', resumedFromEpoch: null, tenantId: tenant.tenantId });
    expect(ofType(events, 'job.epoch').map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(ofType(events, 'job.checkpoint').map((e) => e.epoch)).toEqual([1, 2, 3]);
    for (const epoch of ofType(events, 'job.epoch')) {
      expect(epoch.samplesPerSecond).toBeGreaterThan(0);
      expect(epoch.metrics).toEqual(expect.objectContaining({ loss: expect.any(Number), valLoss: expect.any(Number), accuracy: expect.any(Number), valAccuracy: expect.any(Number) }));
    }
    const usage = ofType(events, 'job.usage');
    expect(usage.map((u) => u.usageEventId)).toEqual([1, 2, 3].map((segment) => `${payload.jobId}:1:${segment}`));
    for (const segment of usage) {
      // wasm is CPU work: it must never be metered as GPU time.
      expect(segment).toMatchObject({ meter: 'CPU_SECONDS', backend: 'wasm', gpuClass: 'cpu' });
      expect(segment.seconds).toMatch(/^\d+\.\d{3}$/);
      expect(Number(segment.seconds)).toBeGreaterThan(0);
    }
    expectUniqueUsageIds(events);
    expect(ofType(events, 'job.progress').every((p) => p.progress > 0 && p.progress <= 1)).toBe(true);

    expect(succeeded).toMatchObject({ epochs: 3, backend: 'wasm', summary: { baseModel: 'tabular-classifier', target: { name: 'species', classes: ['Adelie', 'Chinstrap', 'Gentoo'] } } });
    expect(succeeded.metrics.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(succeeded.artifact.storageKey).toBe(`${tenant.tenantId}/model_artifact/${succeeded.artifact.objectId}.lte`);
    // The artifact opens the way the api will open it: sealed secret + the tenant key.
    const artifact = parseArtifact(await new JobObjects(harness.store, tenant.masterKeys, payload).readWritten(succeeded.artifact));
    expect(artifact).toMatchObject({ format: 'lutece-tfjs', baseModel: 'tabular-classifier', epoch: 3, backend: 'wasm' });

    expect(await harness.redis.exists(redisKeys.checkpoint(harness.prefix, payload.jobId))).toBe(0);
    const job = await harness.trainingQueue.getJob(payload.jobId);
    expect(await job!.getState()).toBe('completed');
    // The logs say which backend and which job, and nothing of the data.
    const logs = worker.output.join('\n');
    expect(logs).toContain('training backend: wasm');
    expect(logs).toContain('job succeeded');
    expect(logs).not.toMatch(/Adelie|Torgersen|Biscoe/);
    expect(logs).not.toContain(tenant.tenantKey.toString('base64'));
  });

  it('fails a job whose data does not fit, with a safe message and no retry', async () => {
    const training = await harness.tenant.storeDataset(harness.store, fixtureBytes('iris.csv'));
    const payload = harness.tenant.payload({ poolId: harness.pool, baseModel: 'tabular-classifier', training, targetColumn: 'no_such_column', hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 } });
    await harness.enqueue(payload, 3);
    const failed = await harness.waitForEvent(is('job.failed', payload.jobId));
    expect(failed).toMatchObject({ error: 'the training dataset has no column "no_such_column" (the target)', willRetry: false, attempt: 1 });
    const job = await harness.trainingQueue.getJob(payload.jobId);
    await waitFor(async () => (await job!.getState()) === 'failed');
    // Discarded: the same data would fail the same way, so the two remaining attempts are not spent.
    expect((await harness.trainingQueue.getJob(payload.jobId))!.attemptsMade).toBe(1);
  });

  it('cancels within the running epoch when the cancel key is set', async () => {
    const training = await harness.tenant.storeDataset(harness.store, repeatedCsv('penguins.csv', 20));
    const payload = harness.tenant.payload({ poolId: harness.pool, baseModel: 'tabular-classifier', training, targetColumn: 'species', hyperparameters: { epochs: 3, batchSize: 2, learningRate: 0.01, seed: 2 } });
    await harness.enqueue(payload);
    const firstProgress = await harness.waitForEvent(is('job.progress', payload.jobId));
    expect(firstProgress.epoch).toBe(1);
    await harness.redis.set(redisKeys.cancel(harness.prefix, payload.jobId), '1');

    const cancelled = await harness.waitForEvent(is('job.cancelled', payload.jobId));
    const events = harness.jobEvents(payload.jobId);
    // Stopped inside epoch 1: it never completed, so no metrics and no checkpoint were reported.
    expect(cancelled.epoch).toBe(0);
    expect(ofType(events, 'job.epoch')).toHaveLength(0);
    expect(ofType(events, 'job.checkpoint')).toHaveLength(0);
    const progress = ofType(events, 'job.progress');
    expect(progress.at(-1)!.batch).toBeLessThan(progress.at(-1)!.batchesPerEpoch);
    // The partial epoch is still metered: that time was spent.
    expect(ofType(events, 'job.usage').map((u) => u.usageEventId)).toEqual([`${payload.jobId}:1:1`]);
    expect(events.at(-1)!.type).toBe('job.cancelled');

    const job = await harness.trainingQueue.getJob(payload.jobId);
    await waitFor(async () => (await job!.getState()) === 'completed');
    expect(await harness.redis.exists(redisKeys.checkpoint(harness.prefix, payload.jobId))).toBe(0);
  });
});

describe('gpu-worker process: crashes and restarts', () => {
  const harness = new WorkerHarness();

  beforeAll(() => harness.start());
  afterEach(() => harness.stopWorkers());
  afterAll(() => harness.stop());

  it('after SIGKILL, a second worker resumes from the last checkpoint and bills no segment twice', async () => {
    const first = harness.spawnWorker();
    await first.ready();
    const training = await harness.tenant.storeDataset(harness.store, repeatedCsv('penguins.csv', 2));
    const payload = harness.tenant.payload({ poolId: harness.pool, baseModel: 'tabular-classifier', training, targetColumn: 'species', hyperparameters: { epochs: 12, batchSize: 4, learningRate: 0.005, seed: 9 } });
    await harness.enqueue(payload);

    await harness.waitForEvent(is('job.checkpoint', payload.jobId));
    first.kill('SIGKILL');
    await first.exited;

    const second = harness.spawnWorker();
    await second.ready();
    const succeeded = await harness.waitForEvent(is('job.succeeded', payload.jobId), 90_000);

    const events = harness.jobEvents(payload.jobId);
    const starts = ofType(events, 'job.started');
    expect(starts.map((s) => s.attempt)).toEqual([1, 2]);
    expect(starts[0].resumedFromEpoch).toBeNull();
    const resumedFrom = starts[1].resumedFromEpoch!;
    expect(resumedFrom).toBeGreaterThanOrEqual(1);
    // The checkpoint it resumed from is reported (again) by the second attempt, so the api records it
    // even if the first attempt died between writing it and reporting it.
    const resumedCheckpoint = ofType(events, 'job.checkpoint').find((c) => c.attempt === 2)!;
    expect(resumedCheckpoint.epoch).toBe(resumedFrom);
    expect(ofType(events, 'job.checkpoint').filter((c) => c.attempt === 1 && c.epoch === resumedFrom).every((c) => c.object.objectId === resumedCheckpoint.object.objectId)).toBe(true);
    expect(starts[1].node).not.toBe(starts[0].node);

    // The second attempt trains only the epochs after its checkpoint.
    const secondAttemptEpochs = ofType(events, 'job.epoch').filter((e) => e.attempt === 2).map((e) => e.epoch);
    expect(secondAttemptEpochs).toEqual(Array.from({ length: 12 - resumedFrom }, (_, i) => resumedFrom + 1 + i));
    expect(succeeded).toMatchObject({ attempt: 2, epochs: 12 });
    expect(succeeded.metrics.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expectUniqueUsageIds(events);
    expect(ofType(events, 'job.usage').filter((u) => u.attempt === 2).map((u) => u.segment)).toEqual(secondAttemptEpochs);
  });

  it('on SIGTERM, a worker releases its job at a batch boundary and another resumes it', async () => {
    const first = harness.spawnWorker();
    await first.ready();
    const training = await harness.tenant.storeDataset(harness.store, repeatedCsv('penguins.csv', 4));
    const payload = harness.tenant.payload({ poolId: harness.pool, baseModel: 'tabular-classifier', training, targetColumn: 'species', hyperparameters: { epochs: 6, batchSize: 2, learningRate: 0.005, seed: 4 } });
    await harness.enqueue(payload);

    await harness.waitForEvent(is('job.checkpoint', payload.jobId));
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const released = await harness.waitForEvent((e): e is EventOf<'job.log'> => is('job.log', payload.jobId)(e) && e.message.includes('the worker is stopping'));
    expect(released.level).toBe('warn');

    harness.spawnWorker();
    const succeeded = await harness.waitForEvent(is('job.succeeded', payload.jobId), 90_000);
    const events = harness.jobEvents(payload.jobId);
    expect(ofType(events, 'job.started').map((s) => s.attempt)).toEqual([1, 2]);
    expect(ofType(events, 'job.started')[1].resumedFromEpoch).toBeGreaterThanOrEqual(1);
    expect(ofType(events, 'job.failed')).toHaveLength(0);
    expect(succeeded.attempt).toBe(2);
    expectUniqueUsageIds(events);
    // Released, not failed: no Bull attempt was spent on the stop.
    const job = await harness.trainingQueue.getJob(payload.jobId);
    expect(job!.attemptsMade).toBe(0);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

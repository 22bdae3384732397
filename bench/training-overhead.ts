/**
 * bench/training-overhead: training samples/s of a fine-tuning job through the whole platform (api,
 * Bull, a local gpu-worker on the wasm backend, encrypted dataset, checkpoints after every epoch,
 * worker events), against a bare tfjs script that trains the same network on the same data with the
 * same backend in this process, measured in one run. Also: enqueue→RUNNING latency with a warm
 * worker, and samples/s of each base-model family on wasm and cpu.
 *
 *   npm run bench:training             (builds, then runs node dist/bench/training-overhead.js)
 *
 * Environment: BENCH_ROWS (50000: rows of the generated table), BENCH_EPOCHS (5),
 * BENCH_BATCH_SIZE (32), BENCH_LATENCY_JOBS (20), BENCH_TABLE_EPOCHS (2 measured epochs per family
 * and backend, after one warm-up epoch), BENCH_PARTS (overhead,latency,backends: which parts run),
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, a superuser),
 * BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_APP_ROLE_PASSWORD.
 *
 * It prints figures and ratios; it asserts nothing about timings. See docs/BENCHMARKS.md.
 */
import './support/production-env';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { cpus, loadavg } from 'node:os';
import type { BaseModelId, Hyperparameters } from '../src/contracts/training';
import { probeFamily } from '../gpu-worker/src/backend';
import { parseDataset, type Table } from '../gpu-worker/src/datasets';
import { identityOrder } from '../gpu-worker/src/examples';
import { FAMILIES } from '../gpu-worker/src/families';
import { deriveSeed } from '../gpu-worker/src/random';
import { createSession, disposeSession, runEpoch } from '../gpu-worker/src/training';
import { processCpuMs } from './support/cpu';
import { childPids, createBenchTenant, fmt, median, numberFromEnv, othersMeter, percentile, runBenchmark, say, seconds, startPlatformWith } from './support/api-extras';
import type { Platform } from './support/platform';
import { seriesCsv, tabularCsv, textCsv } from './support/training-data';

const TARGET = 'risk';
const SEED = 42;
const LEARNING_RATE = 0.01;
const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
const JOB_FIELDS = `id status createdAt startedAt finishedAt backend attempts error gpuSeconds
  metrics { epoch samplesPerSecond loss accuracy valAccuracy }
  checkpoints { epoch }
  events(first: 100) { at message }`;

interface JobView {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  backend: string | null;
  attempts: number;
  error: string | null;
  gpuSeconds: string;
  metrics: { epoch: number; samplesPerSecond: number | null; loss: number; accuracy?: number | null; valAccuracy?: number | null }[];
  checkpoints: { epoch: number }[];
  events: { at: string; message: string }[];
}

const ms = (a: string, b: string) => new Date(b).getTime() - new Date(a).getTime();

// ---------------------------------------------------------------------------------------------
// The platform side
// ---------------------------------------------------------------------------------------------

class Tenant {
  jobsCreated = 0;

  constructor(
    readonly platform: Platform,
    readonly token: string,
    readonly projectId: string,
  ) {}

  static async create(platform: Platform): Promise<Tenant> {
    const { token, projectId } = await createBenchTenant(platform, 'training');
    return new Tenant(platform, token, projectId);
  }

  /** Creates a CSV dataset and uploads `csv` as its first version through the REST endpoint. */
  async uploadCsv(name: string, csv: string): Promise<string> {
    const created = await this.platform.graphql(
      'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }',
      { input: { projectId: this.projectId, name, format: 'CSV', purpose: 'training benchmark', legalBasis: 'NOT_APPLICABLE', containsPersonalData: false, piiColumns: [] } },
      this.token,
    );
    const datasetId: string | undefined = created.data?.createDataset?.id;
    if (!datasetId) throw new Error(`createDataset failed: ${created.text}`);
    const response = await fetch(`${this.platform.baseUrl}/v1/datasets/${datasetId}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${this.token}` },
      body: csv,
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`upload of ${name} failed (${response.status}): ${text}`);
    return JSON.parse(text).id as string;
  }

  async createJob(versionId: string, hyperparameters: Hyperparameters): Promise<{ id: string; requestMs: number }> {
    const started = process.hrtime.bigint();
    const created = await this.platform.graphql(
      `mutation($input: CreateFineTuningJobInput!) { createFineTuningJob(input: $input) { id status } }`,
      { input: { projectId: this.projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: versionId, targetColumn: TARGET, hyperparameters } },
      this.token,
    );
    const id: string | undefined = created.data?.createFineTuningJob?.id;
    if (!id) throw new Error(`createFineTuningJob failed: ${created.text}`);
    this.jobsCreated++;
    return { id, requestMs: seconds(started) * 1000 };
  }

  async job(id: string): Promise<JobView> {
    const result = await this.platform.graphql(`query($id: ID!) { fineTuningJob(id: $id) { ${JOB_FIELDS} } }`, { id }, this.token);
    if (!result.data?.fineTuningJob) throw new Error(`fineTuningJob(${id}) failed: ${result.text}`);
    return result.data.fineTuningJob as JobView;
  }

  async waitUntilFinished(id: string, pollMs: number, timeoutMs: number, onPoll?: (job: JobView) => void): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.job(id);
      onPoll?.(job);
      if (TERMINAL.includes(job.status)) {
        if (job.status !== 'SUCCEEDED') throw new Error(`job ${id} ended ${job.status}: ${job.error ?? ''} ${JSON.stringify(job.events.slice(0, 5))}`);
        return job;
      }
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs / 1000} s: ${JSON.stringify(job.events.slice(0, 5))}`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The bare side: plain tfjs in this process, the worker's network and preprocessing
// ---------------------------------------------------------------------------------------------

interface BareRun {
  /** Training samples / epoch time (fit's own validation included), per epoch. */
  epochSamplesPerSecond: number[];
  /** CSV parse + preprocessing + tensors + fit, as a script would do it. */
  totalSeconds: number;
  fitSeconds: number;
  trainRows: number;
  finalValAccuracy?: number;
  cpuSeconds: number;
  /** CPU used by processes other than this one and `ours` meanwhile, in % of the machine. */
  othersPercent: number;
}

/** The worker's tabular-classifier on `csv`, compiled, with its training and validation sets as single batches. */
function compiledClassifier(csv: string, hyperparameters: Hyperparameters) {
  const family = FAMILIES['tabular-classifier'];
  const table = parseDataset(Buffer.from(csv), 'CSV', 'training dataset');
  const data = family.prepare({ training: table, validation: null, targetColumn: TARGET, featureColumns: null, seed: hyperparameters.seed! });
  const model = family.build(data.preprocessing, deriveSeed(hyperparameters.seed!, 'weights'));
  model.compile({ optimizer: tf.train.adam(hyperparameters.learningRate), loss: family.loss, metrics: family.metrics });
  const train = data.train.batch(identityOrder(data.train.size));
  const validation = data.validation.batch(identityOrder(data.validation.size));
  return { family, data, model, train, validation };
}

/**
 * What a data scientist would write: parse the CSV, build the same preprocessing and the same
 * network (gpu-worker's tabular-classifier: MLP 64-32, dropout 0.1, softmax, seeded Glorot weights),
 * hold the whole training set as one tensor, and call `model.fit` with shuffling and the same
 * validation rows. No batching code, no checkpoints, no events, no encryption.
 */
async function bareTraining(csv: string, hyperparameters: Hyperparameters, ours: number[] = []): Promise<BareRun> {
  const others = othersMeter([process.pid, ...ours]);
  const cpuBefore = processCpuMs(process.pid) ?? 0;
  const started = process.hrtime.bigint();
  const { family, data, model, train, validation } = compiledClassifier(csv, hyperparameters);
  const epochSamplesPerSecond: number[] = [];
  let epochStarted = process.hrtime.bigint();
  let finalValAccuracy: number | undefined;
  const fitStarted = process.hrtime.bigint();
  try {
    await model.fit(train.xs, train.ys, {
      epochs: hyperparameters.epochs,
      batchSize: hyperparameters.batchSize,
      shuffle: true,
      validationData: [validation.xs, validation.ys],
      verbose: 0,
      callbacks: {
        onEpochBegin: async () => {
          epochStarted = process.hrtime.bigint();
        },
        onEpochEnd: async (_epoch, logs) => {
          epochSamplesPerSecond.push(data.train.size / seconds(epochStarted));
          finalValAccuracy = typeof logs?.val_acc === 'number' ? logs.val_acc : undefined;
        },
      },
    });
  } finally {
    tf.dispose([train.xs, train.ys, validation.xs, validation.ys]);
    model.optimizer?.dispose();
    model.dispose();
  }
  const fitSeconds = seconds(fitStarted);
  return { epochSamplesPerSecond, totalSeconds: seconds(started), fitSeconds, trainRows: data.train.size, finalValAccuracy, cpuSeconds: ((processCpuMs(process.pid) ?? 0) - cpuBefore) / 1000, othersPercent: others.stop() };
}

/**
 * The worker's own training loop (runEpoch: seeded order, a tf.data generator building each batch,
 * fitDataset, validation in batches of 512) against model.fit on whole-set tensors, in this process,
 * one epoch of each in turn (the order alternates), so both see the same load on the machine. What
 * separates the two is the loop only: no api, queue, encryption, checkpoint or event.
 */
async function pairedLoopComparison(csv: string, hyperparameters: Hyperparameters): Promise<{ fit: number[]; loop: number[] }> {
  const { family, data, model, train, validation } = compiledClassifier(csv, hyperparameters);
  const session = createSession(family, data, hyperparameters);
  const fit: number[] = [];
  const loop: number[] = [];
  try {
    for (let epoch = 0; epoch < hyperparameters.epochs; epoch++) {
      const runFit = async () => {
        const started = process.hrtime.bigint();
        await model.fit(train.xs, train.ys, { epochs: epoch + 1, initialEpoch: epoch, batchSize: hyperparameters.batchSize, shuffle: true, validationData: [validation.xs, validation.ys], verbose: 0 });
        fit.push(data.train.size / seconds(started));
      };
      const runLoop = async () => {
        loop.push((await runEpoch(session, epoch)).samplesPerSecond);
      };
      if (epoch % 2 === 0) {
        await runFit();
        await runLoop();
      } else {
        await runLoop();
        await runFit();
      }
    }
  } finally {
    tf.dispose([train.xs, train.ys, validation.xs, validation.ys]);
    model.optimizer?.dispose();
    model.dispose();
    disposeSession(session);
  }
  return { fit, loop };
}

// ---------------------------------------------------------------------------------------------
// The backend table: the worker's own families and training loop, in this process
// ---------------------------------------------------------------------------------------------

interface FamilyCase {
  id: BaseModelId;
  table: Table;
  targetColumn: string;
  batchSize: number;
  learningRate: number;
  what: string;
}

function familyCases(): FamilyCase[] {
  const csv = (text: string) => parseDataset(Buffer.from(text), 'CSV', 'training dataset');
  const tabular = csv(tabularCsv(10_000, 11));
  return [
    { id: 'tabular-classifier', table: tabular, targetColumn: 'risk', batchSize: 32, learningRate: 0.01, what: '10,000 rows, 11 features → 3 classes' },
    { id: 'tabular-regressor', table: tabular, targetColumn: 'spend', batchSize: 32, learningRate: 0.01, what: '10,000 rows, 11 features → spend' },
    { id: 'text-classifier', table: csv(textCsv(5_000, 12)), targetColumn: 'sentiment', batchSize: 32, learningRate: 0.005, what: '5,000 reviews, 4,096 hashed n-grams → 3 classes' },
    { id: 'sequence-forecaster', table: csv(seriesCsv(4_000, 13)), targetColumn: 'demand', batchSize: 16, learningRate: 0.01, what: '4,000-point series, windows of 12' },
  ];
}

interface BackendFigure {
  samplesPerSecond?: number;
  epochs: number[];
  probe: 'ok' | string;
  /** CPU used by other processes during the measured epochs, in % of the machine. */
  othersPercent?: number;
}

async function familyThroughput(c: FamilyCase, backend: 'wasm' | 'cpu', measuredEpochs: number): Promise<BackendFigure> {
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend did not initialise`);
  const family = FAMILIES[c.id];
  try {
    await probeFamily(family);
  } catch (error) {
    return { epochs: [], probe: `probe failed: ${(error as Error).message.slice(0, 80)}` };
  }
  const hyperparameters: Hyperparameters = { epochs: measuredEpochs + 1, batchSize: c.batchSize, learningRate: c.learningRate, seed: SEED };
  const data = family.prepare({ training: c.table, validation: null, targetColumn: c.targetColumn, featureColumns: null, seed: SEED });
  const session = createSession(family, data, hyperparameters);
  const epochs: number[] = [];
  let others: { stop(): number } | undefined;
  try {
    for (let epoch = 0; epoch < hyperparameters.epochs; epoch++) {
      if (epoch === 1) others = othersMeter([process.pid]);
      const outcome = await runEpoch(session, epoch);
      epochs.push(outcome.samplesPerSecond);
    }
  } finally {
    disposeSession(session);
  }
  return { samplesPerSecond: median(epochs.slice(1)), epochs, probe: 'ok', othersPercent: others?.stop() };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rows = numberFromEnv('BENCH_ROWS', 50_000, 100);
  const epochs = numberFromEnv('BENCH_EPOCHS', 5, 2);
  const batchSize = numberFromEnv('BENCH_BATCH_SIZE', 32, 1);
  const latencyJobs = numberFromEnv('BENCH_LATENCY_JOBS', 20, 1);
  const tableEpochs = numberFromEnv('BENCH_TABLE_EPOCHS', 2, 1);
  const parts = new Set((process.env.BENCH_PARTS ?? 'overhead,latency,backends').split(',').map((p) => p.trim()));
  const cpu = cpus();
  say(`node ${process.version}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  tf.env().set('PROD', true); // as the worker does (backend.ts selectBackends)
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise in this process');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  say(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()} (SIMD ${simd}, multithreading ${threads})`);

  let platform: Platform | undefined;
  const cleanUp = async () => {
    const running = platform;
    platform = undefined;
    // Platform.stop() is safe to call twice; this makes the second call a no-op.
    await running?.stop().catch((error: Error) => say(`stopping the platform: ${error.message}`));
  };
  process.once('SIGINT', () => {
    say('interrupted, cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });
  const out: string[] = [];

  try {
    if (parts.has('overhead') || parts.has('latency')) {
      const hyperparameters: Hyperparameters = { epochs, batchSize, learningRate: LEARNING_RATE, seed: SEED };
      const csv = tabularCsv(rows, 2026);
      const smallCsv = tabularCsv(2_000, 7);
      say(`generated a credit-risk-like table: ${fmt(rows)} rows, ${fmt(Buffer.byteLength(csv) / 1e6, 1)} MB of CSV; target "${TARGET}" (3 classes)`);

      say('starting the platform (dist/src/main.js, NODE_ENV=production, fresh database, WORKERS=1 local gpu-worker, WORKER_BACKEND=wasm)');
      platform = await startPlatformWith({ WORKERS: '1', WORKER_BACKEND: 'wasm' });
      const workers = childPids(platform.pid);
      if (workers.length !== 1) throw new Error(`expected one local gpu-worker under the api, found ${workers.length}`);
      const workerPid = workers[0];
      const tenant = await Tenant.create(platform);
      const versionId = await tenant.uploadCsv('credit-risk', csv);
      const smallVersionId = await tenant.uploadCsv('credit-risk-small', smallCsv);
      say(`datasets uploaded through POST /v1/datasets/{id}/versions; worker pid ${workerPid}`);

      // The worker probes every family at start; this job waits for it, then leaves it warm.
      const warmStarted = process.hrtime.bigint();
      const warm = await tenant.createJob(smallVersionId, { epochs: 1, batchSize, learningRate: LEARNING_RATE, seed: 1 });
      const warmJob = await tenant.waitUntilFinished(warm.id, 200, 180_000);
      if (warmJob.backend !== 'wasm') throw new Error(`the worker trained on ${warmJob.backend}, not wasm`);
      say(`warm-up job SUCCEEDED on ${warmJob.backend} after ${seconds(warmStarted).toFixed(1)} s (worker start-up included)`);

      if (parts.has('overhead')) {
        // The same warm-up on the bare side: one epoch on the small table, not measured.
        await bareTraining(smallCsv, { epochs: 1, batchSize, learningRate: LEARNING_RATE, seed: 1 });
        say(`bare tfjs 1/2: model.fit, ${epochs} epochs, batch ${batchSize}, wasm, in this process`);
        const bare1 = await bareTraining(csv, hyperparameters, [platform.pid, workerPid]);
        say(`  ${bare1.epochSamplesPerSecond.map((s) => fmt(s)).join(' / ')} samples/s per epoch; ${bare1.totalSeconds.toFixed(1)} s in all (fit ${bare1.fitSeconds.toFixed(1)} s), val accuracy ${bare1.finalValAccuracy?.toFixed(3)}`);

        say(`platform: createFineTuningJob tabular-classifier, ${epochs} epochs, batch ${batchSize}; polling every second`);
        const workerCpuBefore = processCpuMs(workerPid) ?? 0;
        const apiCpuBefore = processCpuMs(platform.pid) ?? 0;
        const jobOthers = othersMeter([process.pid, platform.pid, workerPid]);
        const submitted = process.hrtime.bigint();
        const created = await tenant.createJob(versionId, hyperparameters);
        let reported = 0;
        const job = await tenant.waitUntilFinished(created.id, 1000, 30 * 60_000, (j) => {
          for (const m of j.metrics.slice(reported)) say(`  epoch ${m.epoch}: ${fmt(m.samplesPerSecond ?? 0)} samples/s, val accuracy ${m.valAccuracy?.toFixed(3)}`);
          reported = j.metrics.length;
        });
        const clientSeconds = seconds(submitted);
        const jobOthersPercent = jobOthers.stop();
        const workerCpu = ((processCpuMs(workerPid) ?? 0) - workerCpuBefore) / 1000;
        const apiCpu = ((processCpuMs(platform.pid) ?? 0) - apiCpuBefore) / 1000;
        if (job.backend !== 'wasm') throw new Error(`the job trained on ${job.backend}, not wasm`);
        if (job.metrics.length !== epochs) throw new Error(`expected ${epochs} epoch metrics, got ${job.metrics.length}`);

        say(`bare tfjs 2/2`);
        const bare2 = await bareTraining(csv, hyperparameters, [platform.pid, workerPid]);
        say(`  ${bare2.epochSamplesPerSecond.map((s) => fmt(s)).join(' / ')} samples/s per epoch; ${bare2.totalSeconds.toFixed(1)} s in all (fit ${bare2.fitSeconds.toFixed(1)} s), val accuracy ${bare2.finalValAccuracy?.toFixed(3)}`);

        say(`in this process, epoch by epoch in turn: model.fit vs the worker's runEpoch (same data, same network)`);
        const paired = await pairedLoopComparison(csv, hyperparameters);
        const pairRatios = paired.loop.map((l, i) => l / paired.fit[i]);
        say(`  fit ${paired.fit.map((v) => fmt(v)).join(' / ')}; runEpoch ${paired.loop.map((v) => fmt(v)).join(' / ')} samples/s`);

        const trainRows = bare1.trainRows;
        const platformEpochs = job.metrics.map((m) => m.samplesPerSecond ?? 0);
        // Epoch 1 pays for kernel warm-up and JIT on both sides: steady state is epochs 2..N.
        const platformSteady = median(platformEpochs.slice(1));
        const bareSteady = median([...bare1.epochSamplesPerSecond.slice(1), ...bare2.epochSamplesPerSecond.slice(1)]);
        const jobSeconds = ms(job.createdAt, job.finishedAt!) / 1000;
        const runningSeconds = job.startedAt ? ms(job.startedAt, job.finishedAt!) / 1000 : undefined;
        const bareTotal = (bare1.totalSeconds + bare2.totalSeconds) / 2;
        const samples = trainRows * epochs;
        const started = job.events.find((e) => /started on/.test(e.message));
        out.push(
          '',
          `Training overhead: tabular-classifier (MLP 64-32, dropout 0.1, softmax), ${fmt(rows)} rows (${fmt(trainRows)} train / ${fmt(rows - trainRows)} validation), ${epochs} epochs, batch ${batchSize}, Adam ${LEARNING_RATE}, wasm:`,
          `  per-epoch samples/s     platform (worker's samplesPerSecond): ${platformEpochs.map((s) => fmt(s)).join(' / ')}`,
          `                          bare model.fit, run 1:                ${bare1.epochSamplesPerSecond.map((s) => fmt(s)).join(' / ')}`,
          `                          bare model.fit, run 2:                ${bare2.epochSamplesPerSecond.map((s) => fmt(s)).join(' / ')}`,
          `  steady state (median of epochs 2..${epochs}): platform ${fmt(platformSteady)}, bare ${fmt(bareSteady)} samples/s → ratio ${(platformSteady / bareSteady).toFixed(3)}`,
          `  the worker's loop alone, in this process (runEpoch vs model.fit, alternating epochs): ${paired.loop.map((v) => fmt(v)).join(' / ')} vs ${paired.fit.map((v) => fmt(v)).join(' / ')} → median ratio of epochs 2..${epochs} ${median(pairRatios.slice(1)).toFixed(3)}`,
          `  end to end: platform job ${jobSeconds.toFixed(1)} s from createdAt to finishedAt (${runningSeconds === undefined ? 'no startedAt recorded' : `${runningSeconds.toFixed(1)} s from startedAt`}; client saw SUCCEEDED after ${clientSeconds.toFixed(1)} s) = ${fmt(samples / jobSeconds)} samples/s;`,
          `              bare script ${bare1.totalSeconds.toFixed(1)} / ${bare2.totalSeconds.toFixed(1)} s (parse + preprocess + fit) = ${fmt(samples / bareTotal)} samples/s → ratio ${(bareTotal / jobSeconds).toFixed(3)}`,
          `  queue: ${job.startedAt && started ? `createdAt → worker started ${ms(job.createdAt, job.startedAt)} ms, → RUNNING recorded ${ms(job.createdAt, started.at)} ms` : 'the api never recorded this job as started (no startedAt, never RUNNING)'}; ${job.checkpoints.length} checkpoints; metered ${job.gpuSeconds} s (CPU_SECONDS)`,
          `  CPU: worker process ${workerCpu.toFixed(1)} s and api ${apiCpu.toFixed(1)} s during the job; bare script ${bare1.cpuSeconds.toFixed(1)} / ${bare2.cpuSeconds.toFixed(1)} s (this process)`,
          `       → samples per CPU-second: platform (worker + api) ${fmt(samples / (workerCpu + apiCpu))}, bare ${fmt(samples / ((bare1.cpuSeconds + bare2.cpuSeconds) / 2))} → ratio ${((bare1.cpuSeconds + bare2.cpuSeconds) / 2 / (workerCpu + apiCpu)).toFixed(3)} (less sensitive to other load than wall time)`,
          `  other processes (PostgreSQL, Redis, other people's work): ${fmt(jobOthersPercent)} % of the machine during the job, ${fmt(bare1.othersPercent)} % / ${fmt(bare2.othersPercent)} % during the bare runs`,
          `  final val accuracy: platform ${job.metrics.at(-1)?.valAccuracy?.toFixed(3)}, bare ${bare1.finalValAccuracy?.toFixed(3)} / ${bare2.finalValAccuracy?.toFixed(3)}`,
        );
      }

      if (parts.has('latency')) {
        say(`enqueue→RUNNING: ${latencyJobs} jobs of 1 epoch on 2,000 rows, one after the other, each submitted once the previous one SUCCEEDED`);
        const pickedUp: number[] = [];
        const running: number[] = [];
        const requests: number[] = [];
        const missed: string[] = [];
        for (let i = 0; i < latencyJobs; i++) {
          const created = await tenant.createJob(smallVersionId, { epochs: 1, batchSize, learningRate: LEARNING_RATE, seed: 100 + i });
          const job = await tenant.waitUntilFinished(created.id, 100, 120_000);
          requests.push(created.requestMs);
          const started = job.events.find((e) => /started on/.test(e.message));
          // A job can succeed without its job.started being applied (see the report): no figure then.
          if (!job.startedAt || !started) {
            missed.push(`${job.id} (startedAt ${job.startedAt}, events: ${job.events.map((e) => e.message).reverse().join(' | ')})`);
            continue;
          }
          pickedUp.push(ms(job.createdAt, job.startedAt));
          running.push(ms(job.createdAt, started.at));
        }
        if (missed.length) say(`  ${missed.length} job(s) reached SUCCEEDED without a recorded start:\n    ${missed.join('\n    ')}`);
        say(`  createdAt → RUNNING recorded (ms): ${running.join(' ')}`);
        const line = (label: string, values: number[]) =>
          `  ${label.padEnd(44)} p50 ${fmt(percentile(values, 50)).padStart(5)} ms   p99 ${fmt(percentile(values, 99)).padStart(5)} ms   min ${fmt(Math.min(...values))}   max ${fmt(Math.max(...values))}`;
        out.push(
          '',
          `Enqueue → RUNNING, warm worker, ${latencyJobs} jobs (nearest-rank percentiles)${missed.length ? `; ${missed.length} of them SUCCEEDED without a recorded start and are left out` : ''}:`,
          ...(running.length ? [line('createdAt → worker reports job.started', pickedUp), line('createdAt → api records RUNNING', running)] : []),
          line('createFineTuningJob request (client)', requests),
        );
      }
      if (platform.exited) throw new Error(`the api exited during the run:\n${platform.output.join('')}`);
      const written = platform.output.join('').trim();
      const ignored = written.split('\n').filter((l) => l.includes('worker event for an unknown job ignored'));
      if (ignored.length) {
        const types = [...new Set(ignored.map((l) => /"type":"([^"]+)"/.exec(l)?.[1] ?? '?'))].join(', ');
        out.push('', `The api logged "worker event for an unknown job ignored" ${ignored.length} time(s) (event types: ${types}) for the ${tenant.jobsCreated} jobs of this run.`);
      }
      if (written) say(`the api and its worker wrote this during the run (LOG_LEVEL=warn):\n${written.slice(0, 4000)}`);
      say('stopping the platform before the backend table');
      await cleanUp();
    }

    if (parts.has('backends')) {
      say(`backend table: the worker's families and training loop (runEpoch) in this process, 1 warm-up + ${tableEpochs} measured epochs each`);
      const rowsOut: string[] = [];
      for (const c of familyCases()) {
        const figures: Record<string, BackendFigure> = {};
        for (const backend of ['wasm', 'cpu'] as const) {
          figures[backend] = await familyThroughput(c, backend, tableEpochs);
          say(`  ${c.id} on ${backend}: ${figures[backend].probe === 'ok' ? `${figures[backend].epochs.map((s) => fmt(s)).join(' / ')} samples/s per epoch` : figures[backend].probe}`);
        }
        const w = figures.wasm.samplesPerSecond;
        const p = figures.cpu.samplesPerSecond;
        rowsOut.push(
          `  ${c.id.padEnd(20)} ${String(c.batchSize).padStart(5)}  ${(w === undefined ? figures.wasm.probe : fmt(w)).padStart(8)}  ${(p === undefined ? figures.cpu.probe : fmt(p)).padStart(8)}  ${w && p ? (w / p).toFixed(2).padStart(8) : '       -'}  ${`${fmt(figures.wasm.othersPercent ?? 0)}/${fmt(figures.cpu.othersPercent ?? 0)} %`.padStart(9)}   ${c.what}`,
        );
      }
      out.push('', `Backend table (samples/s, median of ${tableEpochs} epochs after a warm-up one; validation included, as the worker measures; others: CPU of other processes during the wasm/cpu measurement, % of the machine):`, `  ${'family'.padEnd(20)} batch      wasm       cpu  wasm/cpu     others   data`, ...rowsOut);
      await tf.setBackend('wasm');
    }

    process.stdout.write(out.join('\n') + '\n\n');
    say(`load average after the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    say('cleaning up (api process and its worker, database, Redis keys, storage directory)');
    await cleanUp();
  }
}

runBenchmark('training-overhead', main);

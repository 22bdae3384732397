/**
 * bench/predict-overhead: predictions per second and p50/p99 latency of one-row predict calls
 * through the whole platform (api: authentication, tenant transaction, schema validation, rate limit,
 * budget check, Bull, usage, audit, drift; a local gpu-worker: dynamic batching, preprocessing,
 * model.predict on wasm), over GraphQL and over REST, with 1 and 32 concurrent clients; against the
 * same model's predict called in this process on the same backend, measured in one run. Also: the
 * cold start (the first call after the endpoint scaled to zero).
 *
 *   npm run bench:predict              (builds, then runs node dist/bench/predict-overhead.js)
 *
 * The model is trained through the platform (penguins, tabular-classifier). The platform's master
 * keys are its own (support/platform.ts), so this process cannot open the artifact: it trains the
 * same network on the same rows with the same seed through the worker's own code, and checks that
 * both models give the same answers before comparing them.
 *
 * Environment: BENCH_DURATION seconds per measured run (10), BENCH_WARMUP seconds (3),
 * BENCH_COLD_STARTS (5), BENCH_CONNECTIONS ("1,32"), BENCH_API_NODE_ARGS (extra node flags for the
 * api, e.g. --cpu-prof), BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_APP_ROLE_PASSWORD (see
 * support/api-extras.ts).
 *
 * It prints figures and ratios; it asserts nothing about timings. See docs/BENCHMARKS.md.
 */
import './support/production-env';
import * as tf from '@tensorflow/tfjs';
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { PredictionOutput } from '../src/contracts/inference';
import type { Hyperparameters } from '../src/contracts/training';
import { installedCandidates, selectBackend } from '../gpu-worker/src/backend';
import { parseDataset } from '../gpu-worker/src/datasets';
import { FAMILIES } from '../gpu-worker/src/families';
import { encodeInputs, predictInputs, type PredictionInput } from '../gpu-worker/src/predict';
import { modelToArtifact, serializeArtifact } from '../gpu-worker/src/artifact';
import { createSession, runEpoch, summarize } from '../gpu-worker/src/training';
import { processCpuMs } from './support/cpu';
import { childPids, createBenchTenant, fmt, numberFromEnv, othersMeter, percentile, platformSettingsFromEnv, runBenchmark, say, seconds, startPlatformWith } from './support/api-extras';
import { BareServingWorker } from './support/serving-worker';
import type { Platform } from './support/platform';

const PENGUINS = join(__dirname, '..', '..', 'test', 'fixtures', 'penguins.csv');
const HYPERPARAMETERS: Hyperparameters = { epochs: 10, batchSize: 16, learningRate: 0.01, seed: 42 };
const IDLE_TIMEOUT_SECONDS = 5;
const PREDICT = 'mutation Predict($id: ID!, $inputs: [JSON!]!) { predict(endpointId: $id, inputs: $inputs) { outputs modelVersionId latencyMs coldStart } }';

interface Figures {
  label: string;
  predictionsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  /** Mean rows per coalesced model.predict in the worker during the run. */
  meanBatch?: number;
  /** The worker's model.predict time per coalesced batch (preprocessing included), ms. */
  predictMs?: number;
  /** CPU time per call of the api process and of its worker, ms. */
  apiCpuMs?: number;
  workerCpuMs?: number;
  /** CPU used meanwhile by processes other than this one, the api and its worker (PostgreSQL and Redis included), % of the machine. */
  othersPercent?: number;
}

// ---------------------------------------------------------------------------------------------
// The platform side
// ---------------------------------------------------------------------------------------------

class Tenant {
  constructor(
    readonly platform: Platform,
    readonly token: string,
    readonly projectId: string,
  ) {}

  static async create(platform: Platform): Promise<Tenant> {
    const { token, projectId } = await createBenchTenant(platform, 'predict');
    return new Tenant(platform, token, projectId);
  }

  async graphql(query: string, variables: Record<string, unknown>): Promise<any> {
    const result = await this.platform.graphql(query, variables, this.token);
    if (!result.data || result.errors) throw new Error(`GraphQL call failed (${result.status}): ${result.text}`);
    return result.data;
  }

  /** Uploads penguins.csv, trains the classifier on it, deploys it: the endpoint id. */
  async deployPenguins(csv: Buffer): Promise<{ endpointId: string; modelVersionId: string }> {
    const dataset = await this.graphql('mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }', {
      input: { projectId: this.projectId, name: 'penguins', format: 'CSV', purpose: 'predict benchmark', legalBasis: 'NOT_APPLICABLE', containsPersonalData: false, piiColumns: [] },
    });
    const upload = await fetch(`${this.platform.baseUrl}/v1/datasets/${dataset.createDataset.id}/versions`, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${this.token}` }, body: csv });
    const version = (await upload.json()) as { id: string };
    if (upload.status !== 201) throw new Error(`upload failed (${upload.status}): ${JSON.stringify(version)}`);
    const job = await this.graphql('mutation($input: CreateFineTuningJobInput!) { createFineTuningJob(input: $input) { id } }', {
      input: { projectId: this.projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: version.id, targetColumn: 'species', hyperparameters: HYPERPARAMETERS },
    });
    const deadline = Date.now() + 300_000;
    let modelVersionId: string | undefined;
    while (!modelVersionId) {
      const { fineTuningJob } = await this.graphql('query($id: ID!) { fineTuningJob(id: $id) { status error backend resultModelVersion { id } } }', { id: job.createFineTuningJob.id });
      if (['FAILED', 'CANCELLED'].includes(fineTuningJob.status)) throw new Error(`training ${fineTuningJob.status}: ${fineTuningJob.error}`);
      if (fineTuningJob.status === 'SUCCEEDED' && fineTuningJob.resultModelVersion) {
        if (fineTuningJob.backend !== 'wasm') throw new Error(`the worker trained on ${fineTuningJob.backend}, not wasm`);
        modelVersionId = fineTuningJob.resultModelVersion.id;
      } else if (Date.now() > deadline) throw new Error('training did not finish within 5 minutes');
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const endpoint = await this.graphql('mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { id } }', {
      input: { projectId: this.projectId, name: 'penguins', modelVersionId, environment: 'STAGING', idleTimeoutSeconds: IDLE_TIMEOUT_SECONDS, rateLimitPerMinute: 1_000_000 },
    });
    return { endpointId: endpoint.createEndpoint.id, modelVersionId };
  }

  async predict(endpointId: string, inputs: PredictionInput[]): Promise<{ outputs: PredictionOutput[]; coldStart: boolean; latencyMs: number; clientMs: number }> {
    const started = process.hrtime.bigint();
    const data = await this.graphql(PREDICT, { id: endpointId, inputs });
    return { ...data.predict, clientMs: seconds(started) * 1000 };
  }

  async status(endpointId: string): Promise<string> {
    return (await this.graphql('query($id: ID!) { endpoint(id: $id) { status } }', { id: endpointId })).endpoint.status;
  }
}

/** Count and sum of one of the worker's Prometheus histograms. */
async function histogram(port: number, name: string): Promise<[number, number]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (suffix: string) => Number(new RegExp(`^${name}_${suffix} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  return [read('count'), read('sum')];
}

/**
 * autocannon against one route, every response checked (2xx, outputs present, no GraphQL error);
 * one row per call, so calls/s are predictions/s.
 */
async function load(label: string, request: { url: string; headers: Record<string, string>; body: string }, connections: number, durationSeconds: number, warmupSeconds: number, metricsPort: number, ours: number[]): Promise<Figures> {
  const verifyBody = (body: string | Buffer | undefined) => {
    const text = String(body ?? '');
    return text.includes('"outputs":[{"label"') && !text.includes('"errors"');
  };
  const fire = (duration: number) => autocannon({ ...request, method: 'POST', connections, duration, verifyBody });
  const check = (result: autocannon.Result, phase: string) => {
    const problems = [result.non2xx && `${result.non2xx} non-2xx`, result.errors && `${result.errors} errors`, result.mismatches && `${result.mismatches} bodies without outputs`].filter(Boolean);
    if (problems.length || !result['2xx']) throw new Error(`${label} (${phase}): ${problems.join(', ') || 'no 2xx response'} (status codes ${JSON.stringify(result.statusCodeStats)}, ${result.timeouts} timeouts)`);
  };
  if (warmupSeconds > 0) check(await fire(warmupSeconds), 'warm-up');
  const [countBefore, sumBefore] = await histogram(metricsPort, 'lutece_worker_inference_batch_size');
  const [, secondsBefore] = await histogram(metricsPort, 'lutece_worker_inference_batch_seconds');
  const others = othersMeter(ours);
  const [, apiPid, workerPid] = ours;
  const cpuBefore = [processCpuMs(apiPid) ?? 0, processCpuMs(workerPid) ?? 0];
  const result = await fire(durationSeconds);
  const othersPercent = others.stop();
  const cpuAfter = [processCpuMs(apiPid) ?? 0, processCpuMs(workerPid) ?? 0];
  const [countAfter, sumAfter] = await histogram(metricsPort, 'lutece_worker_inference_batch_size');
  const [, secondsAfter] = await histogram(metricsPort, 'lutece_worker_inference_batch_seconds');
  check(result, 'measure');
  const batches = Math.max(1, countAfter - countBefore);
  const figures = {
    label,
    predictionsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    meanBatch: (sumAfter - sumBefore) / batches,
    predictMs: ((secondsAfter - secondsBefore) / batches) * 1000,
    apiCpuMs: (cpuAfter[0] - cpuBefore[0]) / Math.max(1, result.requests.total),
    workerCpuMs: (cpuAfter[1] - cpuBefore[1]) / Math.max(1, result.requests.total),
    othersPercent,
  };
  say(`${label}: ${fmt(figures.predictionsPerSecond)} predictions/s, p50 ${figures.p50} ms, p99 ${figures.p99} ms, ${fmt(figures.total)} calls; worker: ${figures.meanBatch.toFixed(2)} rows and ${figures.predictMs.toFixed(3)} ms per predict; CPU per call: api ${figures.apiCpuMs.toFixed(1)} ms, worker ${figures.workerCpuMs.toFixed(1)} ms; other processes ${fmt(othersPercent)} % of the machine`);
  return figures;
}

// ---------------------------------------------------------------------------------------------
// The raw side: the same network, trained the same way, predicted in this process
// ---------------------------------------------------------------------------------------------

async function trainInProcess(csv: Buffer) {
  const family = FAMILIES['tabular-classifier'];
  const data = family.prepare({ training: parseDataset(csv, 'CSV', 'training dataset'), validation: null, targetColumn: 'species', featureColumns: null, seed: HYPERPARAMETERS.seed });
  const session = createSession(family, data, HYPERPARAMETERS);
  for (let epoch = 0; epoch < HYPERPARAMETERS.epochs; epoch++) await runEpoch(session, epoch);
  const artifact = await modelToArtifact(session.model, { baseModel: 'tabular-classifier', preprocessing: data.preprocessing, epoch: HYPERPARAMETERS.epochs, metrics: null, backend: 'wasm', summary: summarize(session) });
  return { model: session.model, preprocessing: data.preprocessing, artifact: serializeArtifact(artifact) };
}

/** Calls of `rows` inputs, one after the other, for `durationSeconds`: the in-process ceiling. */
function rawPredict(label: string, run: (i: number) => void, rows: number, durationSeconds: number): Figures {
  // One second of warm-up: wasm and the JIT reach their steady state before anything is timed.
  const warm = process.hrtime.bigint();
  for (let i = 0; seconds(warm) < 1; i++) run(i);
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; seconds(started) < durationSeconds; i++) {
    const t = process.hrtime.bigint();
    run(i);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const figures = { label, predictionsPerSecond: (latencies.length * rows) / seconds(started), p50: percentile(latencies, 50), p99: percentile(latencies, 99), total: latencies.length };
  say(`${label}: ${fmt(figures.predictionsPerSecond)} predictions/s, p50 ${figures.p50.toFixed(3)} ms, p99 ${figures.p99.toFixed(3)} ms (${fmt(figures.total)} calls)`);
  return figures;
}

/**
 * `clients` callers in closed loops (each sends its next call when the previous one is answered)
 * straight to a bare serving worker through the api's own Bull client: no api in the path.
 */
async function closedLoop(label: string, call: () => Promise<unknown>, clients: number, durationSeconds: number, warmupSeconds: number, metricsPort: number): Promise<Figures> {
  const run = async (seconds_: number, latencies: number[]) => {
    const until = Date.now() + seconds_ * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < until) {
          const t = process.hrtime.bigint();
          await call();
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
  };
  if (warmupSeconds > 0) await run(warmupSeconds, []);
  const [countBefore, sumBefore] = await histogram(metricsPort, 'lutece_worker_inference_batch_size');
  const [, secondsBefore] = await histogram(metricsPort, 'lutece_worker_inference_batch_seconds');
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  await run(durationSeconds, latencies);
  const elapsed = seconds(started);
  const [countAfter, sumAfter] = await histogram(metricsPort, 'lutece_worker_inference_batch_size');
  const [, secondsAfter] = await histogram(metricsPort, 'lutece_worker_inference_batch_seconds');
  const batches = Math.max(1, countAfter - countBefore);
  const figures = {
    label,
    predictionsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    total: latencies.length,
    meanBatch: (sumAfter - sumBefore) / batches,
    predictMs: ((secondsAfter - secondsBefore) / batches) * 1000,
  };
  say(`${label}: ${fmt(figures.predictionsPerSecond)} predictions/s, p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms, ${fmt(figures.total)} calls; worker: ${figures.meanBatch.toFixed(2)} rows and ${figures.predictMs.toFixed(3)} ms per predict`);
  return figures;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function penguinInputs(csv: Buffer): { input: PredictionInput; species: string }[] {
  return parseDataset(csv, 'CSV', 'penguins')
    .rows.filter((row) => Object.values(row).every((v) => v !== '' && v !== 'NA'))
    .map((row) => ({
      species: String(row.species),
      input: { island: row.island, bill_length_mm: Number(row.bill_length_mm), bill_depth_mm: Number(row.bill_depth_mm), flipper_length_mm: Number(row.flipper_length_mm), body_mass_g: Number(row.body_mass_g), sex: row.sex },
    }));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const duration = numberFromEnv('BENCH_DURATION', 10, 1);
  const warmup = numberFromEnv('BENCH_WARMUP', 3, 0);
  const coldStarts = numberFromEnv('BENCH_COLD_STARTS', 5, 1);
  const connectionsList = (process.env.BENCH_CONNECTIONS ?? '1,32').split(',').map(Number);
  const csv = readFileSync(PENGUINS);
  const rows = penguinInputs(csv);
  say(`machine: ${cpus().length} × ${cpus()[0]?.model}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`);

  tf.env().set('PROD', true);
  await selectBackend(installedCandidates(), 'wasm');
  const metricsPort = await freePort();
  say(`starting the platform (NODE_ENV=production, WORKERS=1 local gpu-worker on wasm, worker metrics on :${metricsPort})`);
  const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const platform = await startPlatformWith({ WORKERS: '1', WORKER_BACKEND: 'wasm', WORKER_METRICS_PORT: String(metricsPort) }, nodeArgs);
  const stop = async () => {
    await platform.stop().catch((error: Error) => say(`stop failed: ${error.message}`));
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  const out: string[] = [];
  try {
    const workerPids = childPids(platform.pid);
    if (workerPids.length !== 1) throw new Error('expected one local gpu-worker under the api');
    const ours = [process.pid, platform.pid, workerPids[0]];
    const tenant = await Tenant.create(platform);
    const trainStarted = process.hrtime.bigint();
    const { endpointId } = await tenant.deployPenguins(csv);
    say(`trained and deployed through the platform in ${seconds(trainStarted).toFixed(1)} s`);

    // Cold starts: the endpoint is new, then scaled to zero after each one.
    const cold: { clientMs: number; latencyMs: number }[] = [];
    const warm: number[] = [];
    const [loadsBefore, loadSecondsBefore] = await histogram(metricsPort, 'lutece_worker_model_load_seconds');
    for (let i = 0; i < coldStarts; i++) {
      const deadline = Date.now() + (IDLE_TIMEOUT_SECONDS + 15) * 1000;
      while ((await tenant.status(endpointId)) !== 'SCALED_TO_ZERO') {
        if (Date.now() > deadline) throw new Error('the endpoint did not scale to zero');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const first = await tenant.predict(endpointId, [rows[i].input]);
      if (!first.coldStart) throw new Error('the first call after scale to zero was not a cold start');
      cold.push({ clientMs: first.clientMs, latencyMs: first.latencyMs });
      const second = await tenant.predict(endpointId, [rows[i].input]);
      if (second.coldStart) throw new Error('the second call was a cold start too');
      warm.push(second.clientMs);
      say(`cold start ${i + 1}/${coldStarts}: ${first.clientMs.toFixed(1)} ms at the client (api latencyMs ${first.latencyMs}); the next call ${second.clientMs.toFixed(1)} ms`);
    }
    const [loadsAfter, loadSecondsAfter] = await histogram(metricsPort, 'lutece_worker_model_load_seconds');
    const meanLoadMs = ((loadSecondsAfter - loadSecondsBefore) / Math.max(1, loadsAfter - loadsBefore)) * 1000;

    // The same model here: same code, rows, seed and backend. Checked, not assumed.
    say('training the same network on the same rows in this process (the worker code, wasm)');
    const raw = await trainInProcess(csv);
    const sample = rows.filter((_, i) => i % 17 === 0);
    const served = (await tenant.predict(endpointId, sample.map((r) => r.input))).outputs as { label: string; probabilities: Record<string, number> }[];
    const local = predictInputs(raw.model, raw.preprocessing, sample.map((r) => r.input)) as typeof served;
    const maxDifference = Math.max(...served.flatMap((o, i) => Object.keys(o.probabilities).map((k) => Math.abs(o.probabilities[k] - local[i].probabilities[k]))));
    const sameLabels = served.every((o, i) => o.label === local[i].label);
    say(`in-process model vs served model on ${sample.length} rows: labels ${sameLabels ? 'identical' : 'DIFFER'}, largest probability difference ${maxDifference.toExponential(2)}`);

    const encoded = tf.tensor(...((e) => [e.data, e.shape] as const)(encodeInputs(raw.preprocessing, [rows[7].input])));
    const rawModelOnly = rawPredict('raw model.predict on an encoded row (no preprocessing)', () => tf.tidy(() => (raw.model.predict(encoded) as tf.Tensor).dataSync()), 1, duration);
    encoded.dispose();
    const rawOne = rawPredict('raw predictInputs, 1 row per call (encode + model.predict + decode)', (i) => predictInputs(raw.model, raw.preprocessing, [rows[i % rows.length].input]), 1, duration);
    const batch32 = rows.slice(0, 32).map((r) => r.input);
    const rawBatch = rawPredict('raw predictInputs, 32 rows per call', () => predictInputs(raw.model, raw.preprocessing, batch32), 32, duration);

    // The worker alone, with the in-process model itself (exactly the same weights), the api's Bull client in front.
    say('a bare serving worker (inference role only, wasm) with the in-process model, driven through Bull from this process');
    const bare = new BareServingWorker(platformSettingsFromEnv().redisUrl, await freePort());
    const bareRuns: Figures[] = [];
    let bareCold = 0;
    let bareSame = false;
    try {
      await bare.start(raw.artifact);
      const coldStarted = process.hrtime.bigint();
      const first = await bare.predict(sample.map((r) => r.input));
      bareCold = seconds(coldStarted) * 1000;
      const expected = predictInputs(raw.model, raw.preprocessing, sample.map((r) => r.input)) as { label: string; probabilities: Record<string, number> }[];
      bareSame = first.coldStart && (first.outputs as typeof expected).every((o, i) => o.label === expected[i].label && Object.keys(o.probabilities).every((k) => Math.abs(o.probabilities[k] - expected[i].probabilities[k]) < 1e-6));
      say(`bare worker cold start: ${bareCold.toFixed(1)} ms (Bull, decrypt, load, warm-up, predict); answers ${bareSame ? 'equal' : 'DIFFER from'} the in-process model's`);
      for (const clients of connectionsList) {
        bareRuns.push(await closedLoop(`worker alone, ${clients} caller(s)`, () => bare.predict([rows[7].input]), clients, duration, warmup, bare.metricsPort));
      }
    } finally {
      await bare.stop();
    }

    const row = JSON.stringify([rows[7].input]);
    const graphqlRequest = { url: `${platform.baseUrl}/graphql`, headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` }, body: `{"query":${JSON.stringify(PREDICT)},"variables":{"id":"${endpointId}","inputs":${row}}}` };
    const restRequest = { url: `${platform.baseUrl}/v1/endpoints/${endpointId}/predict`, headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.token}` }, body: `{"inputs":${row}}` };
    const runs: Figures[] = [];
    for (const connections of connectionsList) {
      runs.push(await load(`GraphQL predict, ${connections} client(s)`, graphqlRequest, connections, duration, warmup, metricsPort, ours));
      runs.push(await load(`REST predict, ${connections} client(s)`, restRequest, connections, duration, warmup, metricsPort, ours));
    }
    if (platform.exited) throw new Error(`the api exited during the run:\n${platform.output.join('')}`);

    const coldClient = cold.map((c) => c.clientMs);
    out.push(
      '',
      `Predict overhead: tabular-classifier on penguins (MLP 64-32, 6 inputs → 10 encoded, 3 classes), wasm, one row per call, ${duration} s per run after ${warmup} s of warm-up:`,
      `  ${'route'.padEnd(34)} ${'predictions/s'.padStart(13)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'rows/predict'.padStart(12)} ${'ms/predict'.padStart(10)} ${'raw/platform'.padStart(12)} ${'api CPU ms'.padStart(10)} ${'worker CPU'.padStart(10)} ${'others %'.padStart(9)}`,
      ...runs.map(
        (r) =>
          `  ${r.label.padEnd(34)} ${fmt(r.predictionsPerSecond).padStart(13)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(8)} ${r.meanBatch!.toFixed(2).padStart(12)} ${r.predictMs!.toFixed(3).padStart(10)} ${`${(rawOne.predictionsPerSecond / r.predictionsPerSecond).toFixed(0)}x`.padStart(12)} ${r.apiCpuMs!.toFixed(1).padStart(10)} ${r.workerCpuMs!.toFixed(1).padStart(10)} ${fmt(r.othersPercent ?? 0).padStart(9)}`,
      ),
      ...bareRuns.map(
        (r) =>
          `  ${r.label.padEnd(34)} ${fmt(r.predictionsPerSecond).padStart(13)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.meanBatch!.toFixed(2).padStart(12)} ${r.predictMs!.toFixed(3).padStart(10)} ${`${(rawOne.predictionsPerSecond / r.predictionsPerSecond).toFixed(0)}x`.padStart(12)}`,
      ),
      ...[
        ['raw model.predict, 1 encoded row', rawModelOnly, 1],
        ['raw predictInputs, 1 row/call', rawOne, 1],
        ['raw predictInputs, 32 rows/call', rawBatch, 32],
      ].map(([label, r, n]) => {
        const f = r as Figures;
        return `  ${String(label).padEnd(34)} ${fmt(f.predictionsPerSecond).padStart(13)} ${f.p50.toFixed(3).padStart(8)} ${f.p99.toFixed(3).padStart(8)} ${Number(n).toFixed(2).padStart(12)} ${((1000 * Number(n)) / f.predictionsPerSecond).toFixed(3).padStart(10)}`;
      }),
      `  latency ratio (platform p50 / raw p50, 1 client): GraphQL ${(runs.find((r) => r.label.startsWith('GraphQL'))!.p50 / rawOne.p50).toFixed(0)}x, REST ${(runs.find((r) => r.label.startsWith('REST'))!.p50 / rawOne.p50).toFixed(0)}x`,
      `  the in-process model answers as the served one: labels ${sameLabels ? 'identical' : 'differ'}, largest probability difference ${maxDifference.toExponential(2)} on ${sample.length} rows`,
      '',
      `  the bare worker serves the in-process model itself: answers ${bareSame ? 'equal to 1e-6' : 'DIFFERENT'}; its first call (cold) took ${bareCold.toFixed(1)} ms`,
      '',
      `Cold start (first call after scale to zero; ${coldStarts} times): client p50 ${percentile(coldClient, 50).toFixed(1)} ms, min ${Math.min(...coldClient).toFixed(1)}, max ${Math.max(...coldClient).toFixed(1)}; api latencyMs p50 ${percentile(cold.map((c) => c.latencyMs), 50)};`,
      `  the worker's model load (decrypt + parse + load + warm-up predict) ${meanLoadMs.toFixed(1)} ms on average; the warm call right after: p50 ${percentile(warm, 50).toFixed(1)} ms`,
    );
    for (const line of out) process.stdout.write(`${line}\n`);
    const written = platform.output.join('').trim();
    if (written) say(`the api and its worker wrote this during the run (LOG_LEVEL=warn):\n${written.slice(0, 3000)}`);
  } finally {
    await stop();
  }
}

runBenchmark('predict-overhead', main);

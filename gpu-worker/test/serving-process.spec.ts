import * as tf from '@tensorflow/tfjs';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { servingKeys, type EndpointConfig, type InferenceRequest } from '../../src/contracts/inference';
import type { ObjectRef } from '../../src/contracts/training';
import { modelToArtifact, serializeArtifact } from '../src/artifact';
import { installedCandidates, selectBackend } from '../src/backend';
import { FAMILIES } from '../src/families';
import { predictInputs, type PredictionInput } from '../src/predict';
import { createSession, runEpoch, summarize } from '../src/training';
import { fixtureTable } from './support/fixtures';
import { TestTenant } from './support/tenant';
import { WorkerHarness, type WorkerProcess } from './support/worker-harness';

/**
 * The compiled worker's inference role as a child process, driven through Bull as the api drives
 * it (InferenceClientService): predict calls in on inference:<pool>, endpoint state out in Redis.
 */

interface Served {
  ref: ObjectRef;
  modelVersionId: string;
  expected: (inputs: PredictionInput[]) => ReturnType<typeof predictInputs>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('gpu-worker process: serving', () => {
  const harness = new WorkerHarness();
  let worker: WorkerProcess;
  let classifier: Served;
  let retrained: Served;
  let forecaster: Served;
  const penguins = fixtureTable('penguins.csv')
    .rows.filter((row) => row.sex && row.sex !== 'NA' && row.body_mass_g !== 'NA')
    .map((row) => ({ island: row.island, bill_length_mm: Number(row.bill_length_mm), bill_depth_mm: Number(row.bill_depth_mm), flipper_length_mm: Number(row.flipper_length_mm), body_mass_g: Number(row.body_mass_g), sex: row.sex }));

  /** Trains (or only builds) a model here, stores its artifact encrypted for the harness tenant. */
  async function serve(baseModel: 'tabular-classifier' | 'sequence-forecaster', table: string, target: string, seed: number, epochs: number): Promise<Served> {
    const family = FAMILIES[baseModel];
    const data = family.prepare({ training: fixtureTable(table), validation: null, targetColumn: target, featureColumns: null, seed });
    const session = createSession(family, data, { epochs, batchSize: 16, learningRate: 0.01, seed });
    for (let epoch = 0; epoch < epochs; epoch++) await runEpoch(session, epoch);
    const artifact = await modelToArtifact(session.model, { baseModel, preprocessing: data.preprocessing, epoch: epochs, metrics: null, backend: 'wasm', summary: summarize(session) });
    const ref = await harness.tenant.storeObject(harness.store, 'model_artifact', serializeArtifact(artifact));
    const model = session.model;
    return { ref, modelVersionId: randomUUID(), expected: (inputs) => predictInputs(model, data.preprocessing, inputs) };
  }

  function request(served: Served, endpointId: string, inputs: PredictionInput[], fields: Partial<InferenceRequest> = {}): InferenceRequest {
    return { kind: 'predict', version: 1, requestId: randomUUID(), tenantId: harness.tenant.tenantId, endpointId, modelVersionId: served.modelVersionId, artifact: served.ref, idleTimeoutSeconds: 300, inputs, ...fields };
  }

  const replicaKey = (endpointId: string) => harness.redis.keys(servingKeys.replicaPattern(harness.prefix, endpointId)).then((keys) => keys[0]);

  beforeAll(async () => {
    tf.env().set('PROD', true);
    await selectBackend(installedCandidates(), 'wasm');
    await harness.start();
    worker = harness.spawnWorker({ WORKER_ROLES: 'inference', WORKER_METRICS_PORT: '0' });
    classifier = await serve('tabular-classifier', 'penguins.csv', 'species', 3, 2);
    retrained = await serve('tabular-classifier', 'penguins.csv', 'species', 4, 0);
    forecaster = await serve('sequence-forecaster', 'flights.csv', 'passengers', 5, 0);
    await worker.ready();
  });
  afterAll(() => harness.stop());

  it('loads a model on first use, then batches concurrent calls and answers exactly as the model does', async () => {
    const endpointId = randomUUID();
    const first = await harness.predict(request(classifier, endpointId, penguins.slice(0, 5)));
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ coldStart: true, batchSize: 5, backend: 'wasm', workerId: expect.stringMatching(/^test-node-/) });
    expect(first.result!.computeSeconds).toMatch(/^\d+\.\d{3}$/);
    const expected = classifier.expected(penguins.slice(0, 5));
    first.result!.outputs.forEach((output, i) => {
      const want = expected[i] as { label: string; probabilities: Record<string, number> };
      expect((output as typeof want).label).toBe(want.label);
      for (const [label, p] of Object.entries(want.probabilities)) expect((output as typeof want).probabilities[label]).toBeCloseTo(p, 5);
    });

    const key = await replicaKey(endpointId);
    expect(await harness.redis.get(key)).toBe(classifier.modelVersionId);
    expect(await harness.redis.ttl(key)).toBeGreaterThan(0);
    expect(await harness.redis.exists(servingKeys.loading(harness.prefix, endpointId), servingKeys.failure(harness.prefix, endpointId))).toBe(0);

    const concurrent = await Promise.all(penguins.slice(0, 16).map((penguin) => harness.predict(request(classifier, endpointId, [penguin]))));
    expect(concurrent.map((c) => c.error).filter(Boolean)).toEqual([]);
    expect(concurrent.every((c) => c.result!.coldStart === false)).toBe(true);
    expect(Math.max(...concurrent.map((c) => c.result!.batchSize))).toBeGreaterThan(1);
    concurrent.forEach((c, i) => expect((c.result!.outputs[0] as { label: string }).label).toBe((classifier.expected([penguins[i]])[0] as { label: string }).label));
  });

  it('a forecaster answers {forecast} from the last window of each series, and refuses a series shorter than its window', async () => {
    const endpointId = randomUUID();
    const series = fixtureTable('flights.csv').rows.map((row) => Number(row.passengers));
    const answer = await harness.predict(request(forecaster, endpointId, [{ passengers: series.slice(0, 30) }, { passengers: series.slice(-12) }]));
    expect(answer.error).toBeUndefined();
    expect(answer.result!.outputs).toEqual(forecaster.expected([{ passengers: series.slice(0, 30) }, { passengers: series.slice(-12) }]).map((o) => ({ forecast: [expect.closeTo((o as { forecast: number[] }).forecast[0], 3)] })));
    const short = await harness.predict(request(forecaster, endpointId, [{ passengers: series.slice(-12) }, { passengers: [112, 118] }]));
    expect(short.error).toBe("inference: inputs[1]: passengers needs at least 12 points (the model's window)");
  });

  it('fails the calls of a model that cannot be loaded with a safe message, and reports the endpoint FAILED', async () => {
    const notAModel = await harness.tenant.storeObject(harness.store, 'model_artifact', Buffer.from('{"weights": "Adelie"}'));
    const endpointId = randomUUID();
    const failed = await harness.predict(request({ ...classifier, ref: notAModel, modelVersionId: randomUUID() }, endpointId, penguins.slice(0, 1)));
    expect(failed.error).toBe('inference: the model could not be loaded: the model artifact is not a lutece-tfjs v1 artifact');
    expect(await harness.redis.get(servingKeys.failure(harness.prefix, endpointId))).toBe('the model could not be loaded: the model artifact is not a lutece-tfjs v1 artifact');
    expect(await harness.redis.exists(servingKeys.loading(harness.prefix, endpointId))).toBe(0);
    expect(await replicaKey(endpointId)).toBeUndefined();

    // Tampered ciphertext: the envelope refuses it, and the next call tries again (and fails again).
    const tampered = await harness.tenant.storeObject(harness.store, 'model_artifact', Buffer.alloc(4096, 7));
    const path = join(harness.storageDir, tampered.storageKey);
    const bytes = await readFile(path);
    bytes[bytes.length - 20] ^= 1;
    await writeFile(path, bytes);
    const broken = { ...classifier, ref: tampered, modelVersionId: randomUUID() };
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await harness.predict(request(broken, randomUUID(), penguins.slice(0, 1)));
      expect(refused.error).toMatch(/^inference: the model could not be loaded: loading it: /);
    }
  });

  it("never opens a model for another tenant than the one its envelope belongs to", async () => {
    const stranger = new TestTenant();
    const refused = await harness.predict(request(classifier, randomUUID(), penguins.slice(0, 1), { tenantId: stranger.tenantId }));
    expect(refused.error).toMatch(/^inference: the model could not be loaded: /);
    expect(worker.output.join('\n')).not.toContain(harness.tenant.tenantKey.toString('base64'));
    expect(worker.output.join('\n')).not.toMatch(/Adelie|Biscoe|Torgersen/);
  });

  it('swaps an endpoint to a new version while calls for the previous one are still served', async () => {
    const endpointId = randomUUID();
    // Version ids of their own: the versions the earlier tests loaded are not reused.
    const before = { ...classifier, modelVersionId: randomUUID() };
    const after = { ...retrained, modelVersionId: randomUUID() };
    expect((await harness.predict(request(before, endpointId, penguins.slice(0, 1)))).result!.coldStart).toBe(true);
    const swapped = await harness.predict(request(after, endpointId, penguins.slice(0, 1)));
    expect(swapped.result!.coldStart).toBe(true);
    expect(await harness.redis.get(await replicaKey(endpointId))).toBe(after.modelVersionId);
    // A call for the version swapped out, already on its way: served warm, and no swap back.
    const straggler = await harness.predict(request(before, endpointId, penguins.slice(0, 1)));
    expect(straggler.result!.coldStart).toBe(false);
    expect(await harness.redis.get(await replicaKey(endpointId))).toBe(after.modelVersionId);
  });

  it('scales an endpoint to zero after its idle timeout; keeps minReplicas warm from the pool configuration', async () => {
    const idle = randomUUID();
    expect((await harness.predict(request(forecaster, idle, [{ passengers: new Array(12).fill(300) }], { idleTimeoutSeconds: 1 }))).error).toBeUndefined();
    expect(await replicaKey(idle)).toBeDefined();
    await until(async () => (await replicaKey(idle)) === undefined, 'the idle replica to go');

    const warm = randomUUID();
    const config: EndpointConfig = { endpointId: warm, tenantId: harness.tenant.tenantId, modelVersionId: classifier.modelVersionId, artifact: classifier.ref, minReplicas: 1, maxReplicas: 1, idleTimeoutSeconds: 1 };
    const hash = servingKeys.endpointsConfig(harness.prefix, harness.pool);
    await harness.redis.hset(hash, warm, JSON.stringify(config));
    const key = await until(() => replicaKey(warm), 'a warm replica without any call');
    expect(await harness.redis.get(key)).toBe(classifier.modelVersionId);
    await sleep(2500);
    expect(await harness.redis.exists(key)).toBe(1);
    // Deleted endpoints are unloaded at the next read of the configuration.
    await harness.redis.hdel(hash, warm);
    await until(async () => (await replicaKey(warm)) === undefined, 'the deleted endpoint to go');
  });

  it('exposes batch sizes, calls and loads as Prometheus metrics, without tenant or endpoint labels', async () => {
    const port = Number(/metrics on port (\d+)/.exec(worker.output.find((line) => line.includes('metrics on port'))!)![1]);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(Number(/^lutece_worker_inference_batch_size_count (\d+)/m.exec(text)![1])).toBeGreaterThan(0);
    expect(text).toMatch(/^lutece_worker_inference_calls_total\{outcome="error",cold_start="true"\} [1-9]/m);
    expect(text).toMatch(/^lutece_worker_model_load_seconds_count [1-9]/m);
    expect(text).toMatch(/^lutece_worker_models_loaded [1-9]/m);
    expect(text).not.toContain(harness.tenant.tenantId);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
  });
});

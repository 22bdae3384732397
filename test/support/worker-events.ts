import Bull, { type Queue } from 'bull';
import { randomBytes, randomUUID } from 'node:crypto';
import type { InferenceRequest, InferenceResult } from '../../src/contracts/inference';
import { sealGrant } from '../../src/contracts/key-grant';
import { inferenceQueueName, WORKER_EVENTS_QUEUE, type ModelSummary, type StoredObjectReport, type TfjsBackend, type WorkerEvent } from '../../src/contracts/training';
import type { AppUnderTest } from './app-under-test';
import { TEST_REDIS_URL } from './services';

/**
 * The GPU worker's side of the protocol, without a GPU: WorkerEvents pushed on the real Bull queue
 * `worker-events` under the api's prefix, exactly as gpu-worker/src/events.ts does, then waited for
 * until the api has applied them (the Bull job is completed, or failed with the api's reason).
 */

export interface Applied {
  state: 'completed' | 'failed';
  failedReason?: string;
}

export interface JobIdentity {
  jobId: string;
  tenantId: string;
}

/** A test's master key, given to the api as MASTER_KEYS so the test can seal object secrets. */
export interface MasterKey {
  id: string;
  key: Buffer;
  env: string;
}

export function newMasterKey(id = 'm1'): MasterKey {
  const key = randomBytes(32);
  return { id, key, env: `${id}:${key.toString('base64')}` };
}

export class WorkerPeer {
  private readonly queue: Queue;

  constructor(app: AppUnderTest) {
    this.queue = new Bull(WORKER_EVENTS_QUEUE, TEST_REDIS_URL, { prefix: `${app.redisPrefix}:bull` });
    this.queue.on('error', () => undefined);
  }

  /**
   * Sends one event and waits until the api has processed it. One attempt (a real worker allows 5
   * with back-off), so an event the api refuses shows up at once as `failed` with its reason.
   */
  async send(event: WorkerEvent, timeoutMs = 20_000): Promise<Applied> {
    const job = await this.queue.add(event, { attempts: 1, removeOnComplete: false, removeOnFail: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await job.getState();
      if (state === 'completed') return { state };
      if (state === 'failed') {
        const fresh = await this.queue.getJob(job.id);
        return { state, failedReason: fresh?.failedReason };
      }
      if (Date.now() > deadline) throw new Error(`worker event ${event.type} not applied after ${timeoutMs} ms (state ${state})`);
      await sleep(25);
    }
  }

  /** Sends and expects the api to accept it. */
  async apply(event: WorkerEvent): Promise<void> {
    const applied = await this.send(event);
    if (applied.state !== 'completed') throw new Error(`the api refused ${event.type}: ${applied.failedReason}`);
  }

  /** Sends several events at once (as a worker with several segments in flight), then waits for all. */
  async applyAll(events: WorkerEvent[]): Promise<Applied[]> {
    return Promise.all(events.map((e) => this.send(e)));
  }

  async close(): Promise<void> {
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close().catch(() => undefined);
  }
}

const base = (job: JobIdentity, attempt: number, at: Date | string) => ({
  jobId: job.jobId,
  tenantId: job.tenantId,
  attempt,
  at: typeof at === 'string' ? at : at.toISOString(),
});

export const events = {
  started(job: JobIdentity, options: { attempt?: number; at?: Date; backend?: TfjsBackend } = {}): WorkerEvent {
    return {
      type: 'job.started',
      ...base(job, options.attempt ?? 1, options.at ?? new Date()),
      workerId: 'test-worker-1',
      backend: options.backend ?? 'tensorflow-gpu',
      node: 'test-node-1',
      region: 'fr-par',
      resumedFromEpoch: null,
    };
  },

  /** `job.usage` with the worker's deterministic id `${jobId}:${attempt}:${segment}`. */
  usage(job: JobIdentity, options: { segment: number; seconds: string; at?: Date | string; attempt?: number; meter?: 'GPU_SECONDS' | 'CPU_SECONDS'; gpuClass?: string }): WorkerEvent {
    const attempt = options.attempt ?? 1;
    const meter = options.meter ?? 'GPU_SECONDS';
    return {
      type: 'job.usage',
      ...base(job, attempt, options.at ?? new Date()),
      usageEventId: `${job.jobId}:${attempt}:${options.segment}`,
      segment: options.segment,
      meter,
      seconds: options.seconds,
      backend: meter === 'GPU_SECONDS' ? 'tensorflow-gpu' : 'wasm',
      gpuClass: options.gpuClass ?? 'L4',
    };
  },

  epoch(job: JobIdentity, epoch: number, samplesPerSecond = 15000): WorkerEvent {
    return { type: 'job.epoch', ...base(job, 1, new Date()), epoch, metrics: { loss: 1 / (epoch + 1), accuracy: 0.5 + epoch / 100 }, samplesPerSecond };
  },

  /** A finished training: the artifact's secret sealed under the api's master key, as a worker does. */
  succeeded(job: JobIdentity, master: MasterKey, options: { epochs?: number; summary?: ModelSummary } = {}): WorkerEvent & { artifact: StoredObjectReport } {
    const objectId = randomUUID();
    const artifact: StoredObjectReport = {
      objectId,
      storageKey: `tenants/${job.tenantId}/models/${objectId}`,
      sha256: randomBytes(32).toString('hex'),
      sizeBytes: 48_213,
      region: 'fr-par',
      node: 'test-node-1',
      keyGeneration: 1,
      sealedObjectSecret: sealGrant(master.id, master.key, randomBytes(32), `object-secret:${objectId}`),
    };
    return {
      type: 'job.succeeded',
      ...base(job, 1, new Date()),
      artifact,
      metrics: { loss: 0.21, accuracy: 0.93, valLoss: 0.25, valAccuracy: 0.91 },
      epochs: options.epochs ?? 5,
      backend: 'tensorflow-gpu',
      summary: options.summary ?? PENGUINS_SUMMARY,
    };
  },

  failed(job: JobIdentity, error = 'CUDA error: out of memory', willRetry = false): WorkerEvent {
    return { type: 'job.failed', ...base(job, 1, new Date()), error, willRetry };
  },

  cancelled(job: JobIdentity, epoch = 0): WorkerEvent {
    return { type: 'job.cancelled', ...base(job, 1, new Date()), epoch };
  },
};

/** What the tabular classifier reports for penguins.csv (target `species`). */
export const PENGUINS_SUMMARY: ModelSummary = {
  baseModel: 'tabular-classifier',
  inputs: [
    { name: 'island', kind: 'categorical' },
    { name: 'bill_length_mm', kind: 'numeric' },
    { name: 'bill_depth_mm', kind: 'numeric' },
    { name: 'flipper_length_mm', kind: 'numeric' },
    { name: 'body_mass_g', kind: 'numeric' },
    { name: 'sex', kind: 'categorical' },
  ],
  target: { name: 'species', kind: 'classification', classes: ['Adelie', 'Chinstrap', 'Gentoo'] },
  trainingRows: 275,
  validationRows: 69,
  parameters: 1_219,
};

/**
 * The inference side of a pool: answers the api's predict jobs on `inference:<pool>` like a serving
 * worker would, and counts the calls it received.
 */
export class InferencePeer {
  readonly received: InferenceRequest[] = [];
  private readonly queue: Queue;
  /** How long the "model" takes to answer; a warm replica answers within milliseconds. */
  delayMs = 0;

  constructor(app: AppUnderTest, poolId: string, private readonly answer: { backend: TfjsBackend; computeSeconds: string } = { backend: 'tensorflow-gpu', computeSeconds: '0.004' }) {
    this.queue = new Bull(inferenceQueueName(poolId), TEST_REDIS_URL, { prefix: `${app.redisPrefix}:bull` });
    this.queue.on('error', () => undefined);
  }

  start(): this {
    void this.queue.process(async (job) => {
      const request = job.data as InferenceRequest;
      this.received.push(request);
      if (this.delayMs) await sleep(this.delayMs);
      const result: InferenceResult = {
        outputs: request.inputs.map(() => ({ label: 'Adelie', probabilities: { Adelie: 0.9, Chinstrap: 0.06, Gentoo: 0.04 } })),
        coldStart: this.received.length === 1,
        batchSize: request.inputs.length,
        computeSeconds: this.answer.computeSeconds,
        backend: this.answer.backend,
        workerId: 'test-inference-worker',
      };
      return result;
    });
    return this;
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a truthy value (then returns it) or the time is up (then throws). */
export async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

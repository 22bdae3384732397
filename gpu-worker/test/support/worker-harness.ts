import Bull, { type Queue } from 'bull';
import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalObjectStore } from '../../../src/contracts/local-object-store';
import type { InferenceRequest, InferenceResult } from '../../../src/contracts/inference';
import { inferenceQueueName, trainingQueueName, WORKER_EVENTS_QUEUE, type TrainingJobPayload, type WorkerEvent } from '../../../src/contracts/training';
import { TestTenant } from './tenant';

/**
 * The api's side of the queues for process-level worker tests: its own Redis prefix (so test files
 * and runs never see each other's jobs), a storage folder, a tenant, real worker child processes
 * built from dist/, and every worker event collected in arrival order.
 */

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORKER_MAIN = join(__dirname, '..', '..', '..', 'dist', 'gpu-worker', 'src', 'main.js');

export type JobWorkerEvent = Exclude<WorkerEvent, { type: 'worker.heartbeat' }>;

export class WorkerHarness {
  readonly prefix = `wtest-${randomUUID().slice(0, 8)}`;
  readonly pool = 'fr-par-test';
  readonly tenant = new TestTenant();
  redis!: Redis;
  readonly events: WorkerEvent[] = [];
  storageDir!: string;
  store!: LocalObjectStore;
  trainingQueue!: Queue;
  inferenceQueue!: Queue;
  private eventsQueue!: Queue;
  private readonly workers: WorkerProcess[] = [];
  private spawned = 0;
  private readonly listeners = new Set<() => void>();
  private readonly answers = new Map<string, (answer: { result?: InferenceResult; error?: string }) => void>();

  async start(): Promise<void> {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
    this.redis = new Redis(TEST_REDIS_URL);
    this.storageDir = await mkdtemp(join(tmpdir(), 'lutece-worker-test-'));
    this.store = new LocalObjectStore(this.storageDir, 'fr-par', 'test-node');
    const bullPrefix = `${this.prefix}:bull`;
    this.trainingQueue = new Bull(trainingQueueName(this.pool), TEST_REDIS_URL, { prefix: bullPrefix });
    this.eventsQueue = new Bull(WORKER_EVENTS_QUEUE, TEST_REDIS_URL, { prefix: bullPrefix });
    this.inferenceQueue = new Bull(inferenceQueueName(this.pool), TEST_REDIS_URL, { prefix: bullPrefix });
    this.inferenceQueue.on('global:completed', (jobId: string, value: string) => this.answers.get(jobId)?.({ result: JSON.parse(value) as InferenceResult }));
    this.inferenceQueue.on('global:failed', (jobId: string, reason: string) => this.answers.get(jobId)?.({ error: reason }));
    void this.eventsQueue.process(async (job) => {
      this.events.push(job.data as WorkerEvent);
      for (const listener of this.listeners) listener();
    });
  }

  /** Kills every worker this harness started, so the next test's jobs go only to its own workers. */
  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.stop()));
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    await this.trainingQueue?.close();
    await this.inferenceQueue?.close();
    await this.eventsQueue?.close();
    if (this.redis) {
      const keys = await this.redis.keys(`${this.prefix}:*`);
      if (keys.length > 0) await this.redis.del(...keys);
      this.redis.disconnect();
    }
    if (this.storageDir) await rm(this.storageDir, { recursive: true, force: true });
  }

  spawnWorker(env: Record<string, string> = {}): WorkerProcess {
    const worker = new WorkerProcess(WORKER_MAIN, {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.prefix,
      WORKER_POOL: this.pool,
      WORKER_REGION: 'fr-par',
      WORKER_NODE: `test-node-${++this.spawned}`,
      // Short, so a killed worker's job is handed over within seconds; still far above one batch.
      WORKER_LOCK_SECONDS: '4',
      MASTER_KEYS: this.tenant.masterKeysEnv,
      STORAGE_DIR: this.storageDir,
      STORAGE_REGION: 'fr-par',
      ...env,
    });
    this.workers.push(worker);
    return worker;
  }

  async enqueue(payload: TrainingJobPayload, attempts = 3): Promise<void> {
    await this.trainingQueue.add(payload, { jobId: payload.jobId, attempts, backoff: { type: 'fixed', delay: 200 } });
  }

  /**
   * A predict call as the api makes it (InferenceClientService): waiting for the queue's global
   * events before adding the job, then its result or the worker's error message.
   */
  async predict(request: InferenceRequest): Promise<{ result?: InferenceResult; error?: string }> {
    const answered = new Promise<{ result?: InferenceResult; error?: string }>((resolve) => this.answers.set(request.requestId, resolve));
    try {
      await this.inferenceQueue.add(request, { jobId: request.requestId, attempts: 1, removeOnComplete: true, removeOnFail: true });
      return await answered;
    } finally {
      this.answers.delete(request.requestId);
    }
  }

  jobEvents(jobId: string): JobWorkerEvent[] {
    return this.events.filter((event): event is JobWorkerEvent => event.type !== 'worker.heartbeat' && event.jobId === jobId);
  }

  /** Resolves with the first event (in arrival order) that matches, waiting for it if needed. */
  waitForEvent<T extends WorkerEvent>(predicate: (event: WorkerEvent) => event is T, timeoutMs?: number): Promise<T>;
  waitForEvent(predicate: (event: WorkerEvent) => boolean, timeoutMs?: number): Promise<WorkerEvent>;
  waitForEvent(predicate: (event: WorkerEvent) => boolean, timeoutMs = 60_000): Promise<WorkerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(predicate);
        if (!found) return;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`no matching worker event within ${timeoutMs} ms; got: ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}

/** Appends each complete, non-empty line the child writes (stdout and stderr) to `into`. */
export function collectLines(child: ChildProcess, into: string[]): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      into.push(...lines.filter(Boolean));
    });
  }
}

export class WorkerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(main: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    collectLines(this.child, this.output);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits for the worker's one-line ready message (it follows backend selection and registration). */
  async ready(timeoutMs = 60_000): Promise<string> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const line = this.output.find((l) => l.includes('gpu-worker ready'));
      if (line) return line;
      if (this.child.exitCode !== null) throw new Error(`worker exited (${this.child.exitCode}): ${this.output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`worker not ready within ${timeoutMs} ms: ${this.output.join('\n')}`);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

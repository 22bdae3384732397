/**
 * The contract between the api and GPU workers: queue names, the job payload, the events a worker
 * reports, and the Redis keys both sides use. Plain TypeScript; the worker imports only src/contracts.
 *
 * Flow: the api writes the job row and enqueues a TrainingJobPayload on `training:<pool>` (Bull job
 * id = platform job id). A worker trains, writes encrypted checkpoints and the final artifact to
 * the object store itself, and reports everything as WorkerEvents on the `worker-events` queue,
 * which only the api consumes (the api is the only writer of PostgreSQL).
 */
import type { DriftBaseline } from './inference';
import type { SealedGrant } from './key-grant';

export const WORKER_EVENTS_QUEUE = 'worker-events';

export function trainingQueueName(poolId: string): string {
  return `training:${poolId}`;
}

export function inferenceQueueName(poolId: string): string {
  return `inference:${poolId}`;
}

/** Redis keys shared by api and workers, under the deployment's REDIS_PREFIX. */
export const redisKeys = {
  /** Set by the api to ask a running job to stop; the worker checks it between batches. */
  cancel: (prefix: string, jobId: string) => `${prefix}:job:${jobId}:cancel`,
  /** The worker's own attempt counter (INCR at each start): segment ids never repeat across runs. */
  attempt: (prefix: string, jobId: string) => `${prefix}:job:${jobId}:attempt`,
  /** Latest checkpoint of a job (JSON CheckpointPointer): where a restarted worker resumes. */
  checkpoint: (prefix: string, jobId: string) => `${prefix}:job:${jobId}:checkpoint`,
  /** A worker's registration (JSON WorkerInfo), refreshed by its heartbeat, expires when it dies. */
  worker: (prefix: string, workerId: string) => `${prefix}:worker:${workerId}`,
  workerPattern: (prefix: string) => `${prefix}:worker:*`,
};

export const WORKER_HEARTBEAT_SECONDS = 10;
export const WORKER_REGISTRATION_TTL_SECONDS = 30;

export const BASE_MODELS = ['tabular-classifier', 'tabular-regressor', 'text-classifier', 'sequence-forecaster'] as const;
export type BaseModelId = (typeof BASE_MODELS)[number];

export type TfjsBackend = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** GPU_SECONDS only when a GPU backend did the work; anything else is CPU time. */
export function meterForBackend(backend: TfjsBackend): 'GPU_SECONDS' | 'CPU_SECONDS' {
  return backend === 'tensorflow-gpu' ? 'GPU_SECONDS' : 'CPU_SECONDS';
}

export interface Hyperparameters {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

/** An encrypted object the worker may read: the grant opens its keys (see key-grant.ts). */
export interface ObjectRef {
  objectId: string;
  storageKey: string;
  sha256: string;
  readGrant: SealedGrant;
}

export interface DatasetRef extends ObjectRef {
  datasetVersionId: string;
  format: 'CSV' | 'JSONL';
  /** SHA-256 of the plaintext, checked by the worker after decryption. */
  contentSha256: string;
}

export interface TrainingJobPayload {
  kind: 'training';
  version: 1;
  jobId: string;
  tenantId: string;
  projectId: string;
  poolId: string;
  region: string;
  gpuClass: string;
  baseModel: BaseModelId;
  /** Continued training: the artifact of an earlier model version. */
  baseArtifact?: ObjectRef;
  training: DatasetRef;
  validation?: DatasetRef;
  targetColumn: string;
  /** Null: every column but the target (tabular), or the one text column (text). */
  featureColumns: string[] | null;
  hyperparameters: Hyperparameters;
  /** Opens to the tenant's active key: JSON { generation, key (base64) }; context `write:<jobId>`. */
  writeGrant: SealedGrant;
}

/** An object the worker wrote; the api records it (its secret arrives sealed). */
export interface StoredObjectReport {
  objectId: string;
  storageKey: string;
  sha256: string;
  sizeBytes: number;
  region: string;
  node: string;
  keyGeneration: number;
  /** Seals the object secret; context `object-secret:<objectId>`. */
  sealedObjectSecret: SealedGrant;
}

export interface CheckpointPointer {
  epoch: number;
  object: StoredObjectReport;
}

export interface EpochMetrics {
  loss: number;
  valLoss?: number;
  accuracy?: number;
  valAccuracy?: number;
  mae?: number;
  valMae?: number;
}

export interface WorkerInfo {
  workerId: string;
  poolId: string;
  region: string;
  node: string;
  gpuModel: string;
  backend: TfjsBackend;
  version: string;
  startedAt: string;
}

interface JobEventBase {
  jobId: string;
  tenantId: string;
  attempt: number;
  at: string;
}

export type WorkerEvent =
  | { type: 'worker.heartbeat'; worker: WorkerInfo; at: string }
  | (JobEventBase & { type: 'job.started'; workerId: string; backend: TfjsBackend; node: string; region: string; resumedFromEpoch: number | null })
  | (JobEventBase & { type: 'job.progress'; epoch: number; batch: number; batchesPerEpoch: number; progress: number })
  | (JobEventBase & { type: 'job.epoch'; epoch: number; metrics: EpochMetrics; samplesPerSecond: number })
  | (JobEventBase & { type: 'job.checkpoint'; epoch: number; object: StoredObjectReport })
  | (JobEventBase & {
      type: 'job.usage';
      /** Deterministic: `${jobId}:${attempt}:${segment}`; the ledger ignores a repeat. */
      usageEventId: string;
      segment: number;
      meter: 'GPU_SECONDS' | 'CPU_SECONDS';
      /** Decimal string with millisecond precision, e.g. "12.345". */
      seconds: string;
      backend: TfjsBackend;
      gpuClass: string;
    })
  | (JobEventBase & { type: 'job.log'; level: 'info' | 'warn' | 'error'; message: string })
  | (JobEventBase & {
      type: 'job.succeeded';
      artifact: StoredObjectReport;
      metrics: EpochMetrics;
      epochs: number;
      backend: TfjsBackend;
      summary: ModelSummary;
      /** Distribution of the training data, for drift monitoring (absent from older workers). */
      baseline?: DriftBaseline;
    })
  | (JobEventBase & { type: 'job.failed'; error: string; willRetry: boolean })
  | (JobEventBase & { type: 'job.cancelled'; epoch: number });

export interface ModelSummary {
  baseModel: BaseModelId;
  /** `minLength`: for a series, the fewest points the model accepts (its window). */
  inputs: { name: string; kind: 'numeric' | 'categorical' | 'text' | 'series'; minLength?: number }[];
  target: { name: string; kind: 'classification' | 'regression' | 'forecast'; classes?: string[] };
  trainingRows: number;
  validationRows: number;
  parameters: number;
}

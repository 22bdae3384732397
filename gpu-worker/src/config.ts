import { hostname } from 'node:os';
import { z } from 'zod';
import { booleanFromEnv, ConfigError, DEV_MASTER_KEYS, storageEnvironment, storageSettings, StorageSettings } from '../../src/contracts/shared-environment';
import type { TfjsBackend } from '../../src/contracts/training';

/**
 * The worker's environment, parsed once. Names, formats and development defaults match the api's
 * (src/config/config.ts) so that a laptop running both shares one Redis, one object folder and one
 * master key ring without any setting. The api's module is not imported (the worker may depend on
 * src/contracts only); the settings both read are in src/contracts/shared-environment.ts.
 */

const BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly TfjsBackend[];

export const WORKER_ROLES = ['training', 'inference'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i).default('lutece'),
  WORKER_POOL: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must look like fr-par-a100').default('fr-par-cpu'),
  // Every pool is in France (DESIGN.md §4); a worker configured elsewhere must not start at all.
  WORKER_REGION: z.string().regex(/^fr-[a-z0-9-]+$/, 'must be a French region such as fr-par').default('fr-par'),
  WORKER_NODE: z.string().min(1).optional(),
  WORKER_GPU_MODEL: z.string().min(1).default('none'),
  WORKER_BACKEND: z.enum(BACKENDS).optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  WORKER_LOCK_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  WORKER_ROLES: z
    .string()
    .default('training,inference')
    .transform((raw) => [...new Set(raw.split(',').map((role) => role.trim()).filter(Boolean))])
    .pipe(z.array(z.enum(WORKER_ROLES)).min(1, 'must name at least one of training, inference')),
  // High: Bull hands a worker as many concurrent calls as this, and only calls that arrive together can be batched.
  WORKER_INFERENCE_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  WORKER_MAX_BATCH: z.coerce.number().int().min(1).max(4096).default(64),
  WORKER_BATCH_WAIT_MS: z.coerce.number().min(0).max(1000).default(2),
  // Unset or empty: no metrics server (the chart's network policies admit no ingress to workers).
  WORKER_METRICS_PORT: z.preprocess((raw) => (typeof raw === 'string' && raw.trim() === '' ? undefined : raw), z.coerce.number().int().min(0).max(65535).optional()),
  MASTER_KEYS: z.string().optional(),
  ...storageEnvironment,
});

export interface MasterKeyRing {
  /** Seals what the worker hands back (object secrets); the first entry of MASTER_KEYS. */
  activeId: string;
  keys: Map<string, Buffer>;
}

export interface WorkerConfig {
  env: 'development' | 'test' | 'production';
  logLevel: string;
  redisUrl: string;
  /** Prefix of the shared Redis keys (redisKeys in contracts). */
  redisPrefix: string;
  /** Bull's own prefix, the same as the api's BullModule.forRoot. */
  bullPrefix: string;
  pool: string;
  region: string;
  node: string;
  gpuModel: string;
  forcedBackend?: TfjsBackend;
  concurrency: number;
  lockSeconds: number;
  roles: WorkerRole[];
  serving: {
    /** Predict calls taken from `inference:<pool>` at once. */
    concurrency: number;
    /** Most rows in one coalesced `predict` (a larger single call still runs, alone). */
    maxBatchRows: number;
    /** How long the first call of a batch waits for others. */
    batchWaitMs: number;
  };
  /** Port of the Prometheus text endpoint (0: any free port, logged); undefined: none. */
  metricsPort?: number;
  masterKeys: MasterKeyRing;
  storage: StorageSettings;
}

export { ConfigError, DEV_MASTER_KEYS };

/** `id:base64key,id2:base64key2`, the first entry active; each key exactly 32 bytes (AES-256). */
export function parseMasterKeys(raw: string): MasterKeyRing {
  const entries = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError('MASTER_KEYS is empty');
  const keys = new Map<string, Buffer>();
  for (const entry of entries) {
    const separator = entry.indexOf(':');
    if (separator <= 0) throw new ConfigError('MASTER_KEYS: each entry must look like <id>:<base64 key>');
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== 32) throw new ConfigError(`MASTER_KEYS: key "${id}" must be exactly 32 bytes (AES-256)`);
    if (keys.has(id)) throw new ConfigError(`MASTER_KEYS: key id "${id}" appears twice`);
    keys.set(id, key);
  }
  return { activeId: entries[0].slice(0, entries[0].indexOf(':')), keys };
}

export function loadWorkerConfig(source: Record<string, string | undefined> = process.env): WorkerConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';
  if (isProduction) {
    const missing = (['REDIS_URL', 'MASTER_KEYS'] as const).filter((name) => !env[name]);
    if (missing.length > 0) throw new ConfigError(`Refusing to start in production without: ${missing.join(', ')}`);
  }
  // Unlike the api, the worker cannot start a Redis of its own: it must find the api's queues.
  if (!env.REDIS_URL) throw new ConfigError('REDIS_URL is required: the worker takes its jobs from the api\'s Redis');
  const redisUrl = env.REDIS_URL;
  const masterKeys = parseMasterKeys(env.MASTER_KEYS ?? DEV_MASTER_KEYS);
  if (isProduction && masterKeys.keys.has('dev')) throw new ConfigError('Refusing to start in production with the development keys');

  const node = env.WORKER_NODE ?? hostname();
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    redisUrl,
    redisPrefix: env.REDIS_PREFIX,
    bullPrefix: `${env.REDIS_PREFIX}:bull`,
    pool: env.WORKER_POOL,
    region: env.WORKER_REGION,
    node,
    gpuModel: env.WORKER_GPU_MODEL,
    forcedBackend: env.WORKER_BACKEND,
    concurrency: env.WORKER_CONCURRENCY,
    lockSeconds: env.WORKER_LOCK_SECONDS,
    roles: env.WORKER_ROLES,
    serving: { concurrency: env.WORKER_INFERENCE_CONCURRENCY, maxBatchRows: env.WORKER_MAX_BATCH, batchWaitMs: env.WORKER_BATCH_WAIT_MS },
    metricsPort: env.WORKER_METRICS_PORT,
    masterKeys,
    storage: storageSettings(env, node),
  };
}

/** Bull's stalled-job settings: a lock longer than any batch, checked often enough to recover a killed worker soon. */
export function bullSettings(config: Pick<WorkerConfig, 'lockSeconds'>): { lockDuration: number; stalledInterval: number; maxStalledCount: number } {
  const lockDuration = config.lockSeconds * 1000;
  return { lockDuration, stalledInterval: Math.min(30_000, Math.floor(lockDuration / 2)), maxStalledCount: 5 };
}

export const WORKER_ENVIRONMENT_VARIABLES = Object.keys(envSchema.shape);

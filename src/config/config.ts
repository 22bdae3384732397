import { hostname } from 'node:os';
import { z } from 'zod';
import { booleanFromEnv, ConfigError, DEV_MASTER_KEYS, storageEnvironment, storageSettings, StorageSettings } from '../contracts/shared-environment';

/**
 * The whole environment is parsed once, here, into a typed object. Nothing else in the code reads
 * process.env, so every setting is documented in one place (and mirrored in README.md).
 */

const DEV_JWT_KEY = 'dev:ZGV2ZWxvcG1lbnQtb25seS1qd3Qtc2lnbmluZy1rZXktMzItYnl0ZXM=';

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_APP_URL: z.string().url().optional(),
  DATABASE_APP_PASSWORD: z.string().min(1).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  MIGRATE_ON_START: booleanFromEnv.optional(),
  EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9_-]+$/i).default('lutece'),
  JWT_SIGNING_KEYS: z.string().optional(),
  MASTER_KEYS: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(90 * 86400).default(30 * 86400),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).default(10),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(5000),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).default(15),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  TRUST_PROXY: booleanFromEnv.default(false),
  ...storageEnvironment,
  MAX_UPLOAD_BYTES: z.coerce.number().int().min(1024).default(512 * 1024 * 1024),
  RETENTION_SWEEP_SECONDS: z.coerce.number().int().min(1).default(3600),
  GPU_POOLS: z.string().optional(),
  WORKERS: z.coerce.number().int().min(0).max(16).default(1),
  RECONCILE_SECONDS: z.coerce.number().int().min(1).default(30),
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  PREDICT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  MAX_PREDICT_ROWS: z.coerce.number().int().min(1).max(100000).default(1000),
  PREDICT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
  DRIFT_WINDOW_SECONDS: z.coerce.number().int().min(10).default(3600),
  DRIFT_MIN_ROWS: z.coerce.number().int().min(1).default(500),
  PRICE_BOOK: z.string().optional(),
});

export type Environment = z.input<typeof envSchema>;

export interface SigningKey {
  id: string;
  secret: Buffer;
}

export interface AppConfig {
  env: 'development' | 'test' | 'production';
  isProduction: boolean;
  port: number;
  host: string;
  logLevel: string;
  database: {
    /** Owner connection: runs migrations. Absent means "start an embedded PostgreSQL". */
    ownerUrl?: string;
    /** Runtime connection as the non-owner role that row-level security applies to. */
    appUrl?: string;
    appRolePassword: string;
    poolSize: number;
    migrateOnStart: boolean;
    embedded: { dir: string; port: number };
  };
  redisUrl?: string;
  /** Namespaces every Redis key (rate limits, queues), so several deployments can share a Redis. */
  redisPrefix: string;
  auth: {
    signingKeys: SigningKey[];
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    loginMaxFailuresPerAccount: number;
    loginMaxFailuresPerIp: number;
    loginFailureWindowSeconds: number;
  };
  masterKeys: { activeId: string; keys: Map<string, Buffer> };
  graphql: { maxDepth: number; maxCost: number; maxAliases: number; bodyLimitBytes: number };
  trustProxy: boolean;
  storage: StorageSettings;
  datasets: { maxUploadBytes: number; retentionSweepSeconds: number };
  training: { pools: GpuPool[]; localWorkers: number; reconcileSeconds: number; jobAttempts: number };
  serving: { rateLimitPerMinute: number; maxRows: number; timeoutSeconds: number; driftWindowSeconds: number; driftMinRows: number };
  priceBook: PriceBookEntry[];
}

export { ConfigError };

export interface GpuPool {
  id: string;
  /** All pools are in France (fr-*); residency rules decide which a tenant may use. */
  region: string;
  gpuClass: string;
  priceClass: string;
  /** A pool dedicated to one tenant (e.g. an HDS-certified health tenant) serves only it. */
  dedicatedTenantId: string | null;
}

const gpuPoolSchema = z.array(
  z.object({
    id: z.string().regex(/^[a-z0-9-]{3,40}$/),
    region: z.string().regex(/^fr-[a-z0-9-]+$/, 'GPU pools must be in a French region (fr-*)'),
    gpuClass: z.string().min(1),
    priceClass: z.string().default('standard'),
    dedicatedTenantId: z.string().uuid().nullable().default(null),
  }),
);

export interface PriceBookEntry {
  meter: 'GPU_SECONDS' | 'CPU_SECONDS' | 'PREDICTIONS' | 'STORAGE_GB_HOURS';
  /** Empty: any GPU class (and meters without one). */
  gpuClass: string;
  /** Integer micro-euros per unit. */
  unitPriceMicroEur: number;
  effectiveFrom: Date;
}

/** Default prices (micro-euros per unit), in force since the epoch unless PRICE_BOOK says otherwise. */
export const DEFAULT_PRICE_BOOK = [
  { meter: 'GPU_SECONDS', gpuClass: 'H100', unitPriceMicroEur: 2200 },
  { meter: 'GPU_SECONDS', gpuClass: 'A100', unitPriceMicroEur: 1250 },
  { meter: 'GPU_SECONDS', gpuClass: 'L40S', unitPriceMicroEur: 520 },
  { meter: 'GPU_SECONDS', gpuClass: 'L4', unitPriceMicroEur: 230 },
  { meter: 'GPU_SECONDS', gpuClass: 'T4', unitPriceMicroEur: 150 },
  { meter: 'GPU_SECONDS', gpuClass: '', unitPriceMicroEur: 230 },
  { meter: 'CPU_SECONDS', gpuClass: '', unitPriceMicroEur: 12 },
  { meter: 'PREDICTIONS', gpuClass: '', unitPriceMicroEur: 20 },
  { meter: 'STORAGE_GB_HOURS', gpuClass: '', unitPriceMicroEur: 40 },
];

const priceBookSchema = z.array(
  z.object({
    meter: z.enum(['GPU_SECONDS', 'CPU_SECONDS', 'PREDICTIONS', 'STORAGE_GB_HOURS']),
    gpuClass: z.string().default(''),
    unitPriceMicroEur: z.number().int().min(0),
    effectiveFrom: z.coerce.date().default(new Date(0)),
  }),
);

export function parsePriceBook(raw: string | undefined): PriceBookEntry[] {
  let json: unknown = DEFAULT_PRICE_BOOK;
  if (raw) {
    try {
      json = JSON.parse(raw);
    } catch {
      throw new ConfigError('PRICE_BOOK must be a JSON array of prices');
    }
  }
  const parsed = priceBookSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`PRICE_BOOK: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The laptop default: one shared pool, served by the local worker `npm start` runs. */
export const DEFAULT_GPU_POOLS = '[{"id":"fr-par-l4","region":"fr-par","gpuClass":"L4","priceClass":"standard"}]';

export function parseGpuPools(raw: string | undefined): GpuPool[] {
  let json: unknown;
  try {
    json = JSON.parse(raw ?? DEFAULT_GPU_POOLS);
  } catch {
    throw new ConfigError('GPU_POOLS must be a JSON array of pools');
  }
  const parsed = gpuPoolSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`GPU_POOLS: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ids = parsed.data.map((p) => p.id);
  if (new Set(ids).size !== ids.length) throw new ConfigError('GPU_POOLS: pool ids must be unique');
  if (ids.length === 0) throw new ConfigError('GPU_POOLS: at least one pool is required');
  return parsed.data.map((p) => ({ ...p, dedicatedTenantId: p.dedicatedTenantId?.toLowerCase() ?? null }));
}

/** Parses `id:base64key,id2:base64key2`; the first entry is the active one. */
export function parseKeyRing(name: string, raw: string, minBytes: number): SigningKey[] {
  const entries = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError(`${name} is empty`);
  const seen = new Set<string>();
  return entries.map((entry) => {
    const separator = entry.indexOf(':');
    if (separator <= 0) throw new ConfigError(`${name}: each entry must look like <id>:<base64 key>`);
    const id = entry.slice(0, separator);
    const secret = Buffer.from(entry.slice(separator + 1), 'base64');
    if (secret.length < minBytes) throw new ConfigError(`${name}: key "${id}" must be at least ${minBytes} bytes`);
    if (seen.has(id)) throw new ConfigError(`${name}: key id "${id}" appears twice`);
    seen.add(id);
    return { id, secret };
  });
}

export function loadConfig(source: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const env = parsed.data;
  const isProduction = env.NODE_ENV === 'production';

  if (isProduction) {
    const missing = (['DATABASE_URL', 'DATABASE_APP_URL', 'REDIS_URL', 'JWT_SIGNING_KEYS', 'MASTER_KEYS'] as const).filter(
      (name) => !env[name],
    );
    // DATABASE_URL (the owner) is only needed where migrations run, i.e. the migration job.
    const required = env.MIGRATE_ON_START === false ? missing.filter((m) => m !== 'DATABASE_URL') : missing;
    if (required.length > 0) {
      throw new ConfigError(`Refusing to start in production without: ${required.join(', ')}`);
    }
  }

  const signingKeys = parseKeyRing('JWT_SIGNING_KEYS', env.JWT_SIGNING_KEYS ?? DEV_JWT_KEY, 32);
  const masterKeyList = parseKeyRing('MASTER_KEYS', env.MASTER_KEYS ?? DEV_MASTER_KEYS, 32);
  for (const key of masterKeyList) {
    if (key.secret.length !== 32) throw new ConfigError(`MASTER_KEYS: key "${key.id}" must be exactly 32 bytes (AES-256)`);
  }
  if (isProduction && (signingKeys.some((k) => k.id === 'dev') || masterKeyList.some((k) => k.id === 'dev'))) {
    throw new ConfigError('Refusing to start in production with the development keys');
  }


  return {
    env: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    database: {
      ownerUrl: env.DATABASE_URL,
      appUrl: env.DATABASE_APP_URL,
      appRolePassword: env.DATABASE_APP_PASSWORD ?? 'lutece_app_dev_password',
      poolSize: env.DATABASE_POOL_SIZE,
      migrateOnStart: env.MIGRATE_ON_START ?? true,
      embedded: { dir: env.EMBEDDED_PG_DIR, port: env.EMBEDDED_PG_PORT },
    },
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    auth: {
      signingKeys,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      loginMaxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      loginMaxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      loginFailureWindowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
    },
    masterKeys: {
      activeId: masterKeyList[0].id,
      keys: new Map(masterKeyList.map((k) => [k.id, k.secret])),
    },
    graphql: {
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxCost: env.GRAPHQL_MAX_COST,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
    },
    trustProxy: env.TRUST_PROXY,
    storage: storageSettings(env, hostname()),
    datasets: { maxUploadBytes: env.MAX_UPLOAD_BYTES, retentionSweepSeconds: env.RETENTION_SWEEP_SECONDS },
    training: {
      pools: parseGpuPools(env.GPU_POOLS),
      localWorkers: env.WORKERS,
      reconcileSeconds: env.RECONCILE_SECONDS,
      jobAttempts: env.JOB_ATTEMPTS,
    },
    serving: {
      rateLimitPerMinute: env.PREDICT_RATE_LIMIT_PER_MINUTE,
      maxRows: env.MAX_PREDICT_ROWS,
      timeoutSeconds: env.PREDICT_TIMEOUT_SECONDS,
      driftWindowSeconds: env.DRIFT_WINDOW_SECONDS,
      driftMinRows: env.DRIFT_MIN_ROWS,
    },
    priceBook: parsePriceBook(env.PRICE_BOOK),
  };
}

/** The names every component reads; the configuration-parity test compares this list with README.md. */
export const ENVIRONMENT_VARIABLES = Object.keys(envSchema.shape);

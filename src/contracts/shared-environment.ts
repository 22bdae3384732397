import { z } from 'zod';

/**
 * Environment settings the api and the gpu-worker both read, parsed the same way, so a laptop
 * running both shares one object store and one master key ring without any setting. The worker
 * may import src/contracts only, which is why this lives here and not in src/config.
 */

export class ConfigError extends Error {}

/** The development master key ring: a dataset the api wrote with it must open in the worker. */
export const DEV_MASTER_KEYS = 'dev:ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYnk=';

export const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const storageEnvironment = {
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_DIR: z.string().default('.data/objects'),
  STORAGE_REGION: z.string().regex(/^[a-z]{2}-[a-z0-9-]+$/, 'must look like fr-par').default('fr-par'),
  STORAGE_NODE: z.string().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('fr-par'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: booleanFromEnv.default(true),
};

type StorageEnvironment = z.infer<z.ZodObject<typeof storageEnvironment>>;

export interface StorageSettings {
  driver: 'local' | 's3';
  dir: string;
  region: string;
  node: string;
  s3?: { endpoint?: string; bucket: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };
}

/** `defaultNode` names this machine in object records when STORAGE_NODE is unset. */
export function storageSettings(env: StorageEnvironment, defaultNode: string): StorageSettings {
  if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET) throw new ConfigError('STORAGE_DRIVER=s3 needs S3_BUCKET');
  return {
    driver: env.STORAGE_DRIVER,
    dir: env.STORAGE_DIR,
    region: env.STORAGE_REGION,
    node: env.STORAGE_NODE ?? defaultNode,
    s3:
      env.STORAGE_DRIVER === 's3'
        ? {
            endpoint: env.S3_ENDPOINT,
            bucket: env.S3_BUCKET!,
            region: env.S3_REGION,
            accessKeyId: env.S3_ACCESS_KEY_ID,
            secretAccessKey: env.S3_SECRET_ACCESS_KEY,
            forcePathStyle: env.S3_FORCE_PATH_STYLE,
          }
        : undefined,
  };
}

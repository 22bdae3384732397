import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bullSettings, ConfigError, DEV_MASTER_KEYS, loadWorkerConfig, parseMasterKeys, WORKER_ENVIRONMENT_VARIABLES } from './config';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('worker configuration', () => {
  it('applies the defaults the api uses, with the Bull prefix under REDIS_PREFIX', () => {
    const config = loadWorkerConfig({ REDIS_URL: 'redis://127.0.0.1:6379', WORKER_NODE: 'gpu-01' });
    expect(config).toMatchObject({
      redisPrefix: 'lutece',
      bullPrefix: 'lutece:bull',
      pool: 'fr-par-cpu',
      region: 'fr-par',
      node: 'gpu-01',
      gpuModel: 'none',
      concurrency: 1,
      lockSeconds: 120,
      storage: { driver: 'local', dir: '.data/objects', region: 'fr-par', node: 'gpu-01' },
    });
    expect(config.forcedBackend).toBeUndefined();
    expect(config.masterKeys.activeId).toBe('dev');
  });

  it('needs REDIS_URL, and in production real master keys too', () => {
    expect(() => loadWorkerConfig({})).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379' })).toThrow('Refusing to start in production without: MASTER_KEYS');
    expect(() => loadWorkerConfig({ NODE_ENV: 'production', MASTER_KEYS: `k1:${KEY}` })).toThrow('REDIS_URL');
    expect(() => loadWorkerConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', MASTER_KEYS: DEV_MASTER_KEYS })).toThrow('development keys');
    expect(loadWorkerConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', MASTER_KEYS: `k1:${KEY}` }).masterKeys.activeId).toBe('k1');
  });

  it('refuses a region outside France, an unknown backend and a bad key ring', () => {
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_REGION: 'de-fra' })).toThrow('WORKER_REGION');
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_BACKEND: 'webgl' })).toThrow('WORKER_BACKEND');
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_BACKEND: 'cpu' }).forcedBackend).toBe('cpu');
    expect(() => parseMasterKeys(`a:${Buffer.alloc(16).toString('base64')}`)).toThrow('exactly 32 bytes');
    expect(() => parseMasterKeys(`a:${KEY},a:${KEY}`)).toThrow('appears twice');
    expect(() => parseMasterKeys('nokey')).toThrow('<id>:<base64 key>');
    const ring = parseMasterKeys(`new:${KEY}, old:${Buffer.alloc(32, 1).toString('base64')}`);
    expect(ring.activeId).toBe('new');
    expect([...ring.keys.keys()]).toEqual(['new', 'old']);
  });

  it('trains and serves by default, with 64 concurrent calls batched up to 64 rows after 2 ms, and no metrics server', () => {
    const config = loadWorkerConfig({ REDIS_URL: 'redis://r' });
    expect(config.roles).toEqual(['training', 'inference']);
    expect(config.serving).toEqual({ concurrency: 64, maxBatchRows: 64, batchWaitMs: 2 });
    expect(config.metricsPort).toBeUndefined();
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_METRICS_PORT: '' }).metricsPort).toBeUndefined();
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_ROLES: ' inference ,inference' }).roles).toEqual(['inference']);
    expect(loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_MAX_BATCH: '128', WORKER_BATCH_WAIT_MS: '0.5' }).serving).toMatchObject({ maxBatchRows: 128, batchWaitMs: 0.5 });
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_ROLES: 'serving' })).toThrow('WORKER_ROLES');
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_ROLES: '' })).toThrow('WORKER_ROLES');
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_MAX_BATCH: '0' })).toThrow('WORKER_MAX_BATCH');
    expect(() => loadWorkerConfig({ REDIS_URL: 'redis://r', WORKER_METRICS_PORT: 'http' })).toThrow('WORKER_METRICS_PORT');
  });

  it('derives Bull stalled-job settings from the lock duration', () => {
    expect(bullSettings({ lockSeconds: 120 })).toEqual({ lockDuration: 120_000, stalledInterval: 30_000, maxStalledCount: 5 });
    expect(bullSettings({ lockSeconds: 4 })).toEqual({ lockDuration: 4000, stalledInterval: 2000, maxStalledCount: 5 });
  });
});

describe('worker documentation', () => {
  it('documents every environment variable the worker reads', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const undocumented = WORKER_ENVIRONMENT_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});

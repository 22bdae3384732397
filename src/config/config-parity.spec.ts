import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWorkerConfig } from '../../gpu-worker/src/config';
import { ENVIRONMENT_VARIABLES, loadConfig } from './config';

describe('configuration parity', () => {
  it('documents every environment variable the api reads in the README table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = ENVIRONMENT_VARIABLES.filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('gives the api and a worker on the same machine the same object store and master keys', () => {
    const environments: Record<string, string | undefined>[] = [
      {},
      { STORAGE_DRIVER: 's3', S3_BUCKET: 'lutece-fr', S3_ENDPOINT: 'https://s3.fr-par.example', STORAGE_REGION: 'fr-par', S3_FORCE_PATH_STYLE: 'no' },
    ];
    for (const environment of environments) {
      const api = loadConfig(environment);
      const worker = loadWorkerConfig({ ...environment, REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(worker.storage).toEqual(api.storage);
      expect(worker.masterKeys.activeId).toBe(api.masterKeys.activeId);
      expect(worker.masterKeys.keys).toEqual(api.masterKeys.keys);
    }
  });

  it('refuses S3 without a bucket in both', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow('S3_BUCKET');
    expect(() => loadWorkerConfig({ STORAGE_DRIVER: 's3', REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow('S3_BUCKET');
  });
});

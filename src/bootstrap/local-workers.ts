import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RuntimeConfig } from '../config/runtime-config';

export interface LocalWorkers {
  stop(): Promise<void>;
}

const WORKER_ENTRY = join(__dirname, '..', '..', 'gpu-worker', 'src', 'main.js');

/**
 * `npm start` gives the whole platform on a laptop: beside the api it runs WORKERS gpu-worker
 * processes on the first pool, sharing Redis, the object store and the master key ring.
 * Production runs workers as their own Deployments (helm/) and sets WORKERS=0.
 */
export function startLocalWorkers(config: RuntimeConfig, log: (m: string) => void): LocalWorkers {
  const count = config.training.localWorkers;
  if (count === 0) return { stop: async () => undefined };
  if (!existsSync(WORKER_ENTRY)) {
    log(`no local worker: ${WORKER_ENTRY} is missing (run npm run build)`);
    return { stop: async () => undefined };
  }
  const pool = config.training.pools[0];
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: {
        ...process.env,
        REDIS_URL: config.redisUrl,
        REDIS_PREFIX: config.redisPrefix,
        WORKER_POOL: pool.id,
        WORKER_REGION: pool.region,
        WORKER_NODE: `local-worker-${i + 1}`,
        STORAGE_DRIVER: config.storage.driver,
        STORAGE_DIR: resolve(config.storage.dir),
        STORAGE_REGION: config.storage.region,
        LOG_LEVEL: config.logLevel,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) log(`local gpu-worker ${i + 1} exited with code ${code}`);
    });
    children.push(child);
  }
  log(`started ${count} local gpu-worker(s) on pool ${pool.id}`);
  const stopAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  process.once('exit', stopAll);
  return {
    stop: async () => {
      stopAll();
      await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    },
  };
}

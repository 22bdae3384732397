import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { redisKeys, WORKER_REGISTRATION_TTL_SECONDS } from '../../src/contracts/training';
import { TEST_REDIS_URL } from '../support/services';
import { read, ROOT } from './support/chart';

/**
 * The container images, checked without a Docker daemon: the Dockerfiles' conventions, that what
 * they copy exists, and the worker's health check (the image HEALTHCHECK and the chart's probes)
 * against a real Redis. Building the images is left to CI with Docker (docs/DEPLOYMENT.md §3).
 */

const DOCKERFILES = ['Dockerfile', 'gpu-worker/Dockerfile', 'gpu-worker/Dockerfile.cpu'];

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(file: string): string[] {
  return read(...file.split('/'))
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

function argDefaults(file: string): Map<string, string> {
  return new Map(
    instructions(file)
      .filter((i) => i.startsWith('ARG ') && i.includes('='))
      .map((i) => {
        const [name, value] = i.slice(4).split('=');
        return [name.trim(), value.trim().replace(/^"|"$/g, '')];
      }),
  );
}

describe.each(DOCKERFILES)('%s', (file) => {
  const steps = instructions(file);
  const from = steps.filter((s) => s.startsWith('FROM '));

  it('is a multi-stage build on pinned base images', () => {
    expect(from.length).toBeGreaterThanOrEqual(3);
    const defaults = argDefaults(file);
    for (const step of from) {
      const image = step.split(/\s+/)[1];
      const resolved = image.replace(/^\$\{(\w+)\}$/, (_m, name: string) => defaults.get(name) ?? image);
      // Either an earlier stage, or an external image pinned to an exact version (never latest).
      if (!resolved.includes(':') && !resolved.includes('@')) continue;
      expect([step, resolved]).toEqual([step, expect.stringMatching(/:(\d+\.\d+\.\d+[\w.-]*)(@sha256:[a-f0-9]{64})?$|@sha256:[a-f0-9]{64}$/)]);
      expect(resolved).not.toMatch(/:latest$/);
    }
  });

  it('runs the final stage as a numeric non-root user, with a HEALTHCHECK', () => {
    const finalStage = steps.slice(steps.lastIndexOf(from[from.length - 1]));
    const user = finalStage.filter((s) => s.startsWith('USER ')).pop();
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(finalStage.some((s) => s.startsWith('HEALTHCHECK ') && s.includes('CMD'))).toBe(true);
    expect(finalStage.some((s) => s.startsWith('CMD ["node"'))).toBe(true);
  });

  it('ships production dependencies only, installed from the lockfile without unreviewed scripts', () => {
    expect(steps.some((s) => /npm ci --omit=dev --ignore-scripts/.test(s))).toBe(true);
    expect(steps.some((s) => /npm install (?!-g)/.test(s))).toBe(false);
    // npm 11 (allowScripts), as on the developers' machines.
    expect(steps.some((s) => /npm install -g "npm@\$\{NPM_VERSION\}"/.test(s))).toBe(true);
    expect(argDefaults(file).get('NPM_VERSION')).toMatch(/^11\./);
  });

  it('copies only files that exist in the repository', () => {
    for (const step of steps.filter((s) => s.startsWith('COPY ') && !s.includes('--from='))) {
      const sources = step.slice(5).split(/\s+/).slice(0, -1);
      for (const source of sources) expect([step, existsSync(join(ROOT, source))]).toEqual([step, true]);
    }
  });
});

describe('GPU worker image', () => {
  const dockerfile = read('gpu-worker', 'Dockerfile');

  it('uses a CUDA 11.2 / cuDNN 8 runtime base, as tfjs-node-gpu 4.22 (libtensorflow 2.9.1) needs', () => {
    const manifest = JSON.parse(read('package.json'));
    expect(manifest.optionalDependencies['@tensorflow/tfjs-node-gpu']).toBe('4.22.0'); // revisit the CUDA base when this changes
    expect(argDefaults('gpu-worker/Dockerfile').get('CUDA_IMAGE')).toMatch(/^nvidia\/cuda:11\.2\.\d+-cudnn8-runtime-ubuntu\d+\.\d+$/);
  });

  it('approves and runs the tfjs-node-gpu install script at build time, and says why', () => {
    expect(dockerfile).toMatch(/RUN npm install-scripts approve @tensorflow\/tfjs-node-gpu/);
    expect(dockerfile).toMatch(/npm rebuild @tensorflow\/tfjs-node-gpu/);
    expect(dockerfile).toMatch(/# Why `npm install-scripts approve` here: npm 11 gates dependency install scripts on the\s*\n# `allowScripts` field/);
    expect(dockerfile).toMatch(/downloads libtensorflow/);
    // The project itself does not approve it: laptops and CI cannot download libtensorflow.
    expect(Object.keys(JSON.parse(read('package.json')).allowScripts ?? {}).some((k) => k.startsWith('@tensorflow/tfjs-node-gpu'))).toBe(false);
  });
});

describe('CPU worker image', () => {
  it('uses the wasm backend and no native TensorFlow', () => {
    const dockerfile = read('gpu-worker', 'Dockerfile.cpu');
    expect(dockerfile).toMatch(/WORKER_BACKEND=wasm/);
    expect(dockerfile).toMatch(/rm -rf node_modules\/@tensorflow\/tfjs-node node_modules\/@tensorflow\/tfjs-node-gpu/);
    expect(dockerfile).not.toMatch(/nvidia\/cuda/);
  });
});

describe('.dockerignore', () => {
  it('keeps local data, secrets and installed modules out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules/', '.data/', '.env', '.env.*', '.git/', 'dist/']) expect(ignored).toContain(entry);
    // ...but not what the images copy.
    for (const needed of ['src', 'migrations', 'gpu-worker/src', 'package.json', 'package-lock.json']) expect(ignored).not.toContain(needed);
  });
});

describe('worker health check (HEALTHCHECK and the chart probes)', () => {
  const run = promisify(execFile);
  const script = join(ROOT, 'gpu-worker', 'healthcheck.cjs');
  const prefix = `helmcheck-${process.pid}`;
  let redis: Redis;

  async function check(env: Record<string, string>): Promise<number> {
    try {
      await run(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15000 });
      return 0;
    } catch (error) {
      return (error as { code?: number }).code ?? -1;
    }
  }

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('passes when the worker of this node is registered, as the worker registers itself', async () => {
    const node = 'lutece-worker-fr-par-l4-5d9c7-x2k8q';
    const info = { workerId: `${node}-1a2b3c4d`, poolId: 'fr-par-l4', region: 'fr-par', node, gpuModel: 'NVIDIA-L4', backend: 'tensorflow-gpu', version: '0.1.0', startedAt: new Date().toISOString() };
    await redis.set(redisKeys.worker(prefix, info.workerId), JSON.stringify(info), 'EX', WORKER_REGISTRATION_TTL_SECONDS);
    expect(await check({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, WORKER_NODE: node })).toBe(0);
  });

  it('fails when Redis answers and this worker is not registered (its heartbeat died)', async () => {
    expect(await check({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, WORKER_NODE: 'lutece-worker-fr-par-l4-5d9c7-zzzzz' })).toBe(1);
    // Another worker whose node name merely starts with this one's does not count.
    expect(await check({ REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, WORKER_NODE: 'lutece-worker-fr-par-l4' })).toBe(1);
  });

  it('passes when Redis is unreachable: restarting every worker would not bring Redis back', async () => {
    expect(await check({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: prefix, WORKER_NODE: 'any' })).toBe(0);
  });

  it('fails without REDIS_URL', async () => {
    expect(await check({ REDIS_PREFIX: prefix })).toBe(1);
  });
});

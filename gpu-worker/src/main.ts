import Bull, { type Job } from 'bull';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { trainingQueueName, WORKER_EVENTS_QUEUE, type WorkerInfo } from '../../src/contracts/training';
import { BackendLease, selectBackends } from './backend';
import { bullSettings, ConfigError, loadWorkerConfig } from './config';
import { QueueEventSink } from './events';
import { createLogger } from './logger';
import { createObjectStore } from './object-store';
import { WorkerRegistration } from './registration';
import { TrainingRunner } from './training-runner';

/** How long a stopping worker waits for its jobs to reach a batch boundary or finish their final write. */
const SHUTDOWN_GRACE_MS = 20_000;

function packageVersion(): string {
  // From gpu-worker/src under ts-node/jest, or dist/gpu-worker/src once built: the first package.json up.
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  }
  return 'unknown';
}

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const workerId = `${config.node}-${randomUUID().slice(0, 8)}`;
  const logger = createLogger(config.logLevel, { workerId, pool: config.pool });

  const backends = await selectBackends(config.forcedBackend);
  logger.info({ backend: backends.primary, families: Object.fromEntries(backends.families), skipped: backends.skipped }, `training backend: ${backends.primary}`);

  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const eventsQueue = new Bull(WORKER_EVENTS_QUEUE, config.redisUrl, { prefix: config.bullPrefix });
  const trainingQueue = new Bull(trainingQueueName(config.pool), config.redisUrl, { prefix: config.bullPrefix, settings: bullSettings(config) });
  for (const queue of [eventsQueue, trainingQueue]) queue.on('error', (error) => logger.error({ errorName: error.name, queue: queue.name }, 'queue error'));
  const events = new QueueEventSink(eventsQueue);

  const info: WorkerInfo = {
    workerId,
    poolId: config.pool,
    region: config.region,
    node: config.node,
    gpuModel: config.gpuModel,
    backend: backends.primary,
    version: packageVersion(),
    startedAt: new Date().toISOString(),
  };
  const registration = new WorkerRegistration(redis, config.redisPrefix, info, events, logger);
  await registration.start();

  const runner = new TrainingRunner({
    redis,
    redisPrefix: config.redisPrefix,
    store: createObjectStore(config.storage),
    masterKeys: config.masterKeys,
    events,
    lease: new BackendLease(),
    familyBackends: backends.families,
    worker: { workerId, node: config.node, region: config.region, pool: config.pool },
    logger,
  });

  const stopping = new AbortController();
  const running = new Set<Promise<unknown>>();
  const released = new Set<Job>();

  trainingQueue
    .process(config.concurrency, async (job: Job) => {
      const outcome = runner.run(job, stopping.signal);
      running.add(outcome);
      try {
        const result = await outcome;
        if (result !== 'released') return { outcome: result };
        released.add(job);
      } finally {
        running.delete(outcome);
      }
      // Never settles: a result would complete the job, an error would spend one of its attempts.
      // The lock is released at shutdown so the stalled-job check hands it to another worker.
      return new Promise<never>(() => undefined);
    })
    .catch((error: Error) => logger.error({ errorName: error.name }, 'the training queue stopped'));

  logger.info(`gpu-worker ready pool=${config.pool} backend=${backends.primary}`);

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping.signal.aborted) return;
    logger.info({ signal, runningJobs: running.size }, 'stopping: no new jobs, running ones stop at their next batch');
    stopping.abort();
    await trainingQueue.pause(true, true).catch(() => undefined);
    await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS))]);
    await Promise.all([...released].map((job) => job.releaseLock().catch(() => undefined)));
    await trainingQueue.close(true).catch(() => undefined);
    await registration.stop();
    await eventsQueue.close().catch(() => undefined);
    redis.disconnect();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: Error) => {
  // Nothing tenant-related exists before the first job: startup errors (configuration, Redis,
  // backend) are printed as they are, for the operator.
  process.stderr.write(`gpu-worker: ${error instanceof ConfigError ? '' : 'startup failed: '}${error.message}\n`);
  process.exit(1);
});

import Bull, { type Job } from 'bull';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { inferenceQueueName, trainingQueueName, WORKER_EVENTS_QUEUE, type WorkerInfo } from '../../src/contracts/training';
import { BackendLease, selectBackends } from './backend';
import { bullSettings, ConfigError, loadWorkerConfig } from './config';
import { QueueEventSink } from './events';
import { createLogger } from './logger';
import { createObjectStore } from './object-store';
import { WorkerRegistration } from './registration';
import { InferenceServer } from './serving/inference-server';
import { ServingMetrics, startMetricsServer } from './serving/metrics';
import { ModelVersions } from './serving/model-versions';
import { ServingKeys } from './serving/serving-keys';
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
  const trains = config.roles.includes('training');
  const serves = config.roles.includes('inference');
  const trainingQueue = trains ? new Bull(trainingQueueName(config.pool), config.redisUrl, { prefix: config.bullPrefix, settings: bullSettings(config) }) : undefined;
  // Bull's default lock (30 s) far exceeds any predict call; a killed worker's calls time out at the api.
  const inferenceQueue = serves ? new Bull(inferenceQueueName(config.pool), config.redisUrl, { prefix: config.bullPrefix }) : undefined;
  const queues = [eventsQueue, trainingQueue, inferenceQueue].filter((queue): queue is Bull.Queue => queue !== undefined);
  for (const queue of queues) queue.on('error', (error) => logger.error({ errorName: error.name, queue: queue.name }, 'queue error'));
  const events = new QueueEventSink(eventsQueue);
  const store = createObjectStore(config.storage);
  const lease = new BackendLease();

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
    store,
    masterKeys: config.masterKeys,
    events,
    lease,
    familyBackends: backends.families,
    worker: { workerId, node: config.node, region: config.region, pool: config.pool },
    logger,
  });

  const stopping = new AbortController();
  const running = new Set<Promise<unknown>>();
  const released = new Set<Job>();

  trainingQueue
    ?.process(config.concurrency, async (job: Job) => {
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

  let serving: InferenceServer | undefined;
  let metricsServer: Server | undefined;
  if (inferenceQueue) {
    const metrics = new ServingMetrics();
    const versions = new ModelVersions({ store, masterKeys: config.masterKeys, familyBackends: backends.families, lease, batching: config.serving, metrics });
    serving = new InferenceServer({ workerId, versions, keys: new ServingKeys(redis, config.redisPrefix, config.pool, workerId), metrics, logger });
    serving.start();
    const server = serving;
    inferenceQueue
      .process(config.serving.concurrency, (job: Job) => server.handle(job.data))
      .catch((error: Error) => logger.error({ errorName: error.name }, 'the inference queue stopped'));
    if (config.metricsPort !== undefined) {
      const listening = await startMetricsServer(metrics, config.metricsPort);
      metricsServer = listening.server;
      logger.info(`metrics on port ${listening.port}`);
    }
  }

  logger.info(`gpu-worker ready pool=${config.pool} backend=${backends.primary} roles=${config.roles.join(',')}`);

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping.signal.aborted) return;
    logger.info({ signal, runningJobs: running.size }, 'stopping: no new jobs, running ones stop at their next batch');
    stopping.abort();
    // No new calls: the ones already taken finish (they are short), then replica keys go.
    await inferenceQueue?.close().catch(() => undefined);
    await serving?.stop();
    metricsServer?.close();
    await trainingQueue?.pause(true, true).catch(() => undefined);
    await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS))]);
    await Promise.all([...released].map((job) => job.releaseLock().catch(() => undefined)));
    await trainingQueue?.close(true).catch(() => undefined);
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

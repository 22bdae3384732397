import type * as tf from '@tensorflow/tfjs';
import type Redis from 'ioredis';
import type { ModelArtifact } from '../../src/contracts/model-artifact';
import type { ObjectStore } from '../../src/contracts/object-store';
import {
  meterForBackend,
  redisKeys,
  type CheckpointPointer,
  type EpochMetrics,
  type TfjsBackend,
  type TrainingJobPayload,
} from '../../src/contracts/training';
import { modelFromArtifact, modelToArtifact, parseArtifact, serializeArtifact } from './artifact';
import type { BackendLease } from './backend';
import { driftBaseline } from './baseline';
import { CancelWatch } from './cancel-watch';
import type { MasterKeyRing } from './config';
import { parseDataset, type Table } from './datasets';
import { isPermanent, JobError, safeMessage } from './errors';
import { JobReporter, type EventSink } from './events';
import { FAMILIES } from './families';
import type { Logger } from './logger';
import { formatSeconds, usageEventId } from './metering';
import { JobObjects } from './objects';
import { jobIdentity, parsePayload } from './payload';
import { createSession, disposeSession, runEpoch, summarize, type TrainingSession } from './training';

/** Terminal keys are kept this long, so a stray redelivery still finds the attempt counter. */
const FINISHED_KEY_TTL_SECONDS = 30 * 86400;

export interface RunnerContext {
  redis: Redis;
  redisPrefix: string;
  store: ObjectStore;
  masterKeys: MasterKeyRing;
  events: EventSink;
  lease: BackendLease;
  /** The backend each family trains on here (from the startup probe). */
  familyBackends: ReadonlyMap<string, TfjsBackend>;
  worker: { workerId: string; node: string; region: string; pool: string };
  logger: Logger;
}

/** The parts of a Bull job the runner uses. */
export interface QueuedJob {
  data: unknown;
  attemptsMade: number;
  opts: { attempts?: number };
  discard(): void;
}

/**
 * `released`: the worker is stopping; the job stays active without a result, so Bull hands it to
 * another worker, which resumes from the last checkpoint.
 */
export type RunOutcome = 'succeeded' | 'cancelled' | 'released';

/** Where the model comes from: a checkpoint of this job, a base model version, or nothing (new weights). */
interface StartingPoint {
  artifact: ModelArtifact;
  model: tf.LayersModel;
}

interface ResumePoint extends StartingPoint {
  pointer: CheckpointPointer;
}

/** One attempt of one training job, from the payload to job.succeeded (or cancelled, failed, released). */
export class TrainingRunner {
  constructor(private readonly context: RunnerContext) {}

  async run(job: QueuedJob, stopping: AbortSignal): Promise<RunOutcome> {
    const { redis, redisPrefix, logger } = this.context;
    const identity = jobIdentity(job.data);
    if (!identity) {
      logger.error('a training job without jobId/tenantId was discarded');
      job.discard();
      throw new JobError('the job payload is invalid (jobId, tenantId)', true);
    }
    const attempt = await redis.incr(redisKeys.attempt(redisPrefix, identity.jobId));
    const reporter = new JobReporter(this.context.events, { ...identity, attempt });
    const log = logger.child({ jobId: identity.jobId, attempt });
    const attemptRun = new AttemptRun(this.context, reporter, log, stopping);
    try {
      return await attemptRun.execute(parsePayload(job.data));
    } catch (error) {
      const permanent = isPermanent(error);
      const willRetry = !permanent && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      const message = safeMessage(error, attemptRun.stage);
      log.error({ stage: attemptRun.stage, errorName: (error as Error)?.name, willRetry }, `job failed: ${message}`);
      await reporter.report('job.failed', { error: message, willRetry }).catch((reportError) => log.error({ errorName: (reportError as Error).name }, 'could not report job.failed'));
      if (!willRetry) {
        await attemptRun.finish(identity.jobId);
        if (permanent) job.discard();
      }
      // Bull keeps the message and stack in Redis: only the safe message goes there.
      throw new JobError(message, permanent);
    } finally {
      attemptRun.dispose();
    }
  }
}

class AttemptRun {
  stage = 'starting';
  private objects?: JobObjects;
  private session?: TrainingSession;
  private startingModel?: tf.LayersModel;
  private releaseBackend?: () => void;

  constructor(
    private readonly context: RunnerContext,
    private readonly reporter: JobReporter,
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
  ) {}

  async execute(payload: TrainingJobPayload): Promise<RunOutcome> {
    const { redis, redisPrefix, worker } = this.context;
    const { jobId } = payload;
    const cancel = new CancelWatch(redis, redisKeys.cancel(redisPrefix, jobId));
    const pointerKey = redisKeys.checkpoint(redisPrefix, jobId);

    // Defence in depth: a job on the wrong queue could leave its tenant's residency.
    if (payload.poolId !== worker.pool || payload.region !== worker.region) throw new JobError(`the job is for pool ${payload.poolId} in ${payload.region}; this worker serves ${worker.pool} in ${worker.region}`, true);
    const family = FAMILIES[payload.baseModel];
    const backend = this.context.familyBackends.get(payload.baseModel);
    if (!backend) throw new JobError(`${payload.baseModel} cannot train on this worker (no backend passed its probe)`, true);
    this.releaseBackend = await this.context.lease.acquire(backend);
    this.objects = new JobObjects(this.context.store, this.context.masterKeys, payload);

    if (await cancel.check()) return this.cancelled(jobId, 0);

    this.stage = 'loading the checkpoint';
    const resumed = await this.loadCheckpoint(pointerKey, payload);
    await this.reporter.report('job.started', { workerId: worker.workerId, backend, node: worker.node, region: worker.region, resumedFromEpoch: resumed?.artifact.epoch ?? null });
    this.log.info({ baseModel: payload.baseModel, backend, resumedFromEpoch: resumed?.artifact.epoch ?? null }, 'job started');
    // Idempotent for the api, and the only report of this object if the last attempt died right after writing it.
    if (resumed) await this.reporter.report('job.checkpoint', { epoch: resumed.pointer.epoch, object: resumed.pointer.object });

    this.stage = 'reading the datasets';
    const training = await this.readTable(payload, 'training');
    const validation = payload.validation ? await this.readTable(payload, 'validation') : null;

    let start: StartingPoint | undefined = resumed;
    if (!start && payload.baseArtifact) {
      this.stage = 'loading the base model';
      start = await this.loadArtifact(await this.objects.read(payload.baseArtifact), payload);
    }
    this.startingModel = start?.model;

    this.stage = 'preparing the data';
    const { seed, epochs } = payload.hyperparameters;
    const data = family.prepare({ training, validation, targetColumn: payload.targetColumn, featureColumns: payload.featureColumns, seed, saved: start?.artifact.preprocessing });
    const session = (this.session = createSession(family, data, payload.hyperparameters, start?.model));
    const summary = summarize(session);
    // Sent with job.succeeded: the api keeps it with the model version for drift monitoring.
    const baseline = driftBaseline(data.preprocessing, training);
    let metrics: EpochMetrics | null = resumed?.artifact.metrics ?? null;

    for (let epochIndex = resumed?.artifact.epoch ?? 0; epochIndex < epochs; epochIndex++) {
      this.stage = 'training';
      const outcome = await runEpoch(session, epochIndex, {
        onBatch: (batchesDone, batchesPerEpoch) =>
          this.reporter.progress({ epoch: epochIndex + 1, batch: batchesDone, batchesPerEpoch, progress: (epochIndex + batchesDone / batchesPerEpoch) / epochs }),
        shouldStop: () => {
          cancel.poll();
          return cancel.requested || this.stopping.aborted;
        },
      });
      // Billed before anything else can fail: this time was spent whatever happens next.
      await this.reportUsage(payload, backend, epochIndex + 1, outcome.seconds);
      if (!outcome.completed) return cancel.requested ? this.cancelled(jobId, epochIndex) : this.released(epochIndex);

      metrics = outcome.metrics!;
      await this.reporter.report('job.epoch', { epoch: epochIndex + 1, metrics, samplesPerSecond: outcome.samplesPerSecond });
      this.stage = 'writing a checkpoint';
      const artifact = await modelToArtifact(session.model, { baseModel: payload.baseModel, preprocessing: data.preprocessing, epoch: epochIndex + 1, metrics, backend, summary });
      const object = await this.objects.write('checkpoint', serializeArtifact(artifact));
      // The pointer first: every checkpoint the api hears about is one a restarted attempt resumes
      // from. A crash between the two is covered by the resuming attempt reporting it again.
      const pointer: CheckpointPointer = { epoch: epochIndex + 1, object };
      await redis.set(pointerKey, JSON.stringify(pointer));
      await this.reporter.report('job.checkpoint', { epoch: epochIndex + 1, object });

      // Between epochs waiting is free: a cancellation that arrived during the checkpoint is honoured now.
      if (epochIndex + 1 < epochs) {
        if (await cancel.check()) return this.cancelled(jobId, epochIndex + 1);
        if (this.stopping.aborted) return this.released(epochIndex + 1);
      }
    }

    this.stage = 'writing the model artifact';
    if (!metrics) throw new Error('training ended without metrics');
    const artifact = await modelToArtifact(session.model, { baseModel: payload.baseModel, preprocessing: data.preprocessing, epoch: epochs, metrics, backend, summary });
    const stored = await this.objects.write('model_artifact', serializeArtifact(artifact));
    await this.reporter.report('job.succeeded', { artifact: stored, metrics, epochs, backend, summary, baseline });
    await this.finish(jobId);
    this.log.info({ epochs, backend }, 'job succeeded');
    return 'succeeded';
  }

  /** Forgets the checkpoint pointer and lets the attempt counter expire: the job will not run again. */
  async finish(jobId: string): Promise<void> {
    const { redis, redisPrefix } = this.context;
    await redis
      .multi()
      .del(redisKeys.checkpoint(redisPrefix, jobId))
      .expire(redisKeys.attempt(redisPrefix, jobId), FINISHED_KEY_TTL_SECONDS)
      .exec()
      .catch(() => undefined);
  }

  dispose(): void {
    if (this.session) disposeSession(this.session);
    if (this.startingModel && this.startingModel !== this.session?.model) this.startingModel.dispose();
    this.objects?.dispose();
    this.releaseBackend?.();
  }

  private async cancelled(jobId: string, completedEpochs: number): Promise<RunOutcome> {
    await this.reporter.report('job.cancelled', { epoch: completedEpochs });
    await this.finish(jobId);
    this.log.info({ completedEpochs }, 'job cancelled');
    return 'cancelled';
  }

  private async released(completedEpochs: number): Promise<RunOutcome> {
    await this.reporter.report('job.log', { level: 'warn', message: `the worker is stopping; the job will resume after epoch ${completedEpochs} on another worker` });
    this.log.info({ completedEpochs }, 'job released by a stopping worker');
    return 'released';
  }

  private async reportUsage(payload: TrainingJobPayload, backend: TfjsBackend, segment: number, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    const { attempt } = this.reporter.identity;
    await this.reporter.report('job.usage', {
      usageEventId: usageEventId(payload.jobId, attempt, segment),
      segment,
      meter: meterForBackend(backend),
      seconds: formatSeconds(seconds),
      backend,
      gpuClass: payload.gpuClass,
    });
  }

  /**
   * The checkpoint a previous attempt left, if any. One that cannot be read (deleted, or failing
   * authentication) is not trusted and not fatal: training starts over, and the job says so.
   */
  private async loadCheckpoint(pointerKey: string, payload: TrainingJobPayload): Promise<ResumePoint | undefined> {
    const { redis } = this.context;
    const raw = await redis.get(pointerKey);
    if (!raw) return undefined;
    try {
      const pointer = JSON.parse(raw) as CheckpointPointer;
      const start = await this.loadArtifact(await this.objects!.readWritten(pointer.object), payload);
      if (start.artifact.epoch !== pointer.epoch) {
        start.model.dispose();
        throw new Error('checkpoint epoch mismatch');
      }
      return { ...start, pointer };
    } catch (error) {
      const message = `the checkpoint of an earlier attempt could not be used (${safeMessage(error, 'loading it')}); training starts over`;
      this.log.warn({ errorName: (error as Error)?.name }, message);
      await this.reporter.report('job.log', { level: 'warn', message });
      await redis.del(pointerKey);
      return undefined;
    }
  }

  private async loadArtifact(plaintext: Buffer, payload: TrainingJobPayload): Promise<StartingPoint> {
    const artifact = parseArtifact(plaintext);
    if (artifact.baseModel !== payload.baseModel) throw new JobError(`the base model version is a ${artifact.baseModel}, not a ${payload.baseModel}`, true);
    return { artifact, model: await modelFromArtifact(artifact) };
  }

  private async readTable(payload: TrainingJobPayload, which: 'training' | 'validation'): Promise<Table> {
    const ref = payload[which]!;
    const what = `${which} dataset`;
    const plaintext = await this.objects!.readDataset(ref, what);
    try {
      return parseDataset(plaintext, ref.format, what);
    } finally {
      plaintext.fill(0);
    }
  }
}

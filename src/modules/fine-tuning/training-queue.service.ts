import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Bull, { Queue } from 'bull';
import { AppError } from '../../common/errors/app-error';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { TrainingJobPayload, trainingQueueName } from '../../contracts/training';

const ENQUEUE_TIMEOUT_MS = 3000;

/** Delivery to the GPU pools' Bull queues. The Bull job id is the platform job id. */
@Injectable()
export class TrainingQueueService implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {}

  async enqueue(payload: TrainingJobPayload): Promise<void> {
    const queue = this.queue(payload.poolId);
    const adding = queue.add(payload, {
      jobId: payload.jobId,
      attempts: this.config.training.jobAttempts,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 86400 },
      removeOnFail: { age: 30 * 86400 },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('enqueue timed out')), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([adding, timeout]);
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'The job queue is unavailable; nothing was queued, retry shortly');
    } finally {
      clearTimeout(timer);
    }
  }

  async isQueued(poolId: string, jobId: string): Promise<boolean> {
    return (await this.queue(poolId).getJob(jobId)) !== null;
  }

  /** Removes a job no worker has taken yet; false when it is already running (or gone). */
  async removeIfWaiting(poolId: string, jobId: string): Promise<boolean> {
    const job = await this.queue(poolId).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'paused') return false;
    await job.remove();
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private queue(poolId: string): Queue {
    let queue = this.queues.get(poolId);
    if (!queue) {
      queue = new Bull(trainingQueueName(poolId), this.config.redisUrl, { prefix: `${this.config.redisPrefix}:bull` });
      queue.on('error', () => undefined);
      this.queues.set(poolId, queue);
    }
    return queue;
  }
}

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import Bull, { Queue } from 'bull';
import { AppError } from '../../common/errors/app-error';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { InferenceRequest, InferenceResult } from '../../contracts/inference';
import { inferenceQueueName } from '../../contracts/training';

/** Sends a predict call to the endpoint's pool and waits for the worker's answer. */
@Injectable()
export class InferenceClientService implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();

  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {}

  async predict(poolId: string, request: InferenceRequest): Promise<InferenceResult> {
    const timeoutMs = this.config.serving.timeoutSeconds * 1000;
    const queue = this.queue(poolId);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('SERVICE_UNAVAILABLE', `No worker of pool ${poolId} answered within ${this.config.serving.timeoutSeconds} s; retry later`)), timeoutMs);
    });
    try {
      // Completed jobs are kept a minute: a worker may answer before finished() subscribes, and
      // finished() then reads the stored result instead of waiting for an event already gone.
      const job = await Promise.race([queue.add(request, { jobId: request.requestId, attempts: 1, timeout: timeoutMs, removeOnComplete: { age: 60 }, removeOnFail: { age: 60 } }), timedOut]);
      return (await Promise.race([job.finished(), timedOut])) as InferenceResult;
    } catch (error) {
      if (error instanceof AppError) throw error;
      // Worker-side errors are safe messages (they never contain inputs); anything else is masked.
      const message = (error as Error)?.message ?? '';
      throw new AppError('SERVICE_UNAVAILABLE', message.startsWith('inference:') ? message.slice('inference:'.length).trim() : 'The prediction could not be served; retry later');
    } finally {
      clearTimeout(timer);
    }
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private queue(poolId: string): Queue {
    let queue = this.queues.get(poolId);
    if (!queue) {
      queue = new Bull(inferenceQueueName(poolId), this.config.redisUrl, { prefix: `${this.config.redisPrefix}:bull` });
      queue.on('error', () => undefined);
      this.queues.set(poolId, queue);
    }
    return queue;
  }
}

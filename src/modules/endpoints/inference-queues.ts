import Bull, { Queue } from 'bull';
import { AppError } from '../../common/errors/app-error';
import type { InferenceRequest, InferenceResult } from '../../contracts/inference';
import { inferenceQueueName } from '../../contracts/training';

/**
 * The api's side of `inference:<pool>`: one Bull queue per pool, a predict call per job (job id =
 * request id), and the worker's answer. Answers arrive as the queue's global completed/failed
 * events, listened to once per queue and matched by job id — not with `job.finished()`: a warm
 * worker can finish a call, and Bull remove it (removeOnComplete), before finished() has looked,
 * which then waits for an event already gone until the timeout; and finished() adds two listeners
 * per call, which grows with concurrency. Finished jobs are not kept for finished() to read either
 * (removeOnComplete by age): a job's data holds the raw inputs and a read grant, and Bull trims by
 * age only when later jobs finish, so the last calls before a quiet spell would stay in Redis.
 * Plain Bull, no Nest: InferenceClientService wraps it.
 */
export class InferenceQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly waiting = new Map<string, { resolve: (result: InferenceResult) => void; reject: (error: Error) => void }>();

  constructor(private readonly settings: { redisUrl: string; redisPrefix: string; timeoutSeconds: number }) {}

  async predict(poolId: string, request: InferenceRequest): Promise<InferenceResult> {
    const { timeoutSeconds } = this.settings;
    const timeoutMs = timeoutSeconds * 1000;
    const queue = this.queue(poolId);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AppError('SERVICE_UNAVAILABLE', `No worker of pool ${poolId} answered within ${timeoutSeconds} s; retry later`)), timeoutMs);
    });
    // Waiting before the job exists, so an answer that comes back at once is not missed.
    const answered = new Promise<InferenceResult>((resolve, reject) => this.waiting.set(request.requestId, { resolve, reject }));
    try {
      await Promise.race([queue.add(request, { jobId: request.requestId, attempts: 1, timeout: timeoutMs, removeOnComplete: true, removeOnFail: true }), timedOut]);
      return await Promise.race([answered, timedOut]);
    } catch (error) {
      if (error instanceof AppError) throw error;
      // Worker-side errors are safe messages (they never contain inputs); anything else is masked.
      const message = (error as Error)?.message ?? '';
      throw new AppError('SERVICE_UNAVAILABLE', message.startsWith('inference:') ? message.slice('inference:'.length).trim() : 'The prediction could not be served; retry later');
    } finally {
      clearTimeout(timer);
      this.waiting.delete(request.requestId);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private queue(poolId: string): Queue {
    let queue = this.queues.get(poolId);
    if (!queue) {
      queue = new Bull(inferenceQueueName(poolId), this.settings.redisUrl, { prefix: `${this.settings.redisPrefix}:bull` });
      queue.on('error', () => undefined);
      // Every api replica hears every answer of the pool; only the one waiting for it takes it.
      queue.on('global:completed', (jobId: string, value: unknown) => {
        const waiter = this.waiting.get(String(jobId));
        if (!waiter) return;
        try {
          waiter.resolve((typeof value === 'string' ? JSON.parse(value) : value) as InferenceResult);
        } catch {
          waiter.reject(new Error('the worker answered with a result that is not JSON'));
        }
      });
      queue.on('global:failed', (jobId: string, reason: unknown) => this.waiting.get(String(jobId))?.reject(new Error(String(reason ?? ''))));
      this.queues.set(poolId, queue);
    }
    return queue;
  }
}

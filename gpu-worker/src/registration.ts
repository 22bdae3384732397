import type Redis from 'ioredis';
import { redisKeys, WORKER_HEARTBEAT_SECONDS, WORKER_REGISTRATION_TTL_SECONDS, type WorkerInfo } from '../../src/contracts/training';
import type { EventSink } from './events';
import type { Logger } from './logger';

/**
 * The worker's entry in Redis (what the api lists as the pool's capacity) and its heartbeat. The
 * entry expires on its own when the process dies, so a crashed worker disappears within the TTL.
 */
export class WorkerRegistration {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly info: WorkerInfo,
    private readonly events: EventSink,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      // A missed beat is retried at the next one; the TTL leaves room for two misses.
      this.beat().catch((error) => this.logger.warn({ errorName: (error as Error).name }, 'heartbeat failed'));
    }, WORKER_HEARTBEAT_SECONDS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.del(redisKeys.worker(this.prefix, this.info.workerId)).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.redis.set(redisKeys.worker(this.prefix, this.info.workerId), JSON.stringify(this.info), 'EX', WORKER_REGISTRATION_TTL_SECONDS);
    await this.events.send({ type: 'worker.heartbeat', worker: this.info, at: new Date().toISOString() });
  }
}

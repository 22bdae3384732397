import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import Redis from 'ioredis';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';

export interface JobUpdated {
  jobId: string;
  tenantId: string;
}

/**
 * Job change notifications over Redis pub/sub, so a subscriber on any api pod hears changes applied
 * by any other. Messages carry ids only; subscribers re-read the job under their own tenant scope.
 */
@Injectable()
export class JobUpdatesService implements OnModuleDestroy {
  private readonly pubSub: RedisPubSub;
  private readonly channel: string;

  constructor(@Inject(APP_CONFIG) config: RuntimeConfig) {
    this.channel = `${config.redisPrefix}:job-updates`;
    this.pubSub = new RedisPubSub({ publisher: new Redis(config.redisUrl), subscriber: new Redis(config.redisUrl) });
  }

  async publish(update: JobUpdated): Promise<void> {
    await this.pubSub.publish(this.channel, update).catch(() => undefined);
  }

  iterator(): AsyncIterableIterator<JobUpdated> {
    return this.pubSub.asyncIterableIterator<JobUpdated>(this.channel);
  }

  async onModuleDestroy(): Promise<void> {
    await this.pubSub.close().catch(() => undefined);
  }
}

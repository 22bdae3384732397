import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import type { RuntimeConfig } from '../../config/runtime-config';
import { dataSourceOptions } from '../../database/data-source-options';
import { APP_CONFIG, DATA_SOURCE, REDIS } from './tokens';

/** Configuration, the runtime database pool (non-owner role) and Redis, shared by every module. */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  static forRoot(config: RuntimeConfig): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: DATA_SOURCE,
          useFactory: async () => new DataSource(dataSourceOptions(config.database.appUrl, config.database.poolSize)).initialize(),
        },
        {
          provide: REDIS,
          // No client-side keyPrefix: keys shared with workers (src/contracts) carry REDIS_PREFIX themselves.
          useFactory: () => new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }),
        },
      ],
      exports: [APP_CONFIG, DATA_SOURCE, REDIS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

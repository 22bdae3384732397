import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, REDIS } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { EndpointConfig, servingKeys } from '../../contracts/inference';

export interface ServingState {
  status: 'SCALED_TO_ZERO' | 'STARTING' | 'READY' | 'FAILED';
  replicas: number;
  failure: string | null;
}

/** What workers see of endpoints (a Redis hash per pool) and what they report back (replica keys). */
@Injectable()
export class ServingStateService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
  ) {}

  async publish(poolId: string, endpoint: EndpointConfig): Promise<void> {
    await this.redis.hset(servingKeys.endpointsConfig(this.config.redisPrefix, poolId), endpoint.endpointId, JSON.stringify(endpoint));
  }

  async withdraw(poolId: string, endpointId: string): Promise<void> {
    await this.redis.hdel(servingKeys.endpointsConfig(this.config.redisPrefix, poolId), endpointId);
  }

  async state(endpointId: string): Promise<ServingState> {
    const prefix = this.config.redisPrefix;
    const replicas = await this.countKeys(servingKeys.replicaPattern(prefix, endpointId));
    const [loading, failure] = await this.redis.mget(servingKeys.loading(prefix, endpointId), servingKeys.failure(prefix, endpointId));
    if (replicas > 0) return { status: 'READY', replicas, failure: null };
    if (loading) return { status: 'STARTING', replicas, failure: null };
    if (failure) return { status: 'FAILED', replicas, failure };
    return { status: 'SCALED_TO_ZERO', replicas, failure: null };
  }

  private async countKeys(pattern: string): Promise<number> {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 100);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  }
}

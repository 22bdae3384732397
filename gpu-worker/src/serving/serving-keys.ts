import type Redis from 'ioredis';
import { REPLICA_TTL_SECONDS, servingKeys } from '../../../src/contracts/inference';

/** A load that takes longer than this (or a worker that died loading) stops showing STARTING. */
const LOADING_TTL_SECONDS = 120;
/** A failure stays visible this long unless a later load of the endpoint succeeds. */
const FAILURE_TTL_SECONDS = 24 * 3600;

// Deletes the loading mark only if this worker set it: another worker may be loading the same endpoint.
const DELETE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * What a serving worker tells the api through Redis (servingKeys in contracts): replica keys while
 * it holds an endpoint's model, the loading mark during a cold start, the last load failure.
 */
export class ServingKeys {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly pool: string,
    private readonly workerId: string,
  ) {}

  async markLoading(endpointId: string): Promise<void> {
    await this.redis.set(servingKeys.loading(this.prefix, endpointId), this.workerId, 'EX', LOADING_TTL_SECONDS);
  }

  /** For proactive loads: true only if no worker is loading the endpoint already. */
  async claimLoading(endpointId: string): Promise<boolean> {
    return (await this.redis.set(servingKeys.loading(this.prefix, endpointId), this.workerId, 'EX', LOADING_TTL_SECONDS, 'NX')) === 'OK';
  }

  async clearLoading(endpointId: string): Promise<void> {
    await this.redis.eval(DELETE_IF_OURS, 1, servingKeys.loading(this.prefix, endpointId), this.workerId);
  }

  async setFailure(endpointId: string, message: string): Promise<void> {
    await this.redis.set(servingKeys.failure(this.prefix, endpointId), message, 'EX', FAILURE_TTL_SECONDS);
  }

  /** Replica keys (value: the model version held), created or refreshed with their TTL. */
  async publishReplicas(replicas: readonly { endpointId: string; modelVersionId: string }[], clearFailures = false): Promise<void> {
    if (replicas.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { endpointId, modelVersionId } of replicas) {
      pipeline.set(servingKeys.replica(this.prefix, endpointId, this.workerId), modelVersionId, 'EX', REPLICA_TTL_SECONDS);
      if (clearFailures) pipeline.del(servingKeys.failure(this.prefix, endpointId));
    }
    await pipeline.exec();
  }

  async removeReplicas(endpointIds: readonly string[]): Promise<void> {
    if (endpointIds.length === 0) return;
    await this.redis.del(...endpointIds.map((endpointId) => servingKeys.replica(this.prefix, endpointId, this.workerId)));
  }

  /** Worker ids holding a replica of the endpoint, sorted: every worker ranks them the same way. */
  async holders(endpointId: string): Promise<string[]> {
    const pattern = servingKeys.replicaPattern(this.prefix, endpointId);
    const marker = pattern.slice(0, -1);
    const holders: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      for (const key of keys) holders.push(key.slice(marker.length));
    } while (cursor !== '0');
    return holders.sort();
  }

  /** The pool's endpoint configurations, as published by the api (raw JSON by endpoint id). */
  async endpointConfigs(): Promise<Record<string, string>> {
    return this.redis.hgetall(servingKeys.endpointsConfig(this.prefix, this.pool));
  }

  get id(): string {
    return this.workerId;
  }
}

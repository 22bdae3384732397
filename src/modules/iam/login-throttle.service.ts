import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { rateLimited } from '../../common/errors/app-error';
import { APP_CONFIG, REDIS } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';

/**
 * Counts failed logins per account and per IP in fixed windows. Past either limit, login answers
 * RATE_LIMITED without checking the password, whether or not the account exists.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
  ) {}

  private keys(email: string, ip: string | null): [string, string] {
    const account = createHash('sha256').update(email).digest('hex');
    const prefix = this.config.redisPrefix;
    return [`${prefix}:login-fail:account:${account}`, `${prefix}:login-fail:ip:${ip ?? 'unknown'}`];
  }

  async assertAllowed(email: string, ip: string | null): Promise<void> {
    const [accountKey, ipKey] = this.keys(email, ip);
    const [accountFailures, ipFailures] = (await this.redis.mget(accountKey, ipKey)).map((v) => Number(v ?? 0));
    const { loginMaxFailuresPerAccount, loginMaxFailuresPerIp } = this.config.auth;
    if (accountFailures >= loginMaxFailuresPerAccount || ipFailures >= loginMaxFailuresPerIp) {
      const ttl = Math.max(await this.redis.ttl(accountFailures >= loginMaxFailuresPerAccount ? accountKey : ipKey), 1);
      throw rateLimited('Too many failed login attempts; try again later', ttl);
    }
  }

  async recordFailure(email: string, ip: string | null): Promise<void> {
    const window = this.config.auth.loginFailureWindowSeconds;
    const pipeline = this.redis.multi();
    for (const key of this.keys(email, ip)) {
      pipeline.incr(key);
      pipeline.expire(key, window, 'NX');
    }
    await pipeline.exec();
  }

  async clearAccount(email: string): Promise<void> {
    await this.redis.del(this.keys(email, null)[0]);
  }
}

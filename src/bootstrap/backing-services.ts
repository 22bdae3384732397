import type { AppConfig } from '../config/config';
import type { RuntimeConfig } from '../config/runtime-config';
import { enableAppRoleLogin, runMigrations } from '../database/migrate';
import { startEmbeddedPostgres } from './embedded-postgres';
import { resolveRedis } from './redis-server';

export interface BackingServices {
  config: RuntimeConfig;
  stop(): Promise<void>;
}

/**
 * Finds or starts PostgreSQL and Redis, applies migrations as the owner, and returns the runtime
 * configuration in which the api connects as the non-owner role.
 */
export async function resolveBackingServices(config: AppConfig, log: (m: string) => void): Promise<BackingServices> {
  const stops: (() => Promise<void>)[] = [];
  let ownerUrl = config.database.ownerUrl;
  // Production api pods get only the runtime role's URL and never migrate: no owner, no embedding.
  const needsOwner = config.database.migrateOnStart || !config.database.appUrl;
  if (!ownerUrl && needsOwner) {
    const embedded = await startEmbeddedPostgres(config.database.embedded.dir, config.database.embedded.port, log);
    ownerUrl = embedded.ownerUrl;
    stops.push(embedded.stop);
  }
  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    const redis = await resolveRedis(log);
    redisUrl = redis.url;
    stops.push(redis.stop);
  }
  if (config.database.migrateOnStart) await runMigrations(ownerUrl!, log);
  const appUrl = config.database.appUrl ?? (await enableAppRoleLogin(ownerUrl!, config.database.appRolePassword));

  return {
    config: { ...config, database: { ...config.database, ownerUrl, appUrl }, redisUrl },
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
}

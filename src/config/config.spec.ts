import { ConfigError, loadConfig, parseKeyRing } from './config';

const key = (id: string, bytes = 32) => `${id}:${Buffer.alloc(bytes, 7).toString('base64')}`;

describe('loadConfig', () => {
  it('has safe development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ env: 'development', port: 3000, isProduction: false, redisPrefix: 'lutece' });
    expect(config.database.ownerUrl).toBeUndefined();
    expect(config.auth.accessTokenTtlSeconds).toBe(900);
    expect(config.masterKeys.keys.get(config.masterKeys.activeId)).toHaveLength(32);
  });

  it('refuses to start in production without secrets, naming them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/without: DATABASE_URL, DATABASE_APP_URL, REDIS_URL, JWT_SIGNING_KEYS, MASTER_KEYS/);
  });

  it('does not need the owner URL in production when migrations run elsewhere', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MIGRATE_ON_START: 'false',
      DATABASE_APP_URL: 'postgres://app@db/lutece',
      REDIS_URL: 'redis://redis:6379',
      JWT_SIGNING_KEYS: key('k1'),
      MASTER_KEYS: key('m1'),
    });
    expect(config.database.migrateOnStart).toBe(false);
  });

  it('refuses the development keys in production', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://o@db/l',
        DATABASE_APP_URL: 'postgres://a@db/l',
        REDIS_URL: 'redis://r:6379',
        JWT_SIGNING_KEYS: key('dev'),
        MASTER_KEYS: key('m1'),
      }),
    ).toThrow(/development keys/);
  });

  it('reports every invalid variable at once', () => {
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT.*LOG_LEVEL|LOG_LEVEL.*PORT/);
  });
});

describe('parseKeyRing', () => {
  it('keeps order (the first key is active) and rejects short keys and duplicates', () => {
    expect(parseKeyRing('K', `${key('a')},${key('b')}`, 32).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseKeyRing('K', key('a', 16), 32)).toThrow(ConfigError);
    expect(() => parseKeyRing('K', `${key('a')},${key('a')}`, 32)).toThrow(/twice/);
    expect(() => parseKeyRing('K', 'no-separator', 32)).toThrow(/<id>:<base64 key>/);
  });
});

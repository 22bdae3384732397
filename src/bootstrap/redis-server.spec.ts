import { resolveRedis } from './redis-server';

// Port 1 never answers: the fallback paths are taken.
const NOBODY = 'redis://127.0.0.1:1';

describe('resolveRedis without REDIS_URL', () => {
  it('starts redis-server from PATH on a free port when nothing answers', async () => {
    const handle = await resolveRedis(() => undefined, NOBODY);
    try {
      expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(handle.url).not.toBe(NOBODY);
    } finally {
      await handle.stop();
    }
  });

  it('says in one line what to install or set when redis-server is not on PATH', async () => {
    await expect(resolveRedis(() => undefined, NOBODY, 'redis-server-not-installed')).rejects.toThrow(/install redis-server .* or set REDIS_URL/);
  });
});

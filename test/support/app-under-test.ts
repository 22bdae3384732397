import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL, TEST_REDIS_URL } from './services';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; fields?: { field: string }[]; [k: string]: unknown } }[];
}

export interface CallOptions {
  token?: string;
  tenantId?: string;
  headers?: Record<string, string>;
}

/**
 * A real api process (dist/src/main.js) on a fresh database with the real migrations, and a real
 * Redis under a key prefix of its own. Logs are captured so tests can assert what never appears.
 */
export class AppUnderTest {
  readonly logs: string[] = [];

  private url = '';
  private child: ChildProcess | undefined;

  private constructor(
    readonly ownerUrl: string,
    readonly databaseName: string,
    readonly redisPrefix: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<AppUnderTest> {
    const databaseName = `lutece_t_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    await admin.end();
    const ownerUrl = withDatabase(ADMIN_DATABASE_URL, databaseName);
    const redisPrefix = `t${randomBytes(5).toString('hex')}`;
    const app = new AppUnderTest(ownerUrl, databaseName, redisPrefix);
    await app.spawn(env);
    return app;
  }

  get baseUrl(): string {
    return this.url;
  }

  /** Stops the api and starts it again on the same database, Redis prefix and `env` (e.g. new keys). */
  async restart(env: Record<string, string> = {}): Promise<void> {
    await this.stopProcess();
    await this.spawn(env);
  }

  private async spawn(env: Record<string, string>): Promise<void> {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'src', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        DATABASE_URL: this.ownerUrl,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: this.redisPrefix,
        WORKERS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => this.logs.push(chunk.toString());
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const from = this.logs.length;
    this.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`api did not start:\n${this.logs.slice(from).join('')}`)), 60000);
      const onStartData = (chunk: Buffer) => {
        const match = /listening on (http:\/\/localhost:\d+)/.exec(chunk.toString());
        if (match) {
          clearTimeout(timer);
          resolve(match[1].replace('localhost', '127.0.0.1'));
        }
      };
      child.stdout!.on('data', onStartData);
      child.stderr!.on('data', onStartData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`api exited with ${code}:\n${this.logs.slice(from).join('')}`));
      });
    });
    this.child = child;
  }

  async graphql<T = any>(query: string, variables: Record<string, unknown> = {}, options: CallOptions = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.authHeaders(options) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as GraphQLResponse<T>;
    return { ...body, status: response.status };
  }

  fetch(path: string, init: RequestInit & CallOptions = {}): Promise<Response> {
    const { token, tenantId, headers, ...rest } = init;
    return fetch(`${this.baseUrl}${path}`, { ...rest, headers: { ...this.authHeaders({ token, tenantId }), ...(headers ?? {}) } });
  }

  /** A connection as the table owner (migrations role): the "DBA" of tamper tests. */
  async ownerQuery<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.ownerUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** A connection as the api's own runtime role, bypassing every application layer. */
  async appRoleClient(): Promise<Client> {
    const url = new URL(this.ownerUrl);
    url.username = 'lutece_app';
    url.password = 'lutece_app_dev_password';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    return client;
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`);
    await admin.end();
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  }

  private authHeaders({ token, tenantId }: CallOptions): Record<string, string> {
    return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(tenantId ? { 'x-tenant-id': tenantId } : {}) };
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function codeOf(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions?.code;
}

import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { collectLines } from '../../gpu-worker/test/support/worker-harness';
import type { AppUnderTest } from './app-under-test';
import { TEST_REDIS_URL } from './services';

const WORKER_ENTRY = join(__dirname, '..', '..', 'dist', 'gpu-worker', 'src', 'main.js');

/** A compiled gpu-worker (dist/gpu-worker/src/main.js) started by a test, on the api's Redis prefix. */
export class WorkerChild {
  readonly output: string[] = [];
  private readonly child: ChildProcess;

  constructor(app: AppUnderTest, env: { storageDir: string; pool: string; node: string } & Record<string, string>) {
    const { storageDir, pool, node, ...rest } = env;
    this.child = spawn(process.execPath, [WORKER_ENTRY], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: app.redisPrefix,
        WORKER_POOL: pool,
        WORKER_REGION: 'fr-par',
        WORKER_NODE: node,
        WORKER_LOCK_SECONDS: '4',
        STORAGE_DIR: storageDir,
        LOG_LEVEL: 'info',
        ...rest,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    collectLines(this.child, this.output);
  }

  /** Waits for the worker's ready line (after backend selection and registration). */
  async ready(timeoutMs = 60_000): Promise<this> {
    await this.waitForLine(/gpu-worker ready/, timeoutMs);
    return this;
  }

  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null) throw new Error(`worker exited (${this.child.exitCode}):\n${this.output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no worker line matching ${pattern} within ${timeoutMs} ms:\n${this.output.slice(-20).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The port of its /metrics endpoint (started with WORKER_METRICS_PORT=0). */
  async metricsPort(): Promise<number> {
    return Number(/metrics on port (\d+)/.exec(await this.waitForLine(/metrics on port \d+/))![1]);
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }
}

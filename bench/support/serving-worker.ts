import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceRequest, InferenceResult } from '../../src/contracts/inference';
import { createEncryptStream, deriveObjectKek, generateDataKey, generateObjectSecret } from '../../src/contracts/envelope';
import { sealReadKeys } from '../../src/contracts/key-grant';
import { LocalObjectStore } from '../../src/contracts/local-object-store';
import type { ObjectRef } from '../../src/contracts/training';
import { InferenceQueues } from '../../src/modules/endpoints/inference-queues';

const WORKER_MAIN = join(__dirname, '..', '..', 'gpu-worker', 'src', 'main.js');

/**
 * A gpu-worker with the inference role and nothing in front of it: this process plays the api's
 * part (a master key, a tenant key, an artifact sealed as EncryptedObjectsService seals it, and the
 * api's own InferenceQueues client), so the cost of Bull and of the worker is measured apart from the
 * api's. The keys exist only in this process and the worker's environment.
 */
export class BareServingWorker {
  private readonly prefix = `benchw${randomBytes(4).toString('hex')}`;
  private readonly masterKey = randomBytes(32);
  private readonly tenantKey = randomBytes(32);
  private readonly tenantId = randomUUID();
  private readonly storageDir = mkdtempSync(join(tmpdir(), 'lutece-bench-serving-'));
  private readonly store = new LocalObjectStore(this.storageDir, 'fr-par', 'bench');
  private readonly output: string[] = [];
  private child?: ChildProcess;
  private client?: InferenceQueues;
  private artifact?: ObjectRef;
  readonly modelVersionId = randomUUID();
  readonly endpointId = randomUUID();

  constructor(
    private readonly redisUrl: string,
    readonly metricsPort: number,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stores the artifact, starts the worker and waits for its ready line. */
  async start(artifactPlaintext: Buffer): Promise<void> {
    this.artifact = await this.seal(artifactPlaintext);
    this.child = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        REDIS_URL: this.redisUrl,
        REDIS_PREFIX: this.prefix,
        WORKER_POOL: 'bench-serving',
        WORKER_ROLES: 'inference',
        WORKER_BACKEND: 'wasm',
        WORKER_METRICS_PORT: String(this.metricsPort),
        MASTER_KEYS: `bench:${this.masterKey.toString('base64')}`,
        STORAGE_DIR: this.storageDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!this.output.join('').includes('gpu-worker ready')) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`the bare serving worker did not start:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.client = new InferenceQueues({ redisUrl: this.redisUrl, redisPrefix: this.prefix, timeoutSeconds: 60 });
  }

  predict(inputs: Record<string, unknown>[]): Promise<InferenceResult> {
    const request: InferenceRequest = {
      kind: 'predict',
      version: 1,
      requestId: randomUUID(),
      tenantId: this.tenantId,
      endpointId: this.endpointId,
      modelVersionId: this.modelVersionId,
      artifact: this.artifact!,
      idleTimeoutSeconds: 3600,
      inputs,
    };
    return this.client!.predict('bench-serving', request);
  }

  async stop(): Promise<void> {
    await this.client?.close();
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    const redis = new Redis(this.redisUrl);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    rmSync(this.storageDir, { recursive: true, force: true });
  }

  /** Encrypts like the api's EncryptedObjectsService and seals a read grant the worker opens. */
  private async seal(plaintext: Buffer): Promise<ObjectRef> {
    const objectId = randomUUID();
    const objectSecret = generateObjectSecret();
    const storageKey = `${this.tenantId}/model_artifact/${objectId}.lte`;
    const encryptor = createEncryptStream({
      header: { tenantId: this.tenantId, objectId, keyGeneration: 1, masterKeyId: 'bench' },
      dataKey: generateDataKey(),
      kek: deriveObjectKek(this.tenantKey, objectSecret, { tenantId: this.tenantId, objectId, keyGeneration: 1 }),
    });
    const writing = this.store.write(storageKey, encryptor);
    encryptor.end(plaintext);
    const written = await writing;
    const readGrant = sealReadKeys('bench', this.masterKey, { objectSecret, tenantKeys: new Map([[1, this.tenantKey]]) }, objectId);
    return { objectId, storageKey, sha256: written.sha256, readGrant };
  }
}

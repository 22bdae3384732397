import Bull, { type Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import type { InferenceRequest, InferenceResult } from '../../contracts/inference';
import { inferenceQueueName } from '../../contracts/training';
import { InferenceQueues } from './inference-queues';

/** Against the local Redis: a pool whose "worker" answers at once, as a warm replica does. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('InferenceQueues: the api waiting for predict answers', () => {
  const prefix = `iclient-${randomUUID().slice(0, 8)}`;
  const client = new InferenceQueues({ redisUrl: REDIS_URL, redisPrefix: prefix, timeoutSeconds: 2 });
  let worker: Queue;

  function request(inputs: Record<string, unknown>[]): InferenceRequest {
    return { kind: 'predict', version: 1, requestId: randomUUID(), tenantId: 't', endpointId: 'e', modelVersionId: 'm', artifact: { objectId: 'o', storageKey: 'k', sha256: '', readGrant: { masterKeyId: 'k', sealed: 's' } }, idleTimeoutSeconds: 60, inputs };
  }

  beforeAll(async () => {
    worker = new Bull(inferenceQueueName('pool'), REDIS_URL, { prefix: `${prefix}:bull` });
    void worker.process(16, async (job) => {
      const { inputs } = job.data as InferenceRequest;
      if (inputs[0]?.fail) throw new Error('inference: the model could not be loaded: the model artifact is not a lutece-tfjs v1 artifact');
      if (inputs[0]?.crash) throw new Error('TypeError at Tensor <0.123>');
      const result: InferenceResult = { outputs: inputs.map((i) => ({ value: Number(i.x) * 2 })), coldStart: false, batchSize: inputs.length, computeSeconds: '0.001', backend: 'wasm', workerId: 'w' };
      return result;
    });
    await worker.isReady();
  });

  afterAll(async () => {
    await client.close();
    await worker.obliterate({ force: true }).catch(() => undefined);
    await worker.close();
  });

  it('gets every answer of a worker that answers at once, however fast (no call waits for its timeout)', async () => {
    const started = Date.now();
    for (let i = 0; i < 150; i++) {
      const result = await client.predict('pool', request([{ x: i }]));
      expect(result.outputs).toEqual([{ value: i * 2 }]);
    }
    const concurrent = await Promise.all(Array.from({ length: 50 }, (_, i) => client.predict('pool', request([{ x: i }]))));
    expect(concurrent.map((r) => (r.outputs[0] as { value: number }).value)).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    // 200 calls at well under the 2 s timeout each.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("passes on a worker's inference: message as SERVICE_UNAVAILABLE, and masks any other error", async () => {
    await expect(client.predict('pool', request([{ fail: true }]))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'the model could not be loaded: the model artifact is not a lutece-tfjs v1 artifact' });
    await expect(client.predict('pool', request([{ crash: true }]))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'The prediction could not be served; retry later' });
  });

  it('gives up after PREDICT_TIMEOUT_SECONDS when no worker serves the pool', async () => {
    await expect(client.predict('empty-pool', request([{ x: 1 }]))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('No worker of pool empty-pool answered within 2 s') });
  });
});

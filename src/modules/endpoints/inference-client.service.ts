import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { InferenceRequest, InferenceResult } from '../../contracts/inference';
import { InferenceQueues } from './inference-queues';

/** Sends a predict call to the endpoint's pool and waits for the worker's answer (see InferenceQueues). */
@Injectable()
export class InferenceClientService implements OnModuleDestroy {
  private readonly queues: InferenceQueues;

  constructor(@Inject(APP_CONFIG) config: RuntimeConfig) {
    this.queues = new InferenceQueues({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, timeoutSeconds: config.serving.timeoutSeconds });
  }

  predict(poolId: string, request: InferenceRequest): Promise<InferenceResult> {
    return this.queues.predict(poolId, request);
  }

  async onModuleDestroy(): Promise<void> {
    await this.queues.close();
  }
}

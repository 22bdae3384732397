import { REPLICA_TTL_SECONDS, type EndpointConfig, type InferenceResult } from '../../../src/contracts/inference';
import { safeMessage } from '../errors';
import type { Logger } from '../logger';
import { formatSeconds } from '../metering';
import { inputProblem } from '../predict';
import { parseEndpointConfig, parseInferenceRequest } from './messages';
import type { ServingMetrics } from './metrics';
import { modelKey, type LoadedModel, type ModelEntry, type ModelVersions } from './model-versions';
import type { ServingKeys } from './serving-keys';

const SWEEP_INTERVAL_MS = 1000;
/** How often the pool's endpoint configurations are read (minReplicas, swaps, deletions). */
const CONFIG_POLL_MS = 3000;
/** Replica keys are refreshed three times per TTL: one missed refresh does not make a replica vanish. */
const REPLICA_REFRESH_MS = (REPLICA_TTL_SECONDS * 1000) / 3;
/** After a swap, the previous version stays loaded this long for the calls already on their way to it. */
const SWAP_GRACE_MS = 10_000;

/** A failure the api may show its caller: the message starts with "inference:" and holds no input value. */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  constructor(message: string) {
    super(`inference: ${message}`);
  }
}

/** An endpoint this worker holds a replica of. */
interface EndpointReplica {
  endpointId: string;
  tenantId: string;
  /** The version it serves; its replica key names it. */
  entry: ModelEntry;
  /** The version served before the last swap, kept for calls already on their way until `until`. */
  previous?: { entry: ModelEntry; until: number };
  idleTimeoutSeconds: number;
  lastUsedAt: number;
  /** Calls of this endpoint being answered: an endpoint is never idle while it has one. */
  inFlight: number;
  /** One of the first minReplicas holders (by worker id): kept loaded without traffic. */
  pinned: boolean;
}

export interface InferenceServerContext {
  workerId: string;
  versions: ModelVersions;
  keys: ServingKeys;
  metrics: ServingMetrics;
  logger: Logger;
}

/**
 * The inference role: answers predict calls with models loaded on first use, and keeps the
 * endpoint state the api reads (replica keys, loading mark, failures) true. An endpoint scales to
 * zero here after idleTimeoutSeconds without a call, unless minReplicas asks this worker to keep it.
 */
export class InferenceServer {
  private readonly endpoints = new Map<string, EndpointReplica>();
  private configs = new Map<string, EndpointConfig>();
  /** Endpoints with a background load in progress (a swap, or a warm replica for minReplicas). */
  private readonly backgroundLoads = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private polling = false;

  constructor(private readonly context: InferenceServerContext) {}

  start(): void {
    const { logger } = this.context;
    const every = (ms: number, task: () => Promise<void>, what: string) =>
      this.timers.push(setInterval(() => task().catch((error) => logger.warn({ errorName: (error as Error)?.name }, `${what} failed`)), ms));
    every(SWEEP_INTERVAL_MS, () => this.sweep(), 'idle sweep');
    every(CONFIG_POLL_MS, () => this.pollConfigs(), 'endpoint configuration poll');
    every(REPLICA_REFRESH_MS, () => this.context.keys.publishReplicas(this.replicaList()), 'replica refresh');
    void this.pollConfigs().catch((error) => logger.warn({ errorName: (error as Error)?.name }, 'endpoint configuration poll failed'));
  }

  /** Removes this worker's replica keys and frees every model. */
  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.context.keys.removeReplicas([...this.endpoints.keys()]).catch(() => undefined);
    this.endpoints.clear();
    this.context.versions.disposeAll();
  }

  /** One Bull job of `inference:<pool>`. Errors are InferenceErrors (safe to store in Redis and show). */
  async handle(data: unknown): Promise<InferenceResult> {
    const { versions, metrics, workerId } = this.context;
    const request = parseInferenceRequest(data);
    const { entry, cold } = versions.acquire(request.tenantId, request.modelVersionId, request.artifact);
    let replica: EndpointReplica | undefined;
    try {
      const model = await this.loaded(entry, cold, request.endpointId);
      replica = await this.attach(request.endpointId, request.tenantId, request.idleTimeoutSeconds, entry);
      replica.inFlight++;
      for (const [index, input] of request.inputs.entries()) {
        const problem = inputProblem(model.preprocessing, input);
        if (problem) throw new InferenceError(`inputs[${index}]: ${problem}`);
      }
      const batched = await model.batcher.submit(request.inputs);
      metrics.calls.inc({ outcome: 'ok', cold_start: String(cold) });
      return { outputs: batched.outputs, coldStart: cold, batchSize: batched.batchSize, computeSeconds: formatSeconds(batched.seconds), backend: model.backend, workerId };
    } catch (error) {
      metrics.calls.inc({ outcome: 'error', cold_start: String(cold) });
      throw error instanceof InferenceError ? error : new InferenceError(safeMessage(error, 'predicting'));
    } finally {
      if (replica) {
        replica.inFlight--;
        replica.lastUsedAt = Date.now();
      }
      versions.release(entry);
    }
  }

  /** The loaded model; a cold caller marks the endpoint STARTING meanwhile, and FAILED if the load fails. */
  private async loaded(entry: ModelEntry, cold: boolean, endpointId: string): Promise<LoadedModel> {
    if (!cold) return entry.loaded!;
    const { keys, logger } = this.context;
    await keys.markLoading(endpointId).catch(() => undefined);
    const started = Date.now();
    try {
      const model = await entry.ready;
      logger.info({ endpointId, modelVersionId: entry.modelVersionId, loadMs: Date.now() - started }, 'cold start: model loaded');
      return model;
    } catch (error) {
      const message = `the model could not be loaded: ${safeMessage(error, 'loading it')}`;
      logger.error({ endpointId, modelVersionId: entry.modelVersionId, errorName: (error as Error)?.name }, message);
      await keys.setFailure(endpointId, message).catch(() => undefined);
      throw new InferenceError(message);
    } finally {
      await keys.clearLoading(endpointId).catch(() => undefined);
    }
  }

  /**
   * Records that this worker serves the endpoint with `entry`. A call for another version is a swap
   * (the old version is kept a while for calls on their way), unless it is for the version just
   * swapped out: that is one of those calls, served without swapping back.
   */
  private async attach(endpointId: string, tenantId: string, idleTimeoutSeconds: number, entry: ModelEntry): Promise<EndpointReplica> {
    let replica = this.endpoints.get(endpointId);
    if (replica && replica.tenantId !== tenantId) throw new InferenceError('the endpoint is served for another tenant');
    const now = Date.now();
    if (!replica) {
      replica = { endpointId, tenantId, entry, idleTimeoutSeconds, lastUsedAt: now, inFlight: 0, pinned: false };
      this.endpoints.set(endpointId, replica);
      this.context.metrics.endpointsServed.set(this.endpoints.size);
      // Awaited: once the first answer is out, the api already reports the endpoint READY.
      await this.publish(replica);
    } else if (replica.entry !== entry && replica.previous?.entry !== entry) {
      await this.swap(replica, entry);
    }
    replica.lastUsedAt = now;
    replica.idleTimeoutSeconds = idleTimeoutSeconds;
    return replica;
  }

  private async swap(replica: EndpointReplica, entry: ModelEntry): Promise<void> {
    const from = replica.entry.modelVersionId;
    replica.previous = { entry: replica.entry, until: Date.now() + SWAP_GRACE_MS };
    replica.entry = entry;
    this.context.logger.info({ endpointId: replica.endpointId, from, to: entry.modelVersionId }, 'model version swapped; the previous one finishes its calls');
    await this.publish(replica);
  }

  /** The replica key now (and its failure cleared); a Redis error costs no call: the refresh retries it. */
  private async publish(replica: EndpointReplica): Promise<void> {
    await this.context.keys
      .publishReplicas([{ endpointId: replica.endpointId, modelVersionId: replica.entry.modelVersionId }], true)
      .catch((error) => this.context.logger.warn({ endpointId: replica.endpointId, errorName: (error as Error)?.name }, 'replica key not written; the next refresh retries'));
  }

  /** Scales idle endpoints to zero, then frees the models no endpoint and no call holds. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    const idle = [...this.endpoints.values()].filter((r) => !r.pinned && r.inFlight === 0 && now - r.lastUsedAt >= r.idleTimeoutSeconds * 1000);
    if (idle.length > 0) {
      for (const replica of idle) {
        this.endpoints.delete(replica.endpointId);
        this.context.logger.info({ endpointId: replica.endpointId, idleSeconds: Math.round((now - replica.lastUsedAt) / 1000) }, 'endpoint scaled to zero on this worker');
      }
      this.context.metrics.endpointsServed.set(this.endpoints.size);
      await this.context.keys.removeReplicas(idle.map((r) => r.endpointId));
    }
    this.unloadUnused();
  }

  /**
   * Keeps what endpoints serve, what they served until a swap (for a while), and what their
   * configuration names (a swap or a rollback about to happen); frees the rest once no call holds it.
   */
  private unloadUnused(): void {
    const now = Date.now();
    const keep = new Set<string>();
    for (const replica of this.endpoints.values()) {
      keep.add(replica.entry.key);
      if (replica.previous && replica.previous.until > now) keep.add(replica.previous.entry.key);
      else replica.previous = undefined;
      const config = this.configs.get(replica.endpointId);
      if (config && config.tenantId === replica.tenantId) keep.add(modelKey(config.tenantId, config.modelVersionId, config.artifact));
    }
    for (const modelVersionId of this.context.versions.unloadUnused(keep)) this.context.logger.info({ modelVersionId }, 'model version unloaded');
  }

  /**
   * Reads the pool's endpoint configurations: forgets deleted endpoints, follows model swaps made
   * with updateEndpoint, and keeps minReplicas warm replicas across the pool.
   */
  private async pollConfigs(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { keys, logger } = this.context;
      const configs = new Map<string, EndpointConfig>();
      for (const [endpointId, raw] of Object.entries(await keys.endpointConfigs())) {
        const config = parseEndpointConfig(raw);
        if (config && config.endpointId === endpointId) configs.set(endpointId, config);
        else logger.warn({ endpointId }, 'an endpoint configuration is malformed; ignored');
      }
      const deleted = [...this.configs.keys()].filter((id) => !configs.has(id) && this.endpoints.has(id));
      this.configs = configs;
      if (deleted.length > 0) {
        for (const id of deleted) this.endpoints.delete(id);
        await keys.removeReplicas(deleted);
        logger.info({ endpoints: deleted.length }, 'deleted endpoints unloaded');
      }
      for (const config of configs.values()) await this.follow(config);
    } finally {
      this.polling = false;
    }
  }

  private async follow(config: EndpointConfig): Promise<void> {
    const { keys, workerId } = this.context;
    const replica = this.endpoints.get(config.endpointId);
    if (replica && replica.tenantId !== config.tenantId) return;
    if (replica) {
      replica.idleTimeoutSeconds = config.idleTimeoutSeconds;
      // A call for a newer version than the configuration read here may have swapped already: the
      // version it swapped away from is not swapped back to until its grace period ends.
      const current = replica.entry.modelVersionId;
      if (current !== config.modelVersionId && replica.previous?.entry.modelVersionId !== config.modelVersionId) this.loadInBackground(config, 'swap');
    }
    if (config.minReplicas === 0) {
      if (replica) replica.pinned = false;
      return;
    }
    const holders = await keys.holders(config.endpointId);
    if (replica) {
      const rank = holders.indexOf(workerId);
      replica.pinned = rank >= 0 && rank < config.minReplicas;
    } else if (holders.length < config.minReplicas && !this.backgroundLoads.has(config.endpointId) && (await keys.claimLoading(config.endpointId))) {
      this.loadInBackground(config, 'warm');
    }
  }

  /** Loads the configured version without a caller: the new version of a swap, or a warm replica. */
  private loadInBackground(config: EndpointConfig, reason: 'swap' | 'warm'): void {
    const { endpointId } = config;
    if (this.backgroundLoads.has(endpointId)) return;
    this.backgroundLoads.add(endpointId);
    const { versions, keys, logger } = this.context;
    const { entry } = versions.acquire(config.tenantId, config.modelVersionId, config.artifact);
    void (async () => {
      try {
        await entry.ready;
        // The configuration may have moved on while loading: only what it still asks for is applied.
        if (this.configs.get(endpointId)?.modelVersionId !== config.modelVersionId) return;
        const replica = this.endpoints.get(endpointId);
        if (replica) {
          if (replica.entry !== entry) await this.swap(replica, entry);
        }
        else if (reason === 'warm') {
          const replica: EndpointReplica = { endpointId, tenantId: config.tenantId, entry, idleTimeoutSeconds: config.idleTimeoutSeconds, lastUsedAt: Date.now(), inFlight: 0, pinned: true };
          this.endpoints.set(endpointId, replica);
          this.context.metrics.endpointsServed.set(this.endpoints.size);
          await this.publish(replica);
          logger.info({ endpointId, modelVersionId: config.modelVersionId }, 'warm replica loaded (minReplicas)');
        }
      } catch (error) {
        const message = `the model could not be loaded: ${safeMessage(error, 'loading it')}`;
        logger.error({ endpointId, modelVersionId: config.modelVersionId, reason, errorName: (error as Error)?.name }, message);
        await keys.setFailure(endpointId, message).catch(() => undefined);
      } finally {
        versions.release(entry);
        this.backgroundLoads.delete(endpointId);
        if (reason === 'warm') await keys.clearLoading(endpointId).catch(() => undefined);
      }
    })();
  }

  private replicaList(): { endpointId: string; modelVersionId: string }[] {
    return [...this.endpoints.values()].map((r) => ({ endpointId: r.endpointId, modelVersionId: r.entry.modelVersionId }));
  }
}

/**
 * Serving contract: the api sends each predict call as a job on `inference:<pool>`; a worker with
 * the inference role coalesces concurrent calls for one model version into one `predict`, and
 * returns the outputs as the job's result. Endpoint state lives in Redis keys both sides share.
 */
import type { ObjectRef, TfjsBackend } from './training';

export interface InferenceRequest {
  kind: 'predict';
  version: 1;
  requestId: string;
  tenantId: string;
  endpointId: string;
  modelVersionId: string;
  artifact: ObjectRef;
  /** The worker unloads the model after this long without traffic (unless minReplicas keeps it). */
  idleTimeoutSeconds: number;
  inputs: Record<string, unknown>[];
}

export type PredictionOutput = { label: string; probabilities: Record<string, number> } | { value: number } | { forecast: number[] };

export interface InferenceResult {
  outputs: PredictionOutput[];
  coldStart: boolean;
  /** Rows in the coalesced batch this call was part of (≥ its own row count). */
  batchSize: number;
  /** This call's share of the accelerator time of its batch, decimal string (ms precision). */
  computeSeconds: string;
  backend: TfjsBackend;
  workerId: string;
}

/** What an endpoint asks of its pool, published by the api in `endpointsConfig` (a hash by endpoint id). */
export interface EndpointConfig {
  endpointId: string;
  tenantId: string;
  modelVersionId: string;
  artifact: ObjectRef;
  minReplicas: number;
  maxReplicas: number;
  idleTimeoutSeconds: number;
}

export const servingKeys = {
  /** Hash endpointId → JSON EndpointConfig, per pool: workers keep minReplicas loaded from it. */
  endpointsConfig: (prefix: string, poolId: string) => `${prefix}:serving:${poolId}:endpoints`,
  /** One key per worker holding a model of the endpoint loaded (value: modelVersionId), with a TTL. */
  replica: (prefix: string, endpointId: string, workerId: string) => `${prefix}:serving:endpoint:${endpointId}:replica:${workerId}`,
  replicaPattern: (prefix: string, endpointId: string) => `${prefix}:serving:endpoint:${endpointId}:replica:*`,
  /** Set while a worker loads the endpoint's model (a cold start in progress). */
  loading: (prefix: string, endpointId: string) => `${prefix}:serving:endpoint:${endpointId}:loading`,
  /** Last load failure of an endpoint, safe to show. */
  failure: (prefix: string, endpointId: string) => `${prefix}:serving:endpoint:${endpointId}:failure`,
};

export const REPLICA_TTL_SECONDS = 15;

/**
 * Training-time distribution of each input and of the output, kept with the model version so
 * serving can measure drift (PSI) against it.
 */
export interface DriftBaseline {
  features: (
    | { name: string; kind: 'numeric'; binEdges: number[]; proportions: number[] }
    | { name: string; kind: 'categorical'; proportions: Record<string, number> }
  )[];
  output: { kind: 'classes'; proportions: Record<string, number> } | { kind: 'numeric'; binEdges: number[]; proportions: number[] };
  rows: number;
}

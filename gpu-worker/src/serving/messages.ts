import { z } from 'zod';
import type { EndpointConfig, InferenceRequest } from '../../../src/contracts/inference';
import { objectRefSchema } from '../payload';

/**
 * The two things the api tells a serving worker, checked before use: predict calls (Bull jobs on
 * `inference:<pool>`) and endpoint configurations (the pool's hash). Errors name fields, never values.
 */

const id = z.string().min(1).max(200);

const requestSchema = z.object({
  kind: z.literal('predict'),
  version: z.literal(1),
  requestId: id,
  tenantId: id,
  endpointId: id,
  modelVersionId: id,
  artifact: objectRefSchema,
  idleTimeoutSeconds: z.number().int().min(1).max(86_400),
  inputs: z.array(z.record(z.string(), z.unknown())).min(1),
});

const configSchema = z.object({
  endpointId: id,
  tenantId: id,
  modelVersionId: id,
  artifact: objectRefSchema,
  minReplicas: z.number().int().min(0),
  maxReplicas: z.number().int().min(1),
  idleTimeoutSeconds: z.number().int().min(1).max(86_400),
});

function fields(error: z.ZodError): string {
  return [...new Set(error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
}

/** A predict call, or an Error whose message starts with "inference:" (what the api shows its caller). */
export function parseInferenceRequest(data: unknown): InferenceRequest {
  const parsed = requestSchema.safeParse(data);
  if (!parsed.success) throw new Error(`inference: the predict request is invalid (${fields(parsed.error)})`);
  return parsed.data as InferenceRequest;
}

export function parseEndpointConfig(raw: string): EndpointConfig | undefined {
  try {
    const parsed = configSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data as EndpointConfig) : undefined;
  } catch {
    return undefined;
  }
}

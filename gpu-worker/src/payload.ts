import { z } from 'zod';
import { BASE_MODELS, type TrainingJobPayload } from '../../src/contracts/training';
import { JobError } from './errors';

/**
 * The api validated the request already; the worker checks the shape again because it acts on the
 * payload (paths, keys, loop bounds) and a malformed one must fail clearly rather than halfway.
 */

const grant = z.object({ masterKeyId: z.string().min(1), sealed: z.string().min(1) });
// Storage keys name the tenant's own prefix only: no "..", no absolute path.
const storageKey = z.string().regex(/^[a-z0-9/_-]+(\.[a-z0-9]+)?$/i).refine((key) => !key.includes('..'));
export const objectRefSchema = z.object({ objectId: z.string().min(1), storageKey, sha256: z.string(), readGrant: grant });
const datasetRef = objectRefSchema.extend({ datasetVersionId: z.string().min(1), format: z.enum(['CSV', 'JSONL']), contentSha256: z.string().regex(/^[0-9a-f]{64}$/) });

const payloadSchema = z.object({
  kind: z.literal('training'),
  version: z.literal(1),
  jobId: z.string().min(1),
  tenantId: z.string().min(1),
  projectId: z.string().min(1),
  poolId: z.string().min(1),
  region: z.string().min(1),
  gpuClass: z.string(),
  baseModel: z.enum(BASE_MODELS),
  baseArtifact: objectRefSchema.optional(),
  training: datasetRef,
  validation: datasetRef.optional(),
  targetColumn: z.string().min(1),
  // The api sends null for "all columns"; an empty list means the same.
  featureColumns: z
    .array(z.string().min(1))
    .nullable()
    .transform((columns) => (columns && columns.length > 0 ? columns : null)),
  hyperparameters: z.object({
    epochs: z.number().int().min(1).max(10_000),
    batchSize: z.number().int().min(1).max(65_536),
    learningRate: z.number().gt(0).max(10),
    seed: z.number().int(),
  }),
  writeGrant: grant,
});

/** Enough of a payload to report a failure about it. */
export function jobIdentity(data: unknown): { jobId: string; tenantId: string } | undefined {
  const parsed = z.object({ jobId: z.string().min(1), tenantId: z.string().min(1) }).safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

export function parsePayload(data: unknown): TrainingJobPayload {
  const parsed = payloadSchema.safeParse(data);
  if (!parsed.success) {
    // Paths only: the values could be anything, including data pasted by mistake.
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
    throw new JobError(`the job payload is invalid (${fields})`, true);
  }
  return parsed.data as TrainingJobPayload;
}

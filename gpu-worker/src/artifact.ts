import * as tf from '@tensorflow/tfjs';
import type { ModelArtifact } from '../../src/contracts/model-artifact';
import { BASE_MODELS } from '../../src/contracts/training';
import { JobError } from './errors';

/**
 * A model and everything needed to use it again, as one JSON document (checkpoints and final
 * artifacts alike): tfjs topology and weights, the preprocessing, where training stood.
 */

export type ArtifactFields = Omit<ModelArtifact, 'format' | 'version' | 'modelTopology' | 'weightSpecs' | 'weightData'>;

export async function modelToArtifact(model: tf.LayersModel, fields: ArtifactFields): Promise<ModelArtifact> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved?.modelTopology || !saved.weightSpecs || !saved.weightData) throw new Error('tfjs saved no topology or weights');
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(saved.weightData));
  return {
    format: 'lutece-tfjs',
    version: 1,
    ...fields,
    modelTopology: saved.modelTopology,
    weightSpecs: saved.weightSpecs,
    weightData: Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).toString('base64'),
  };
}

export async function modelFromArtifact(artifact: ModelArtifact): Promise<tf.LayersModel> {
  const bytes = Buffer.from(artifact.weightData, 'base64');
  // A copy into an ArrayBuffer of exactly the weights: a Buffer's pool may hold other bytes around them.
  const weightData = new Uint8Array(bytes).buffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: artifact.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: artifact.weightSpecs as tf.io.WeightsManifestEntry[],
      weightData,
    }),
  );
}

export function serializeArtifact(artifact: ModelArtifact): Buffer {
  return Buffer.from(JSON.stringify(artifact), 'utf8');
}

/** Parses and checks the envelope's plaintext; what does not look like our artifact is refused. */
export function parseArtifact(plaintext: Buffer): ModelArtifact {
  let artifact: Partial<ModelArtifact>;
  try {
    artifact = JSON.parse(plaintext.toString('utf8')) as Partial<ModelArtifact>;
  } catch {
    throw new JobError('the model artifact is not valid JSON', true);
  }
  const valid =
    artifact?.format === 'lutece-tfjs' &&
    artifact.version === 1 &&
    BASE_MODELS.includes(artifact.baseModel!) &&
    typeof artifact.weightData === 'string' &&
    Array.isArray(artifact.weightSpecs) &&
    typeof artifact.modelTopology === 'object' &&
    typeof artifact.preprocessing === 'object' &&
    Number.isInteger(artifact.epoch);
  if (!valid) throw new JobError('the model artifact is not a lutece-tfjs v1 artifact', true);
  return artifact as ModelArtifact;
}

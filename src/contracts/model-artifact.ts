/**
 * What a checkpoint or a model artifact contains (before encryption): the tfjs model saved through
 * tf.io.withSaveHandler, and the preprocessing that serving must apply exactly as in training.
 */
import type { BaseModelId, EpochMetrics, ModelSummary, TfjsBackend } from './training';

export type FeatureTransform =
  | { name: string; kind: 'numeric'; mean: number; std: number }
  | { name: string; kind: 'categorical'; vocabulary: string[] };

export type Preprocessing =
  | {
      kind: 'tabular';
      features: FeatureTransform[];
      target: { name: string; kind: 'classification'; classes: string[] } | { name: string; kind: 'regression'; mean: number; std: number };
    }
  | { kind: 'text'; textColumn: string; lowercase: boolean; ngrams: number[]; buckets: number; target: { name: string; classes: string[] } }
  | { kind: 'sequence'; seriesColumn: string; window: number; mean: number; std: number };

export interface ModelArtifact {
  format: 'lutece-tfjs';
  version: 1;
  baseModel: BaseModelId;
  /** tfjs ModelArtifacts: topology and weight specs as saved; weights base64-encoded. */
  modelTopology: unknown;
  weightSpecs: unknown[];
  weightData: string;
  preprocessing: Preprocessing;
  epoch: number;
  metrics: EpochMetrics | null;
  backend: TfjsBackend;
  summary: ModelSummary;
}

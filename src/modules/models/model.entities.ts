import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { DriftBaseline } from '../../contracts/inference';

@Entity('models')
export class ModelEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'project_id' }) projectId: string;
  @Column('text') name: string;
  @Column('text', { name: 'base_model' }) baseModel: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('model_versions')
export class ModelVersionEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'model_id' }) modelId: string;
  @Column('integer') version: number;
  @Column('uuid', { name: 'job_id', nullable: true }) jobId: string | null;
  @Column('uuid', { name: 'artifact_object_id' }) artifactObjectId: string;
  @Column('text') sha256: string;
  @Column('jsonb') metrics: Record<string, number>;
  @Column('jsonb', { name: 'model_card' }) modelCard: Record<string, unknown>;
  @Column('jsonb') summary: Record<string, unknown>;
  @Column('uuid', { name: 'training_dataset_version_ids', array: true }) trainingDatasetVersionIds: string[];
  @Column('text') backend: string;
  @Column('text') region: string;
  @Column('jsonb', { name: 'drift_baseline', nullable: true }) driftBaseline: DriftBaseline | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Hyperparameters } from '../../contracts/training';
import type { CostEstimate } from './cost-estimator';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export const TERMINAL_STATUSES: JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

@Entity('fine_tuning_jobs')
export class FineTuningJobEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'project_id' }) projectId: string;
  @Column('text') status: JobStatus;
  @Column('text', { name: 'base_model' }) baseModel: string;
  @Column('uuid', { name: 'base_model_version_id', nullable: true }) baseModelVersionId: string | null;
  @Column('uuid', { name: 'training_dataset_version_id' }) trainingDatasetVersionId: string;
  @Column('uuid', { name: 'validation_dataset_version_id', nullable: true }) validationDatasetVersionId: string | null;
  @Column('text', { name: 'target_column' }) targetColumn: string;
  @Column('text', { name: 'feature_columns', array: true, nullable: true }) featureColumns: string[] | null;
  @Column('jsonb') hyperparameters: Hyperparameters;
  @Column('text', { name: 'pool_id' }) poolId: string;
  @Column('text') region: string;
  @Column('text', { name: 'gpu_class' }) gpuClass: string;
  @Column('jsonb') estimate: CostEstimate;
  @Column('text', { name: 'idempotency_key', nullable: true }) idempotencyKey: string | null;
  @Column('double precision') progress: number;
  @Column('integer') attempts: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { nullable: true }) backend: string | null;
  @Column('text', { nullable: true }) node: string | null;
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt: Date | null;
  @Column('uuid', { name: 'result_model_version_id', nullable: true }) resultModelVersionId: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt: Date | null;
  /** Median training throughput once finished; calibrates later estimates. */
  @Column('double precision', { name: 'samples_per_second', nullable: true }) samplesPerSecond: number | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity('job_events')
export class JobEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'job_id' }) jobId: string;
  @Column('timestamptz') at: Date;
  @Column('text') level: 'info' | 'warn' | 'error';
  @Column('text') message: string;
}

@Entity('job_epoch_metrics')
export class JobEpochMetricsEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId: string;
  @PrimaryColumn('integer') epoch: number;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('jsonb') metrics: Record<string, number>;
  @Column('double precision', { name: 'samples_per_second', nullable: true }) samplesPerSecond: number | null;
}

@Entity('job_checkpoints')
export class JobCheckpointEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId: string;
  @PrimaryColumn('integer') epoch: number;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'object_id' }) objectId: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

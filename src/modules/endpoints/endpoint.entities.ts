import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type Environment = 'STAGING' | 'PRODUCTION';

@Entity('endpoints')
export class EndpointEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'project_id' }) projectId: string;
  @Column('text') name: string;
  @Column('text') environment: Environment;
  @Column('uuid', { name: 'model_version_id' }) modelVersionId: string;
  @Column('integer', { name: 'min_replicas' }) minReplicas: number;
  @Column('integer', { name: 'max_replicas' }) maxReplicas: number;
  @Column('integer', { name: 'idle_timeout_seconds' }) idleTimeoutSeconds: number;
  @Column('integer', { name: 'rate_limit_per_minute' }) rateLimitPerMinute: number;
  @Column('text', { name: 'pool_id' }) poolId: string;
  @Column('text') region: string;
  @Column('uuid', { name: 'promoted_from_endpoint_id', nullable: true }) promotedFromEndpointId: string | null;
  @Column('text', { name: 'drift_status' }) driftStatus: 'OK' | 'WARNING' | 'ALERT';
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}

@Entity('endpoint_events')
export class EndpointEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'endpoint_id' }) endpointId: string;
  @Column('timestamptz') at: Date;
  @Column('text') level: 'info' | 'warn' | 'error';
  @Column('text') message: string;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { ColumnProfile } from './ingest/column-profiler';
import type { DatasetFormat, IngestWarning } from './ingest/ingest';

@Entity('datasets')
export class DatasetEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'project_id' }) projectId: string;
  @Column('text') name: string;
  @Column('text') format: DatasetFormat;
  @Column('text') purpose: string;
  @Column('text', { name: 'legal_basis' }) legalBasis: string;
  @Column('boolean', { name: 'contains_personal_data' }) containsPersonalData: boolean;
  @Column('text', { name: 'pii_columns', array: true }) piiColumns: string[];
  @Column('integer', { name: 'retention_days', nullable: true }) retentionDays: number | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
  @Column('timestamptz', { name: 'erased_at', nullable: true }) erasedAt: Date | null;
}

@Entity('dataset_versions')
export class DatasetVersionEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'dataset_id' }) datasetId: string;
  @Column('integer') version: number;
  @Column('uuid', { name: 'object_id' }) objectId: string;
  @Column('text') sha256: string;
  @Column('bigint', { name: 'size_bytes' }) sizeBytes: string;
  @Column('bigint', { name: 'row_count' }) rowCount: string;
  @Column('jsonb') columns: ColumnProfile[];
  @Column('text', { name: 'pseudonymized_columns', array: true }) pseudonymizedColumns: string[];
  @Column('jsonb') warnings: IngestWarning[];
  @Column('text', { name: 'storage_region' }) storageRegion: string;
  @Column('text', { name: 'created_by', nullable: true }) createdBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('dataset_retention')
export class DatasetRetentionEntity {
  @PrimaryColumn('uuid', { name: 'dataset_id' }) datasetId: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('timestamptz', { name: 'erase_after' }) eraseAfter: Date;
}

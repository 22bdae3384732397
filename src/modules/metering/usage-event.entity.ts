import { Column, Entity, PrimaryColumn } from 'typeorm';

export type Meter = 'GPU_SECONDS' | 'CPU_SECONDS' | 'PREDICTIONS' | 'STORAGE_GB_HOURS';

/** One line of the append-only usage ledger; `id` is the idempotency key of whoever measured it. */
@Entity('usage_events')
export class UsageEventEntity {
  @PrimaryColumn('text') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'project_id', nullable: true }) projectId: string | null;
  @Column('text') meter: Meter;
  /** NUMERIC, kept as a decimal string end to end. */
  @Column('numeric', { precision: 20, scale: 6 }) quantity: string;
  @Column('text') unit: string;
  @Column('text', { name: 'gpu_class', nullable: true }) gpuClass: string | null;
  @Column('text', { name: 'source_type' }) sourceType: string;
  @Column('text', { name: 'source_id' }) sourceId: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('jsonb') details: Record<string, unknown>;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

export const AUDIT_OUTCOMES = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @PrimaryColumn('bigint') seq: string;
  @Column('uuid') id: string;
  @Column('timestamptz') at: Date;
  @Column('text', { name: 'actor_type' }) actorType: string;
  @Column('text', { name: 'actor_id', nullable: true }) actorId: string | null;
  @Column('text') action: string;
  @Column('text', { name: 'resource_type', nullable: true }) resourceType: string | null;
  @Column('text', { name: 'resource_id', nullable: true }) resourceId: string | null;
  @Column('text') outcome: AuditOutcome;
  @Column('text', { name: 'request_id', nullable: true }) requestId: string | null;
  @Column('text', { nullable: true }) ip: string | null;
  @Column('jsonb') details: Record<string, unknown>;
  @Column('text', { name: 'prev_hash' }) prevHash: string;
  @Column('text') hash: string;
}

@Entity('audit_chain_heads')
export class AuditChainHeadEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('bigint', { name: 'last_seq' }) lastSeq: string;
  @Column('text', { name: 'last_hash' }) lastHash: string;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type KeyPurpose = 'ENCRYPTION' | 'PSEUDONYMISATION';

@Entity('tenant_keys')
export class TenantKeyEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @PrimaryColumn('text') purpose: KeyPurpose;
  @PrimaryColumn('integer') generation: number;
  @Column('text', { name: 'master_key_id' }) masterKeyId: string;
  @Column('text', { name: 'wrapped_key' }) wrappedKey: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export type ObjectKind = 'DATASET_VERSION' | 'CHECKPOINT' | 'MODEL_ARTIFACT' | 'EXPORT';

@Entity('stored_objects')
export class StoredObjectEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('text') kind: ObjectKind;
  @Column('text', { name: 'storage_key' }) storageKey: string;
  @Column('text') region: string;
  @Column('text') node: string;
  @Column('text') sha256: string;
  @Column('bigint', { name: 'size_bytes' }) sizeBytes: string;
  @Column('integer', { name: 'key_generation' }) keyGeneration: number;
  @Column('bytea', { name: 'object_secret', nullable: true, select: false }) objectSecret: Buffer | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'shredded_at', nullable: true }) shreddedAt: Date | null;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}

import { Column, CreateDateColumn, Entity, UpdateDateColumn, PrimaryColumn } from 'typeorm';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') email: string;
  @Column('text', { name: 'email_normalized' }) emailNormalized: string;
  @Column('text', { name: 'display_name' }) displayName: string;
  @Column('text', { name: 'password_hash', select: false }) passwordHash: string;
  @Column('boolean', { name: 'mfa_enabled', default: false }) mfaEnabled: boolean;
  @Column('text', { name: 'mfa_secret_enc', nullable: true, select: false }) mfaSecretEnc: string | null;
  @Column('text', { name: 'mfa_pending_secret_enc', nullable: true, select: false }) mfaPendingSecretEnc: string | null;
  @Column('bigint', { name: 'mfa_last_time_step', nullable: true, select: false }) mfaLastTimeStep: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

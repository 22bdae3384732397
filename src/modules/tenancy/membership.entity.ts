import { Column, CreateDateColumn, Entity, UpdateDateColumn, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Role } from '../../common/authz/roles';
import { UserEntity } from '../iam/user.entity';
import { TenantEntity } from './tenant.entity';

@Entity('memberships')
export class MembershipEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'user_id' }) userId: string;
  @Column('text') role: Role;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;

  @ManyToOne(() => UserEntity) @JoinColumn({ name: 'user_id' }) user?: UserEntity;
  @ManyToOne(() => TenantEntity) @JoinColumn({ name: 'tenant_id' }) tenant?: TenantEntity;
}

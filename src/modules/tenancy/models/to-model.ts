import { UserEntity } from '../../iam/user.entity';
import { UserModel } from '../../iam/models/user.model';
import { MembershipEntity } from '../membership.entity';
import { TenantEntity } from '../tenant.entity';
import { MembershipModel } from './membership.model';
import { TenantModel } from './tenant.model';

export function toUserModel(user: UserEntity): UserModel {
  return { id: user.id, email: user.email, displayName: user.displayName, mfaEnabled: user.mfaEnabled, createdAt: user.createdAt };
}

export function toTenantModel(tenant: TenantEntity): TenantModel {
  return {
    id: tenant.id,
    name: tenant.name,
    slug: tenant.slug,
    dataResidency: tenant.dataResidency,
    requireMfa: tenant.requireMfa,
    createdAt: tenant.createdAt,
  };
}

/** Expects the membership loaded with its user and tenant relations. */
export function toMembershipModel(membership: MembershipEntity): MembershipModel {
  return {
    id: membership.id,
    role: membership.role,
    createdAt: membership.createdAt,
    user: toUserModel(membership.user!),
    tenant: toTenantModel(membership.tenant!),
  };
}

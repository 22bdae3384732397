import { registerEnumType } from '@nestjs/graphql';
import { ROLES } from '../authz/roles';

export enum RoleEnum {
  OWNER = 'OWNER',
  ADMIN = 'ADMIN',
  ML_ENGINEER = 'ML_ENGINEER',
  VIEWER = 'VIEWER',
  BILLING = 'BILLING',
  AUDITOR = 'AUDITOR',
}
registerEnumType(RoleEnum, { name: 'Role', description: 'Tenant-wide role of a membership or API key (API.md §Roles)' });

// Keeps the GraphQL enum and the role matrix from drifting apart.
if (Object.values(RoleEnum).join() !== ROLES.join()) throw new Error('RoleEnum and ROLES differ');

export enum DataResidencyEnum {
  FR = 'FR',
  EU = 'EU',
}
registerEnumType(DataResidencyEnum, { name: 'DataResidency' });

/**
 * The role matrix of API.md §Roles, as data. Everything about "who may do what" derives from this
 * file: the CASL abilities (ability.factory.ts), and the rule that an API key's role never exceeds
 * its creator's (a role is "at most" another when its capabilities are a subset).
 */
export const ROLES = ['OWNER', 'ADMIN', 'ML_ENGINEER', 'VIEWER', 'BILLING', 'AUDITOR'] as const;
export type Role = (typeof ROLES)[number];

export type Capability =
  | 'tenant.read'
  | 'tenant.manage'
  | 'tenant.rotateKey'
  | 'members.manage'
  | 'apiKeys.manage'
  | 'projects.read'
  | 'projects.write'
  | 'work.start'
  | 'endpoints.deployProduction'
  | 'endpoints.predict'
  | 'billing.read'
  | 'budget.write'
  | 'audit.read';

const everyone: Role[] = [...ROLES];

const WHO_HAS: Record<Capability, Role[]> = {
  'tenant.read': everyone,
  'tenant.manage': ['OWNER', 'ADMIN'],
  'tenant.rotateKey': ['OWNER'],
  'members.manage': ['OWNER', 'ADMIN'],
  'apiKeys.manage': ['OWNER', 'ADMIN'],
  'projects.read': ['OWNER', 'ADMIN', 'ML_ENGINEER', 'VIEWER', 'AUDITOR'],
  'projects.write': ['OWNER', 'ADMIN', 'ML_ENGINEER'],
  'work.start': ['OWNER', 'ADMIN', 'ML_ENGINEER'],
  'endpoints.deployProduction': ['OWNER', 'ADMIN'],
  'endpoints.predict': ['OWNER', 'ADMIN', 'ML_ENGINEER', 'VIEWER'],
  'billing.read': ['OWNER', 'ADMIN', 'BILLING'],
  'budget.write': ['OWNER', 'BILLING'],
  'audit.read': ['OWNER', 'AUDITOR'],
};

export function capabilitiesOf(role: Role): Set<Capability> {
  return new Set((Object.keys(WHO_HAS) as Capability[]).filter((c) => WHO_HAS[c].includes(role)));
}

/** True when every capability of `candidate` is also held by `holder`. */
export function roleIsAtMost(candidate: Role, holder: Role): boolean {
  const held = capabilitiesOf(holder);
  return [...capabilitiesOf(candidate)].every((c) => held.has(c));
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

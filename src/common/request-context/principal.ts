import { Role } from '../authz/roles';

/** Who is calling. Serializable, so it can travel in job payloads. */
export type Principal =
  | {
      kind: 'user';
      userId: string;
      sessionId: string;
      /** Whether this session was opened with a second factor. */
      mfa: boolean;
      tenantId?: string;
      membershipId?: string;
      role?: Role;
      requireMfa?: boolean;
    }
  | {
      kind: 'apiKey';
      apiKeyId: string;
      tenantId: string;
      role: Role;
      projectId: string | null;
      createdByUserId: string;
    };

export function actorOf(principal: Principal | undefined): { actorType: string; actorId: string | null } {
  if (!principal) return { actorType: 'anonymous', actorId: null };
  return principal.kind === 'user'
    ? { actorType: 'user', actorId: principal.userId }
    : { actorType: 'api_key', actorId: principal.apiKeyId };
}

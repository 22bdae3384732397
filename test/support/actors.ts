import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/common/authz/roles';
import { AppUnderTest } from './app-under-test';

export const PASSWORD = 'correct horse battery staple';

export interface Actor {
  userId: string;
  email: string;
  token: string;
  refreshToken: string;
  tenantId: string;
}

export function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.test`;
}

const AUTH_FIELDS = 'accessToken refreshToken expiresAt user { id email }';

/** Signs up a new user, who becomes OWNER of a new tenant. */
export async function signUpOwner(app: AppUnderTest, label = 'owner', tenantName = `Tenant ${label}`): Promise<Actor> {
  const email = uniqueEmail(label);
  const response = await app.graphql(`mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`, {
    input: { email, password: PASSWORD, displayName: label, tenantName },
  });
  if (!response.data) throw new Error(`signUp failed: ${JSON.stringify(response.errors)}`);
  const { accessToken, refreshToken, user } = response.data.signUp;
  const tenant = await app.graphql('{ tenant { id } }', {}, { token: accessToken });
  return { userId: user.id, email, token: accessToken, refreshToken, tenantId: tenant.data.tenant.id };
}

export async function login(app: AppUnderTest, email: string, password = PASSWORD, totpCode?: string) {
  return app.graphql(`mutation($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`, { input: { email, password, totpCode } });
}

/** Creates a user (with a throwaway tenant of their own) and adds them to `owner`'s tenant with `role`. */
export async function memberWithRole(app: AppUnderTest, owner: Actor, role: Role): Promise<Actor & { membershipId: string }> {
  const user = await signUpOwner(app, role.toLowerCase());
  const added = await app.graphql(
    `mutation($input: AddMemberInput!) { addMember(input: $input) { id } }`,
    { input: { email: user.email, role } },
    { token: owner.token, tenantId: owner.tenantId },
  );
  if (!added.data) throw new Error(`addMember failed: ${JSON.stringify(added.errors)}`);
  return { ...user, tenantId: owner.tenantId, membershipId: added.data.addMember.id };
}

export async function apiKeyWithRole(app: AppUnderTest, owner: Actor, role: Role, projectId?: string): Promise<{ id: string; secret: string }> {
  const created = await app.graphql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
    { input: { name: `key-${role}`, role, projectId } },
    { token: owner.token, tenantId: owner.tenantId },
  );
  if (!created.data) throw new Error(`createApiKey failed: ${JSON.stringify(created.errors)}`);
  return { id: created.data.createApiKey.apiKey.id, secret: created.data.createApiKey.secret };
}

import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';

const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix role projectId expiresAt } } }';
const TENANT = '{ tenant { id } }';

describe('API keys for portal integrations', () => {
  let app: AppUnderTest;
  let owner: Actor;
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

  beforeAll(async () => {
    app = await AppUnderTest.start();
    owner = await signUpOwner(app, 'keys-owner');
  });
  afterAll(() => app?.stop());

  it('shows the secret once as lk_<prefix>_<secret> and stores only its hash', async () => {
    const created = await app.graphql(CREATE, { input: { name: 'portal', role: 'VIEWER' } }, as(owner));
    const { secret, apiKey } = created.data.createApiKey;
    expect(secret).toMatch(new RegExp(`^lk_${apiKey.prefix}_[A-Za-z0-9_-]{43}$`));
    const stored = await app.ownerQuery(`SELECT row_to_json(k)::text AS row FROM api_keys k WHERE id = $1`, [apiKey.id]);
    expect(stored[0].row).not.toContain(secret.split('_').slice(2).join('_'));
    const listed = await app.graphql('{ apiKeys { id name prefix role lastUsedAt } }', {}, as(owner));
    expect(JSON.stringify(listed.data)).not.toContain(secret);
    expect((await app.graphql(TENANT, {}, { token: secret })).data.tenant.id).toBe(owner.tenantId);
    const used = await app.graphql('{ apiKeys { id lastUsedAt } }', {}, as(owner));
    expect(used.data.apiKeys.find((k: any) => k.id === apiKey.id).lastUsedAt).not.toBeNull();
  });

  it('never gives a key a role above its creator’s', async () => {
    const admin = await memberWithRole(app, owner, 'ADMIN');
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'escalate', role: 'OWNER' } }, as(admin)))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'billing', role: 'BILLING' } }, as(admin)))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'ok', role: 'ML_ENGINEER' } }, as(admin)))).toBeUndefined();
    const engineer = await memberWithRole(app, owner, 'ML_ENGINEER');
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'nope', role: 'VIEWER' } }, as(engineer)))).toBe('FORBIDDEN');
  });

  it('rejects bad input without creating a key', async () => {
    const before = await app.ownerQuery('SELECT count(*)::int AS n FROM api_keys');
    const past = await app.graphql(CREATE, { input: { name: '', role: 'VIEWER', expiresAt: '2020-01-01T00:00:00Z' } }, as(owner));
    expect(codeOf(past)).toBe('BAD_USER_INPUT');
    expect(past.errors![0].extensions!.fields!.map((f) => f.field).sort()).toEqual(['expiresAt', 'name']);
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'x', role: 'VIEWER', projectId: 'not-a-uuid' } }, as(owner)))).toBe('BAD_USER_INPUT');
    expect(codeOf(await app.graphql(CREATE, { input: { name: 'x', role: 'VIEWER', projectId: '5b0c4f4e-8a0e-4f7e-9d1c-2f3a4b5c6d7e' } }, as(owner)))).toBe('NOT_FOUND');
    const after = await app.ownerQuery('SELECT count(*)::int AS n FROM api_keys');
    expect(after[0].n).toBe(before[0].n);
  });

  it('is UNAUTHENTICATED on the very next request once expired', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const created = await app.graphql(CREATE, { input: { name: 'short', role: 'VIEWER', expiresAt } }, as(owner));
    const { secret } = created.data.createApiKey;
    expect(codeOf(await app.graphql(TENANT, {}, { token: secret }))).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await app.graphql(TENANT, {}, { token: secret });
    expect(codeOf(expired)).toBe('UNAUTHENTICATED');
    expect(expired.errors![0].message).toBe('API key has expired');
  });

  it('revokes and rotates: the old secret stops at once, the new one works', async () => {
    const key = await apiKeyWithRole(app, owner, 'ML_ENGINEER');
    const rotated = await app.graphql('mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id role } } }', { id: key.id }, as(owner));
    expect(rotated.data.rotateApiKey.apiKey.role).toBe('ML_ENGINEER');
    expect(codeOf(await app.graphql(TENANT, {}, { token: key.secret }))).toBe('UNAUTHENTICATED');
    const fresh = rotated.data.rotateApiKey.secret;
    expect(codeOf(await app.graphql(TENANT, {}, { token: fresh }))).toBeUndefined();
    const revoked = await app.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: rotated.data.rotateApiKey.apiKey.id }, as(owner));
    expect(revoked.data.revokeApiKey.revokedAt).not.toBeNull();
    expect(codeOf(await app.graphql(TENANT, {}, { token: fresh }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await app.graphql('mutation($id: ID!) { rotateApiKey(id: $id) { secret } }', { id: rotated.data.rotateApiKey.apiKey.id }, as(owner)))).toBe('NOT_FOUND');
  });

  it('stops working when its creator leaves the tenant', async () => {
    const admin = await memberWithRole(app, owner, 'ADMIN');
    const key = await app.graphql(CREATE, { input: { name: 'leaver', role: 'VIEWER' } }, as(admin));
    const secret = key.data.createApiKey.secret;
    expect(codeOf(await app.graphql(TENANT, {}, { token: secret }))).toBeUndefined();
    await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: admin.membershipId }, as(owner));
    expect(codeOf(await app.graphql(TENANT, {}, { token: secret }))).toBe('UNAUTHENTICATED');
  });

  it('refuses garbage and forged tokens alike', async () => {
    const key = await apiKeyWithRole(app, owner, 'VIEWER');
    const forged = key.secret.slice(0, -1) + (key.secret.endsWith('A') ? 'B' : 'A');
    for (const token of ['lk_garbage', forged, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      expect(codeOf(await app.graphql(TENANT, {}, { token }))).toBe('UNAUTHENTICATED');
    }
    const audited = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'api_key.create'`, [owner.tenantId]);
    expect(audited[0].n).toBeGreaterThan(0);
  });
});

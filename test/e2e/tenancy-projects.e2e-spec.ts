import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, login, memberWithRole, PASSWORD, signUpOwner } from '../support/actors';
import { totp } from '../support/totp';

const CREATE_PROJECT = 'mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description dataClassification archived } }';

describe('tenants, memberships and projects', () => {
  let app: AppUnderTest;
  let owner: Actor;
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

  beforeAll(async () => {
    app = await AppUnderTest.start();
    owner = await signUpOwner(app, 'tp-owner', 'Banque du Rhône');
  });
  afterAll(() => app?.stop());

  it('lets a user with several memberships pick the tenant with X-Tenant-Id', async () => {
    const engineer = await memberWithRole(app, owner, 'ML_ENGINEER');
    const withoutHeader = await app.graphql('{ tenant { id } }', {}, { token: engineer.token });
    expect(codeOf(withoutHeader)).toBe('BAD_USER_INPUT');
    expect(withoutHeader.errors![0].extensions!.fields![0].field).toBe('X-Tenant-Id');
    expect((await app.graphql('{ tenant { name } }', {}, as(engineer))).data.tenant.name).toBe('Banque du Rhône');
    const stranger = await signUpOwner(app, 'stranger');
    expect(codeOf(await app.graphql('{ tenant { id } }', {}, { token: engineer.token, tenantId: stranger.tenantId }))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('{ tenant { id } }', {}, { token: engineer.token, tenantId: 'nope' }))).toBe('BAD_USER_INPUT');
    const me = await app.graphql('{ me { memberships { role tenant { id } } } }', {}, { token: engineer.token });
    expect(me.data.me.memberships).toHaveLength(2);
  });

  it('manages members: add, change role, remove; refuses unknown users and duplicates', async () => {
    const user = await signUpOwner(app, 'newcomer');
    const added = await app.graphql('mutation($e: String!) { addMember(input: {email: $e, role: VIEWER}) { id role user { email } tenant { id } } }', { e: user.email }, as(owner));
    expect(added.data.addMember).toMatchObject({ role: 'VIEWER', user: { email: user.email }, tenant: { id: owner.tenantId } });
    expect(codeOf(await app.graphql('mutation($e: String!) { addMember(input: {email: $e, role: VIEWER}) { id } }', { e: user.email }, as(owner)))).toBe('CONFLICT');
    expect(codeOf(await app.graphql('mutation { addMember(input: {email: "ghost@example.test", role: VIEWER}) { id } }', {}, as(owner)))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('mutation { addMember(input: {email: "not an email", role: VIEWER}) { id } }', {}, as(owner)))).toBe('BAD_USER_INPUT');
    const id = added.data.addMember.id;
    expect((await app.graphql('mutation($id: ID!) { updateMemberRole(membershipId: $id, role: AUDITOR) { role } }', { id }, as(owner))).data.updateMemberRole.role).toBe('AUDITOR');
    expect(codeOf(await app.graphql('mutation { updateMemberRole(membershipId: "x", role: AUDITOR) { role } }', {}, as(owner)))).toBe('BAD_USER_INPUT');
    const members = await app.graphql('{ members(first: 100) { totalCount edges { node { id role } } } }', {}, as(owner));
    expect(members.data.members.edges.map((e: any) => e.node.id)).toContain(id);
    expect((await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id }, as(owner))).data.removeMember).toBe(true);
    expect(codeOf(await app.graphql('{ tenant { id } }', {}, { token: user.token, tenantId: owner.tenantId }))).toBe('NOT_FOUND');
  });

  it('keeps at least one OWNER, and two OWNERs can hand over', async () => {
    const solo = await signUpOwner(app, 'solo');
    const [{ id: soloMembership }] = await app.ownerQuery('SELECT id FROM memberships WHERE tenant_id = $1', [solo.tenantId]);
    expect(codeOf(await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: soloMembership }, as(solo)))).toBe('CONFLICT');
    expect(codeOf(await app.graphql('mutation($id: ID!) { updateMemberRole(membershipId: $id, role: ADMIN) { id } }', { id: soloMembership }, as(solo)))).toBe('CONFLICT');
    const second = await memberWithRole(app, solo, 'OWNER');
    expect(codeOf(await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: soloMembership }, as(second)))).toBeUndefined();
  });

  it('enforces requireMfa for OWNER/ADMIN mutations, not for reads or other roles', async () => {
    const tenantOwner = await signUpOwner(app, 'mfa-owner');
    expect(codeOf(await app.graphql('mutation { updateTenant(input: {requireMfa: true}) { requireMfa } }', {}, as(tenantOwner)))).toBe('BAD_USER_INPUT');
    const { secret } = (await app.graphql('mutation { startMfaEnrollment { secret } }', {}, { token: tenantOwner.token })).data.startMfaEnrollment;
    await app.graphql('mutation($c: String!) { confirmMfaEnrollment(code: $c) }', { c: totp(secret) }, { token: tenantOwner.token });
    const enabled = await app.graphql('mutation { updateTenant(input: {requireMfa: true, name: "Clinique"}) { requireMfa name } }', {}, as(tenantOwner));
    expect(enabled.data.updateTenant).toEqual({ requireMfa: true, name: 'Clinique' });

    const admin = await memberWithRole(app, tenantOwner, 'ADMIN');
    const engineer = await memberWithRole(app, tenantOwner, 'ML_ENGINEER');
    expect(codeOf(await app.graphql(CREATE_PROJECT, { input: { name: 'a', dataClassification: 'PUBLIC' } }, as(admin)))).toBe('MFA_REQUIRED');
    expect(codeOf(await app.graphql('{ projects { totalCount } }', {}, as(admin)))).toBeUndefined();
    expect(codeOf(await app.graphql(CREATE_PROJECT, { input: { name: 'b', dataClassification: 'PUBLIC' } }, as(engineer)))).toBeUndefined();
    // The owner's next login needs the second factor, and a session with it may change things.
    const relogin = await login(app, tenantOwner.email, PASSWORD, totp(secret, Math.floor(Date.now() / 1000) + 30));
    const token = relogin.data.login.accessToken;
    expect(codeOf(await app.graphql(CREATE_PROJECT, { input: { name: 'c', dataClassification: 'PUBLIC' } }, { token, tenantId: tenantOwner.tenantId }))).toBeUndefined();
  });

  it('creates, reads, updates and archives projects, with clear errors and nothing stored on failure', async () => {
    const created = await app.graphql(CREATE_PROJECT, { input: { name: 'Fraud scoring', description: 'cards', dataClassification: 'CONFIDENTIAL' } }, as(owner));
    const id = created.data.createProject.id;
    expect(created.data.createProject).toMatchObject({ name: 'Fraud scoring', archived: false });
    expect(codeOf(await app.graphql(CREATE_PROJECT, { input: { name: 'fraud SCORING', dataClassification: 'PUBLIC' } }, as(owner)))).toBe('CONFLICT');
    const empty = await app.graphql(CREATE_PROJECT, { input: { name: '  ', dataClassification: 'PUBLIC' } }, as(owner));
    expect(empty.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'name' }] });
    const updated = await app.graphql('mutation($id: ID!) { updateProject(id: $id, input: {description: "cards and transfers"}) { description } }', { id }, as(owner));
    expect(updated.data.updateProject.description).toBe('cards and transfers');
    const archived = await app.graphql('mutation($id: ID!) { archiveProject(id: $id) { archived archivedAt } }', { id }, as(owner));
    expect(archived.data.archiveProject.archived).toBe(true);
    expect(codeOf(await app.graphql('mutation($id: ID!) { updateProject(id: $id, input: {name: "x"}) { id } }', { id }, as(owner)))).toBe('CONFLICT');
    expect(codeOf(await app.graphql('{ project(id: "5b0c4f4e-8a0e-4f7e-9d1c-2f3a4b5c6d7e") { id } }', {}, as(owner)))).toBe('NOT_FOUND');
    const rows = await app.ownerQuery(`SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1 AND lower(name) = 'fraud scoring'`, [owner.tenantId]);
    expect(rows[0].n).toBe(1);
  });

  it('paginates with Relay cursors, stable and complete, and caps first at 100', async () => {
    const tenant = await signUpOwner(app, 'pager');
    for (let i = 0; i < 25; i++) await app.graphql(CREATE_PROJECT, { input: { name: `p${i}`, dataClassification: 'INTERNAL' } }, as(tenant));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await app.graphql('query($after: String) { projects(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }', { after }, as(tenant));
      expect(page.data.projects.totalCount).toBe(25);
      seen.push(...page.data.projects.edges.map((e: any) => e.node.name));
      if (!page.data.projects.pageInfo.hasNextPage) break;
      after = page.data.projects.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect(seen[0]).toBe('p24');
    for (const bad of [{ first: 1000 }, { first: 0 }, { first: 10, after: 'garbage' }]) {
      expect(codeOf(await app.graphql('query($first: Int, $after: String) { projects(first: $first, after: $after) { totalCount } }', bad, as(tenant)))).toBe('BAD_USER_INPUT');
    }
  });
});

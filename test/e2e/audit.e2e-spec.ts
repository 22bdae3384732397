import { AppUnderTest, codeOf } from '../support/app-under-test';
import { Actor, login, memberWithRole, signUpOwner } from '../support/actors';

const VERIFY = '{ verifyAuditChain { valid checkedCount firstInvalidSeq } }';

describe('audit trail: hash chain, tamper detection, filters, export', () => {
  let app: AppUnderTest;
  let owner: Actor;
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

  beforeAll(async () => {
    app = await AppUnderTest.start();
    owner = await signUpOwner(app, 'auditor-owner');
    // A realistic session: logins, members, keys, projects, a denied call and a failed mutation.
    await login(app, owner.email);
    await login(app, owner.email, 'not the right password');
    const viewer = await memberWithRole(app, owner, 'VIEWER');
    await app.graphql('mutation { createProject(input: {name: "Forbidden", dataClassification: PUBLIC}) { id } }', {}, as(viewer));
    const project = await app.graphql('mutation { createProject(input: {name: "Sepsis", dataClassification: HEALTH}) { id } }', {}, as(owner));
    await app.graphql('mutation($id: ID!) { updateProject(id: $id, input: {description: "ICU"}) { id } }', { id: project.data.createProject.id }, as(owner));
    await app.graphql('mutation { createProject(input: {name: "Sepsis", dataClassification: HEALTH}) { id } }', {}, as(owner));
    await app.graphql('mutation { createApiKey(input: {name: "portal", role: VIEWER}) { apiKey { id } } }', {}, as(owner));
  });
  afterAll(() => app?.stop());

  it('records mutations, auth events, denials and failures with actor, request id and ip', async () => {
    const events = await app.graphql('{ auditEvents(first: 100) { totalCount edges { node { seq action outcome actorType actorId requestId ip resourceType } } } }', {}, as(owner));
    const actions = events.data.auditEvents.edges.map((e: any) => `${e.node.action}:${e.node.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'tenant.create:SUCCESS',
        'auth.sign_up:SUCCESS',
        'auth.login:SUCCESS',
        'auth.login:FAILURE',
        'member.add:SUCCESS',
        'createProject:DENIED',
        'project.create:SUCCESS',
        'project.update:SUCCESS',
        'mutation.anonymous:FAILURE',
        'api_key.create:SUCCESS',
      ]),
    );
    const created = events.data.auditEvents.edges.find((e: any) => e.node.action === 'project.create').node;
    expect(created).toMatchObject({ actorType: 'user', actorId: owner.userId, resourceType: 'Project', ip: expect.any(String), requestId: expect.any(String) });
  });

  it('filters and paginates by sequence', async () => {
    const page1 = await app.graphql('{ auditEvents(first: 2, filter: {outcome: SUCCESS}) { totalCount pageInfo { hasNextPage endCursor } edges { node { seq outcome } } } }', {}, as(owner));
    expect(page1.data.auditEvents.edges).toHaveLength(2);
    expect(page1.data.auditEvents.pageInfo.hasNextPage).toBe(true);
    const page2 = await app.graphql('query($after: String) { auditEvents(first: 2, after: $after, filter: {outcome: SUCCESS}) { edges { node { seq } } } }', { after: page1.data.auditEvents.pageInfo.endCursor }, as(owner));
    expect(Number(page2.data.auditEvents.edges[0].node.seq)).toBeLessThan(Number(page1.data.auditEvents.edges[1].node.seq));
    const denied = await app.graphql('{ auditEvents(filter: {outcome: DENIED}) { edges { node { outcome } } } }', {}, as(owner));
    expect(denied.data.auditEvents.edges.every((e: any) => e.node.outcome === 'DENIED')).toBe(true);
    expect(codeOf(await app.graphql('{ auditEvents(first: 1000) { totalCount } }', {}, as(owner)))).toBe('BAD_USER_INPUT');
  });

  it('verifies after a realistic session, then finds the first altered row', async () => {
    const before = await app.graphql(VERIFY, {}, as(owner));
    expect(before.data.verifyAuditChain).toMatchObject({ valid: true, firstInvalidSeq: null });
    expect(before.data.verifyAuditChain.checkedCount).toBeGreaterThan(8);

    // The table owner (a DBA, or an attacker with its credentials) bypasses the append-only trigger.
    await app.ownerQuery('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await app.ownerQuery(`UPDATE audit_events SET details = '{"name":"forged"}' WHERE tenant_id = $1 AND seq = 3`, [owner.tenantId]);
    await app.ownerQuery('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');

    const after = await app.graphql(VERIFY, {}, as(owner));
    expect(after.data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: '3' });
  });

  it('detects events cut from the end of the chain', async () => {
    const other = await signUpOwner(app, 'truncated');
    await app.graphql('mutation { createProject(input: {name: "P", dataClassification: PUBLIC}) { id } }', {}, as(other));
    const [{ max }] = await app.ownerQuery('SELECT max(seq)::text AS max FROM audit_events WHERE tenant_id = $1', [other.tenantId]);
    await app.ownerQuery('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update');
    await app.ownerQuery('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2', [other.tenantId, max]);
    await app.ownerQuery('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update');
    const result = await app.graphql(VERIFY, {}, as(other));
    expect(result.data.verifyAuditChain).toMatchObject({ valid: false, firstInvalidSeq: max });
  });

  it('never forks the chain under concurrent writes in one tenant', async () => {
    const busy = await signUpOwner(app, 'concurrent');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        app.graphql('mutation($name: String!) { createProject(input: {name: $name, dataClassification: INTERNAL}) { id } }', { name: `p${i}` }, as(busy)),
      ),
    );
    const rows = await app.ownerQuery('SELECT seq::int AS seq, prev_hash, hash FROM audit_events WHERE tenant_id = $1 ORDER BY seq', [busy.tenantId]);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    expect((await app.graphql(VERIFY, {}, as(busy))).data.verifyAuditChain.valid).toBe(true);
  });

  it('streams the trail as JSON Lines for a SIEM, within a time window', async () => {
    const response = await app.fetch('/v1/audit/export.jsonl', as(owner));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(8);
    expect(lines[0]).toMatchObject({ tenantId: owner.tenantId, seq: '1', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const future = await app.fetch(`/v1/audit/export.jsonl?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`, as(owner));
    expect((await future.text()).trim()).toBe('');
    const bad = await app.fetch('/v1/audit/export.jsonl?from=yesterday', as(owner));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('BAD_USER_INPUT');
    const anonymous = await app.fetch('/v1/audit/export.jsonl');
    expect(anonymous.status).toBe(401);
  });
});

import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest, CallOptions, codeOf, GraphQLResponse } from '../support/app-under-test';

/**
 * Cross-tenant isolation (API.md §Conventions, DESIGN.md §2): another tenant's id is NOT_FOUND,
 * indistinguishable from an id that does not exist, and row-level security holds on its own even
 * when every application layer is bypassed.
 */

interface TenantWorld {
  owner: Actor;
  viewer: Actor & { membershipId: string };
  ownerMembershipId: string;
  projectId: string;
  apiKey: { id: string; secret: string };
}

async function createProject(app: AppUnderTest, owner: Actor, name: string): Promise<string> {
  const r = await app.graphql(
    'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
    { input: { name, description: null, dataClassification: 'HEALTH' } },
    { token: owner.token, tenantId: owner.tenantId },
  );
  if (!r.data) throw new Error(`createProject failed: ${JSON.stringify(r.errors)}`);
  return r.data.createProject.id;
}

async function buildTenant(app: AppUnderTest, label: string): Promise<TenantWorld> {
  const owner = await signUpOwner(app, `${label}-owner`, `Tenant ${label}`);
  const viewer = await memberWithRole(app, owner, 'VIEWER');
  const projectId = await createProject(app, owner, `${label} oncology`);
  const apiKey = await apiKeyWithRole(app, owner, 'OWNER');
  const me = await app.graphql('{ me { memberships { id tenant { id } } } }', {}, { token: owner.token, tenantId: owner.tenantId });
  const ownerMembershipId = me.data.me.memberships.find((m: { tenant: { id: string } }) => m.tenant.id === owner.tenantId).id;
  return { owner, viewer, ownerMembershipId, projectId, apiKey };
}

/** Everything a client could observe about an error answer. */
function observable(response: GraphQLResponse) {
  return { status: response.status, data: response.data ?? null, errors: response.errors };
}

const ids = (connection: { edges: { node: { id: string } }[] }) => connection.edges.map((e) => e.node.id);

describe('isolation: cross-tenant isolation', () => {
  let app: AppUnderTest;
  let A: TenantWorld;
  let B: TenantWorld;
  /** Tenant B's OWNER, working in tenant B. */
  let asB: CallOptions;
  /** Tenant B's OWNER-role API key. */
  let asBKey: CallOptions;

  beforeAll(async () => {
    app = await AppUnderTest.start();
    A = await buildTenant(app, 'alpha');
    B = await buildTenant(app, 'bravo');
    asB = { token: B.owner.token, tenantId: B.owner.tenantId };
    asBKey = { token: B.apiKey.secret };
  });
  afterAll(() => app?.stop());

  /**
   * Runs `query` once with tenant A's id and once with a random UUID, as `caller`, and asserts both
   * answers are NOT_FOUND and identical in every observable respect.
   */
  async function expectForeignLikeMissing(query: string, variables: (id: string) => Record<string, unknown>, foreignId: string, caller: CallOptions) {
    const foreign = await app.graphql(query, variables(foreignId), caller);
    const missing = await app.graphql(query, variables(randomUUID()), caller);
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(observable(foreign)).toEqual(observable(missing));
  }

  /** Both kinds of B principal; resolved lazily, the actors exist only once beforeAll has run. */
  const CALLERS = ['B’s OWNER user', 'B’s OWNER API key'];
  const callerFor = (label: string): CallOptions => (label === 'B’s OWNER user' ? asB : asBKey);

  describe('tenant', () => {
    it('B sees its own tenant only, in `tenant` and in `me`', async () => {
      const tenant = await app.graphql('{ tenant { id name } }', {}, asB);
      expect(tenant.data.tenant).toEqual({ id: B.owner.tenantId, name: 'Tenant bravo' });
      const me = await app.graphql('{ me { memberships { tenant { id name } } } }', {}, asB);
      expect(me.data.me.memberships.map((m: { tenant: { id: string } }) => m.tenant.id)).toEqual([B.owner.tenantId]);
    });

    it.each(['{ tenant { id name } }', '{ projects { totalCount } }', '{ members { totalCount } }', '{ apiKeys { id } }', '{ auditEvents { totalCount } }'])(
      'B’s token with X-Tenant-Id of A is NOT_FOUND, exactly as an unknown tenant id: %s',
      async (query) => {
        const foreign = await app.graphql(query, {}, { token: B.owner.token, tenantId: A.owner.tenantId });
        const missing = await app.graphql(query, {}, { token: B.owner.token, tenantId: randomUUID() });
        expect(codeOf(foreign)).toBe('NOT_FOUND');
        expect(observable(foreign)).toEqual(observable(missing));
        expect(JSON.stringify(foreign)).not.toContain('Tenant alpha');
      },
    );

    it('B’s token with X-Tenant-Id of A cannot change A (updateTenant is NOT_FOUND, A unchanged)', async () => {
      const mutation = 'mutation { updateTenant(input: { name: "Taken over" }) { id name } }';
      const foreign = await app.graphql(mutation, {}, { token: B.owner.token, tenantId: A.owner.tenantId });
      const missing = await app.graphql(mutation, {}, { token: B.owner.token, tenantId: randomUUID() });
      expect(codeOf(foreign)).toBe('NOT_FOUND');
      expect(observable(foreign)).toEqual(observable(missing));
      expect(await app.ownerQuery('SELECT name FROM tenants WHERE id = $1', [A.owner.tenantId])).toEqual([{ name: 'Tenant alpha' }]);
    });

    it('B’s token with X-Tenant-Id of A cannot export A’s audit log (NOT_FOUND, as an unknown tenant)', async () => {
      const foreign = await app.fetch('/v1/audit/export.jsonl', { token: B.owner.token, tenantId: A.owner.tenantId });
      const missing = await app.fetch('/v1/audit/export.jsonl', { token: B.owner.token, tenantId: randomUUID() });
      const foreignBody = await foreign.text();
      const missingBody = await missing.text();
      expect(foreign.status).toBe(404);
      expect(JSON.parse(foreignBody).error.code).toBe('NOT_FOUND');
      expect({ status: foreign.status, body: foreignBody }).toEqual({ status: missing.status, body: missingBody });
    });

    it('B’s API key is bound to B: an X-Tenant-Id of A never takes it to A', async () => {
      const r = await app.graphql('{ tenant { id name } }', {}, { ...asBKey, tenantId: A.owner.tenantId });
      if (r.errors) expect(codeOf(r)).toBe('NOT_FOUND');
      else expect(r.data.tenant.id).toBe(B.owner.tenantId);
      expect(JSON.stringify(r)).not.toContain(A.owner.tenantId);
    });
  });

  describe('members and memberships', () => {
    it.each(CALLERS)('%s: `members` lists none of A’s memberships or users', async (label) => {
      const caller = callerFor(label);
      const r = await app.graphql('{ members(first: 100) { totalCount edges { node { id user { id email } tenant { id } } } } }', {}, caller);
      expect(r.errors).toBeUndefined();
      const listed = ids(r.data.members);
      expect(listed.sort()).toEqual([B.ownerMembershipId, B.viewer.membershipId].sort());
      expect(r.data.members.totalCount).toBe(2);
      const text = JSON.stringify(r.data);
      for (const secret of [A.ownerMembershipId, A.viewer.membershipId, A.owner.userId, A.viewer.userId, A.owner.email, A.owner.tenantId]) {
        expect(text).not.toContain(secret);
      }
    });

    it.each(CALLERS)('%s: updateMemberRole on A’s membership is NOT_FOUND like a random id, and A is untouched', async (label) => {
      const caller = callerFor(label);
      await expectForeignLikeMissing(
        'mutation($id: ID!) { updateMemberRole(membershipId: $id, role: ADMIN) { id role } }',
        (id) => ({ id }),
        A.viewer.membershipId,
        caller,
      );
      await expectForeignLikeMissing(
        'mutation($id: ID!) { updateMemberRole(membershipId: $id, role: VIEWER) { id role } }',
        (id) => ({ id }),
        A.ownerMembershipId,
        caller,
      );
      expect(await app.ownerQuery('SELECT id, role FROM memberships WHERE tenant_id = $1 ORDER BY role', [A.owner.tenantId])).toEqual(
        [{ id: A.ownerMembershipId, role: 'OWNER' }, { id: A.viewer.membershipId, role: 'VIEWER' }],
      );
    });

    it.each(CALLERS)('%s: removeMember on A’s membership is NOT_FOUND like a random id, and A is untouched', async (label) => {
      const caller = callerFor(label);
      await expectForeignLikeMissing('mutation($id: ID!) { removeMember(membershipId: $id) }', (id) => ({ id }), A.viewer.membershipId, caller);
      await expectForeignLikeMissing('mutation($id: ID!) { removeMember(membershipId: $id) }', (id) => ({ id }), A.ownerMembershipId, caller);
      const rows = await app.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM memberships WHERE tenant_id = $1', [A.owner.tenantId]);
      expect(rows[0].n).toBe(2);
    });

    it('A’s member, viewed from B, does not exist: `me` of A’s viewer never lists B, and B’s viewer never lists A', async () => {
      const meA = await app.graphql('{ me { memberships { tenant { id } } } }', {}, { token: A.viewer.token, tenantId: A.owner.tenantId });
      expect(JSON.stringify(meA.data)).not.toContain(B.owner.tenantId);
      const meB = await app.graphql('{ me { memberships { tenant { id } } } }', {}, { token: B.viewer.token, tenantId: B.owner.tenantId });
      expect(JSON.stringify(meB.data)).not.toContain(A.owner.tenantId);
    });
  });

  describe('API keys', () => {
    it('`apiKeys` of B lists none of A’s keys', async () => {
      const r = await app.graphql('{ apiKeys { id prefix } }', {}, asB);
      expect(r.errors).toBeUndefined();
      const listed = r.data.apiKeys.map((k: { id: string }) => k.id);
      expect(listed).toContain(B.apiKey.id);
      expect(listed).not.toContain(A.apiKey.id);
      const aPrefixes = await app.ownerQuery<{ prefix: string }>('SELECT prefix FROM api_keys WHERE tenant_id = $1', [A.owner.tenantId]);
      for (const { prefix } of aPrefixes) expect(JSON.stringify(r.data)).not.toContain(prefix);
    });

    it('rotateApiKey and revokeApiKey of A’s key by B are NOT_FOUND like a random id; A’s key keeps working', async () => {
      await expectForeignLikeMissing('mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id } } }', (id) => ({ id }), A.apiKey.id, asB);
      await expectForeignLikeMissing('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', (id) => ({ id }), A.apiKey.id, asB);
      expect(await app.ownerQuery('SELECT revoked_at FROM api_keys WHERE id = $1', [A.apiKey.id])).toEqual([{ revoked_at: null }]);
      expect(await app.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE tenant_id = $1', [A.owner.tenantId])).toEqual([{ n: 1 }]);
      const stillWorks = await app.graphql('{ tenant { id } }', {}, { token: A.apiKey.secret });
      expect(stillWorks.data.tenant.id).toBe(A.owner.tenantId);
    });

    it('B cannot bind a new key to A’s project: NOT_FOUND like a random project id, and no key is created', async () => {
      await expectForeignLikeMissing(
        'mutation($p: ID!) { createApiKey(input: { name: "sneaky", role: VIEWER, projectId: $p }) { secret } }',
        (p) => ({ p }),
        A.projectId,
        asB,
      );
      expect(await app.ownerQuery('SELECT id FROM api_keys WHERE project_id = $1', [A.projectId])).toEqual([]);
    });
  });

  describe('projects', () => {
    it.each(CALLERS)('%s: `projects` lists none of A’s projects', async (label) => {
      const caller = callerFor(label);
      const r = await app.graphql('{ projects(first: 100) { totalCount edges { node { id name } } } }', {}, caller);
      expect(r.errors).toBeUndefined();
      expect(ids(r.data.projects)).toContain(B.projectId);
      expect(ids(r.data.projects)).not.toContain(A.projectId);
      expect(JSON.stringify(r.data)).not.toContain('alpha oncology');
      const bCount = await app.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM projects WHERE tenant_id = $1', [B.owner.tenantId]);
      expect(r.data.projects.totalCount).toBe(bCount[0].n);
    });

    it.each(CALLERS)('%s: project(id) of A’s project is NOT_FOUND like a random id', async (label) => {
      const caller = callerFor(label);
      await expectForeignLikeMissing('query($id: ID!) { project(id: $id) { id name } }', (id) => ({ id }), A.projectId, caller);
    });

    it.each(CALLERS)('%s: updateProject and archiveProject on A’s project are NOT_FOUND like a random id; A’s project is untouched', async (label) => {
      const caller = callerFor(label);
      await expectForeignLikeMissing(
        'mutation($id: ID!) { updateProject(id: $id, input: { name: "renamed by B", description: "x" }) { id } }',
        (id) => ({ id }),
        A.projectId,
        caller,
      );
      await expectForeignLikeMissing('mutation($id: ID!) { archiveProject(id: $id) { id archived } }', (id) => ({ id }), A.projectId, caller);
      expect(await app.ownerQuery('SELECT name, description, archived_at FROM projects WHERE id = $1', [A.projectId])).toEqual([
        { name: 'alpha oncology', description: null, archived_at: null },
      ]);
    });

    it('B may reuse A’s project name: names are unique per tenant, and the CONFLICT does not leak A’s names', async () => {
      const r = await app.graphql('mutation { createProject(input: { name: "alpha oncology", dataClassification: INTERNAL }) { id } }', {}, asB);
      expect(r.errors).toBeUndefined();
      expect(r.data.createProject.id).not.toBe(A.projectId);
    });
  });

  describe('audit events', () => {
    const aEventIds = async () => (await app.ownerQuery<{ id: string }>('SELECT id FROM audit_events WHERE tenant_id = $1', [A.owner.tenantId])).map((r) => r.id);

    it.each(CALLERS)('%s: `auditEvents` lists none of A’s events, even filtered on A’s ids', async (label) => {
      const caller = callerFor(label);
      const all = await app.graphql('{ auditEvents(first: 100) { totalCount edges { node { id actorId resourceId } } } }', {}, caller);
      expect(all.errors).toBeUndefined();
      const listed = ids(all.data.auditEvents);
      expect(listed.length).toBeGreaterThan(0);
      const foreign = await aEventIds();
      expect(foreign.length).toBeGreaterThan(0);
      for (const id of foreign) expect(listed).not.toContain(id);
      const text = JSON.stringify(all.data);
      for (const secret of [A.owner.userId, A.projectId, A.owner.tenantId, A.apiKey.id]) expect(text).not.toContain(secret);

      // Filtering on A's identifiers answers exactly as filtering on identifiers that never existed.
      const filtered = 'query($f: AuditFilter) { auditEvents(filter: $f) { totalCount edges { node { id } } } }';
      for (const filter of [{ resourceId: A.projectId }, { actorId: A.owner.userId }, { resourceId: A.apiKey.id }]) {
        const key = Object.keys(filter)[0];
        const foreignAnswer = await app.graphql(filtered, { f: filter }, caller);
        const missingAnswer = await app.graphql(filtered, { f: { [key]: randomUUID() } }, caller);
        expect(foreignAnswer.data.auditEvents).toEqual({ totalCount: 0, edges: [] });
        expect(observable(foreignAnswer)).toEqual(observable(missingAnswer));
      }
    });

    it('verifyAuditChain of B checks B’s chain only', async () => {
      const r = await app.graphql('{ verifyAuditChain { valid checkedCount firstInvalidSeq } }', {}, asB);
      const bCount = await app.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1', [B.owner.tenantId]);
      expect(r.data.verifyAuditChain).toEqual({ valid: true, checkedCount: bCount[0].n, firstInvalidSeq: null });
    });

    it.each(CALLERS)('%s: the JSON Lines export holds B’s events only', async (label) => {
      const caller = callerFor(label);
      const response = await app.fetch('/v1/audit/export.jsonl', caller);
      expect(response.status).toBe(200);
      const lines = (await response.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(lines.length).toBeGreaterThan(0);
      expect(new Set(lines.map((l) => l.tenantId))).toEqual(new Set([B.owner.tenantId]));
      const foreign = new Set(await aEventIds());
      expect(lines.filter((l) => foreign.has(l.id))).toEqual([]);
    });
  });

  describe('row-level security holds alone (a direct connection as lutece_app)', () => {
    /** Each tenant-owned table, and how to tell that a row of it belongs to tenant A. */
    const TENANT_COLUMN: Record<string, string> = {
      tenants: 'id',
      memberships: 'tenant_id',
      api_keys: 'tenant_id',
      projects: 'tenant_id',
      audit_events: 'tenant_id',
      audit_chain_heads: 'tenant_id',
    };
    const TABLES = [...Object.keys(TENANT_COLUMN), 'users'];

    async function inTransaction<T>(client: Client, tenantId: string | null, work: () => Promise<T>): Promise<T> {
      await client.query('BEGIN');
      try {
        if (tenantId) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
        return await work();
      } finally {
        await client.query('ROLLBACK');
      }
    }

    let client: Client;
    beforeAll(async () => {
      client = await app.appRoleClient();
    });
    afterAll(() => client?.end());

    it('the connection really is lutece_app, not the owner', async () => {
      const { rows } = await client.query('SELECT current_user AS who, session_user AS session');
      expect(rows[0]).toEqual({ who: 'lutece_app', session: 'lutece_app' });
    });

    it.each(Object.keys(TENANT_COLUMN))('with app.tenant_id = B, SELECT * FROM %s (no WHERE) returns no row of A', async (table) => {
      const rows = await inTransaction(client, B.owner.tenantId, async () => (await client.query(`SELECT * FROM ${table}`)).rows);
      const column = TENANT_COLUMN[table];
      expect(rows.filter((r) => r[column] === A.owner.tenantId)).toEqual([]);
      // Not vacuous: B's own rows are there, and nothing but B's.
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r[column]))).toEqual(new Set([B.owner.tenantId]));
    });

    it('with app.tenant_id = B, SELECT * FROM users (no WHERE) returns none of A’s users', async () => {
      const rows = await inTransaction(client, B.owner.tenantId, async () => (await client.query('SELECT * FROM users')).rows);
      // A's users: members of A that are not members of B.
      const aOnly = await app.ownerQuery<{ user_id: string }>(
        `SELECT user_id FROM memberships WHERE tenant_id = $1 EXCEPT SELECT user_id FROM memberships WHERE tenant_id = $2`,
        [A.owner.tenantId, B.owner.tenantId],
      );
      expect(aOnly.length).toBeGreaterThan(0);
      const visible = rows.map((r) => r.id);
      for (const { user_id } of aOnly) expect(visible).not.toContain(user_id);
      expect(visible).toContain(B.owner.userId);
      const bMembers = await app.ownerQuery<{ user_id: string }>('SELECT user_id FROM memberships WHERE tenant_id = $1', [B.owner.tenantId]);
      expect(visible.sort()).toEqual(bMembers.map((m) => m.user_id).sort());
    });

    it.each(TABLES)('with no app.tenant_id at all, SELECT * FROM %s returns zero rows', async (table) => {
      const fresh = await app.appRoleClient();
      try {
        const { rows: setting } = await fresh.query(`SELECT current_setting('app.tenant_id', true) AS t`);
        expect(setting[0].t ?? '').toBe('');
        const rows = await inTransaction(fresh, null, async () => (await fresh.query(`SELECT * FROM ${table}`)).rows);
        expect(rows).toEqual([]);
      } finally {
        await fresh.end();
      }
    });

    it('with app.tenant_id = B, writes cannot reach A’s rows either', async () => {
      const counts = await inTransaction(client, B.owner.tenantId, async () => ({
        projects: (await client.query(`UPDATE projects SET name = 'owned' WHERE tenant_id = $1`, [A.owner.tenantId])).rowCount,
        memberships: (await client.query(`DELETE FROM memberships WHERE tenant_id = $1`, [A.owner.tenantId])).rowCount,
        apiKeys: (await client.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1`, [A.owner.tenantId])).rowCount,
        tenants: (await client.query(`UPDATE tenants SET name = 'owned' WHERE id = $1`, [A.owner.tenantId])).rowCount,
      }));
      expect(counts).toEqual({ projects: 0, memberships: 0, apiKeys: 0, tenants: 0 });
      const insert = inTransaction(client, B.owner.tenantId, () =>
        client.query(`INSERT INTO projects (id, tenant_id, name, data_classification) VALUES ($1, $2, 'planted', 'PUBLIC')`, [randomUUID(), A.owner.tenantId]),
      );
      await expect(insert).rejects.toMatchObject({ code: '42501' });
    });

    it.each([
      ['UPDATE', `UPDATE audit_events SET action = 'tampered'`],
      ['DELETE', 'DELETE FROM audit_events'],
      ['TRUNCATE', 'TRUNCATE audit_events'],
    ])('lutece_app cannot %s audit_events (permission denied), even in its own tenant', async (_op, sql) => {
      const attempt = inTransaction(client, B.owner.tenantId, () => client.query(sql));
      await expect(attempt).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
    });

    it('lutece_app is neither superuser nor BYPASSRLS', async () => {
      const roles = await app.ownerQuery(`SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = 'lutece_app'`);
      expect(roles).toEqual([{ rolbypassrls: false, rolsuper: false }]);
    });

    it('lutece_app owns no table', async () => {
      expect(await app.ownerQuery(`SELECT schemaname, tablename FROM pg_tables WHERE tableowner = 'lutece_app'`)).toEqual([]);
    });

    it('every tenant-owned table has row-level security enabled and forced', async () => {
      const rows = await app.ownerQuery<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) AND relkind = 'r' ORDER BY relname`,
        [TABLES],
      );
      expect(rows).toEqual([...TABLES].sort().map((relname) => ({ relname, relrowsecurity: true, relforcerowsecurity: true })));
    });

    it.each([
      ['UPDATE', `UPDATE audit_events SET action = 'tampered' WHERE tenant_id = $1`],
      ['DELETE', 'DELETE FROM audit_events WHERE tenant_id = $1'],
    ])('even the table owner cannot %s audit_events (append-only trigger)', async (_op, sql) => {
      await expect(app.ownerQuery(sql, [A.owner.tenantId])).rejects.toThrow(/append-only/);
      const tampered = await app.ownerQuery<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'tampered'`);
      expect(tampered[0].n).toBe(0);
    });

    it('even the table owner cannot TRUNCATE audit_events', async () => {
      await expect(app.ownerQuery('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
      const rows = await app.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1', [A.owner.tenantId]);
      expect(rows[0].n).toBeGreaterThan(0);
    });

    it('after all of the above, A’s audit chain is still valid for A', async () => {
      const r = await app.graphql('{ verifyAuditChain { valid firstInvalidSeq } }', {}, { token: A.owner.token, tenantId: A.owner.tenantId });
      expect(r.data.verifyAuditChain).toEqual({ valid: true, firstInvalidSeq: null });
    });
  });
});

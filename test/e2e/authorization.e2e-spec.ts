import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../../src/common/authz/roles';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest, CallOptions, codeOf, GraphQLResponse } from '../support/app-under-test';

/**
 * The role matrix is enforced cell by cell.
 *
 * The expected answers below are written out by hand from API.md §Roles (and the API-key rules of
 * §Conventions / §Tenant, members, API keys). They are deliberately NOT derived from
 * src/common/authz/roles.ts: if that file (or the CASL abilities built from it) grants or refuses
 * one cell too many, exactly one test below names the cell.
 *
 * Reading of API.md used here:
 *  - "members, roles, API keys, tenant settings" → OWNER, ADMIN: members, addMember,
 *    updateMemberRole, removeMember, apiKeys, createApiKey, rotateApiKey, revokeApiKey, updateTenant.
 *  - reading the tenant itself (id, name, slug…) is open to every member: `me` already shows every
 *    member the id, name and slug of each of their tenants.
 *  - "create/update/archive projects" → OWNER, ADMIN, ML_ENGINEER.
 *  - "read projects…" → OWNER, ADMIN, ML_ENGINEER, VIEWER, AUDITOR (not BILLING).
 *  - "audit log read, verify, export" → OWNER, AUDITOR.
 *  - API keys carry the same role matrix, except that keys are created by people: a key can neither
 *    create, rotate nor revoke keys; `me` and MFA enrollment are for signed-in users only.
 */

const ROLE_COLUMNS = ['OWNER', 'ADMIN', 'ML_ENGINEER', 'VIEWER', 'BILLING', 'AUDITOR'] as const satisfies readonly Role[];

type Operation =
  | 'tenant'
  | 'updateTenant'
  | 'members'
  | 'addMember'
  | 'updateMemberRole'
  | 'removeMember'
  | 'apiKeys'
  | 'createApiKey'
  | 'rotateApiKey'
  | 'revokeApiKey'
  | 'createProject'
  | 'projects'
  | 'project'
  | 'updateProject'
  | 'archiveProject'
  | 'auditEvents'
  | 'verifyAuditChain'
  | 'GET /v1/audit/export.jsonl'
  | 'me'
  | 'startMfaEnrollment';

const Y = true;
const _ = false;

// prettier-ignore
/** A signed-in member of the tenant with this role.     OWNER ADMIN ML_ENG VIEWER BILLING AUDITOR */
const USER_MATRIX: Record<Operation, readonly [boolean, boolean, boolean, boolean, boolean, boolean]> = {
  'tenant':                                            [  Y,    Y,    Y,     Y,      Y,      Y  ],
  'updateTenant':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'members':                                           [  Y,    Y,    _,     _,      _,      _  ],
  'addMember':                                         [  Y,    Y,    _,     _,      _,      _  ],
  'updateMemberRole':                                  [  Y,    Y,    _,     _,      _,      _  ],
  'removeMember':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'apiKeys':                                           [  Y,    Y,    _,     _,      _,      _  ],
  'createApiKey':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'rotateApiKey':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'revokeApiKey':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'createProject':                                     [  Y,    Y,    Y,     _,      _,      _  ],
  'projects':                                          [  Y,    Y,    Y,     Y,      _,      Y  ],
  'project':                                           [  Y,    Y,    Y,     Y,      _,      Y  ],
  'updateProject':                                     [  Y,    Y,    Y,     _,      _,      _  ],
  'archiveProject':                                    [  Y,    Y,    Y,     _,      _,      _  ],
  'auditEvents':                                       [  Y,    _,    _,     _,      _,      Y  ],
  'verifyAuditChain':                                  [  Y,    _,    _,     _,      _,      Y  ],
  'GET /v1/audit/export.jsonl':                        [  Y,    _,    _,     _,      _,      Y  ],
  'me':                                                [  Y,    Y,    Y,     Y,      Y,      Y  ],
  'startMfaEnrollment':                                [  Y,    Y,    Y,     Y,      Y,      Y  ],
};

// prettier-ignore
/** An API key with this role, created by the OWNER.     OWNER ADMIN ML_ENG VIEWER BILLING AUDITOR */
const API_KEY_MATRIX: Record<Operation, readonly [boolean, boolean, boolean, boolean, boolean, boolean]> = {
  'tenant':                                            [  Y,    Y,    Y,     Y,      Y,      Y  ],
  'updateTenant':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'members':                                           [  Y,    Y,    _,     _,      _,      _  ],
  'addMember':                                         [  Y,    Y,    _,     _,      _,      _  ],
  'updateMemberRole':                                  [  Y,    Y,    _,     _,      _,      _  ],
  'removeMember':                                      [  Y,    Y,    _,     _,      _,      _  ],
  'apiKeys':                                           [  Y,    Y,    _,     _,      _,      _  ],
  'createApiKey':                                      [  _,    _,    _,     _,      _,      _  ],
  'rotateApiKey':                                      [  _,    _,    _,     _,      _,      _  ],
  'revokeApiKey':                                      [  _,    _,    _,     _,      _,      _  ],
  'createProject':                                     [  Y,    Y,    Y,     _,      _,      _  ],
  'projects':                                          [  Y,    Y,    Y,     Y,      _,      Y  ],
  'project':                                           [  Y,    Y,    Y,     Y,      _,      Y  ],
  'updateProject':                                     [  Y,    Y,    Y,     _,      _,      _  ],
  'archiveProject':                                    [  Y,    Y,    Y,     _,      _,      _  ],
  'auditEvents':                                       [  Y,    _,    _,     _,      _,      Y  ],
  'verifyAuditChain':                                  [  Y,    _,    _,     _,      _,      Y  ],
  'GET /v1/audit/export.jsonl':                        [  Y,    _,    _,     _,      _,      Y  ],
  'me':                                                [  _,    _,    _,     _,      _,      _  ],
  'startMfaEnrollment':                                [  _,    _,    _,     _,      _,      _  ],
};

interface Caller {
  label: string;
  role: Role;
  kind: 'user' | 'apiKey';
  call: CallOptions;
  /** Id written to audit_events.actor_id for this caller. */
  actorId: string;
}

interface World {
  owner: Actor;
  /** A project every cell may read or update (never archived). */
  sharedProjectId: string;
  /** A VIEWER member whose role the role-management cells change (never to OWNER). */
  roleTargetMembershipId: string;
}

/** What happened, in one comparable word: ALLOWED, or the error code (with its message if unexpected). */
type Outcome = string;

function graphqlOutcome(response: GraphQLResponse, field: string): Outcome {
  if (response.errors?.length) {
    const code = codeOf(response) ?? 'NO_CODE';
    return code === 'FORBIDDEN' ? 'FORBIDDEN' : `${code}: ${response.errors[0].message}`;
  }
  if (response.data?.[field] === undefined || response.data?.[field] === null) return `NO_DATA: ${JSON.stringify(response)}`;
  return 'ALLOWED';
}

const unique = (label: string) => `${label} ${randomBytes(4).toString('hex')}`;

async function freshMembership(app: AppUnderTest, owner: Actor, role: Role): Promise<string> {
  return (await memberWithRole(app, owner, role)).membershipId;
}

async function freshProject(app: AppUnderTest, owner: Actor): Promise<string> {
  const created = await app.graphql(
    `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
    { input: { name: unique('project'), dataClassification: 'INTERNAL' } },
    { token: owner.token, tenantId: owner.tenantId },
  );
  if (!created.data) throw new Error(`createProject failed: ${JSON.stringify(created.errors)}`);
  return created.data.createProject.id;
}

/**
 * Each operation is run with a valid target of its own, prepared by the OWNER, so that an
 * operation that is wrongly allowed would really succeed (and the test would see ALLOWED).
 */
const OPERATIONS: Record<Operation, (app: AppUnderTest, world: World, caller: Caller) => Promise<Outcome>> = {
  tenant: async (app, world, caller) => {
    const r = await app.graphql('{ tenant { id name slug dataResidency requireMfa } }', {}, caller.call);
    const outcome = graphqlOutcome(r, 'tenant');
    if (outcome === 'ALLOWED') expect(r.data.tenant.id).toBe(world.owner.tenantId);
    return outcome;
  },
  updateTenant: async (app, _world, caller) => {
    const r = await app.graphql('mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { id name } }', { input: { name: unique('Renamed') } }, caller.call);
    return graphqlOutcome(r, 'updateTenant');
  },
  members: async (app, _world, caller) => {
    const r = await app.graphql('{ members(first: 100) { totalCount edges { node { id role } } } }', {}, caller.call);
    return graphqlOutcome(r, 'members');
  },
  addMember: async (app, _world, caller) => {
    const candidate = await signUpOwner(app, 'candidate');
    const r = await app.graphql('mutation($input: AddMemberInput!) { addMember(input: $input) { id role } }', { input: { email: candidate.email, role: 'VIEWER' } }, caller.call);
    return graphqlOutcome(r, 'addMember');
  },
  updateMemberRole: async (app, world, caller) => {
    const r = await app.graphql(
      'mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }',
      { id: world.roleTargetMembershipId, role: 'ML_ENGINEER' },
      caller.call,
    );
    return graphqlOutcome(r, 'updateMemberRole');
  },
  removeMember: async (app, world, caller) => {
    const victim = await freshMembership(app, world.owner, 'VIEWER');
    const r = await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: victim }, caller.call);
    return graphqlOutcome(r, 'removeMember');
  },
  apiKeys: async (app, _world, caller) => {
    const r = await app.graphql('{ apiKeys { id name role } }', {}, caller.call);
    return graphqlOutcome(r, 'apiKeys');
  },
  createApiKey: async (app, _world, caller) => {
    // The caller's own role: never above it, so only the role matrix can refuse this.
    const r = await app.graphql(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { input: { name: unique('key'), role: caller.role } },
      caller.call,
    );
    return graphqlOutcome(r, 'createApiKey');
  },
  rotateApiKey: async (app, world, caller) => {
    const key = await apiKeyWithRole(app, world.owner, 'VIEWER');
    const r = await app.graphql('mutation($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id } } }', { id: key.id }, caller.call);
    return graphqlOutcome(r, 'rotateApiKey');
  },
  revokeApiKey: async (app, world, caller) => {
    const key = await apiKeyWithRole(app, world.owner, 'VIEWER');
    const r = await app.graphql('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: key.id }, caller.call);
    return graphqlOutcome(r, 'revokeApiKey');
  },
  createProject: async (app, _world, caller) => {
    const r = await app.graphql(
      'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      { input: { name: unique('project'), dataClassification: 'CONFIDENTIAL' } },
      caller.call,
    );
    return graphqlOutcome(r, 'createProject');
  },
  projects: async (app, world, caller) => {
    const r = await app.graphql('{ projects(first: 100) { totalCount edges { node { id } } } }', {}, caller.call);
    const outcome = graphqlOutcome(r, 'projects');
    if (outcome === 'ALLOWED') expect(r.data.projects.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(world.sharedProjectId);
    return outcome;
  },
  project: async (app, world, caller) => {
    const r = await app.graphql('query($id: ID!) { project(id: $id) { id name } }', { id: world.sharedProjectId }, caller.call);
    return graphqlOutcome(r, 'project');
  },
  updateProject: async (app, world, caller) => {
    const r = await app.graphql(
      'mutation($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { id description } }',
      { id: world.sharedProjectId, input: { description: unique('edited by') } },
      caller.call,
    );
    return graphqlOutcome(r, 'updateProject');
  },
  archiveProject: async (app, world, caller) => {
    const projectId = await freshProject(app, world.owner);
    const r = await app.graphql('mutation($id: ID!) { archiveProject(id: $id) { id archived } }', { id: projectId }, caller.call);
    return graphqlOutcome(r, 'archiveProject');
  },
  auditEvents: async (app, _world, caller) => {
    const r = await app.graphql('{ auditEvents(first: 5) { totalCount edges { node { seq action outcome } } } }', {}, caller.call);
    return graphqlOutcome(r, 'auditEvents');
  },
  verifyAuditChain: async (app, _world, caller) => {
    const r = await app.graphql('{ verifyAuditChain { valid checkedCount firstInvalidSeq } }', {}, caller.call);
    const outcome = graphqlOutcome(r, 'verifyAuditChain');
    if (outcome === 'ALLOWED') expect(r.data.verifyAuditChain.valid).toBe(true);
    return outcome;
  },
  'GET /v1/audit/export.jsonl': async (app, _world, caller) => {
    const response = await app.fetch('/v1/audit/export.jsonl', caller.call);
    const text = await response.text();
    if (response.status === 200) {
      expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
      return 'ALLOWED';
    }
    let code: string | undefined;
    try {
      code = JSON.parse(text)?.error?.code;
    } catch {
      code = undefined;
    }
    if (code === 'FORBIDDEN' && response.status === 403) return 'FORBIDDEN';
    return `HTTP ${response.status} ${code ?? ''}: ${text.slice(0, 200)}`;
  },
  me: async (app, _world, caller) => {
    const r = await app.graphql('{ me { user { id } memberships { id role } } }', {}, caller.call);
    return graphqlOutcome(r, 'me');
  },
  startMfaEnrollment: async (app, _world, caller) => {
    const r = await app.graphql('mutation { startMfaEnrollment { secret otpauthUri } }', {}, caller.call);
    return graphqlOutcome(r, 'startMfaEnrollment');
  },
};

const OPERATION_NAMES = Object.keys(USER_MATRIX) as Operation[];

function cells(kind: 'user' | 'apiKey') {
  const matrix = kind === 'user' ? USER_MATRIX : API_KEY_MATRIX;
  return ROLE_COLUMNS.flatMap((role, column) =>
    OPERATION_NAMES.map((operation) => ({
      role,
      operation,
      expected: matrix[operation][column] ? 'ALLOWED' : 'FORBIDDEN',
    })),
  );
}

describe('authorization: the role matrix is enforced cell by cell', () => {
  let app: AppUnderTest;
  let world: World;
  const callers = new Map<string, Caller>();

  beforeAll(async () => {
    app = await AppUnderTest.start();
    const owner = await signUpOwner(app, 'matrix-owner', 'Matrix Clinic');
    const sharedProjectId = await freshProject(app, owner);
    const roleTargetMembershipId = await freshMembership(app, owner, 'VIEWER');
    world = { owner, sharedProjectId, roleTargetMembershipId };
    for (const role of ROLE_COLUMNS) {
      const member = await memberWithRole(app, owner, role);
      callers.set(`user:${role}`, { label: `${role} user`, role, kind: 'user', call: { token: member.token, tenantId: owner.tenantId }, actorId: member.userId });
      const key = await apiKeyWithRole(app, owner, role);
      callers.set(`apiKey:${role}`, { label: `${role} API key`, role, kind: 'apiKey', call: { token: key.secret }, actorId: key.id });
    }
  });
  afterAll(() => app?.stop());

  describe('signed-in members', () => {
    it.each(cells('user'))('$role user → $operation is $expected', async ({ role, operation, expected }) => {
      const caller = callers.get(`user:${role}`)!;
      expect(await OPERATIONS[operation](app, world, caller)).toBe(expected);
    });
  });

  describe('API keys', () => {
    it.each(cells('apiKey'))('$role API key → $operation is $expected', async ({ role, operation, expected }) => {
      const caller = callers.get(`apiKey:${role}`)!;
      expect(await OPERATIONS[operation](app, world, caller)).toBe(expected);
    });
  });

  describe('a denied operation is audited', () => {
    it.each([
      ['VIEWER user', 'user:VIEWER', 'user'],
      ['BILLING API key', 'apiKey:BILLING', 'api_key'],
    ])('a %s refused updateTenant leaves a DENIED audit event naming it', async (_label, callerKey, actorType) => {
      const caller = callers.get(callerKey)!;
      const before = await app.ownerQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND outcome = 'DENIED' AND actor_id = $2`,
        [world.owner.tenantId, caller.actorId],
      );
      const r = await app.graphql('mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { id } }', { input: { name: 'Hijacked' } }, caller.call);
      expect(codeOf(r)).toBe('FORBIDDEN');
      const events = await app.ownerQuery(
        `SELECT actor_type, actor_id, action, outcome, request_id FROM audit_events
          WHERE tenant_id = $1 AND outcome = 'DENIED' AND actor_id = $2 ORDER BY seq DESC`,
        [world.owner.tenantId, caller.actorId],
      );
      expect(events.length).toBe(before[0].n + 1);
      expect(events[0]).toMatchObject({ actor_type: actorType, actor_id: caller.actorId, outcome: 'DENIED', action: expect.stringMatching(/updateTenant|tenant\.update/i) });
      expect(events[0].request_id).toBeTruthy();
      const tenant = await app.ownerQuery('SELECT name FROM tenants WHERE id = $1', [world.owner.tenantId]);
      expect(tenant[0].name).not.toBe('Hijacked');
    });

    it('the denials keep the tenant audit chain valid', async () => {
      const r = await app.graphql('{ verifyAuditChain { valid checkedCount firstInvalidSeq } }', {}, { token: world.owner.token, tenantId: world.owner.tenantId });
      expect(r.errors).toBeUndefined();
      expect(r.data.verifyAuditChain).toMatchObject({ valid: true, firstInvalidSeq: null });
      const denied = await app.ownerQuery<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND outcome = 'DENIED'`, [world.owner.tenantId]);
      // Every FORBIDDEN cell of the matrix run above has left a trace.
      expect(denied[0].n).toBeGreaterThan(0);
    });
  });

  describe('ADMIN and the OWNERs', () => {
    let owner: Actor;
    let secondOwnerMembershipId: string;
    let adminCallers: { label: string; call: CallOptions }[];

    beforeAll(async () => {
      owner = await signUpOwner(app, 'owner-guard', 'Owner Guard');
      secondOwnerMembershipId = await freshMembership(app, owner, 'OWNER');
      const admin = await memberWithRole(app, owner, 'ADMIN');
      const adminKey = await apiKeyWithRole(app, owner, 'ADMIN');
      adminCallers = [
        { label: 'ADMIN user', call: { token: admin.token, tenantId: owner.tenantId } },
        { label: 'ADMIN API key', call: { token: adminKey.secret } },
      ];
    });

    const ADMIN_LABELS = ['ADMIN user', 'ADMIN API key'];
    const adminCaller = (label: string) => adminCallers.find((c) => c.label === label)!;
    const ownerRoleInDb = async (membershipId: string) =>
      (await app.ownerQuery<{ role: string }>('SELECT role FROM memberships WHERE id = $1', [membershipId]))[0]?.role;

    it.each(ADMIN_LABELS)('an %s cannot change an OWNER’s role (FORBIDDEN)', async (label) => {
      const { call } = adminCaller(label);
      const r = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: secondOwnerMembershipId, role: 'VIEWER' }, call);
      expect(codeOf(r)).toBe('FORBIDDEN');
      expect(await ownerRoleInDb(secondOwnerMembershipId)).toBe('OWNER');
    });

    it.each(ADMIN_LABELS)('an %s cannot remove an OWNER (FORBIDDEN)', async (label) => {
      const { call } = adminCaller(label);
      const r = await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: secondOwnerMembershipId }, call);
      expect(codeOf(r)).toBe('FORBIDDEN');
      expect(await ownerRoleInDb(secondOwnerMembershipId)).toBe('OWNER');
    });

    it.each(ADMIN_LABELS)('an %s cannot grant OWNER, neither by addMember nor by updateMemberRole (FORBIDDEN)', async (label) => {
      const { call } = adminCaller(label);
      const candidate = await signUpOwner(app, 'would-be-owner');
      const added = await app.graphql('mutation($input: AddMemberInput!) { addMember(input: $input) { id role } }', { input: { email: candidate.email, role: 'OWNER' } }, call);
      expect(codeOf(added)).toBe('FORBIDDEN');
      const rows = await app.ownerQuery('SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2', [owner.tenantId, candidate.userId]);
      expect(rows).toEqual([]);

      const viewerMembershipId = await freshMembership(app, owner, 'VIEWER');
      const promoted = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: viewerMembershipId, role: 'OWNER' }, call);
      expect(codeOf(promoted)).toBe('FORBIDDEN');
      expect(await ownerRoleInDb(viewerMembershipId)).toBe('VIEWER');
    });

    it('an ADMIN cannot mint an API key above its own role (OWNER)', async () => {
      const r = await app.graphql('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { name: 'escalate', role: 'OWNER' } }, adminCallers[0].call);
      expect(codeOf(r)).toBe('FORBIDDEN');
    });

    it('an ADMIN may still manage non-OWNER members (the restriction is on OWNERs only)', async () => {
      const viewerMembershipId = await freshMembership(app, owner, 'VIEWER');
      const r = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: viewerMembershipId, role: 'ADMIN' }, adminCallers[0].call);
      expect(r.errors).toBeUndefined();
      expect(r.data.updateMemberRole.role).toBe('ADMIN');
    });
  });

  describe('the last OWNER', () => {
    it('cannot be demoted nor leave (CONFLICT); once another OWNER exists, it can', async () => {
      const owner = await signUpOwner(app, 'lonely-owner', 'Lonely');
      const call = { token: owner.token, tenantId: owner.tenantId };
      const me = await app.graphql('{ me { memberships { id role tenant { id } } } }', {}, call);
      const ownMembershipId = me.data.me.memberships.find((m: { tenant: { id: string } }) => m.tenant.id === owner.tenantId).id;

      const demoted = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: ownMembershipId, role: 'ADMIN' }, call);
      expect(codeOf(demoted)).toBe('CONFLICT');
      const left = await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: ownMembershipId }, call);
      expect(codeOf(left)).toBe('CONFLICT');
      expect(await app.ownerQuery('SELECT role FROM memberships WHERE id = $1', [ownMembershipId])).toEqual([{ role: 'OWNER' }]);

      // With a second OWNER, the first may step down.
      await freshMembership(app, owner, 'OWNER');
      const stepDown = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: ownMembershipId, role: 'ADMIN' }, call);
      expect(stepDown.errors).toBeUndefined();
      expect(stepDown.data.updateMemberRole.role).toBe('ADMIN');
    });

    it('two OWNERs: after one leaves, the remaining one is the last and cannot be demoted', async () => {
      const owner = await signUpOwner(app, 'pair-owner', 'Pair');
      const second = await memberWithRole(app, owner, 'OWNER');
      const removed = await app.graphql('mutation($id: ID!) { removeMember(membershipId: $id) }', { id: second.membershipId }, { token: owner.token, tenantId: owner.tenantId });
      expect(removed.errors).toBeUndefined();
      expect(removed.data.removeMember).toBe(true);
      const me = await app.graphql('{ me { memberships { id tenant { id } } } }', {}, { token: owner.token, tenantId: owner.tenantId });
      const ownMembershipId = me.data.me.memberships.find((m: { tenant: { id: string } }) => m.tenant.id === owner.tenantId).id;
      const demoted = await app.graphql('mutation($id: ID!, $role: Role!) { updateMemberRole(membershipId: $id, role: $role) { id role } }', { id: ownMembershipId, role: 'VIEWER' }, { token: owner.token, tenantId: owner.tenantId });
      expect(codeOf(demoted)).toBe('CONFLICT');
    });
  });

  describe('a project-restricted API key', () => {
    let owner: Actor;
    let ownProjectId: string;
    let otherProjectId: string;
    let viewerKey: string;
    let engineerKey: string;

    beforeAll(async () => {
      owner = await signUpOwner(app, 'scoped-owner', 'Scoped');
      ownProjectId = await freshProject(app, owner);
      otherProjectId = await freshProject(app, owner);
      viewerKey = (await apiKeyWithRole(app, owner, 'VIEWER', ownProjectId)).secret;
      engineerKey = (await apiKeyWithRole(app, owner, 'ML_ENGINEER', ownProjectId)).secret;
    });

    it('sees only its project in `projects`', async () => {
      for (const token of [viewerKey, engineerKey]) {
        const r = await app.graphql('{ projects(first: 100) { totalCount edges { node { id } } } }', {}, { token });
        expect(r.errors).toBeUndefined();
        expect(r.data.projects.totalCount).toBe(1);
        expect(r.data.projects.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ownProjectId]);
      }
    });

    it('reads its own project', async () => {
      const r = await app.graphql('query($id: ID!) { project(id: $id) { id } }', { id: ownProjectId }, { token: viewerKey });
      expect(r.errors).toBeUndefined();
      expect(r.data.project.id).toBe(ownProjectId);
    });

    it('gets NOT_FOUND for another project of the same tenant, exactly as for a non-existent id', async () => {
      const query = 'query($id: ID!) { project(id: $id) { id } }';
      const other = await app.graphql(query, { id: otherProjectId }, { token: viewerKey });
      const missing = await app.graphql(query, { id: randomUUID() }, { token: viewerKey });
      expect(codeOf(other)).toBe('NOT_FOUND');
      expect(other.errors).toEqual(missing.errors);
    });

    it('cannot update or archive another project (NOT_FOUND), and the project is untouched', async () => {
      const update = await app.graphql('mutation($id: ID!) { updateProject(id: $id, input: { description: "pwned" }) { id } }', { id: otherProjectId }, { token: engineerKey });
      expect(codeOf(update)).toBe('NOT_FOUND');
      const archive = await app.graphql('mutation($id: ID!) { archiveProject(id: $id) { id } }', { id: otherProjectId }, { token: engineerKey });
      expect(codeOf(archive)).toBe('NOT_FOUND');
      expect(await app.ownerQuery('SELECT description, archived_at FROM projects WHERE id = $1', [otherProjectId])).toEqual([{ description: null, archived_at: null }]);
    });

    it('can update its own project when its role allows it', async () => {
      const r = await app.graphql('mutation($id: ID!) { updateProject(id: $id, input: { description: "tuned" }) { id description } }', { id: ownProjectId }, { token: engineerKey });
      expect(r.errors).toBeUndefined();
      expect(r.data.updateProject.description).toBe('tuned');
    });

    it('cannot create projects outside its scope', async () => {
      const r = await app.graphql('mutation { createProject(input: { name: "escape", dataClassification: PUBLIC }) { id } }', {}, { token: engineerKey });
      expect(codeOf(r)).toBe('FORBIDDEN');
    });
  });
});

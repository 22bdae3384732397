import { subject } from '@casl/ability';
import { abilityToSql } from './ability-sql';
import { buildAbility } from './ability.factory';
import { capabilitiesOf, roleIsAtMost, ROLES } from './roles';

/** As services build subjects (see access.ts): a record typed as Record<string, unknown>. */
const subjectOf = (name: string, record: Record<string, unknown>) => subject(name, { ...record });

describe('role order', () => {
  it('OWNER holds every capability; each role is at most itself', () => {
    for (const role of ROLES) {
      expect(roleIsAtMost(role, 'OWNER')).toBe(true);
      expect(roleIsAtMost(role, role)).toBe(true);
    }
  });

  it('ADMIN cannot hand out OWNER, BILLING or AUDITOR (they hold things an ADMIN lacks)', () => {
    expect(roleIsAtMost('OWNER', 'ADMIN')).toBe(false);
    expect(roleIsAtMost('BILLING', 'ADMIN')).toBe(false);
    expect(roleIsAtMost('AUDITOR', 'ADMIN')).toBe(false);
    expect(roleIsAtMost('ML_ENGINEER', 'ADMIN')).toBe(true);
    expect(roleIsAtMost('VIEWER', 'ML_ENGINEER')).toBe(true);
    expect(roleIsAtMost('ML_ENGINEER', 'VIEWER')).toBe(false);
  });

  it('only the OWNER rotates tenant keys', () => {
    expect(ROLES.filter((r) => capabilitiesOf(r).has('tenant.rotateKey'))).toEqual(['OWNER']);
  });
});

describe('buildAbility', () => {
  it('stops an ADMIN at OWNER memberships', () => {
    const admin = buildAbility({ role: 'ADMIN' });
    expect(admin.can('update', subjectOf('Member', { role: 'VIEWER' }))).toBe(true);
    expect(admin.can('update', subjectOf('Member', { role: 'OWNER' }))).toBe(false);
    expect(admin.can('delete', subjectOf('Member', { role: 'OWNER' }))).toBe(false);
    expect(buildAbility({ role: 'OWNER' }).can('delete', subjectOf('Member', { role: 'OWNER' }))).toBe(true);
  });

  it('restricts a project-bound key to its project and to project work', () => {
    const key = buildAbility({ role: 'ADMIN', projectId: 'p1' });
    expect(key.can('read', subjectOf('Project', { id: 'p1' }))).toBe(true);
    expect(key.can('read', subjectOf('Project', { id: 'p2' }))).toBe(false);
    expect(key.can('manage', 'Member')).toBe(false);
    expect(key.can('create', 'Project')).toBe(false);
  });

  it('lets STAGING deploys through for engineers and PRODUCTION only for OWNER/ADMIN', () => {
    const engineer = buildAbility({ role: 'ML_ENGINEER' });
    expect(engineer.can('deploy', subjectOf('Endpoint', { environment: 'STAGING' }))).toBe(true);
    expect(engineer.can('deploy', subjectOf('Endpoint', { environment: 'PRODUCTION' }))).toBe(false);
    expect(buildAbility({ role: 'ADMIN' }).can('deploy', subjectOf('Endpoint', { environment: 'PRODUCTION' }))).toBe(true);
  });
});

describe('abilityToSql', () => {
  it('is unconditional for a tenant-wide role', () => {
    expect(abilityToSql(buildAbility({ role: 'VIEWER' }), 'read', 'Project', { id: 'p.id' })).toEqual({ sql: 'TRUE', params: {} });
  });

  it('binds a project-bound key to its project id as a parameter', () => {
    const sql = abilityToSql(buildAbility({ role: 'VIEWER', projectId: 'p1' }), 'read', 'Project', { id: 'p.id' });
    expect(sql).toEqual({ sql: '((p.id = :casl_0))', params: { casl_0: 'p1' } });
  });

  it('returns null when nothing is allowed, and refuses unmapped fields', () => {
    expect(abilityToSql(buildAbility({ role: 'BILLING' }), 'read', 'Project', { id: 'p.id' })).toBeNull();
    expect(() => abilityToSql(buildAbility({ role: 'VIEWER', projectId: 'p1' }), 'read', 'Project', {})).toThrow(/no column mapping/);
  });

  it('turns cannot-rules into NOT conditions', () => {
    const sql = abilityToSql(buildAbility({ role: 'ADMIN' }), 'update', 'Member', { role: 'm.role' });
    expect(sql!.sql).toContain('NOT (m.role = :casl_');
    expect(Object.values(sql!.params)).toContain('OWNER');
  });
});

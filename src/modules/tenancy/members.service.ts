import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { assertCan } from '../../common/authz/access';
import { Role, roleIsAtMost } from '../../common/authz/roles';
import { conflict, forbidden, notFound } from '../../common/errors/app-error';
import { FieldErrors, requireUuid } from '../../common/errors/validation';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { currentContext, currentManager, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { applyScope } from '../../database/scoped-transaction';
import { AuditService } from '../audit/audit.service';
import { checkEmail, normalizeEmail } from '../iam/password-policy';
import { UserEntity } from '../iam/user.entity';
import { AddMemberInput } from './dto/tenancy.input';
import { MembershipEntity } from './membership.entity';
import { toMembershipModel } from './models/to-model';

@Injectable()
export class MembersService {
  constructor(private readonly audit: AuditService) {}

  async list(first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const query = getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.user', 'u')
      .innerJoinAndSelect('m.tenant', 't')
      .where('m.tenant_id = :tenantId', { tenantId: currentTenantId() });
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(m.created_at, m.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC').take(page.first + 1).getMany();
    const result = toPage(rows, page, totalCount);
    return { ...result, edges: result.edges.map((e) => ({ cursor: e.cursor, node: toMembershipModel(e.node) })) };
  }

  async add(input: AddMemberInput) {
    const errors = new FieldErrors();
    checkEmail(errors, 'email', input.email);
    errors.throwIfAny();
    this.assertMayGrant(input.role);
    const tenantId = currentTenantId();
    // Finding an account by email is allowed for this statement only (see the users policy).
    await applyScope(currentManager().queryRunner!, { lookupEmail: normalizeEmail(input.email) });
    const user = await getRepository(UserEntity).findOneBy({ emailNormalized: normalizeEmail(input.email) });
    await applyScope(currentManager().queryRunner!, { lookupEmail: '' });
    if (!user) throw notFound('User');
    const existing = await getRepository(MembershipEntity).findOneBy({ tenantId, userId: user.id });
    if (existing) throw conflict('This user is already a member of the tenant');
    const id = randomUUID();
    await getRepository(MembershipEntity).insert({ id, tenantId, userId: user.id, role: input.role });
    await this.audit.record({ action: 'member.add', resourceType: 'Membership', resourceId: id, details: { userId: user.id, role: input.role } });
    return toMembershipModel(await this.load(id));
  }

  async updateRole(membershipId: string, role: Role) {
    const membership = await this.load(requireUuid(membershipId, 'membershipId'));
    assertCan('update', 'Member', { ...membership });
    this.assertMayGrant(role);
    if (membership.role === 'OWNER' && role !== 'OWNER') await this.assertAnotherOwner(membership);
    await getRepository(MembershipEntity).update({ id: membership.id }, { role });
    await this.audit.record({
      action: 'member.update_role',
      resourceType: 'Membership',
      resourceId: membership.id,
      details: { userId: membership.userId, from: membership.role, to: role },
    });
    return toMembershipModel(await this.load(membership.id));
  }

  async remove(membershipId: string): Promise<boolean> {
    const membership = await this.load(requireUuid(membershipId, 'membershipId'));
    assertCan('delete', 'Member', { ...membership });
    if (membership.role === 'OWNER') await this.assertAnotherOwner(membership);
    await getRepository(MembershipEntity).delete({ id: membership.id });
    await this.audit.record({ action: 'member.remove', resourceType: 'Membership', resourceId: membership.id, details: { userId: membership.userId, role: membership.role } });
    return true;
  }

  private async load(id: string): Promise<MembershipEntity> {
    const membership = await getRepository(MembershipEntity).findOne({
      where: { id, tenantId: currentTenantId() },
      relations: { user: true, tenant: true },
    });
    if (!membership) throw notFound('Membership');
    return membership;
  }

  /** Nobody hands out more than they hold: an ADMIN cannot make an OWNER. */
  private assertMayGrant(role: Role): void {
    const { principal } = currentContext();
    const actorRole = principal?.role;
    if (!actorRole || !roleIsAtMost(role, actorRole)) throw forbidden(`You cannot grant the ${role} role`);
  }

  /** Locks the tenant's OWNER rows so two concurrent demotions cannot both pass. */
  private async assertAnotherOwner(membership: MembershipEntity): Promise<void> {
    const owners = await getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .setLock('pessimistic_write')
      .where('m.tenant_id = :tenantId AND m.role = :role', { tenantId: membership.tenantId, role: 'OWNER' })
      .getMany();
    if (!owners.some((o) => o.id !== membership.id)) throw conflict('The last OWNER cannot leave or be demoted; make someone else OWNER first');
  }
}

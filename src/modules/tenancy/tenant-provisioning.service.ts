import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { applyScope } from '../../database/scoped-transaction';
import { AuditService } from '../audit/audit.service';
import { MembershipEntity } from './membership.entity';
import { slugify } from './slug';
import { TenantEntity } from './tenant.entity';

/** Creates a tenant with its first OWNER, inside the caller's transaction. */
@Injectable()
export class TenantProvisioningService {
  constructor(private readonly audit: AuditService) {}

  async createWithOwner(manager: EntityManager, name: string, ownerUserId: string): Promise<TenantEntity> {
    const tenantId = randomUUID();
    // The new rows belong to the new tenant: scope the transaction to it so RLS accepts them.
    await applyScope(manager.queryRunner!, { tenantId });
    // A short random suffix keeps slugs unique without revealing which names other tenants use.
    const slug = `${slugify(name)}-${randomBytes(3).toString('hex')}`;
    const tenant = manager.getRepository(TenantEntity).create({ id: tenantId, name: name.trim(), slug, dataResidency: 'FR', requireMfa: false });
    await manager.getRepository(TenantEntity).insert(tenant);
    const membershipId = randomUUID();
    await manager.getRepository(MembershipEntity).insert({ id: membershipId, tenantId, userId: ownerUserId, role: 'OWNER' });
    const actor = { actorType: 'user', actorId: ownerUserId };
    await this.audit.append(manager, tenantId, { action: 'tenant.create', resourceType: 'Tenant', resourceId: tenantId, actor, details: { name: tenant.name } });
    await this.audit.append(manager, tenantId, {
      action: 'member.add',
      resourceType: 'Membership',
      resourceId: membershipId,
      actor,
      details: { userId: ownerUserId, role: 'OWNER' },
    });
    return manager.getRepository(TenantEntity).findOneByOrFail({ id: tenantId });
  }
}

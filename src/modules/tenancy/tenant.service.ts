import { Injectable } from '@nestjs/common';
import { badInput } from '../../common/errors/app-error';
import { FieldErrors } from '../../common/errors/validation';
import { currentContext, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { AuditService } from '../audit/audit.service';
import { UpdateTenantInput } from './dto/tenancy.input';
import { toTenantModel } from './models/to-model';
import { TenantModel } from './models/tenant.model';
import { TenantEntity } from './tenant.entity';

@Injectable()
export class TenantService {
  constructor(private readonly audit: AuditService) {}

  async current(): Promise<TenantModel> {
    return toTenantModel(await getRepository(TenantEntity).findOneByOrFail({ id: currentTenantId() }));
  }

  async update(input: UpdateTenantInput): Promise<TenantModel> {
    const errors = new FieldErrors();
    if (input.name !== undefined && input.name !== null) {
      errors.check(input.name.trim().length >= 2 && input.name.length <= 200, 'name', 'must be 2 to 200 characters');
    }
    errors.throwIfAny();
    const { principal } = currentContext();
    if (input.requireMfa === true && principal?.kind === 'user' && !principal.mfa) {
      throw badInput('requireMfa', 'can only be turned on from a session signed in with MFA');
    }
    const repository = getRepository(TenantEntity);
    const tenant = await repository.findOneByOrFail({ id: currentTenantId() });
    const changes: Partial<TenantEntity> = {};
    if (input.name) changes.name = input.name.trim();
    if (input.requireMfa !== undefined && input.requireMfa !== null) changes.requireMfa = input.requireMfa;
    await repository.update({ id: tenant.id }, changes);
    await this.audit.record({ action: 'tenant.update', resourceType: 'Tenant', resourceId: tenant.id, details: { changed: Object.keys(changes) } });
    return toTenantModel(await repository.findOneByOrFail({ id: tenant.id }));
  }
}

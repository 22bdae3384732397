import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { roleIsAtMost } from '../../common/authz/roles';
import { forbidden, notFound } from '../../common/errors/app-error';
import { FieldErrors, requireUuid, trimmedLength } from '../../common/errors/validation';
import { currentContext, currentTenantId, getRepository } from '../../common/request-context/request-context';
import { AuditService } from '../audit/audit.service';
import { ProjectEntity } from '../projects/project.entity';
import { ApiKeyEntity } from './api-key.entity';
import { generateApiKeyToken } from './api-key-token';
import { ApiKeyModel, CreateApiKeyInput, CreatedApiKeyModel } from './models/api-key.model';

function toModel(key: ApiKeyEntity): ApiKeyModel {
  const { id, name, prefix, role, projectId, expiresAt, lastUsedAt, revokedAt, createdAt } = key;
  return { id, name, prefix, role, projectId, expiresAt, lastUsedAt, revokedAt, createdAt };
}

@Injectable()
export class ApiKeysService {
  constructor(private readonly audit: AuditService) {}

  async list(): Promise<ApiKeyModel[]> {
    const keys = await getRepository(ApiKeyEntity).find({ where: { tenantId: currentTenantId() }, order: { createdAt: 'DESC' } });
    return keys.map(toModel);
  }

  async create(input: CreateApiKeyInput): Promise<CreatedApiKeyModel> {
    const creator = this.creator();
    const errors = new FieldErrors();
    errors.check(trimmedLength(input.name) >= 1 && input.name.length <= 100, 'name', 'must be 1 to 100 characters');
    if (input.expiresAt) errors.check(input.expiresAt.getTime() > Date.now(), 'expiresAt', 'must be in the future');
    if (input.projectId) errors.check(/^[0-9a-f-]{36}$/i.test(input.projectId), 'projectId', 'must be a UUID');
    errors.throwIfAny();
    if (!roleIsAtMost(input.role, creator.role)) throw forbidden(`An API key cannot have a role above yours (${creator.role})`);
    if (input.projectId) {
      const project = await getRepository(ProjectEntity).findOneBy({ id: input.projectId.toLowerCase(), tenantId: currentTenantId() });
      if (!project) throw notFound('Project');
    }
    const created = await this.insert({
      name: input.name.trim(),
      role: input.role,
      projectId: input.projectId?.toLowerCase() ?? null,
      expiresAt: input.expiresAt ?? null,
      rotatedFromId: null,
      createdByUserId: creator.userId,
    });
    await this.audit.record({ action: 'api_key.create', resourceType: 'ApiKey', resourceId: created.apiKey.id, details: { role: input.role, projectId: input.projectId ?? null, prefix: created.apiKey.prefix } });
    return created;
  }

  /** Issues a new secret with the same settings and revokes the old key at once. */
  async rotate(id: string): Promise<CreatedApiKeyModel> {
    const creator = this.creator();
    const old = await this.load(id);
    if (old.revokedAt) throw notFound('ApiKey');
    if (!roleIsAtMost(old.role, creator.role)) throw forbidden(`You cannot rotate a key whose role is above yours (${creator.role})`);
    await getRepository(ApiKeyEntity).update({ id: old.id }, { revokedAt: new Date() });
    const created = await this.insert({
      name: old.name,
      role: old.role,
      projectId: old.projectId,
      expiresAt: old.expiresAt,
      rotatedFromId: old.id,
      createdByUserId: creator.userId,
    });
    await this.audit.record({ action: 'api_key.rotate', resourceType: 'ApiKey', resourceId: created.apiKey.id, details: { rotatedFromId: old.id, prefix: created.apiKey.prefix } });
    return created;
  }

  async revoke(id: string): Promise<ApiKeyModel> {
    const creator = this.creator();
    const key = await this.load(id);
    if (!roleIsAtMost(key.role, creator.role)) throw forbidden(`You cannot revoke a key whose role is above yours (${creator.role})`);
    if (!key.revokedAt) {
      await getRepository(ApiKeyEntity).update({ id: key.id }, { revokedAt: new Date() });
      await this.audit.record({ action: 'api_key.revoke', resourceType: 'ApiKey', resourceId: key.id, details: { prefix: key.prefix } });
    }
    return toModel(await this.load(key.id));
  }

  private async load(id: string): Promise<ApiKeyEntity> {
    const key = await getRepository(ApiKeyEntity).findOneBy({ id: requireUuid(id), tenantId: currentTenantId() });
    if (!key) throw notFound('ApiKey');
    return key;
  }

  /** Keys are created by people: a key cannot mint further keys. */
  private creator(): { userId: string; role: NonNullable<ApiKeyEntity['role']> } {
    const { principal } = currentContext();
    if (principal?.kind !== 'user' || !principal.role) throw forbidden('API keys can only be managed by signed-in users');
    return { userId: principal.userId, role: principal.role };
  }

  private async insert(fields: Pick<ApiKeyEntity, 'name' | 'role' | 'projectId' | 'expiresAt' | 'rotatedFromId' | 'createdByUserId'>): Promise<CreatedApiKeyModel> {
    const token = generateApiKeyToken();
    const id = randomUUID();
    await getRepository(ApiKeyEntity).insert({ id, tenantId: currentTenantId(), prefix: token.prefix, secretHash: token.secretHash, lastUsedAt: null, revokedAt: null, ...fields });
    return { apiKey: toModel(await this.load(id)), secret: token.token };
  }
}

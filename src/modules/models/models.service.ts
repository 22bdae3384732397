import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { currentAbility } from '../../common/authz/access';
import { abilityToSql } from '../../common/authz/ability-sql';
import { badInput, notFound } from '../../common/errors/app-error';
import { isUuid, requireUuid } from '../../common/errors/validation';
import { parsePageRequest, toPage } from '../../common/pagination/cursor';
import { loadReadableProject } from '../projects/project-access';
import { currentTenantId, getRepository } from '../../common/request-context/request-context';
import { ModelEntity, ModelVersionEntity } from './model.entities';
import { toModelModel, toModelVersionModel } from './model-views';
import { ModelVersionModel } from './models/model.model';

@Injectable()
export class ModelsService {
  async list(projectId: string, first?: number, after?: string) {
    const page = parsePageRequest(first, after);
    const project = await loadReadableProject(projectId);
    const query = this.readable().andWhere('m.project_id = :projectId', { projectId: project.id });
    const totalCount = await query.clone().getCount();
    if (page.after) query.andWhere('(m.created_at, m.id) < (:createdAt, :id)', page.after);
    const rows = await query.orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC').take(page.first + 1).getMany();
    const versions = rows.length ? await getRepository(ModelVersionEntity).find({ where: { modelId: In(rows.map((r) => r.id)) }, order: { version: 'ASC' } }) : [];
    const result = toPage(rows, page, totalCount);
    return { ...result, edges: result.edges.map((e) => ({ cursor: e.cursor, node: toModelModel(e.node, versions.filter((v) => v.modelId === e.node.id)) })) };
  }

  async version(id: string): Promise<ModelVersionModel> {
    const version = await getRepository(ModelVersionEntity).findOneBy({ id: requireUuid(id), tenantId: currentTenantId() });
    const model = version ? await this.readable().andWhere('m.id = :id', { id: version.modelId }).getOne() : null;
    if (!version || !model) throw notFound('ModelVersion');
    return toModelVersionModel(version);
  }

  private readable() {
    const query = getRepository(ModelEntity).createQueryBuilder('m').where('m.tenant_id = :tenantId', { tenantId: currentTenantId() });
    const allowed = abilityToSql(currentAbility(), 'read', 'Model', { projectId: 'm.project_id' });
    return allowed ? query.andWhere(allowed.sql, allowed.params) : query.andWhere('FALSE');
  }
}

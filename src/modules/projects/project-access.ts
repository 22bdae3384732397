import { currentAbility } from '../../common/authz/access';
import { abilityToSql } from '../../common/authz/ability-sql';
import { notFound } from '../../common/errors/app-error';
import { requireUuid } from '../../common/errors/validation';
import { currentTenantId, getRepository } from '../../common/request-context/request-context';
import { ProjectEntity } from './project.entity';

/** Projects the caller may read, as SQL: a project-bound API key sees its project only. */
export function readableProjects() {
  const query = getRepository(ProjectEntity).createQueryBuilder('p').where('p.tenant_id = :tenantId', { tenantId: currentTenantId() });
  const allowed = abilityToSql(currentAbility(), 'read', 'Project', { id: 'p.id' });
  return allowed ? query.andWhere(allowed.sql, allowed.params) : query.andWhere('FALSE');
}

/** Lists scoped to a project answer NOT_FOUND for a project that is not the caller's to see. */
export async function loadReadableProject(id: string, field = 'projectId'): Promise<ProjectEntity> {
  const project = await readableProjects().andWhere('p.id = :id', { id: requireUuid(id, field) }).getOne();
  if (!project) throw notFound('Project');
  return project;
}

import { currentAbility } from '../../common/authz/access';
import { abilityToSql } from '../../common/authz/ability-sql';
import { notFound } from '../../common/errors/app-error';
import { requireUuid } from '../../common/errors/validation';
import { currentTenantId, getRepository } from '../../common/request-context/request-context';
import { DatasetEntity, DatasetVersionEntity } from './dataset.entities';

/** Datasets the caller may read, as SQL; erased datasets no longer exist for anyone. */
export function readableDatasets() {
  const query = getRepository(DatasetEntity)
    .createQueryBuilder('d')
    .where('d.tenant_id = :tenantId AND d.erased_at IS NULL', { tenantId: currentTenantId() });
  const allowed = abilityToSql(currentAbility(), 'read', 'Dataset', { projectId: 'd.project_id' });
  return allowed ? query.andWhere(allowed.sql, allowed.params) : query.andWhere('FALSE');
}

export async function loadReadableDataset(id: string, field = 'id'): Promise<DatasetEntity> {
  const dataset = await readableDatasets().andWhere('d.id = :id', { id: requireUuid(id, field) }).getOne();
  if (!dataset) throw notFound('Dataset');
  return dataset;
}

export async function loadReadableVersion(id: string, field = 'id'): Promise<{ version: DatasetVersionEntity; dataset: DatasetEntity }> {
  const version = await getRepository(DatasetVersionEntity).findOneBy({ id: requireUuid(id, field), tenantId: currentTenantId() });
  if (!version) throw notFound('DatasetVersion');
  const dataset = await readableDatasets().andWhere('d.id = :id', { id: version.datasetId }).getOne();
  if (!dataset) throw notFound('DatasetVersion');
  return { version, dataset };
}

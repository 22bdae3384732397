import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { currentTenantId, getRepository } from '../../common/request-context/request-context';
import { DatasetVersionModel } from '../datasets/models/dataset.model';
import { ModelVersionEntity } from './model.entities';
import { toModelVersionModel } from './model-views';
import { ModelVersionModel } from './models/model.model';

/** Lineage, the other way round: the model versions trained on a dataset version. */
@Resolver(() => DatasetVersionModel)
export class DatasetVersionLineageResolver {
  @ResolveField(() => [ModelVersionModel], { description: 'Model versions trained or validated on this dataset version' })
  async modelVersions(@Parent() version: DatasetVersionModel): Promise<ModelVersionModel[]> {
    const rows = await getRepository(ModelVersionEntity)
      .createQueryBuilder('v')
      .where('v.tenant_id = :tenantId AND :id = ANY(v.training_dataset_version_ids)', { tenantId: currentTenantId(), id: version.id })
      .orderBy('v.created_at', 'ASC')
      .getMany();
    return rows.map(toModelVersionModel);
  }
}

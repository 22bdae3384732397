import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { PageArgs } from '../../common/graphql/page.args';
import { DatasetsService } from './datasets.service';
import { CreateDatasetInput, DatasetConnection, DatasetModel, DatasetVersionModel } from './models/dataset.model';

@Resolver()
export class DatasetsResolver {
  constructor(private readonly service: DatasetsService) {}

  @Can('create', 'Dataset')
  @Mutation(() => DatasetModel)
  createDataset(@Args('input') input: CreateDatasetInput) {
    return this.service.create(input);
  }

  @Can('read', 'Dataset')
  @Query(() => DatasetModel)
  dataset(@Args('id', { type: () => ID }) id: string) {
    return this.service.get(id);
  }

  @Can('read', 'Dataset')
  @Query(() => DatasetConnection)
  datasets(@Args('projectId', { type: () => ID }) projectId: string, @Args() { first, after }: PageArgs) {
    return this.service.list(projectId, first, after);
  }

  @Can('read', 'Dataset')
  @Query(() => DatasetVersionModel)
  datasetVersion(@Args('id', { type: () => ID }) id: string) {
    return this.service.version(id);
  }

  @Can('delete', 'Dataset')
  @Mutation(() => Boolean, { description: 'Erasure: the keys of every version are destroyed, then the content' })
  deleteDataset(@Args('id', { type: () => ID }) id: string) {
    return this.service.delete(id);
  }
}

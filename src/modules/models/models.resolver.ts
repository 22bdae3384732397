import { Args, ID, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { PageArgs } from '../../common/graphql/page.args';
import { ModelConnection, ModelVersionModel } from './models/model.model';
import { ModelsService } from './models.service';

@Resolver()
export class ModelsResolver {
  constructor(private readonly service: ModelsService) {}

  @Can('read', 'Model')
  @Query(() => ModelConnection)
  models(@Args('projectId', { type: () => ID }) projectId: string, @Args() { first, after }: PageArgs) {
    return this.service.list(projectId, first, after);
  }

  @Can('read', 'Model')
  @Query(() => ModelVersionModel)
  modelVersion(@Args('id', { type: () => ID }) id: string) {
    return this.service.version(id);
  }
}

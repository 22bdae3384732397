import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { PageArgs } from '../../common/graphql/page.args';
import { CreateProjectInput, ProjectConnection, ProjectModel, UpdateProjectInput } from './models/project.model';
import { ProjectsService } from './projects.service';

@Resolver()
export class ProjectsResolver {
  constructor(private readonly service: ProjectsService) {}

  @Can('create', 'Project')
  @Mutation(() => ProjectModel)
  createProject(@Args('input') input: CreateProjectInput) {
    return this.service.create(input);
  }

  @Can('read', 'Project')
  @Query(() => ProjectConnection)
  projects(@Args() { first, after }: PageArgs) {
    return this.service.list(first, after);
  }

  @Can('read', 'Project')
  @Query(() => ProjectModel)
  project(@Args('id', { type: () => ID }) id: string) {
    return this.service.get(id);
  }

  @Can('update', 'Project')
  @Mutation(() => ProjectModel)
  updateProject(@Args('id', { type: () => ID }) id: string, @Args('input') input: UpdateProjectInput) {
    return this.service.update(id, input);
  }

  @Can('archive', 'Project')
  @Mutation(() => ProjectModel)
  archiveProject(@Args('id', { type: () => ID }) id: string) {
    return this.service.archive(id);
  }
}

import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { PageArgs } from '../../common/graphql/page.args';
import type { RequestContext } from '../../common/request-context/request-context';
import { FineTuningService } from './fine-tuning.service';
import { JobSubscriptionService } from './job-subscription.service';
import {
  BaseModelModel,
  CostEstimateModel,
  CreateFineTuningJobInput,
  FineTuningJobConnection,
  FineTuningJobModel,
  JobEventModel,
  JobStatusEnum,
} from './models/fine-tuning.model';

@Resolver(() => FineTuningJobModel)
export class FineTuningResolver {
  constructor(
    private readonly service: FineTuningService,
    private readonly subscriptions: JobSubscriptionService,
  ) {}

  @Can('read', 'Job')
  @Query(() => [BaseModelModel])
  baseModels() {
    return this.service.baseModels();
  }

  @Can('create', 'Job')
  @Query(() => CostEstimateModel)
  estimateFineTuningCost(@Args('input') input: CreateFineTuningJobInput) {
    return this.service.estimate(input);
  }

  @Can('create', 'Job')
  @Mutation(() => FineTuningJobModel)
  createFineTuningJob(@Args('input') input: CreateFineTuningJobInput) {
    return this.service.create(input);
  }

  @Can('read', 'Job')
  @Query(() => FineTuningJobModel)
  fineTuningJob(@Args('id', { type: () => ID }) id: string) {
    return this.service.get(id);
  }

  @Can('read', 'Job')
  @Query(() => FineTuningJobConnection)
  fineTuningJobs(
    @Args('projectId', { type: () => ID }) projectId: string,
    @Args('status', { type: () => JobStatusEnum, nullable: true }) status: JobStatusEnum | undefined,
    @Args() { first, after }: PageArgs,
  ) {
    return this.service.list(projectId, status, first, after);
  }

  @Can('cancel', 'Job')
  @Mutation(() => FineTuningJobModel)
  cancelFineTuningJob(@Args('id', { type: () => ID }) id: string) {
    return this.service.cancel(id);
  }

  @Can('read', 'Job')
  @Subscription(() => FineTuningJobModel, { resolve: (job: FineTuningJobModel) => job })
  fineTuningJobUpdated(@Args('id', { type: () => ID }) id: string, @Context('lutece') context: RequestContext) {
    return this.subscriptions.subscribe(id, context);
  }

  @ResolveField(() => [JobEventModel], { description: 'Newest first' })
  events(@Parent() job: FineTuningJobModel, @Args('first', { type: () => Int, nullable: true, defaultValue: 20 }) first: number) {
    return job.allEvents.slice(0, Math.max(0, Math.min(first, 100)));
  }
}

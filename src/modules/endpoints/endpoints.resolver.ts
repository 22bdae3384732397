import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { Can } from '../../common/authz/decorators';
import { PageArgs } from '../../common/graphql/page.args';
import { EndpointDriftService } from './endpoint-drift.service';
import { EndpointsService } from './endpoints.service';
import { CreateEndpointInput, DriftModel, EndpointConnection, EndpointModel, PredictionResultModel, UpdateEndpointInput } from './models/endpoint.model';
import { PredictionService } from './prediction.service';

@Resolver(() => EndpointModel)
export class EndpointsResolver {
  constructor(
    private readonly service: EndpointsService,
    private readonly predictions: PredictionService,
    private readonly driftReports: EndpointDriftService,
  ) {}

  @Can('create', 'Endpoint')
  @Mutation(() => EndpointModel)
  createEndpoint(@Args('input') input: CreateEndpointInput) {
    return this.service.create(input);
  }

  @Can('update', 'Endpoint')
  @Mutation(() => EndpointModel)
  updateEndpoint(@Args('id', { type: () => ID }) id: string, @Args('input') input: UpdateEndpointInput) {
    return this.service.update(id, input);
  }

  @Can('promote', 'Endpoint')
  @Mutation(() => EndpointModel, { description: 'STAGING → PRODUCTION copy' })
  promoteEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.service.promote(id);
  }

  @Can('delete', 'Endpoint')
  @Mutation(() => Boolean)
  deleteEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.service.delete(id);
  }

  @Can('read', 'Endpoint')
  @Query(() => EndpointModel)
  endpoint(@Args('id', { type: () => ID }) id: string) {
    return this.service.get(id);
  }

  @Can('read', 'Endpoint')
  @Query(() => EndpointConnection)
  endpoints(@Args('projectId', { type: () => ID }) projectId: string, @Args() { first, after }: PageArgs) {
    return this.service.list(projectId, first, after);
  }

  @Can('predict', 'Endpoint')
  @Mutation(() => PredictionResultModel)
  predict(@Args('endpointId', { type: () => ID }) endpointId: string, @Args('inputs', { type: () => [GraphQLJSON] }) inputs: unknown[]) {
    return this.predictions.predict(endpointId, inputs);
  }

  @ResolveField(() => DriftModel)
  drift(@Parent() endpoint: EndpointModel) {
    return this.driftReports.forEndpoint(endpoint.id);
  }
}

import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can } from '../../common/authz/decorators';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyModel, CreateApiKeyInput, CreatedApiKeyModel } from './models/api-key.model';

@Resolver()
export class ApiKeysResolver {
  constructor(private readonly service: ApiKeysService) {}

  @Can('read', 'ApiKey')
  @Query(() => [ApiKeyModel])
  apiKeys() {
    return this.service.list();
  }

  @Can('create', 'ApiKey')
  @Mutation(() => CreatedApiKeyModel)
  createApiKey(@Args('input') input: CreateApiKeyInput) {
    return this.service.create(input);
  }

  @Can('update', 'ApiKey')
  @Mutation(() => CreatedApiKeyModel)
  rotateApiKey(@Args('id', { type: () => ID }) id: string) {
    return this.service.rotate(id);
  }

  @Can('delete', 'ApiKey')
  @Mutation(() => ApiKeyModel)
  revokeApiKey(@Args('id', { type: () => ID }) id: string) {
    return this.service.revoke(id);
  }
}

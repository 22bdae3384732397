import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { RoleEnum } from '../../../common/graphql/enums';

@ObjectType('ApiKey')
export class ApiKeyModel {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field({ description: 'Public part of the token, lk_<prefix>_…, to recognise a key in logs' }) prefix: string;
  @Field(() => RoleEnum) role: string;
  @Field(() => ID, { nullable: true }) projectId: string | null;
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field() createdAt: Date;
}

@ObjectType('CreatedApiKey')
export class CreatedApiKeyModel {
  @Field(() => ApiKeyModel) apiKey: ApiKeyModel;
  @Field({ description: 'The full token lk_<prefix>_<secret>. Shown once; only its hash is stored.' }) secret: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field() name: string;
  @Field(() => RoleEnum, { description: 'At most the creator’s own role' }) role: RoleEnum;
  @Field(() => ID, { nullable: true, description: 'Restrict the key to one project' }) projectId?: string | null;
  @Field(() => Date, { nullable: true }) expiresAt?: Date | null;
}

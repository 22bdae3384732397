import { Field, ID, ObjectType } from '@nestjs/graphql';
import { DataResidencyEnum } from '../../../common/graphql/enums';

@ObjectType('Tenant')
export class TenantModel {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field() slug: string;
  @Field(() => DataResidencyEnum) dataResidency: string;
  @Field() requireMfa: boolean;
  @Field() createdAt: Date;
}

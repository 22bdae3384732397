import { Field, ID, ObjectType } from '@nestjs/graphql';
import { RoleEnum } from '../../../common/graphql/enums';
import { Connection } from '../../../common/graphql/connection';
import { UserModel } from '../../iam/models/user.model';
import { TenantModel } from './tenant.model';

@ObjectType('Membership')
export class MembershipModel {
  @Field(() => ID) id: string;
  @Field(() => RoleEnum) role: string;
  @Field(() => TenantModel) tenant: TenantModel;
  @Field(() => UserModel) user: UserModel;
  @Field() createdAt: Date;
}

@ObjectType()
export class MembershipConnection extends Connection(MembershipModel, 'Membership') {}

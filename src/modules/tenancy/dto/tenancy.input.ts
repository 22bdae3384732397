import { Field, InputType } from '@nestjs/graphql';
import { RoleEnum } from '../../../common/graphql/enums';

@InputType()
export class UpdateTenantInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'OWNER/ADMIN sessions without MFA can no longer run mutations' })
  requireMfa?: boolean | null;
}

@InputType()
export class AddMemberInput {
  @Field({ description: 'Email of an existing Lutece account' }) email: string;
  @Field(() => RoleEnum) role: RoleEnum;
}

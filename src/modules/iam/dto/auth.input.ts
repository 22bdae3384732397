import { Field, InputType } from '@nestjs/graphql';

@InputType()
export class SignUpInput {
  @Field() email: string;
  @Field({ description: 'At least 12 characters' }) password: string;
  @Field() displayName: string;
  @Field({ description: 'Name of the organisation (tenant) created with this account' }) tenantName: string;
}

@InputType()
export class LoginInput {
  @Field() email: string;
  @Field() password: string;
  @Field(() => String, { nullable: true, description: 'Current TOTP code, required once MFA is enabled' }) totpCode?: string | null;
}

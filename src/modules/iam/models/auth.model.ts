import { Field, ObjectType } from '@nestjs/graphql';
import { MembershipModel } from '../../tenancy/models/membership.model';
import { UserModel } from './user.model';

@ObjectType('AuthPayload')
export class AuthPayloadModel {
  @Field() accessToken: string;
  @Field() refreshToken: string;
  @Field() expiresAt: Date;
  @Field(() => UserModel) user: UserModel;
}

@ObjectType('Viewer')
export class ViewerModel {
  @Field(() => UserModel) user: UserModel;
  @Field(() => [MembershipModel]) memberships: MembershipModel[];
}

@ObjectType('MfaEnrollment')
export class MfaEnrollmentModel {
  @Field({ description: 'Base32 TOTP secret: shown once, store it in an authenticator app' }) secret: string;
  @Field() otpauthUri: string;
}

import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Authenticated, Public } from '../../common/authz/decorators';
import { AuthService } from './auth.service';
import { LoginInput, SignUpInput } from './dto/auth.input';
import { MfaService } from './mfa.service';
import { AuthPayloadModel, MfaEnrollmentModel, ViewerModel } from './models/auth.model';

@Resolver()
export class IamResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  @Public()
  @Mutation(() => AuthPayloadModel)
  signUp(@Args('input') input: SignUpInput) {
    return this.auth.signUp(input);
  }

  @Public()
  @Mutation(() => AuthPayloadModel)
  login(@Args('input') input: LoginInput) {
    return this.auth.login(input);
  }

  @Public()
  @Mutation(() => AuthPayloadModel)
  refreshSession(@Args('refreshToken') refreshToken: string) {
    return this.auth.refresh(refreshToken);
  }

  @Public()
  @Mutation(() => Boolean)
  logout(@Args('refreshToken') refreshToken: string) {
    return this.auth.logout(refreshToken);
  }

  @Authenticated()
  @Mutation(() => MfaEnrollmentModel)
  startMfaEnrollment() {
    return this.mfa.startEnrollment();
  }

  @Authenticated()
  @Mutation(() => Boolean)
  confirmMfaEnrollment(@Args('code') code: string) {
    return this.mfa.confirmEnrollment(code);
  }

  @Authenticated()
  @Query(() => ViewerModel)
  me() {
    return this.auth.viewer();
  }
}

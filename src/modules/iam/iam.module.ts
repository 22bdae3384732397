import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { AuthService } from './auth.service';
import { AuthenticationService } from './authentication.service';
import { IamResolver } from './iam.resolver';
import { LoginThrottleService } from './login-throttle.service';
import { MfaService } from './mfa.service';
import { PasswordService } from './password.service';
import { RequestAuthenticationMiddleware } from './request-authentication.middleware';
import { SessionService } from './session.service';
import { TokenService } from './token.service';
import { TotpService } from './totp.service';
import { UserAuditService } from './user-audit.service';

@Module({
  imports: [AuditModule, TenancyModule],
  providers: [
    AuthService,
    AuthenticationService,
    IamResolver,
    LoginThrottleService,
    MfaService,
    PasswordService,
    SessionService,
    TokenService,
    TotpService,
    UserAuditService,
  ],
  exports: [AuthenticationService],
})
export class IamModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestAuthenticationMiddleware).forRoutes('*');
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppError, conflict, unauthenticated } from '../../common/errors/app-error';
import { FieldErrors, trimmedLength } from '../../common/errors/validation';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { currentContext } from '../../common/request-context/request-context';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { AuditService } from '../audit/audit.service';
import { MembershipEntity } from '../tenancy/membership.entity';
import { toMembershipModel, toUserModel } from '../tenancy/models/to-model';
import { TenantProvisioningService } from '../tenancy/tenant-provisioning.service';
import { LoginInput, SignUpInput } from './dto/auth.input';
import { LoginThrottleService } from './login-throttle.service';
import { MfaService } from './mfa.service';
import { AuthPayloadModel, ViewerModel } from './models/auth.model';
import { checkEmail, checkPassword, normalizeEmail } from './password-policy';
import { PasswordService } from './password.service';
import { IssuedTokens, SessionService } from './session.service';
import { UserAuditService } from './user-audit.service';
import { UserEntity } from './user.entity';

const INVALID_CREDENTIALS = 'Invalid email or password';

/** Sign-up, login, refresh and logout. Each runs in its own transaction: there is no tenant yet. */
@Injectable()
export class AuthService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly passwords: PasswordService,
    private readonly sessions: SessionService,
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditService,
    private readonly userAudit: UserAuditService,
    private readonly provisioning: TenantProvisioningService,
    private readonly mfa: MfaService,
  ) {}

  async signUp(input: SignUpInput): Promise<AuthPayloadModel> {
    const errors = new FieldErrors();
    checkEmail(errors, 'email', input.email);
    checkPassword(errors, 'password', input.password, input.email);
    errors.check(trimmedLength(input.displayName) >= 1 && input.displayName.length <= 200, 'displayName', 'must be 1 to 200 characters');
    errors.check(trimmedLength(input.tenantName) >= 2 && input.tenantName.length <= 200, 'tenantName', 'must be 2 to 200 characters');
    errors.throwIfAny();

    const userId = randomUUID();
    const emailNormalized = normalizeEmail(input.email);
    const passwordHash = await this.passwords.hash(input.password);
    const { ip } = currentContext();
    try {
      return await withScopedTransaction(this.dataSource, { userId }, async (manager) => {
        await manager.getRepository(UserEntity).insert({
          id: userId,
          email: input.email.trim(),
          emailNormalized,
          displayName: input.displayName.trim(),
          passwordHash,
          mfaEnabled: false,
        });
        const tenant = await this.provisioning.createWithOwner(manager, input.tenantName, userId);
        await this.audit.append(manager, tenant.id, {
          action: 'auth.sign_up',
          resourceType: 'User',
          resourceId: userId,
          actor: { actorType: 'user', actorId: userId },
        });
        const tokens = await this.sessions.open(manager, userId, false, ip);
        return this.payload(manager, userId, tokens);
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw conflict('An account with this email already exists');
      throw error;
    }
  }

  async login(input: LoginInput): Promise<AuthPayloadModel> {
    const emailNormalized = normalizeEmail(input.email ?? '');
    const { ip } = currentContext();
    await this.throttle.assertAllowed(emailNormalized, ip);

    const user = await withScopedTransaction(this.dataSource, { lookupEmail: emailNormalized }, (manager) =>
      manager
        .getRepository(UserEntity)
        .createQueryBuilder('u')
        .addSelect(['u.passwordHash', 'u.mfaSecretEnc', 'u.mfaLastTimeStep'])
        .where('u.email_normalized = :emailNormalized', { emailNormalized })
        .getOne(),
    );
    const passwordOk = await this.passwords.verify(user?.passwordHash ?? null, input.password ?? '');
    if (!user || !passwordOk) {
      await this.throttle.recordFailure(emailNormalized, ip);
      await this.userAudit.record(user?.id ?? null, 'auth.login', 'FAILURE', { reason: 'invalid_credentials' });
      throw unauthenticated(INVALID_CREDENTIALS);
    }

    if (user.mfaEnabled) await this.checkSecondFactor(user, input.totpCode ?? null, emailNormalized, ip);

    await this.throttle.clearAccount(emailNormalized);
    const payload = await withScopedTransaction(this.dataSource, { userId: user.id }, async (manager) =>
      this.payload(manager, user.id, await this.sessions.open(manager, user.id, user.mfaEnabled, ip)),
    );
    await this.userAudit.record(user.id, 'auth.login', 'SUCCESS', { mfa: user.mfaEnabled });
    return payload;
  }

  async refresh(refreshToken: string): Promise<AuthPayloadModel> {
    const outcome = await withScopedTransaction(this.dataSource, {}, async (manager) => {
      const result = await this.sessions.rotate(manager, refreshToken ?? '');
      if (result.kind === 'reused') await this.sessions.revoke(manager, result.session.id, 'refresh_token_reused');
      return result;
    });
    if (outcome.kind === 'invalid') throw unauthenticated('Invalid or expired refresh token');
    if (outcome.kind === 'reused') {
      await this.userAudit.record(outcome.session.userId, 'auth.refresh_token_reused', 'DENIED', { sessionId: outcome.session.id });
      throw unauthenticated('Refresh token already used: the session has been revoked, sign in again');
    }
    return withScopedTransaction(this.dataSource, { userId: outcome.session.userId }, (manager) =>
      this.payload(manager, outcome.session.userId, outcome.tokens),
    );
  }

  async logout(refreshToken: string): Promise<boolean> {
    const session = await withScopedTransaction(this.dataSource, {}, async (manager) => {
      const found = await this.sessions.findByRefreshToken(manager, refreshToken ?? '');
      if (found) await this.sessions.revoke(manager, found.id, 'logout');
      return found;
    });
    if (session) await this.userAudit.record(session.userId, 'auth.logout', 'SUCCESS', { sessionId: session.id });
    return true;
  }

  async viewer(): Promise<ViewerModel> {
    const { principal } = currentContext();
    if (principal?.kind !== 'user') throw unauthenticated();
    const { userId } = principal;
    return withScopedTransaction(this.dataSource, { userId }, async (manager) => {
      const user = await manager.getRepository(UserEntity).findOneByOrFail({ id: userId });
      return { user: toUserModel(user), memberships: await this.membershipsOf(manager, userId) };
    });
  }

  private async checkSecondFactor(user: UserEntity, code: string | null, emailNormalized: string, ip: string | null): Promise<void> {
    if (!code) throw new AppError('MFA_REQUIRED', 'A TOTP code is required for this account');
    const accepted = await this.mfa.consumeCode(user, code);
    if (accepted === null) {
      await this.throttle.recordFailure(emailNormalized, ip);
      await this.userAudit.record(user.id, 'auth.login', 'FAILURE', { reason: 'invalid_totp' });
      throw new AppError('MFA_REQUIRED', 'Invalid or already used TOTP code');
    }
  }

  private async payload(manager: EntityManager, userId: string, tokens: IssuedTokens): Promise<AuthPayloadModel> {
    const user = await manager.getRepository(UserEntity).findOneByOrFail({ id: userId });
    return { ...tokens, user: toUserModel(user) };
  }

  private async membershipsOf(manager: EntityManager, userId: string) {
    const memberships = await manager.getRepository(MembershipEntity).find({
      where: { userId },
      relations: { tenant: true, user: true },
      order: { createdAt: 'ASC' },
    });
    return memberships.map(toMembershipModel);
  }
}

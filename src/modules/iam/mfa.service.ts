import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { badInput, forbidden } from '../../common/errors/app-error';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import { currentContext } from '../../common/request-context/request-context';
import { withScopedTransaction } from '../../database/scoped-transaction';
import { MfaEnrollmentModel } from './models/auth.model';
import { SessionEntity } from './session.entity';
import { TotpService } from './totp.service';
import { UserAuditService } from './user-audit.service';
import { UserEntity } from './user.entity';

/** TOTP enrollment and single-use verification of codes. */
@Injectable()
export class MfaService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly totp: TotpService,
    private readonly userAudit: UserAuditService,
  ) {}

  async startEnrollment(): Promise<MfaEnrollmentModel> {
    const { userId } = this.currentUser();
    const secret = this.totp.newSecret();
    const email = await withScopedTransaction(this.dataSource, { userId }, async (manager) => {
      const user = await manager.getRepository(UserEntity).findOneByOrFail({ id: userId });
      await manager.getRepository(UserEntity).update({ id: userId }, { mfaPendingSecretEnc: this.totp.seal(secret, userId) });
      return user.email;
    });
    await this.userAudit.record(userId, 'auth.mfa_enrollment_started', 'SUCCESS');
    return { secret, otpauthUri: this.totp.uri(secret, email) };
  }

  async confirmEnrollment(code: string): Promise<boolean> {
    const { userId, sessionId } = this.currentUser();
    const confirmed = await withScopedTransaction(this.dataSource, { userId }, async (manager) => {
      const user = await manager
        .getRepository(UserEntity)
        .createQueryBuilder('u')
        .addSelect(['u.mfaPendingSecretEnc'])
        .where('u.id = :userId', { userId })
        .getOneOrFail();
      if (!user.mfaPendingSecretEnc) throw badInput('code', 'cannot be checked: no MFA enrollment is in progress (call startMfaEnrollment first)');
      const secret = this.totp.open(user.mfaPendingSecretEnc, userId);
      const step = await this.totp.check(secret, code ?? '', null);
      if (step === null) return false;
      await manager.getRepository(UserEntity).update(
        { id: userId },
        { mfaEnabled: true, mfaSecretEnc: user.mfaPendingSecretEnc, mfaPendingSecretEnc: null, mfaLastTimeStep: String(step) },
      );
      // The caller just proved possession of the second factor: this session now counts as MFA.
      await manager.getRepository(SessionEntity).update({ id: sessionId }, { mfa: true });
      return true;
    });
    await this.userAudit.record(userId, 'auth.mfa_enrolled', confirmed ? 'SUCCESS' : 'FAILURE');
    if (!confirmed) throw badInput('code', 'is not a valid TOTP code for the pending secret');
    return true;
  }

  /** Verifies a login code and consumes its time step; a code (or an older one) never works twice. */
  async consumeCode(user: UserEntity, code: string): Promise<number | null> {
    if (!user.mfaSecretEnc) return null;
    const secret = this.totp.open(user.mfaSecretEnc, user.id);
    const lastStep = user.mfaLastTimeStep === null ? null : Number(user.mfaLastTimeStep);
    const step = await this.totp.check(secret, code, lastStep);
    if (step === null) return null;
    // A secret still sealed under a master key being retired moves to the active one at its next use.
    const resealed = this.totp.resealIfStale(user.mfaSecretEnc, secret, user.id);
    const updated = await withScopedTransaction(this.dataSource, { userId: user.id }, (manager) =>
      manager
        .createQueryBuilder()
        .update(UserEntity)
        .set({ mfaLastTimeStep: String(step), ...(resealed ? { mfaSecretEnc: resealed } : {}) })
        .where('id = :id AND (mfa_last_time_step IS NULL OR mfa_last_time_step < :step)', { id: user.id, step })
        // Never reseal over a secret that a concurrent re-enrolment has just replaced.
        .andWhere(resealed ? 'mfa_secret_enc = :sealed' : 'TRUE', { sealed: user.mfaSecretEnc })
        .execute(),
    );
    return updated.affected ? step : null;
  }

  private currentUser(): { userId: string; sessionId: string } {
    const { principal } = currentContext();
    if (principal?.kind !== 'user') throw forbidden('MFA enrollment is for users, not API keys');
    return { userId: principal.userId, sessionId: principal.sessionId };
  }
}

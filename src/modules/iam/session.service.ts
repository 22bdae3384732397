import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { applyScope } from '../../database/scoped-transaction';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { RefreshTokenEntity, SessionEntity } from './session.entity';
import { TokenService } from './token.service';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
}

export type RefreshOutcome =
  | { kind: 'rotated'; session: SessionEntity; tokens: IssuedTokens }
  | { kind: 'reused'; session: SessionEntity }
  | { kind: 'invalid' };

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Sessions and their refresh tokens. Each refresh consumes its token and issues the next one in the
 * same family; presenting a consumed token means it was stolen or replayed, so the family dies.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: RuntimeConfig,
    private readonly tokens: TokenService,
  ) {}

  async open(manager: EntityManager, userId: string, mfa: boolean, ip: string | null): Promise<IssuedTokens> {
    const session = manager.getRepository(SessionEntity).create({
      id: randomUUID(),
      userId,
      mfa,
      ip,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTokenTtlSeconds * 1000),
      revokedAt: null,
      revokedReason: null,
    });
    await manager.getRepository(SessionEntity).insert(session);
    return this.issue(manager, session);
  }

  async rotate(manager: EntityManager, presented: string): Promise<RefreshOutcome> {
    const { token: found, session } = await this.lookup(manager, presented);
    if (!found || !session) return { kind: 'invalid' };
    if (session.revokedAt || session.expiresAt <= new Date() || found.expiresAt <= new Date()) return { kind: 'invalid' };

    // The conditional update is the single-use guarantee, even for two concurrent refreshes.
    const consumed = await manager
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL', { id: found.id })
      .execute();
    if (!consumed.affected) return { kind: 'reused', session };
    return { kind: 'rotated', session, tokens: await this.issue(manager, session) };
  }

  async revoke(manager: EntityManager, sessionId: string, reason: string): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('id = :sessionId AND revoked_at IS NULL', { sessionId })
      .execute();
  }

  async findByRefreshToken(manager: EntityManager, presented: string): Promise<SessionEntity | null> {
    return (await this.lookup(manager, presented)).session;
  }

  /**
   * Finds a presented token's row and its session. Row-level security shows the transaction only
   * that token, then that session, then (to rotate or revoke) the rows of the session's user.
   */
  private async lookup(manager: EntityManager, presented: string): Promise<{ token: RefreshTokenEntity | null; session: SessionEntity | null }> {
    const tokenHash = hashRefreshToken(presented);
    await applyScope(manager.queryRunner!, { refreshTokenHash: tokenHash.toString('hex') });
    const token = await manager.getRepository(RefreshTokenEntity).findOne({ where: { tokenHash } });
    if (!token) return { token: null, session: null };
    await applyScope(manager.queryRunner!, { sessionId: token.sessionId });
    const session = await manager.getRepository(SessionEntity).findOne({ where: { id: token.sessionId } });
    if (session) await applyScope(manager.queryRunner!, { userId: session.userId });
    return { token, session };
  }

  private async issue(manager: EntityManager, session: SessionEntity): Promise<IssuedTokens> {
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    await manager.getRepository(RefreshTokenEntity).insert({
      id: randomUUID(),
      sessionId: session.id,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: session.expiresAt,
      usedAt: null,
    });
    const access = this.tokens.issueAccessToken(session.userId, session.id);
    return { accessToken: access.token, refreshToken, expiresAt: access.expiresAt };
  }
}

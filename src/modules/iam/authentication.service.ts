import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { buildAbility } from '../../common/authz/ability.factory';
import { newContext, RequestContext } from '../../common/request-context/request-context';
import { DataSource } from 'typeorm';
import { roleIsAtMost, Role } from '../../common/authz/roles';
import { AppError, badInput, notFound, unauthenticated } from '../../common/errors/app-error';
import { isUuid } from '../../common/errors/validation';
import { DATA_SOURCE } from '../../common/infrastructure/tokens';
import type { Principal } from '../../common/request-context/principal';
import { applyScope, queryInScope, withScopedTransaction } from '../../database/scoped-transaction';
import { ApiKeyEntity } from '../api-keys/api-key.entity';
import { parseApiKeyToken } from '../api-keys/api-key-token';
import { TokenService } from './token.service';

export type AuthenticationResult = { principal: Principal } | { error: AppError } | { anonymous: true };

interface SessionRow {
  mfa: boolean;
  revoked_at: Date | null;
  expires_at: Date;
  membership_id: string | null;
  role: Role | null;
  tenant_id: string | null;
  require_mfa: boolean | null;
}

/** Throttles `last_used_at` writes: one per key per minute is precise enough and keeps reads cheap. */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Turns an Authorization header (user JWT or API key) and an optional X-Tenant-Id into a
 * principal. Runs before any resolver; a failure is kept and raised only by operations that need
 * a principal, so `login` still works with a stale token in the header.
 */
@Injectable()
export class AuthenticationService {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
  ) {}

  async authenticate(authorization: string | undefined, tenantHeader: string | undefined): Promise<AuthenticationResult> {
    if (!authorization) return { anonymous: true };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) return { error: unauthenticated('Authorization header must be "Bearer <token>"') };
    const token = match[1];
    try {
      return token.startsWith('lk_') ? await this.fromApiKey(token) : await this.fromAccessToken(token, tenantHeader);
    } catch (error) {
      if (error instanceof AppError) return { error };
      throw error;
    }
  }

  /** A request context for a long-lived connection (graphql-ws), or null when the caller is refused. */
  async contextFor(authorization: string | undefined, tenantHeader: string | undefined): Promise<RequestContext | null> {
    const result = await this.authenticate(authorization, tenantHeader);
    if (!('principal' in result)) return null;
    const context = newContext(randomUUID(), null);
    context.principal = result.principal;
    const { role, tenantId } = result.principal;
    if (role && tenantId) {
      context.tenantId = tenantId;
      context.ability = buildAbility({ role, projectId: result.principal.kind === 'apiKey' ? result.principal.projectId : null });
    }
    return context;
  }

  private async fromAccessToken(token: string, tenantHeader: string | undefined): Promise<AuthenticationResult> {
    const claims = this.tokens.verifyAccessToken(token);
    if (!claims) return { error: unauthenticated('Invalid or expired access token') };
    if (tenantHeader !== undefined && !isUuid(tenantHeader)) throw badInput('X-Tenant-Id', 'must be a tenant id (UUID)');

    // Claims come from our own signature, but they are inlined into SQL below: they must be UUIDs.
    if (!isUuid(claims.sub) || !isUuid(claims.sid)) return { error: unauthenticated('Invalid or expired access token') };
    const rows = await queryInScope<SessionRow>(
      this.dataSource,
      { userId: claims.sub },
      (literal) =>
        `SELECT s.mfa, s.revoked_at, s.expires_at, m.id AS membership_id, m.role, m.tenant_id, t.require_mfa
           FROM sessions s
           LEFT JOIN memberships m ON m.user_id = s.user_id AND (${literal(tenantHeader ?? null)}::uuid IS NULL OR m.tenant_id = ${literal(tenantHeader ?? null)}::uuid)
           LEFT JOIN tenants t ON t.id = m.tenant_id
          WHERE s.id = ${literal(claims.sid)} AND s.user_id = ${literal(claims.sub)}`,
    );
    const session = rows[0];
    if (!session || session.revoked_at || session.expires_at <= new Date()) {
      return { error: unauthenticated('Session has ended; sign in again') };
    }
    const principal: Principal = { kind: 'user', userId: claims.sub, sessionId: claims.sid, mfa: session.mfa };
    const memberships = rows.filter((r) => r.membership_id);
    if (tenantHeader && memberships.length === 0) throw notFound('Tenant');
    // Without the header, a user with exactly one membership works in that tenant.
    if (memberships.length === 1) {
      const [m] = memberships;
      Object.assign(principal, { tenantId: m.tenant_id!, membershipId: m.membership_id!, role: m.role!, requireMfa: m.require_mfa === true });
    }
    return { principal };
  }

  private async fromApiKey(token: string): Promise<AuthenticationResult> {
    const parsed = parseApiKeyToken(token);
    if (!parsed) return { error: unauthenticated('Invalid API key') };
    return withScopedTransaction(this.dataSource, { apiKeyPrefix: parsed.prefix }, async (manager) => {
      const key = await manager
        .getRepository(ApiKeyEntity)
        .createQueryBuilder('k')
        .addSelect('k.secretHash')
        .where('k.prefix = :prefix', { prefix: parsed.prefix })
        .getOne();
      const presentedHash = createHash('sha256').update(parsed.secret).digest();
      if (!key || key.secretHash.length !== presentedHash.length || !timingSafeEqual(key.secretHash, presentedHash)) {
        return { error: unauthenticated('Invalid API key') };
      }
      if (key.revokedAt) return { error: unauthenticated('API key has been revoked') };
      if (key.expiresAt && key.expiresAt <= new Date()) return { error: unauthenticated('API key has expired') };

      await applyScope(manager.queryRunner!, { tenantId: key.tenantId });
      const [creator] = await manager.query(`SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [
        key.tenantId,
        key.createdByUserId,
      ]);
      // A key never outlives or outranks its creator's membership.
      if (!creator || !roleIsAtMost(key.role, creator.role)) return { error: unauthenticated('API key is no longer valid') };

      if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
        await manager.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [key.id]);
      }
      const principal: Principal = {
        kind: 'apiKey',
        apiKeyId: key.id,
        tenantId: key.tenantId,
        role: key.role,
        projectId: key.projectId,
        createdByUserId: key.createdByUserId,
      };
      return { principal };
    });
  }
}

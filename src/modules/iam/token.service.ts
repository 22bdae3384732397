import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import type { RuntimeConfig } from '../../config/runtime-config';
import { APP_CONFIG } from '../../common/infrastructure/tokens';

export interface AccessClaims {
  sub: string;
  sid: string;
}

const ISSUER = 'lutece';
const AUDIENCE = 'lutece-api';

/** Short-lived HS256 access tokens. The signing key ring allows rotation: the first key signs. */
@Injectable()
export class TokenService {
  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {}

  issueAccessToken(userId: string, sessionId: string): { token: string; expiresAt: Date } {
    const [active] = this.config.auth.signingKeys;
    const ttl = this.config.auth.accessTokenTtlSeconds;
    const token = jwt.sign({ sid: sessionId }, active.secret, {
      algorithm: 'HS256',
      keyid: active.id,
      subject: userId,
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: ttl,
      jwtid: randomUUID(),
    });
    return { token, expiresAt: new Date(Date.now() + ttl * 1000) };
  }

  /** Returns null for anything that is not a valid, unexpired token of ours. */
  verifyAccessToken(token: string): AccessClaims | null {
    const decoded = jwt.decode(token, { complete: true });
    const kid = decoded && typeof decoded === 'object' ? decoded.header.kid : undefined;
    const key = this.config.auth.signingKeys.find((k) => k.id === kid);
    if (!key) return null;
    try {
      const claims = jwt.verify(token, key.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
      if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return null;
      return { sub: claims.sub, sid: claims.sid };
    } catch {
      return null;
    }
  }
}

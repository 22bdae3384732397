import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { createSecretKey, KeyObject, randomUUID } from 'node:crypto';
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
  /**
   * Secret KeyObjects, built once: handed a raw Buffer, jsonwebtoken first tries (and fails) to
   * parse it as a public key on every call, which cost ~0.6 ms per request (docs/BENCHMARKS.md).
   */
  private readonly keys: { id: string; key: KeyObject }[];

  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {
    this.keys = config.auth.signingKeys.map((k) => ({ id: k.id, key: createSecretKey(k.secret) }));
  }

  issueAccessToken(userId: string, sessionId: string): { token: string; expiresAt: Date } {
    const [active] = this.keys;
    const ttl = this.config.auth.accessTokenTtlSeconds;
    const token = jwt.sign({ sid: sessionId }, active.key, {
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
    const key = this.keys.find((k) => k.id === kid);
    if (!key) return null;
    try {
      const claims = jwt.verify(token, key.key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }) as jwt.JwtPayload;
      if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string') return null;
      return { sub: claims.sub, sid: claims.sid };
    } catch {
      return null;
    }
  }
}

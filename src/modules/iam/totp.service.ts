import { Inject, Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import { SecretBox } from '../../common/crypto/secret-box';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';

/** TOTP (RFC 6238, 30 s steps). A code is accepted once: its time step must be newer than the last. */
@Injectable()
export class TotpService {
  private readonly box: SecretBox;

  constructor(@Inject(APP_CONFIG) config: RuntimeConfig) {
    this.box = new SecretBox(config.masterKeys.keys, config.masterKeys.activeId);
  }

  newSecret(): string {
    return generateSecret();
  }

  uri(secret: string, label: string): string {
    return generateURI({ issuer: 'Lutece', label, secret });
  }

  seal(secret: string, userId: string): string {
    return this.box.seal(secret, `totp:${userId}`);
  }

  open(sealed: string, userId: string): string {
    return this.box.open(sealed, `totp:${userId}`);
  }

  /** A secret sealed under an older master key, sealed again under the active one; else undefined. */
  resealIfStale(sealed: string, secret: string, userId: string): string | undefined {
    return this.box.isSealedWithActiveKey(sealed) ? undefined : this.seal(secret, userId);
  }

  /** Returns the accepted time step, or null when the code is wrong or already used. */
  async check(secret: string, code: string, lastUsedTimeStep: number | null): Promise<number | null> {
    if (!/^\d{6}$/.test(code)) return null;
    const result = await verify({
      secret,
      token: code,
      epochTolerance: 30,
      ...(lastUsedTimeStep !== null ? { afterTimeStep: lastUsedTimeStep } : {}),
    }).catch(() => ({ valid: false as const }));
    return result.valid && 'timeStep' in result ? Number(result.timeStep) : null;
  }
}

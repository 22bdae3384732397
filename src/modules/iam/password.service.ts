import { Injectable, OnModuleInit } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';

// `algorithm: 2` is Algorithm.Argon2id, a const enum that isolated-module builds cannot inline.
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

@Injectable()
export class PasswordService implements OnModuleInit {
  /** Verified against when the email is unknown, so both paths cost one argon2 verification. */
  private dummyHash: string;

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash(randomBytes(32).toString('hex'), ARGON2_OPTIONS);
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_OPTIONS);
  }

  async verify(passwordHash: string | null, password: string): Promise<boolean> {
    const ok = await verify(passwordHash ?? this.dummyHash, password).catch(() => false);
    return passwordHash !== null && ok;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EntityManager, Not } from 'typeorm';
import { unwrapTenantKey, wrapTenantKey } from '../../contracts/envelope';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { KeyPurpose, TenantKeyEntity } from './storage.entities';

export interface TenantKey {
  generation: number;
  masterKeyId: string;
  key: Buffer;
}

/**
 * Tenant keys, wrapped by the master key ring. Encryption keys have generations (rotation adds
 * one); the pseudonymisation key never rotates, so pseudonyms stay joinable over time.
 */
@Injectable()
export class KeyChainService {
  constructor(@Inject(APP_CONFIG) private readonly config: RuntimeConfig) {}

  async activeKey(manager: EntityManager, tenantId: string, purpose: KeyPurpose = 'ENCRYPTION'): Promise<TenantKey> {
    const latest = await this.latest(manager, tenantId, purpose);
    return latest ? this.unwrap(latest) : this.create(manager, tenantId, purpose, 1);
  }

  async keyOfGeneration(manager: EntityManager, tenantId: string, generation: number): Promise<TenantKey> {
    const row = await manager.getRepository(TenantKeyEntity).findOneBy({ tenantId, purpose: 'ENCRYPTION', generation });
    if (!row) throw new Error(`tenant key generation ${generation} is missing`);
    return this.unwrap(row);
  }

  async allKeys(manager: EntityManager, tenantId: string): Promise<Map<number, Buffer>> {
    const rows = await manager.getRepository(TenantKeyEntity).findBy({ tenantId, purpose: 'ENCRYPTION' });
    return new Map(rows.map((row) => [row.generation, this.unwrap(row).key]));
  }

  /** Adds a generation; new objects use it from now on. */
  async rotate(manager: EntityManager, tenantId: string): Promise<TenantKey & { createdAt: Date }> {
    await this.activeKey(manager, tenantId);
    // Serialises concurrent rotations of one tenant.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('tenant-key:' || $1))`, [tenantId]);
    const latest = await this.latest(manager, tenantId, 'ENCRYPTION');
    const created = await this.create(manager, tenantId, 'ENCRYPTION', latest!.generation + 1);
    const row = await manager.getRepository(TenantKeyEntity).findOneByOrFail({ tenantId, purpose: 'ENCRYPTION', generation: created.generation });
    return { ...created, createdAt: row.createdAt };
  }

  /**
   * Re-wraps the tenant's keys that an older master key of the ring still wraps, under the active
   * one (the keys themselves do not change, so nothing else needs re-encrypting). Returns how many
   * moved, by former master key id.
   */
  async rewrapUnderActiveMaster(manager: EntityManager, tenantId: string): Promise<Record<string, number>> {
    const { activeId, keys } = this.config.masterKeys;
    const stale = await manager.getRepository(TenantKeyEntity).findBy({ tenantId, masterKeyId: Not(activeId) });
    const moved: Record<string, number> = {};
    for (const row of stale) {
      const { key } = this.unwrap(row);
      let wrappedKey: string;
      try {
        wrappedKey = wrapTenantKey(keys.get(activeId)!, key, { tenantId, generation: this.wrapGeneration(row.purpose, row.generation) });
      } finally {
        key.fill(0);
      }
      // The old id in the WHERE clause: a concurrent run that got there first is not counted twice.
      const updated: unknown[] = await manager.query(
        `UPDATE tenant_keys SET master_key_id = $1, wrapped_key = $2
          WHERE tenant_id = $3 AND purpose = $4 AND generation = $5 AND master_key_id = $6 RETURNING 1`,
        [activeId, wrappedKey, tenantId, row.purpose, row.generation, row.masterKeyId],
      );
      if (updated.length) moved[row.masterKeyId] = (moved[row.masterKeyId] ?? 0) + 1;
    }
    return moved;
  }

  private latest(manager: EntityManager, tenantId: string, purpose: KeyPurpose): Promise<TenantKeyEntity | null> {
    return manager.getRepository(TenantKeyEntity).findOne({ where: { tenantId, purpose }, order: { generation: 'DESC' } });
  }

  private async create(manager: EntityManager, tenantId: string, purpose: KeyPurpose, generation: number): Promise<TenantKey> {
    const { activeId, keys } = this.config.masterKeys;
    const key = randomBytes(32);
    const wrappedKey = wrapTenantKey(keys.get(activeId)!, key, { tenantId, generation: this.wrapGeneration(purpose, generation) });
    // Two first uploads racing: the loser keeps the winner's key.
    const inserted: unknown[] = await manager.query(
      `INSERT INTO tenant_keys (tenant_id, purpose, generation, master_key_id, wrapped_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING generation`,
      [tenantId, purpose, generation, activeId, wrappedKey],
    );
    if (inserted.length === 0) {
      const existing = await manager.getRepository(TenantKeyEntity).findOneByOrFail({ tenantId, purpose, generation });
      return this.unwrap(existing);
    }
    return { generation, masterKeyId: activeId, key };
  }

  private unwrap(row: TenantKeyEntity): TenantKey {
    const masterKey = this.config.masterKeys.keys.get(row.masterKeyId);
    if (!masterKey) throw new Error(`master key "${row.masterKeyId}" is not in MASTER_KEYS`);
    const key = unwrapTenantKey(masterKey, row.wrappedKey, { tenantId: row.tenantId, generation: this.wrapGeneration(row.purpose, row.generation) });
    return { generation: row.generation, masterKeyId: row.masterKeyId, key };
  }

  /** Binds the purpose into the wrap: a pseudonymisation key can never be unwrapped as an encryption key. */
  private wrapGeneration(purpose: KeyPurpose, generation: number): number {
    return purpose === 'ENCRYPTION' ? generation : -generation;
  }
}
